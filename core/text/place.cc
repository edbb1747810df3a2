// Place names (kehu/place.h): the rule that says 江苏省, Jiangsu and 江苏 are one.
#include "kehu/place.h"

#include <unicode/translit.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <array>
#include <memory>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "kehu/error.h"
#include "kehu/lang.h"
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

// Other names of the same provinces (attacker review 6, A6-11: 江蘇 and Kiangsu
// matched no region, so a customer written so was its owner's alone): the
// traditional characters, the one-character abbreviations (苏, 浙, 沪 ...) and
// the old postal romanisation. Pinyin with tone marks is folded in plain().
constexpr std::pair<std::string_view, std::string_view> kAliases[] = {
    {"江蘇", "江苏"}, {"廣東", "广东"}, {"廣西", "广西"}, {"遼寧", "辽宁"}, {"黑龍江", "黑龙江"},
    {"貴州", "贵州"}, {"雲南", "云南"}, {"陝西", "陕西"}, {"甘肅", "甘肃"}, {"寧夏", "宁夏"},
    {"臺灣", "台湾"}, {"台灣", "台湾"}, {"澳門", "澳门"}, {"內蒙古", "内蒙古"}, {"山東", "山东"},
    {"重慶", "重庆"},
    {"京", "北京"}, {"津", "天津"}, {"沪", "上海"}, {"滬", "上海"}, {"渝", "重庆"}, {"冀", "河北"},
    {"晋", "山西"}, {"晉", "山西"}, {"辽", "辽宁"}, {"遼", "辽宁"}, {"吉", "吉林"}, {"黑", "黑龙江"},
    {"苏", "江苏"}, {"蘇", "江苏"}, {"浙", "浙江"}, {"皖", "安徽"}, {"闽", "福建"}, {"閩", "福建"},
    {"赣", "江西"}, {"贛", "江西"}, {"鲁", "山东"}, {"魯", "山东"}, {"豫", "河南"}, {"鄂", "湖北"},
    {"湘", "湖南"}, {"粤", "广东"}, {"粵", "广东"}, {"琼", "海南"}, {"瓊", "海南"}, {"川", "四川"},
    {"蜀", "四川"}, {"贵", "贵州"}, {"貴", "贵州"}, {"黔", "贵州"}, {"云", "云南"}, {"雲", "云南"},
    {"滇", "云南"}, {"陕", "陕西"}, {"陝", "陕西"}, {"秦", "陕西"}, {"甘", "甘肃"}, {"陇", "甘肃"},
    {"隴", "甘肃"}, {"青", "青海"}, {"台", "台湾"}, {"臺", "台湾"}, {"蒙", "内蒙古"}, {"桂", "广西"},
    {"藏", "西藏"}, {"宁", "宁夏"}, {"寧", "宁夏"}, {"新", "新疆"}, {"港", "香港"}, {"澳", "澳门"},
    {"kiangsu", "江苏"}, {"chekiang", "浙江"}, {"kwangtung", "广东"}, {"kwangsi", "广西"},
    {"fukien", "福建"}, {"szechwan", "四川"}, {"szechuan", "四川"}, {"shantung", "山东"},
    {"hupeh", "湖北"}, {"honan", "河南"}, {"hopeh", "河北"}, {"hopei", "河北"}, {"anhwei", "安徽"},
    {"kiangsi", "江西"}, {"kweichow", "贵州"}, {"shensi", "陕西"}, {"shansi", "山西"}, {"kansu", "甘肃"},
    {"tsinghai", "青海"}, {"kirin", "吉林"}, {"heilungkiang", "黑龙江"}, {"sinkiang", "新疆"},
    {"ningsia", "宁夏"}, {"chungking", "重庆"}, {"tientsin", "天津"},
};

// Pinyin vowels with tone marks (and ü) as plain letters: Jiāngsū is jiangsu.
constexpr std::pair<std::string_view, char> kToneMarks[] = {
    {"ā", 'a'}, {"á", 'a'}, {"ǎ", 'a'}, {"à", 'a'}, {"ē", 'e'}, {"é", 'e'}, {"ě", 'e'}, {"è", 'e'},
    {"ī", 'i'}, {"í", 'i'}, {"ǐ", 'i'}, {"ì", 'i'}, {"ō", 'o'}, {"ó", 'o'}, {"ǒ", 'o'}, {"ò", 'o'},
    {"ū", 'u'}, {"ú", 'u'}, {"ǔ", 'u'}, {"ù", 'u'}, {"ǖ", 'v'}, {"ǘ", 'v'}, {"ǚ", 'v'}, {"ǜ", 'v'},
    {"ü", 'v'},
};

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() > tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// The UTF-8 length of an invisible character at `i` (a space of any width, a
// zero-width or no-break one, a joiner, a bidi mark, a variation selector), 0
// for any other: 南\u200c京
// shows as 南京 and must read as it (attacker review 9, A9-7).
std::size_t invisible_at(const std::string& t, std::size_t i) {
  const auto b = [&](std::size_t k) { return i + k < t.size() ? static_cast<unsigned char>(t[i + k]) : 0; };
  if (b(0) == 0xC2 && b(1) == 0xA0) return 2;                                      // U+00A0
  if (b(0) == 0xE3 && b(1) == 0x80 && b(2) == 0x80) return 3;                      // U+3000
  if (b(0) == 0xE2 && b(1) == 0x80 && (b(2) <= 0x8F || (b(2) >= 0xAA && b(2) <= 0xAF)))
    return 3;                                                                      // U+2000-200F, 202A-202F
  if (b(0) == 0xE2 && b(1) == 0x81 && (b(2) == 0x9F || b(2) == 0xA0 || (b(2) >= 0xA6 && b(2) <= 0xA9)))
    return 3;                                                                      // U+205F, 2060, 2066-2069
  if (b(0) == 0xEF && b(1) == 0xB8 && b(2) >= 0x80 && b(2) <= 0x8F) return 3;     // U+FE00-FE0F
  if (b(0) == 0xEF && b(1) == 0xBB && b(2) == 0xBF) return 3;                      // U+FEFF
  return 0;
}

// The name full-width folded, without blanks or invisible characters anywhere
// ("江苏 省" is 江苏省), and Latin letters lowercased without '-' and '.'
// ("Inner Mongolia" -> "innermongolia").
std::string plain(std::string_view name) {
  const std::string t = fold_fullwidth(name);
  std::string out;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (c == ' ' || c == '-' || c == '.' || c == '\t') continue;
    if (const std::size_t n = invisible_at(t, i); n > 0) {
      i += n - 1;
      continue;
    }
    if (static_cast<unsigned char>(c) >= 0xC3 && static_cast<unsigned char>(c) <= 0xC7) {
      const auto mark = std::find_if(std::begin(kToneMarks), std::end(kToneMarks),
                                     [&](const auto& m) { return t.compare(i, m.first.size(), m.first) == 0; });
      if (mark != std::end(kToneMarks)) {
        out += mark->second;
        i += mark->first.size() - 1;
        continue;
      }
    }
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

// Traditional characters as simplified ones (below).
std::string simplified(const std::string& text);

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
  // Traditional characters read as simplified, as for cities: 江蘇省南京市 is
  // 江苏/南京 (attacker review 18, A18-4: the province went unseen).
  const std::string whole = simplified(plain(name));
  const std::string t = strip_tail(whole, kProvinceTails);
  for (const auto& p : kProvinces) {
    if (t == p[0] || t == p[1] || (*p[2] != '\0' && t == p[2])) return {p[0], ""};
  }
  if (t == "macao") return {"澳门", ""};
  for (const auto& [alias, zh] : kAliases) {
    if (t == alias || whole == alias) return {std::string(zh), ""};
  }
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

namespace {

// City -> province: the provincial capitals and the other large cities, with
// their pinyin (Nanjing, nánjīng: a city typed so is read as 南京, walkthrough
// 8, R8-9; attacker review 8, A8-7).
struct City {
  std::string_view name, province, pinyin;
};
constexpr City kCities[] = {
    {"南京", "江苏", "nanjing"}, {"苏州", "江苏", "suzhou"}, {"无锡", "江苏", "wuxi"}, {"常州", "江苏", "changzhou"},
    {"南通", "江苏", "nantong"}, {"徐州", "江苏", "xuzhou"}, {"扬州", "江苏", "yangzhou"}, {"镇江", "江苏", "zhenjiang"},
    {"盐城", "江苏", "yancheng"}, {"泰州", "江苏", "taizhou"}, {"淮安", "江苏", "huaian"}, {"连云港", "江苏", "lianyungang"},
    {"宿迁", "江苏", "suqian"}, {"杭州", "浙江", "hangzhou"}, {"宁波", "浙江", "ningbo"}, {"温州", "浙江", "wenzhou"},
    {"绍兴", "浙江", "shaoxing"}, {"嘉兴", "浙江", "jiaxing"}, {"金华", "浙江", "jinhua"}, {"台州", "浙江", "taizhou"},
    {"湖州", "浙江", "huzhou"}, {"广州", "广东", "guangzhou"}, {"深圳", "广东", "shenzhen"}, {"东莞", "广东", "dongguan"},
    {"佛山", "广东", "foshan"}, {"珠海", "广东", "zhuhai"}, {"中山", "广东", "zhongshan"}, {"惠州", "广东", "huizhou"},
    {"汕头", "广东", "shantou"}, {"成都", "四川", "chengdu"}, {"绵阳", "四川", "mianyang"}, {"武汉", "湖北", "wuhan"},
    {"宜昌", "湖北", "yichang"}, {"襄阳", "湖北", "xiangyang"}, {"长沙", "湖南", "changsha"}, {"株洲", "湖南", "zhuzhou"},
    {"郑州", "河南", "zhengzhou"}, {"洛阳", "河南", "luoyang"}, {"济南", "山东", "jinan"}, {"青岛", "山东", "qingdao"},
    {"烟台", "山东", "yantai"}, {"潍坊", "山东", "weifang"}, {"临沂", "山东", "linyi"}, {"石家庄", "河北", "shijiazhuang"},
    {"唐山", "河北", "tangshan"}, {"保定", "河北", "baoding"}, {"太原", "山西", "taiyuan"}, {"大同", "山西", "datong"},
    {"沈阳", "辽宁", "shenyang"}, {"大连", "辽宁", "dalian"}, {"长春", "吉林", "changchun"}, {"哈尔滨", "黑龙江", "haerbin"},
    {"大庆", "黑龙江", "daqing"}, {"合肥", "安徽", "hefei"}, {"芜湖", "安徽", "wuhu"}, {"福州", "福建", "fuzhou"},
    {"厦门", "福建", "xiamen"}, {"泉州", "福建", "quanzhou"}, {"南昌", "江西", "nanchang"}, {"赣州", "江西", "ganzhou"},
    {"西安", "陕西", "xian"}, {"兰州", "甘肃", "lanzhou"}, {"西宁", "青海", "xining"}, {"银川", "宁夏", "yinchuan"},
    {"乌鲁木齐", "新疆", "wulumuqi"}, {"拉萨", "西藏", "lasa"}, {"呼和浩特", "内蒙古", "huhehaote"}, {"包头", "内蒙古", "baotou"},
    {"南宁", "广西", "nanning"}, {"桂林", "广西", "guilin"}, {"柳州", "广西", "liuzhou"}, {"海口", "海南", "haikou"},
    {"三亚", "海南", "sanya"}, {"贵阳", "贵州", "guiyang"}, {"遵义", "贵州", "zunyi"}, {"昆明", "云南", "kunming"},
    {"台北", "台湾", "taibei"},
};

}  // namespace

std::string province_of_city(std::string_view city) {
  const std::string c = canonical_city(city);
  for (const auto& [name, province, pinyin] : kCities) {
    if (c == name) return std::string(province);
  }
  return {};
}

namespace {

void require_known_province(std::string_view value) {
  if (trim(value).empty()) return;
  const std::string v(value);
  // Read as scope reads the cell: whole, a '/' in it included (attacker review
  // 8, A8-2: 江蘇/南京 passed as 江苏 and matched no region).
  if (fold_fullwidth(v).find('/') != std::string::npos) {
    throw Error(Errc::validation,
                tr("省份 (province) \"" + v + "\" may not contain '/': write the province alone (e.g. 江苏) and the "
                   "city in 城市 (city)",
                   "省份 (province)“" + v + "”不能含有“/”：省份一栏只写省（如 江苏），城市写在“城市 (city)”一栏"));
  }
  const auto parts = split_province(v);
  const std::string& province = parts.first;
  const std::string& city = parts.second;
  if (!city.empty() && !all_ideographs(city)) {
    // 江苏省Kunshan: read as 江苏 and a city no region names (attacker review 10, A10-2).
    throw Error(Errc::validation,
                tr("省份 (province) \"" + v + "\": write the province alone (e.g. 江苏) and the city, in Chinese "
                   "characters, in 城市 (city)",
                   "省份 (province)“" + v + "”：省份一栏只写省（如 江苏），城市用汉字写在“城市 (city)”一栏"));
  }
  if (std::any_of(kProvinces.begin(), kProvinces.end(), [&](const auto& p) { return province == p[0]; })) return;
  throw Error(Errc::validation,
              tr("省份 (province) \"" + v + "\" is not a known province: write one of the 34 provincial-level "
                 "divisions (e.g. 江苏, 江苏省, Jiangsu), or no region covers the customer and only its owner sees it",
                 "省份 (province)“" + v + "”不是已知的省份：请填 34 个省级行政区之一（如 江苏、江苏省、Jiangsu），"
                 "否则没有哪个区域包含这个客户，只有负责人看得到它"));
}

}  // namespace

void check_province_change(const nlohmann::json& old_value, const nlohmann::json& new_value) {
  if (old_value == new_value) return;
  const bool had = old_value.is_string() && !trim(old_value.get<std::string>()).empty();
  const bool has = new_value.is_string() && !trim(new_value.get<std::string>()).empty();
  if (has) {
    require_known_province(new_value.get<std::string>());
  } else if (had) {
    const std::string old = old_value.get<std::string>();
    throw Error(Errc::validation,
                tr("省份 (province) \"" + old + "\" may not be cleared: without a province no region covers the "
                   "customer and only its owner sees it; write the province it is in",
                   "省份 (province)“" + old + "”不能清空：没有省份，没有哪个区域包含这个客户，只有负责人看得到它；"
                   "请填它所在的省份"));
  }
}

void check_new_customer_province(const nlohmann::json& value) {
  if (value.is_string() && !trim(value.get<std::string>()).empty()) {
    require_known_province(value.get<std::string>());
    return;
  }
  throw Error(Errc::validation,
              tr("省份 (province) is required for a new customer: without a province no region covers it and only "
                 "its owner sees it, out of the manager's and colleagues' reach; write the province it is in (e.g. 江苏)",
                 "新客户必须填写省份 (province)：没有省份，没有哪个区域包含这个客户，只有负责人看得到它，经理和同事都看不到；"
                 "请填它所在的省份（如 江苏）"));
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

namespace {

// Other names of the cities above: English and the old postal romanisation.
constexpr std::pair<std::string_view, std::string_view> kCityAliases[] = {
    {"nanking", "南京"},  {"soochow", "苏州"}, {"hangchow", "杭州"}, {"canton", "广州"}, {"amoy", "厦门"},
    {"tsingtao", "青岛"}, {"harbin", "哈尔滨"}, {"urumqi", "乌鲁木齐"}, {"hohhot", "呼和浩特"},
    {"lhasa", "拉萨"},    {"taipei", "台北"},  {"sian", "西安"},
};

// The text with traditional characters as simplified ones (蘇州 is 苏州,
// 鼓樓區 is 鼓楼区), by ICU's Traditional-Simplified; answers are kept per
// thread, since a team writes few distinct cities (a transliterator is not
// safe to share between threads).
std::string simplified(const std::string& text) {
  thread_local std::unique_ptr<icu::Transliterator> to_simplified;
  thread_local std::unordered_map<std::string, std::string> known;
  if (auto it = known.find(text); it != known.end()) return it->second;
  if (!to_simplified) {
    UErrorCode status = U_ZERO_ERROR;
    to_simplified.reset(icu::Transliterator::createInstance("Traditional-Simplified", UTRANS_FORWARD, status));
    if (U_FAILURE(status)) to_simplified.reset();
  }
  std::string out = text;
  if (to_simplified) {
    icu::UnicodeString u = icu::UnicodeString::fromUTF8(text);
    to_simplified->transliterate(u);
    out.clear();
    u.toUTF8String(out);
  }
  if (known.size() >= 4096) known.clear();
  known.emplace(text, out);
  return out;
}

// The city a pinyin or English name (plain: lower case, no blanks or tone
// marks) stands for, when exactly one of the cities above has it (taizhou is
// 泰州 and 台州: neither); "" for any other.
std::string city_of_latin(std::string t) {
  t.erase(std::remove(t.begin(), t.end(), '\''), t.end());  // xi'an
  for (const auto& [alias, zh] : kCityAliases) {
    if (t == alias) return std::string(zh);
  }
  std::string found;
  for (const City& c : kCities) {
    if (t != c.pinyin) continue;
    if (!found.empty()) return {};
    found = c.name;
  }
  return found;
}

}  // namespace

std::string canonical_city(std::string_view name) {
  std::string t = plain(name);
  const bool latin = !t.empty() && std::all_of(t.begin(), t.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || c == '\'';
  });
  if (!latin) t = simplified(t);
  // A city with its district, as cells often have it: 南京市鼓楼区 is 南京.
  if (const auto shi = t.find("市"); shi != std::string::npos && shi > 0 && shi + 3 < t.size()) t.erase(shi);
  t = strip_tail(t, kCityTails);
  if (latin) {
    if (std::string city = city_of_latin(t); !city.empty()) return city;
  }
  return t;
}

bool all_ideographs(std::string_view s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xF0) != 0xE0 || i + 2 >= s.size()) return false;  // the ideographs below are 3 bytes each
    const char32_t cp = ((b & 0x0F) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3F) << 6) |
                        (static_cast<unsigned char>(s[i + 2]) & 0x3F);
    if (!((cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF))) return false;
    i += 3;
  }
  return true;
}

void check_city_change(const nlohmann::json& old_value, const nlohmann::json& new_value) {
  if (old_value == new_value || !new_value.is_string()) return;
  const std::string v = new_value.get<std::string>();
  // Chinese characters only once canonical: other scripts, symbols and odd
  // spaces left every city's region as Latin did (attacker review 10, A10-2).
  if (trim(v).empty() || all_ideographs(canonical_city(v))) return;
  throw Error(Errc::validation,
              tr("城市 (city) \"" + v + "\" is not a city name in Chinese characters: regions name cities so (江苏/南京), "
                 "and a customer whose city is written otherwise is in no city's region; write it as 南京, 苏州 ...",
                 "城市 (city)“" + v + "”不是用汉字写的城市名：区域按汉字城市名划分（如 江苏/南京），"
                 "写成拼音、英文或数字的城市不在任何城市的区域里；请写成 南京、苏州 这样的城市名"));
}

void check_city_in_province(const nlohmann::json& province, const nlohmann::json& city) {
  if (!province.is_string()) return;
  const std::string typed_province = province.get<std::string>();
  const std::string typed_city = city.is_string() ? city.get<std::string>() : std::string();
  // Each cell read alone too: a province cell carrying a city (浙江杭州) or a
  // city cell carrying a province (江苏南京) is one place only when both say the
  // same (attacker review 16: 浙江杭州 + 南京 passed, checked as 杭州).
  const auto [cell_p, cell_c] = split_province(typed_province);
  const auto [city_p, city_c] = split_province(typed_city);
  const std::string city_alone = city_c.empty() ? canonical_city(typed_city) : city_c;
  if (!cell_c.empty() && !trim(typed_city).empty() && cell_c != city_alone) {
    throw Error(Errc::validation,
                tr("省份 (province) \"" + typed_province + "\" names the city " + cell_c + ", but 城市 (city) is \"" +
                       typed_city + "\": give the province alone (" + cell_p + ") and the city in its own cell",
                   "省份 (province)“" + typed_province + "”里写了城市 " + cell_c + "，而城市 (city) 是“" + typed_city +
                       "”：省份只写 " + cell_p + "，城市写在城市一栏"));
  }
  if (!city_c.empty() && known_province(city_p) && city_p != cell_p) {
    throw Error(Errc::validation,
                tr("城市 (city) \"" + typed_city + "\" names the province " + city_p + ", not " + typed_province +
                       ": give the city alone (" + city_c + ") under its own province",
                   "城市 (city)“" + typed_city + "”里写了省份 " + city_p + "，不是" + typed_province + "：城市只写 " + city_c +
                       "，并填写它所在的省份"));
  }
  // A city cell that is a province-level place of its own (上海, 北京市) under
  // another province (attacker review 17, A17-1: 浙江/上海 passed).
  if (city_c.empty() && !cell_p.empty() && known_province(city_p) && city_p != cell_p) {
    throw Error(Errc::validation,
                tr("城市 (city) \"" + typed_city + "\" is the province-level " + city_p + ", not a city of " +
                       typed_province + ": give the province " + city_p + ", or a city of " + typed_province,
                   "城市 (city)“" + typed_city + "”是省级的" + city_p + "，不是" + typed_province + "的城市：请把省份写成 " +
                       city_p + "，或写 " + typed_province + " 的城市"));
  }
  // The province cell's own city with no city cell: 浙江南京, 浙江上海, 浙江江苏
  // went unchecked (attacker review 18, A18-5).
  if (!cell_c.empty() && trim(typed_city).empty()) {
    const std::string of = known_province(cell_c) ? canonical_province(cell_c) : province_of_city(cell_c);
    if (!of.empty() && of != cell_p) {
      throw Error(Errc::validation,
                  tr("省份 (province) \"" + typed_province + "\" names " + cell_c + ", which is " + of + "'s, not " +
                         cell_p + "'s: give the province " + of + ", or a city of " + cell_p + " in 城市 (city)",
                     "省份 (province)“" + typed_province + "”里写的 " + cell_c + " 属于" + of + "，不属于" + cell_p +
                         "：请把省份写成 " + of + "，或在城市一栏写 " + cell_p + " 的城市"));
    }
  }
  const std::string p = cell_p, c = city_alone;
  if (p.empty() || c.empty()) return;
  const std::string of = province_of_city(c);
  if (of.empty() || of == p) return;
  throw Error(Errc::validation,
              tr("城市 (city) \"" + typed_city + "\" is a city of " + of + ", not of " + typed_province +
                     ": give the province " + of + ", or a city of " + typed_province,
                 "城市 (city)“" + typed_city + "”属于" + of + "，不属于" + typed_province + "：请把省份写成 " + of +
                     "，或写 " + typed_province + " 的城市"));
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

bool regions_cover(const std::vector<std::string>& regions, std::string_view province_cell,
                   std::string_view city_cell) {
  if (regions.empty()) return false;
  const auto [province, city] = canonical_place(trim(province_cell), trim(city_cell));
  if (province.empty()) return false;
  for (const auto& region : regions) {
    if (region.empty()) continue;
    const auto slash = region.find('/');
    if (slash == std::string::npos) {
      if (canonical_province(region) == province) return true;
    } else if (canonical_province(region.substr(0, slash)) == province && !city.empty() &&
               canonical_city(region.substr(slash + 1)) == city) {
      return true;
    }
  }
  return false;
}

namespace {

std::string cell(const nlohmann::json& fields, const char* key) {
  auto it = fields.find(key);
  return it != fields.end() && it->is_string() ? trim(it->get<std::string>()) : std::string();
}

bool covers(const std::vector<std::string>& regions, const nlohmann::json& fields) {
  return regions_cover(regions, cell(fields, "province"), cell(fields, "city"));
}

}  // namespace

void check_stays_in_regions(const std::vector<std::string>& regions, const nlohmann::json* before,
                            const nlohmann::json& after, const std::string& label) {
  if (regions.empty() || !after.is_object() || covers(regions, after)) return;
  if (before != nullptr && !before->is_object()) return;
  // One outside the user's regions already (claimed from the pool, given by a
  // reassignment) stays where it is or moves into them, never elsewhere: moved
  // on, it left every manager's sight (attacker review 17, A17-2: 江苏/南京
  // taken to 西藏/拉萨).
  if (before != nullptr &&
      canonical_place(cell(*before, "province"), cell(*before, "city")) ==
          canonical_place(cell(after, "province"), cell(after, "city"))) {
    return;
  }
  std::string place = cell(after, "province");
  if (const std::string city = cell(after, "city"); !city.empty()) place += "/" + city;
  std::string mine;
  for (const auto& r : regions) mine += (mine.empty() ? "" : tr(", ", "、")) + r;
  if (before == nullptr) {
    throw Error(Errc::validation,
                tr("new customer " + label + " in " + place + " would be outside your regions (" + mine +
                       "): your manager and team would not see it. Nothing was added; if it really is there, ask "
                       "an admin to add it",
                   "新客户 " + label + " 在 " + place + "，不在你的区域（" + mine + "）内：你的经理和同事都看不到它。"
                       "什么都没有新建；如果客户确实在那里，请让管理员来新建"));
  }
  throw Error(Errc::validation,
              tr(label + " in " + place + " would be outside your regions (" + mine + "): your manager and team "
                     "could no longer see or change it after the next sync. Nothing was changed; if it really is "
                     "there, ask an admin to change it",
                 label + " 改到 " + place + " 后不在你的区域（" + mine + "）内：下次同步后你的经理和同事将看不到、"
                     "也改不了它。什么都没有改；如果客户确实在那里，请让管理员来改"));
}

}  // namespace kehu
