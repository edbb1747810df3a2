// What an audit query (POST /v1/audit) or an audit export selects from the
// revision log: revisions by author, by server time and by record.
//
// Times compare as text: every revision's "at" is "YYYY-MM-DDTHH:MM:SSZ" (UTC,
// see now_iso8601()), so text order is time order, and bounds are normalised to
// the same form.
//
// Stateless apart from its members; thread-compatible.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "kehu/record.h"

namespace kehu::server {

enum class TimeBound {
  start,  // a bare date means its first second, 00:00:00Z
  end,    // a bare date means its last second, 23:59:59Z (the day is included)
};

// Parses "YYYY-MM-DD" (a UTC day) or "YYYY-MM-DDTHH:MM:SSZ" into the second form.
// Throws Error(validation) naming `field`, the value and the rule for anything
// else, including dates that do not exist ("2026-02-30").
std::string parse_time_bound(std::string_view field, std::string_view text, TimeBound bound);

struct AuditFilter {
  std::string user;               // the revision's author; empty: anyone
  std::string since, until;       // inclusive, "YYYY-MM-DDTHH:MM:SSZ"; empty: open
  std::set<std::string> records;  // record ids; empty: every record

  // Throws Error(validation) when since is after until.
  void check() const;
  // Whether a revision in wire or stored JSON form passes every filter.
  bool matches(const json& revision) const;
  // A cheap test on a stored canonical body (hash_chain.h) that is false only
  // for revisions matches() would refuse: it rejects other authors' revisions
  // without parsing them. In canonical JSON an author is exactly
  // "author":<name as JSON>, and a quote inside a string value is escaped, so
  // the text cannot appear anywhere else.
  bool may_match(std::string_view body) const;
};

}  // namespace kehu::server
