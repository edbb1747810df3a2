// Place names (kehu/place.h): the rule that says 江苏省, Jiangsu and 江苏 are one.
#include "kehu/place.h"

#include <array>
#include <utility>

#include "kehu/text.h"

namespace kehu {

namespace {

// The 34 provincial-level divisions: short Chinese name, pinyin and English.
constexpr std::array<std::array<const char*, 3>, 34> kProvinces = {{
    {"北京", "beijing", "peking"},       {"天津", "tianjin", ""},          {"上海", "shanghai", ""},
    {"重庆", "chongqing", ""},           {"河北", "hebei", ""},            {"山西", "shanxi", ""},
    {"辽宁", "liaoning", ""},            {"吉林", "jilin", ""},            {"黑龙江", "heilongjiang", ""},
    {"江苏", "jiangsu", ""},             {"浙江", "zhejiang", ""},         {"安徽", "anhui", ""},
    {"福建", "fujian", ""},              {"江西", "jiangxi", ""},          {"山东", "shandong", ""},
    {"河南", "henan", ""},               {"湖北", "hubei", ""},            {"湖南", "hunan", ""},
    {"广东", "guangdong", ""},           {"海南", "hainan", ""},           {"四川", "sichuan", ""},
    {"贵州", "guizhou", ""},             {"云南", "yunnan", ""},           {"陕西", "shaanxi", ""},
    {"甘肃", "gansu", ""},               {"青海", "qinghai", ""},          {"台湾", "taiwan", ""},
    {"内蒙古", "neimenggu", "innermongolia"}, {"广西", "guangxi", ""},     {"西藏", "xizang", "tibet"},
    {"宁夏", "ningxia", ""},             {"新疆", "xinjiang", ""},         {"香港", "xianggang", "hongkong"},
    {"澳门", "aomen", "macau"},
}};

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() > tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// The name full-width folded, without blanks anywhere ("江苏 省" is 江苏省), and
// Latin letters lowercased without '-' and '.' ("Inner Mongolia" -> "innermongolia").
std::string plain(std::string_view name) {
  const std::string t = fold_fullwidth(name);
  std::string out;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (c == ' ' || c == '-' || c == '.' || c == '\t') continue;
    if (c == '\xE3' && t.compare(i, 3, "\xE3\x80\x80") == 0) {  // U+3000, the ideographic space
      i += 2;
      continue;
    }
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

// A province's own suffixes, longest first.
constexpr std::array<std::string_view, 13> kProvinceTails = {
    "特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市",
    "province", "municipality", "autonomousregion", "sar", "shi", "city"};
constexpr std::array<std::string_view, 4> kCityTails = {"市", "地区", "city", "shi"};

// `s` without the first of `tails` it ends with (never all of it).
template <typename Tails>
std::string strip_tail(std::string s, const Tails& tails) {
  for (std::string_view tail : tails) {
    if (ends_with(s, tail)) return s.substr(0, s.size() - tail.size());
  }
  return s;
}

}  // namespace

std::string canonical_province(std::string_view name) {
  return split_province(name).first;
}

std::pair<std::string, std::string> split_province(std::string_view name) {
  const std::string whole = plain(name);
  const std::string t = strip_tail(whole, kProvinceTails);
  for (const auto& p : kProvinces) {
    if (t == p[0] || t == p[1] || (*p[2] != '\0' && t == p[2])) return {p[0], ""};
  }
  if (t == "macao") return {"澳门", ""};
  // A province with its city in one cell, as sheets often have it: 江苏省南京市.
  for (const auto& p : kProvinces) {
    const std::string_view zh = p[0];
    if (whole.compare(0, zh.size(), zh) != 0) continue;
    std::string rest = whole.substr(zh.size());
    for (std::string_view tail : kProvinceTails) {
      if (rest.compare(0, tail.size(), tail) == 0) {
        rest.erase(0, tail.size());
        break;
      }
    }
    if (!rest.empty()) return {p[0], canonical_city(rest)};
  }
  return {t, ""};
}

bool known_province(std::string_view name) {
  const std::string t = trim(name);
  const std::string province = canonical_province(std::string_view(t).substr(0, t.find('/')));
  for (const auto& p : kProvinces) {
    if (province == p[0]) return true;
  }
  return false;
}

std::vector<std::string> province_spellings() {
  std::vector<std::string> out;
  for (const auto& p : kProvinces) {
    for (const char* spelling : p) {
      if (*spelling != '\0') out.emplace_back(spelling);
    }
  }
  out.emplace_back("macao");
  return out;
}

std::string canonical_city(std::string_view name) {
  return strip_tail(plain(name), kCityTails);
}

std::string canonical_region(std::string_view region) {
  const std::string t = trim(region);
  const auto slash = t.find('/');
  if (slash == std::string::npos) return canonical_province(t);
  return canonical_province(t.substr(0, slash)) + "/" + canonical_city(t.substr(slash + 1));
}

std::pair<std::string, std::string> canonical_place(std::string_view province, std::string_view city) {
  auto [p, c] = split_province(province);
  return {p, c.empty() ? canonical_city(city) : c};
}

}  // namespace kehu
