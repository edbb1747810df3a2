// The duplicate normaliser (duplicates.h documents every rule) and the import
// check. The replica's side (index, lookups, merge) is in replica_dups.cc.
#include "kehu/duplicates.h"

#include <algorithm>
#include <optional>
#include <tuple>

#include "kehu/lang.h"
#include "kehu/replica.h"
#include "kehu/schema.h"

namespace kehu {
namespace {

// ---- UTF-8 <-> code points (invalid bytes pass through as U+FFFD).

std::u32string decode(std::string_view s) {
  std::u32string out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    char32_t cp = n == 1 ? c : c & (0xFF >> (n + 1));
    bool ok = true;
    for (int k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b >> 6) != 2) ok = false;
      cp = (cp << 6) | (b & 0x3F);
    }
    out.push_back(ok ? cp : 0xFFFD);
    i += ok ? n : 1;
  }
  return out;
}

std::string encode(std::u32string_view s) {
  std::string out;
  for (char32_t c : s) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

std::u32string u32(std::string_view utf8) { return decode(utf8); }

// Provinces, autonomous regions, municipalities, SARs and the larger cities.
const std::vector<std::u32string>& regions() {
  static const std::vector<std::u32string> list = [] {
    const char* names[] = {
        "北京",   "上海", "天津",   "重庆",     "河北",     "山西", "辽宁", "吉林", "黑龙江",
        "江苏",   "浙江", "安徽",   "福建",     "江西",     "山东", "河南", "湖北", "湖南",
        "广东",   "海南", "四川",   "贵州",     "云南",     "陕西", "甘肃", "青海", "台湾",
        "内蒙古", "广西", "西藏",   "宁夏",     "新疆",     "香港", "澳门", "深圳", "广州",
        "杭州",   "南京", "苏州",   "成都",     "武汉",     "西安", "青岛", "厦门", "宁波",
        "无锡",   "大连", "沈阳",   "长沙",     "郑州",     "济南", "合肥", "福州", "东莞",
        "佛山",   "昆明", "哈尔滨", "长春",     "石家庄",   "太原", "南昌", "南宁", "贵阳",
        "兰州",   "海口", "珠海",   "温州",     "常州",     "烟台", "中山", "泉州", "绍兴",
        "嘉兴",   "金华", "台州",   "徐州",     "南通",     "扬州", "潍坊", "唐山", "保定",
        "惠州",   "汕头", "洛阳",   "乌鲁木齐", "呼和浩特", "银川", "西宁", "拉萨", "三亚"};
    std::vector<std::u32string> v;
    for (const char* n : names) v.push_back(u32(n));
    // Longest first, so 黑龙江 is tried before a shorter name could match.
    std::stable_sort(v.begin(), v.end(),
                     [](const auto& a, const auto& b) { return a.size() > b.size(); });
    return v;
  }();
  return list;
}

// What may follow a region's name; longest first.
const std::vector<std::u32string>& region_suffixes() {
  static const std::vector<std::u32string> list = {
      u32("维吾尔自治区"), u32("壮族自治区"), u32("回族自治区"), u32("特别行政区"),
      u32("自治区"),       u32("省"),         u32("市"),         u32("")};
  return list;
}

// Legal suffixes dropped from the end (after punctuation is gone, Latin in
// lower case); longest first.
const std::vector<std::u32string>& legal_suffixes() {
  static const std::vector<std::u32string> list = [] {
    const char* names[] = {"集团股份有限公司",
                           "股份有限公司",
                           "有限责任公司",
                           "集团有限公司",
                           "有限公司",
                           "股份公司",
                           "集团公司",
                           "总公司",
                           "公司",
                           "集团",
                           "工作室",
                           "商行",
                           "厂",
                           "coltd",
                           "corporation",
                           "company",
                           "limited",
                           "corp",
                           "ltd",
                           "inc",
                           "llc",
                           "gmbh"};
    std::vector<std::u32string> v;
    for (const char* n : names) v.push_back(u32(n));
    std::stable_sort(v.begin(), v.end(),
                     [](const auto& a, const auto& b) { return a.size() > b.size(); });
    return v;
  }();
  return list;
}

// Words that, alone in brackets, say nothing about which company it is.
bool is_legal_word(const std::u32string& s) {
  static const std::vector<std::u32string> words = {
      u32("集团"),         u32("股份"),         u32("有限"), u32("有限公司"), u32("股份有限公司"),
      u32("有限责任公司"), u32("集团有限公司"), u32("中国"), u32("总部")};
  return std::find(words.begin(), words.end(), s) != words.end();
}

bool starts_with(std::u32string_view s, std::u32string_view p) {
  return s.size() >= p.size() && s.substr(0, p.size()) == p;
}
bool ends_with(std::u32string_view s, std::u32string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// The length of a region (name + optional suffix) at the start of `s`, and the
// region's name; 0 if none.
std::size_t leading_region(std::u32string_view s, std::u32string* name) {
  for (const auto& r : regions()) {
    if (!starts_with(s, r)) continue;
    for (const auto& suf : region_suffixes()) {
      if (starts_with(s.substr(r.size()), suf)) {
        if (name) *name = r;
        return r.size() + suf.size();
      }
    }
  }
  return 0;
}

// Whether `s` is exactly a region (with an optional suffix).
bool is_region(std::u32string_view s, std::u32string* name) {
  std::u32string n;
  std::size_t len = leading_region(s, &n);
  if (len == 0) return false;
  if (len == s.size()) {
    if (name) *name = n;
    return true;
  }
  // "广东深圳": a province then a city.
  std::u32string city;
  if (leading_region(s.substr(len), &city) == s.size() - len) {
    if (name) *name = city;
    return true;
  }
  return false;
}

char32_t half_width(char32_t c) {
  if (c >= 0xFF01 && c <= 0xFF5E) c = c - 0xFF01 + 0x21;
  if (c == 0x3000) c = ' ';
  if (c >= 'A' && c <= 'Z') c = c - 'A' + 'a';
  return c;
}

bool is_dropped(char32_t c) {
  if (c < 0x80) return !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
  return c == 0x00B7 || c == 0x30FB || (c >= 0x2010 && c <= 0x206F) ||
         (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF00 && c <= 0xFF0F) || c == 0xFE30 ||
         (c >= 0xFE50 && c <= 0xFE6F);
}

char32_t closing_of(char32_t open) {
  switch (open) {
    case '(':
      return ')';
    case '[':
      return ']';
    case 0x3010:
      return 0x3011;  // 【】
    case 0x3014:
      return 0x3015;  // 〔〕
    case 0x300C:
      return 0x300D;  // 「」
    default:
      return 0;
  }
}

std::u32string drop_punctuation(std::u32string_view s) {
  std::u32string out;
  for (char32_t c : s)
    if (!is_dropped(c)) out.push_back(c);
  return out;
}

}  // namespace

std::string phone_key(std::string_view phone) {
  std::string p = normalize_phone(phone);
  if (p.empty()) return p;
  // A landline "0755-12345678-801": the switchboard is the company's.
  if (auto first = p.find('-'); first != std::string::npos) {
    if (auto second = p.find('-', first + 1); second != std::string::npos) p.resize(second);
  }
  return p;
}

std::string wechat_key(std::string_view wechat) {
  // A masked id (w****6, a pool customer as a salesperson sees it) is no id:
  // wx_kehu_16 and wx_kehu_06 both show so (walkthrough 6, R6-10).
  if (wechat.find("****") != std::string_view::npos) return {};
  std::u32string s = decode(wechat);
  std::u32string out;
  for (char32_t c : s) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0x3000) continue;
    out.push_back(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return encode(out);
}

NameKey name_key(std::string_view name) {
  std::u32string s;
  for (char32_t c : decode(name)) s.push_back(half_width(c));

  // 2. Bracketed parts.
  std::u32string region, bracket_region;
  std::u32string unbracketed;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char32_t close = closing_of(s[i]);
    std::size_t end = close ? s.find(close, i + 1) : std::u32string::npos;
    if (end == std::u32string::npos) {
      unbracketed.push_back(s[i]);
      continue;
    }
    const std::u32string inner =
        drop_punctuation(std::u32string_view(s).substr(i + 1, end - i - 1));
    std::u32string r;
    if (is_region(inner, &r)) {
      if (bracket_region.empty()) bracket_region = r;
    } else if (!is_legal_word(inner)) {
      unbracketed += inner;
    }
    i = end;
  }
  // 3. Punctuation and spaces.
  std::u32string k = drop_punctuation(unbracketed);
  // 4./5. Suffixes and a leading region, never below two characters.
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& suf : legal_suffixes()) {
      if (ends_with(k, suf) && k.size() - suf.size() >= 2) {
        k.resize(k.size() - suf.size());
        changed = true;
        break;
      }
    }
    std::u32string r;
    if (std::size_t len = leading_region(k, &r); len > 0 && k.size() - len >= 2) {
      k.erase(0, len);
      region = r;
      changed = true;
    }
  }
  NameKey out;
  // Nothing but legal words or a region ("有限公司", "北京公司"): says nothing.
  if (k.size() < 2 || is_region(k, nullptr) || is_legal_word(k) ||
      std::find(legal_suffixes().begin(), legal_suffixes().end(), k) != legal_suffixes().end()) {
    return out;
  }
  out.key = encode(k);
  out.region = encode(bracket_region.empty() ? region : bracket_region);
  return out;
}

bool regions_compatible(std::string_view a, std::string_view b) {
  return a.empty() || b.empty() || a == b;
}

bool DupKey::operator<(const DupKey& o) const {
  return std::tie(kind, key, region) < std::tie(o.kind, o.key, o.region);
}
bool shares_duplicate_key(const json& a, const json& b) {
  const std::vector<DupKey> ka = duplicate_keys(a), kb = duplicate_keys(b);
  for (const DupKey& x : ka) {
    for (const DupKey& y : kb) {
      if (x.kind == y.kind && x.key == y.key && (x.kind != "name" || regions_compatible(x.region, y.region)))
        return true;
    }
  }
  return false;
}

bool DupKey::operator==(const DupKey& o) const {
  return kind == o.kind && key == o.key && region == o.region;
}

bool is_duplicate_key_field(std::string_view field) {
  return field == "name" || field == "phone" || field == "wechat";
}

std::vector<DupKey> duplicate_keys(const json& fields) {
  std::vector<DupKey> out;
  auto text = [&](const char* key) {
    auto it = fields.find(key);
    return it != fields.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (std::string p = phone_key(text("phone")); !p.empty()) out.push_back({"phone", p, ""});
  if (std::string w = wechat_key(text("wechat")); !w.empty()) out.push_back({"wechat", w, ""});
  if (NameKey n = name_key(text("name")); !n.key.empty()) out.push_back({"name", n.key, n.region});
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string dup_kind_label(std::string_view kind) {
  if (kind == "phone") return "联系电话 (phone)";
  if (kind == "wechat") return "微信 (wechat)";
  return "客户名称 (name)";
}

namespace {

std::string value_of_kind(const Record& r, std::string_view kind) {
  const char* field = kind == "phone" ? "phone" : kind == "wechat" ? "wechat" : "name";
  auto it = r.fields.find(field);
  return it != r.fields.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string who(const Record& r) {
  std::string s = (r.code.empty() ? r.id : r.code) + " " + r.fields.value("name", "");
  return s;
}

}  // namespace

// The Chinese name of a duplicate kind ("phone" -> 电话).
std::string kind_zh(std::string_view kind) {
  if (kind == "phone") return "电话";
  if (kind == "wechat") return "微信";
  if (kind == "name") return "名称";
  return std::string(kind);
}

std::string same_what(std::string_view kind, const std::string& value) {
  if (kind == "name") return tr("similar name (" + value + ")", "名称相近（" + value + "）");
  return tr("same " + std::string(kind) + " " + value, kind_zh(kind) + "相同 " + value);
}

std::string describe_match(const DuplicateMatch& m) {
  std::string owner = m.customer.fields.value("owner", "");
  return who(m.customer) + (owner.empty() ? "" : tr(" (owner " + owner + ")", "（负责人 " + owner + "）")) +
         tr(": ", "：") + same_what(m.kind, m.value);
}

std::string describe_pair(const DuplicatePair& p) {
  std::string why;
  for (const auto& k : p.kinds) {
    if (!why.empty()) why += tr(", ", "；");
    why += k == "name" ? tr("similar name", "名称相近") : same_what(k, value_of_kind(p.a, k));
  }
  return tr("possible duplicate: " + who(p.a) + " and " + who(p.b) + " (" + why + ")",
            "可能重复：" + who(p.a) + " 与 " + who(p.b) + "（" + why + "）");
}

}  // namespace kehu
