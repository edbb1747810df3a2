#include "import_duplicates.h"

#include <algorithm>
#include <optional>

#include <fstream>

#include "kehu/duplicates.h"
#include "kehu/error.h"
#include "kehu/lang.h"
#include "kehu/replica.h"
#include "kehu/text.h"

namespace kehu {

namespace {

// Whether a row that carries an existing customer's code names another
// customer: both have a name, phone or WeChat key, and they share none. Sheets
// from another office use the same template's codes (C + yyyymm + serial) for
// other companies; the row would have overwritten an unrelated customer's
// name, phone and place without a word (walkthrough 9, R9-5).
bool names_another_customer(const Record& existing, const json& row, const std::vector<DupKey>& row_keys,
                            const std::vector<DupKey>& had) {
  if (row.value("name", "") == existing.fields.value("name", "")) return false;
  if (row_keys.empty() || had.empty()) return false;  // nothing to tell them apart by
  return !shares_duplicate_key(existing.fields, row);
}

}  // namespace

std::vector<ImportIssue> ImportDuplicateCheck::check(std::size_t line, const json& customer,
                                                     std::vector<PossibleDuplicate>& possible) {
  std::vector<ImportIssue> issues;
  const std::string code = customer.value("code", "");
  std::optional<Record> existing = code.empty() ? std::nullopt : replica_.find_customer(code);
  std::vector<DupKey> keys = duplicate_keys(customer);
  std::vector<DupKey> fresh = keys;
  if (existing) {
    const std::vector<DupKey> had = duplicate_keys(existing->fields);
    if (names_another_customer(*existing, customer, keys, had)) {
      const std::string have_name = existing->fields.value("name", "");
      const std::string have_phone = existing->fields.value("phone", "");
      const std::string what = have_name + (have_phone.empty() ? "" : tr(" (" + have_phone + ")", "（" + have_phone + "）"));
      issues.push_back({line, "客户编号", code,
                        tr(code + " is " + what + " here, but this row is " + customer.value("name", "") +
                               ": a different customer? Clear the code to import it as a new customer, or "
                               "import with --force to overwrite " + code,
                           code + " 在本机是 " + what + "，表里这一行是 " + customer.value("name", "") +
                               "：不是同一个客户？清空这一行的客户编号即作为新客户导入；确实要覆盖 " + code +
                               " 请加 --force")});
      return issues;
    }
    // An update: keys the customer already has were checked when it came in.
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
                      tr("possible duplicate of " + why + "; import with --force to add it anyway",
                         "可能重复：" + why + "；如仍要导入，请加 --force")});
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
      if (!code.empty() && !s.code.empty()) {
        possible.push_back(
            {line, code, name, k.kind, k.kind == "name" ? name : k.key, s.line, s.code, s.name});
        break;
      }
      issue(k, tr("line " + std::to_string(s.line) + " ", "第 " + std::to_string(s.line) + " 行 ") +
                   (s.code.empty() ? "" : s.code + " ") + s.name + tr(": ", "：") +
                   same_what(k.kind, k.kind == "name" ? s.name : k.key));
      break;
    }
  }
  if (issues.empty()) {
    for (auto& k : keys)
      seen_.emplace(std::make_pair(k.kind, k.key), Seen{k.region, line, code, name});
  }
  return issues;
}

void write_possible_duplicates_csv(const std::vector<PossibleDuplicate>& dups,
                                   const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(Errc::io, tr("cannot write " + path, "无法写入 " + path));
  out << "\xEF\xBB\xBF";  // so that Excel reads UTF-8
  auto row = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) out << (i ? "," : "") << csv_escape(cells[i]);
    out << "\r\n";
  };
  row({"行号", "客户编号", "客户名称", "重复依据", "相同的值", "疑似重复行号", "疑似重复客户编号",
       "疑似重复客户名称"});
  for (const auto& d : dups) {
    const char* why = d.key == "phone" ? "同一电话" : d.key == "wechat" ? "同一微信" : "名称相近";
    row({std::to_string(d.line), d.code, d.name, why, d.value, std::to_string(d.other_line),
         d.other_code, d.other_name});
  }
  out.flush();
  if (!out) throw Error(Errc::io, tr("cannot write " + path, "无法写入 " + path));
}

}  // namespace kehu
