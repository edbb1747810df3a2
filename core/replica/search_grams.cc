#include "search_grams.h"

#include <algorithm>

namespace kehu {
namespace {

// Length of the UTF-8 sequence starting with byte b, 1 for a stray byte.
std::size_t sequence_length(unsigned char b) {
  if (b >= 0xF0 && b < 0xF8) return 4;
  if (b >= 0xE0) return b < 0xF0 ? 3 : 1;
  if (b >= 0xC0) return 2;
  return 1;
}

// Splits UTF-8 text into characters; a truncated or stray byte is a character
// of its own, so every byte of the input lands in exactly one piece.
std::vector<std::string_view> characters(std::string_view s) {
  std::vector<std::string_view> out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = sequence_length(static_cast<unsigned char>(s[i]));
    if (i + n > s.size()) n = 1;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
        n = 1;
        break;
      }
    }
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

bool is_ascii_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// One character as part of a token (see the header).
void append_encoded(std::string& token, std::string_view ch) {
  const auto c = static_cast<unsigned char>(ch[0]);
  if (c >= 0x80) {
    token.append(ch);
  } else if (is_ascii_alnum(c)) {
    token.push_back(static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c));
  } else {
    // U+E000 + c, c < 0x80: EE 80 80+c in UTF-8 (E000..E07F).
    token.push_back(static_cast<char>(0xEE));
    token.push_back(static_cast<char>(0x80 | (c >> 6)));
    token.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

}  // namespace

std::string fold_search_text(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::size_t code_points(std::string_view text) { return characters(text).size(); }

std::vector<std::string> pair_tokens(std::string_view folded) {
  const auto chars = characters(folded);
  std::vector<std::string> out;
  for (std::size_t i = 0; i + 1 < chars.size(); ++i) {
    std::string token;
    append_encoded(token, chars[i]);
    append_encoded(token, chars[i + 1]);
    out.push_back(std::move(token));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string encode_term_text(std::string_view folded) {
  std::string out;
  for (std::string_view ch : characters(folded)) append_encoded(out, ch);
  return out;
}

}  // namespace kehu
