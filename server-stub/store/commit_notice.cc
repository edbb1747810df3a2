#include "commit_notice.h"

#include <algorithm>

#include "store.h"

namespace kehu::server {

void StoreTxn::note_scope(const json& customer_values) {
  json scope = json::object();
  if (customer_values.is_object()) {
    for (const char* key : {"owner", "province", "city"}) {
      if (auto it = customer_values.find(key); it != customer_values.end() && it->is_string()) scope[key] = *it;
    }
  }
  // A page of a hundred edits to one customer is one scope (and a notice stays
  // under NOTIFY's size as long as it can).
  if (std::find(notice_.scopes.begin(), notice_.scopes.end(), scope) == notice_.scopes.end()) {
    notice_.scopes.push_back(std::move(scope));
  }
}

void StoreTxn::note_customer(const std::string& id) {
  if (noted_customers_.insert(id).second) note_scope(load_record(id).values());
}

std::string CommitNotice::to_text(const std::string& origin, std::size_t max_bytes) const {
  json j = {{"o", origin}};
  if (revisions) j["r"] = true;
  if (everyone) j["e"] = true;
  if (all_users) j["a"] = true;
  if (!scopes.empty()) j["s"] = scopes;
  if (!users.empty()) j["u"] = users;
  std::string text = j.dump();
  if (text.size() <= max_bytes) return text;
  json wide = {{"o", origin}, {"r", revisions}, {"e", true}};
  if (!users.empty() || all_users) wide["a"] = true;
  return wide.dump();
}

bool CommitNotice::from_text(const std::string& text, CommitNotice& out, std::string& origin) {
  out = CommitNotice{};
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("o") || !j["o"].is_string()) return false;
  origin = j["o"].get<std::string>();
  auto flag = [&j](const char* key) { return j.contains(key) && j[key].is_boolean() && j[key].get<bool>(); };
  out.revisions = flag("r");
  out.everyone = flag("e");
  out.all_users = flag("a");
  if (j.contains("s") && j["s"].is_array()) {
    for (const auto& s : j["s"]) {
      if (s.is_object()) out.scopes.push_back(s);
    }
  }
  if (j.contains("u") && j["u"].is_array()) {
    for (const auto& u : j["u"]) {
      if (u.is_string()) out.users.push_back(u.get<std::string>());
    }
  }
  return true;
}

}  // namespace kehu::server
