// The n-gram form of customer text for the search index (customer_index.h).
//
// SQLite's FTS4 tokenizers split on spaces and ASCII punctuation, so Chinese
// text ("明达信息科技有限公司") would be one token and a search for "科技" would
// never match it. Instead every text is cut into overlapping pairs of
// characters (code points): "科技有限" -> 科技, 技有, 有限. Each pair becomes one
// FTS4 token that the built-in "simple" tokenizer keeps whole:
//
//   * a character >= U+0080 is its own UTF-8 bytes (simple treats all bytes
//     >= 0x80 as token characters);
//   * ASCII letters and digits are themselves, letters in lower case;
//   * any other ASCII character (space, punctuation, control) c becomes U+E000 + c,
//     a private-use character, so tokens never contain an ASCII delimiter and FTS
//     query syntax ("-", "*", quotes, AND/OR) can never appear in a query.
//
// Two different pairs may share a token only through a private-use character
// typed in the text itself, and a search's pairs may sit apart in the text: the
// index only proposes candidates, and each is checked against the customer's
// own fields (CustomerFilter::matches), so this costs time, never a wrong answer.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kehu {

// Text as the search compares it: ASCII letters folded to lower case, nothing
// else changed (Chinese has no case; full-width forms stay distinct).
std::string fold_search_text(std::string_view text);

// Number of characters (code points) in UTF-8 text; an invalid byte counts as one.
std::size_t code_points(std::string_view text);

// The distinct pair tokens of one piece of text (already folded), sorted. Text
// of fewer than two characters has none.
std::vector<std::string> pair_tokens(std::string_view folded);

// Every character of `folded` in the token alphabet above, concatenated (the
// value part of a facet term, customer_index.h).
std::string encode_term_text(std::string_view folded);

}  // namespace kehu
