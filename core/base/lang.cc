#include "kehu/lang.h"

#include <cstdlib>
#include <iostream>
#include <string_view>

namespace kehu {
namespace {

thread_local Lang t_lang = Lang::en;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// The q-value of one Accept-Language item ("zh-CN;q=0.8"), 1 when absent.
double quality(std::string_view params) {
  auto at = params.find("q=");
  if (at == std::string_view::npos) return 1.0;
  std::string q(params.substr(at + 2));
  char* end = nullptr;
  double v = std::strtod(q.c_str(), &end);
  return (end == q.c_str() || v < 0 || v > 1) ? 0.0 : v;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

bool starts_with_zh(const std::string& s) { return s.rfind("zh", 0) == 0; }

}  // namespace

Lang lang_from_environment(bool warn) {
  std::string locale = env("LC_ALL");
  if (locale.empty()) locale = env("LC_MESSAGES");
  if (locale.empty()) locale = env("LANG");
  const Lang from_locale = starts_with_zh(locale) ? Lang::zh : Lang::en;
  const std::string chosen = env("KEHU_LANG");
  if (chosen.empty()) return from_locale;
  if (starts_with_zh(chosen)) return Lang::zh;
  if (chosen.rfind("en", 0) == 0) return Lang::en;
  if (warn) {
    std::cerr << (from_locale == Lang::zh
                      ? "kehu: 不支持 KEHU_LANG=\"" + chosen + "\"（只支持 zh 或 en）；按系统语言显示中文\n"
                      : "kehu: KEHU_LANG=\"" + chosen + "\" is not supported (zh or en); showing English, as the locale says\n");
  }
  return from_locale;
}

Lang message_lang() noexcept { return t_lang; }
void set_message_lang(Lang lang) noexcept { t_lang = lang; }

// Packed as RS en US zh: separators that no clean text holds (check_clean_text
// refuses control characters), so a plain text never reads as packed.
constexpr char kBothStart = '\x1e';
constexpr char kBothSplit = '\x1f';

std::string in_both(const std::string& en, const std::string& zh) {
  if (en == zh) return en;
  std::string out;
  out.reserve(en.size() + zh.size() + 2);
  out += kBothStart;
  out += en;
  out += kBothSplit;
  out += zh;
  return out;
}

std::string in_message_lang(const std::string& kept) {
  if (kept.empty() || kept.front() != kBothStart) return kept;
  const auto split = kept.find(kBothSplit);
  if (split == std::string::npos) return kept.substr(1);
  return message_lang() == Lang::zh ? kept.substr(split + 1) : kept.substr(1, split - 1);
}

Lang lang_from_accept_language(const std::string& header) {
  double zh = -1, en = -1;
  std::string_view rest(header);
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view item = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    auto semi = item.find(';');
    std::string_view tag = trim(item.substr(0, semi));
    double q = semi == std::string_view::npos ? 1.0 : quality(item.substr(semi + 1));
    if (starts_with_nocase(tag, "zh") && q > zh) zh = q;
    if (starts_with_nocase(tag, "en") && q > en) en = q;
  }
  return zh > 0 && zh >= en ? Lang::zh : Lang::en;
}

}  // namespace kehu
