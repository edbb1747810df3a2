#include "audit_export.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include "hash_chain.h"
#include "private_temp.h"
#include "kehu/error.h"
#include "kehu/lang.h"
#include "kehu/schema.h"
#include "kehu/text.h"
#include "revision_customers.h"

namespace kehu::server {

namespace {

const std::vector<std::string>& header() {
  static const std::vector<std::string> h = {"序号",   "时间", "用户",   "设备", "客户编号", "集合",
                                             "记录ID", "版本", "操作",   "字段", "字段名称", "旧值",
                                             "新值",   "原因", "批准人", "哈希"};
  return h;
}

std::string label_of(const CollectionDef* coll, const std::string& key) {
  if (key == kDeletedField) return "已删除";
  const FieldDef* f = coll ? coll->find(key) : nullptr;
  return f ? f->zh : "";
}

std::string shown(const CollectionDef* coll, const std::string& key, const json& v) {
  if (v.is_null()) return "";
  if (key == kDeletedField) return v == true ? "是" : "否";
  const FieldDef* f = coll ? coll->find(key) : nullptr;
  if (f && f->key == key) return display_value(*f, v, Lang::zh);
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// The changed fields in the sheet's order (schema order), then any the schema
// does not know, then the recycle-bin flag.
std::vector<std::string> field_order(const CollectionDef* coll,
                                     const std::map<std::string, FieldChange>& changes) {
  std::vector<std::string> keys;
  if (coll) {
    for (const auto& f : coll->fields) {
      if (changes.count(f.key)) keys.push_back(f.key);
    }
  }
  for (const auto& [key, fc] : changes) {
    if (key != kDeletedField && (!coll || !coll->find(key) || coll->find(key)->key != key))
      keys.push_back(key);
  }
  if (changes.count(kDeletedField)) keys.push_back(kDeletedField);
  return keys;
}

void write_row(std::ofstream& out, const std::vector<std::string>& cells) {
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i) out << ',';
    out << csv_escape(cells[i]);
  }
  out << "\r\n";
}

}  // namespace

ExportReport AuditExport::write(const AuditFilter& filter, const std::string& path) {
  ExportReport report;
  // Written in a folder of its own beside FILE, then renamed onto it: a link at
  // FILE.tmp to the store took the write to the store (attacker reviews 13 and
  // 14, A13-2, A14-6). A failure leaves nothing behind.
  PrivateTemp tmp(path);
  {
    std::ofstream out(tmp.path(), std::ios::binary | std::ios::trunc);
    if (!out) throw Error(Errc::io, tr("cannot write " + tmp.path() + ": " + std::strerror(errno),
                                     "无法写入 " + tmp.path() + "：" + std::strerror(errno)));
    out << "\xEF\xBB\xBF";
    write_row(out, header());
    auto txn = store_.begin(TxnMode::read);
    RevisionCustomers customers(*txn);
    txn->for_each_revision([&](const StoredRevision& r) {
      if (!filter.may_match(r.body)) return true;
      const std::optional<json> parsed = wire_revision_or_skip(r);
      if (!parsed) {
        ++report.damaged;
        return true;
      }
      const json& j = *parsed;
      if (!filter.matches(j)) return true;
      const Revision rev = revision_from_json(j);
      const CollectionDef* coll = Schema::builtin().find(rev.collection);
      std::vector<std::string> cells = {std::to_string(rev.seq),
                                        rev.at,
                                        rev.author,
                                        rev.device,
                                        customers.of(rev.record_id).code,
                                        rev.collection,
                                        rev.record_id,
                                        std::to_string(rev.rev),
                                        op_name(rev.op),
                                        "",
                                        "",
                                        "",
                                        "",
                                        rev.cause,
                                        rev.approved_by,
                                        r.hash};
      auto put = [&](const std::string& key, const FieldChange& fc) {
        cells[9] = key;
        cells[10] = label_of(coll, key);
        cells[11] = shown(coll, key, fc.old_value);
        cells[12] = shown(coll, key, fc.new_value);
        write_row(out, cells);
        ++report.rows;
      };
      if (rev.changes.empty()) put("", FieldChange{});
      for (const auto& key : field_order(coll, rev.changes)) put(key, rev.changes.at(key));
      ++report.revisions;
      return static_cast<bool>(out);
    });
    out.flush();
    if (!out) throw Error(Errc::io, tr("cannot write " + tmp.path() + ": " + std::strerror(errno),
                                     "无法写入 " + tmp.path() + "：" + std::strerror(errno)));
    out.close();
  }
  tmp.commit();
  return report;
}

}  // namespace kehu::server
