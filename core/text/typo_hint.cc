#include "kehu/typo_hint.h"

#include <algorithm>

#include "kehu/lang.h"
#include "kehu/text.h"

namespace kehu {

namespace {

// The code points of UTF-8 `s`, each as its bytes (an invalid byte is one of its own).
std::vector<std::string> code_points(const std::string& s) {
  std::vector<std::string> out;
  for (unsigned char c : s) {
    if ((c & 0xC0) == 0x80 && !out.empty() &&
        (static_cast<unsigned char>(out.back()[0]) & 0xC0) == 0xC0) {
      out.back() += static_cast<char>(c);
    } else {
      out.emplace_back(1, static_cast<char>(c));
    }
  }
  return out;
}

std::size_t edit_distance(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min(
          {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::vector<std::string> nearest_names(const std::string& word,
                                       const std::vector<std::string>& names) {
  const std::vector<std::string> typed = code_points(word);
  std::vector<std::string> best;
  std::size_t best_d = 0;
  for (const auto& n : names) {
    const std::size_t d = edit_distance(typed, code_points(n));
    if (best.empty() || d < best_d) {
      best = {n};
      best_d = d;
    } else if (d == best_d && std::find(best.begin(), best.end(), n) == best.end()) {
      best.push_back(n);
    }
  }
  if (best.empty() || best_d > 2 || best_d * 2 >= std::max<std::size_t>(display_width(word), 2))
    return {};
  return best;
}

std::optional<std::string> nearest_name(const std::string& word,
                                        const std::vector<std::string>& names) {
  std::vector<std::string> near = nearest_names(word, names);
  if (near.empty()) return std::nullopt;
  return near.front();
}

std::string did_you_mean(const std::optional<std::string>& near) {
  if (!near) return "";
  return did_you_mean(std::vector<std::string>{*near});
}

std::string did_you_mean(const std::vector<std::string>& near) {
  if (near.empty()) return "";
  // "'a', 'b' or 'c'" / "“a”、“b”或“c”"
  std::string en, zh;
  for (std::size_t i = 0; i < near.size(); ++i) {
    const bool last = i + 1 == near.size();
    en += (i == 0 ? "" : last ? " or " : ", ") + ("'" + near[i] + "'");
    zh += (i == 0 ? "" : last ? "或" : "、") + ("“" + near[i] + "”");
  }
  return tr("; did you mean " + en + "?", "；您是不是要输入" + zh + "？");
}

}  // namespace kehu
