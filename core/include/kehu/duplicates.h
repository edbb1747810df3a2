// Duplicate check (查重): the keys under which two customers count as likely the
// same, and what the replica answers about them.
//
// A live customer (not in the recycle bin) has up to three kinds of key:
//
//   phone   its 联系电话 through normalize_phone(): mobiles as 11 digits, landlines
//           as "0755-12345678"; an extension ("-801", "转801") is dropped, so two
//           extensions of one switchboard match.
//   wechat  its 微信 id, trimmed (ASCII and ideographic spaces), ASCII lower case.
//   name    its 客户名称 normalised by name_key() below, plus the region the name
//           named (if any). Two names match when their keys are equal and their
//           regions are compatible: equal, or at least one of them has none
//           ("北京明达科技" and "明达科技（北京）" and "明达科技" match; "北京明达科技"
//           and "上海明达科技" do not).
//
// name_key(), step by step:
//   1. Full-width forms U+FF01..U+FF5E become ASCII, U+3000 a space; ASCII
//      letters are lower-cased.
//   2. Each bracketed part — ( ) [ ] 【 】 〔 〕 「 」 — goes when its content is a
//      region (kRegions below, with or without 省/市/自治区/…; it becomes the
//      name's region) or a legal word (集团, 股份, 有限公司, …); otherwise only
//      the brackets go and the content stays.
//   3. Spaces, ASCII punctuation and the CJK punctuation · ・ 、 ， 。 — – 《 》
//      “ ” ‘ ’ ＆ (U+2010..U+206F, U+3000..U+303F, U+00B7, U+30FB) are dropped.
//   4. Repeatedly, until nothing changes: a legal suffix at the end is dropped
//      (kLegalSuffixes: 集团股份有限公司, 股份有限公司, 有限责任公司, 集团有限公司,
//      有限公司, 股份公司, 集团公司, 总公司, 公司, 集团, 厂, 工作室, 商行, and the
//      Latin co.,ltd / ltd / limited / inc / corp / corporation / company / llc /
//      gmbh), then a leading region (a province, autonomous region or major city
//      of kRegions, with an optional 省 / 市 / 自治区 / 特别行政区 / 壮族自治区 /
//      回族自治区 / 维吾尔自治区); a leading region becomes the name's region
//      unless a bracketed one was found (the last one stripped wins: "广东省深圳市"
//      gives 深圳).
//   5. A step is not taken if it would leave fewer than two characters ("华公司"
//      stays 华公司). A result of fewer than two characters, or one that is only
//      a region or legal words ("北京公司" -> 北京, "有限公司" -> 有限), is no key at
//      all: such a customer is never flagged by name.
//
// Industry words (科技, 贸易, 信息技术, …) stay: "明达科技" and "明达贸易" are
// different companies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kehu/record.h"

namespace kehu {

class Replica;

// The phone key of one number ("" if it is no phone number).
std::string phone_key(std::string_view phone);
// The WeChat key ("" for an empty id).
std::string wechat_key(std::string_view wechat);

struct NameKey {
  std::string key;     // "" when the name gives no key
  std::string region;  // "北京", "深圳", …; "" when the name names none
};
NameKey name_key(std::string_view name);

// Whether two regions allow a name match: equal, or either empty.
bool regions_compatible(std::string_view a, std::string_view b);
// Whether two customers' stored fields share a phone, WeChat or name key (a
// name in compatible regions): what tells "the same customer" for a merge and
// for a sheet row that carries an existing customer's code.
bool shares_duplicate_key(const json& a, const json& b);

// One key of a customer.
struct DupKey {
  std::string kind;  // "phone" | "wechat" | "name"
  std::string key;
  std::string region;  // name keys only
  bool operator<(const DupKey& o) const;
  bool operator==(const DupKey& o) const;
};
// The keys of a customer's stored fields, sorted, without repeats.
std::vector<DupKey> duplicate_keys(const json& customer_fields);
// Whether duplicate_keys() reads `field` (name, phone, wechat): a change to any
// other field leaves a customer's keys as they were.
bool is_duplicate_key_field(std::string_view field);

// The field a key kind comes from: "联系电话 (phone)", "微信 (wechat)", "客户名称 (name)".
std::string dup_kind_label(std::string_view kind);

// An existing customer that a set of fields duplicates.
struct DuplicateMatch {
  Record customer;
  std::string kind;   // which key matched
  std::string value;  // the matched value as the existing customer has it
};
// "C202611001 明达科技有限公司 (owner 张三): same phone 13800138000"
std::string describe_match(const DuplicateMatch& m);
// Why a key matched: "same phone 13800138000", "similar name (明达科技)".
std::string same_what(std::string_view kind, const std::string& value);

// Live customers that share one key (kehu customer duplicates).
struct DuplicateGroup {
  std::string kind, key;
  std::vector<Record> customers;  // two or more, by code
};

// Two customers that share one key or more (sync report).
struct DuplicatePair {
  Record a, b;
  std::vector<std::string> kinds;  // "phone", "wechat", "name"
};
// "possible duplicate: C… 名称 and C… 名称 (same phone 13800138000)"
std::string describe_pair(const DuplicatePair& p);

// What a merge did (or would do, dry run).
struct MergeReport {
  Record keep, other;                                      // their states after the merge
  std::vector<std::pair<std::string, std::size_t>> moved;  // collection -> records moved
  std::vector<std::string> filled;     // KEEP's empty fields filled from OTHER (keys)
  std::vector<std::string> differing;  // fields both had with different values (kept KEEP's)
  std::vector<std::string> tags_added;
  bool dry_run = false;
};

}  // namespace kehu
