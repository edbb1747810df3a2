#include "import_duplicates.h"

#include <algorithm>
#include <optional>

#include "kehu/replica.h"

namespace kehu {

std::vector<ImportIssue> ImportDuplicateCheck::check(std::size_t line, const json& customer) {
  std::vector<ImportIssue> issues;
  const std::string code = customer.value("code", "");
  std::optional<Record> existing = code.empty() ? std::nullopt : replica_.find_customer(code);
  std::vector<DupKey> keys = duplicate_keys(customer);
  std::vector<DupKey> fresh = keys;
  if (existing) {
    // An update: keys the customer already has were checked when it came in.
    const std::vector<DupKey> had = duplicate_keys(existing->fields);
    fresh.erase(std::remove_if(fresh.begin(), fresh.end(),
                               [&](const DupKey& k) {
                                 return std::find(had.begin(), had.end(), k) != had.end();
                               }),
                fresh.end());
  }
  const std::string name = customer.value("name", "");
  auto issue = [&](const DupKey& k, const std::string& why) {
    std::string value = k.kind == "name" ? name : k.key;
    issues.push_back({line, dup_kind_label(k.kind), value,
                      "possible duplicate of " + why + "; import with --force to add it anyway"});
  };
  // Against the replica.
  json only = json::object();
  for (const auto& k : fresh) {
    const char* field = k.kind == "phone" ? "phone" : k.kind == "wechat" ? "wechat" : "name";
    only[field] = customer.value(field, "");
  }
  if (!only.empty()) {
    for (const DuplicateMatch& m : replica_.find_duplicates(only, existing ? existing->id : "")) {
      if (!code.empty() && m.customer.code == code) continue;
      DupKey k{m.kind, "", ""};
      for (const auto& f : fresh)
        if (f.kind == m.kind) k = f;
      issue(k, describe_match(m));
    }
  }
  // Against earlier rows of the file (two new rows may share a key the replica
  // does not have; an update's old keys were checked when it came in).
  for (const auto& k : fresh) {
    auto [from, to] = seen_.equal_range({k.kind, k.key});
    for (auto it = from; it != to; ++it) {
      const Seen& s = it->second;
      if (k.kind == "name" && !regions_compatible(s.region, k.region)) continue;
      if (!code.empty() && s.code == code) continue;  // the same customer twice
      issue(k, "line " + std::to_string(s.line) + " " + (s.code.empty() ? "" : s.code + " ") +
                   s.name + ": " + same_what(k.kind, k.kind == "name" ? s.name : k.key));
      break;
    }
  }
  if (issues.empty()) {
    for (auto& k : keys)
      seen_.emplace(std::make_pair(k.kind, k.key), Seen{k.region, line, code, name});
  }
  return issues;
}

}  // namespace kehu
