// Streaming reads for reports (Replica::for_each_record, for_each_revision):
// one statement stepped row by row, so a report over 100,000 customers holds one
// record at a time besides its own aggregates.
#include "replica_impl.h"

namespace kehu {

void Replica::for_each_record(std::string_view collection,
                              const std::function<void(const Record&)>& fn) const {
  // Column 7 (the pending flag) is a constant: reports do not show it, and the
  // EXISTS probe per row would be most of the pass's cost.
  auto st = impl_->db.prepare(
      "SELECT id, collection, code, parent, rev, deleted, fields, 0, last_followup_at "
      "FROM records WHERE collection = ? AND deleted = 0");
  st.bind(1, collection);
  while (st.step()) fn(record_from_row(st));
}

void Replica::for_each_revision(std::string_view collection, std::string_view contains,
                                const std::function<void(const Revision&)>& fn) const {
  const std::string want(collection);
  {
    auto st = impl_->db.prepare("SELECT body FROM revisions WHERE instr(body, ?) > 0");
    st.bind(1, contains);
    while (st.step()) {
      Revision r = revision_from_json(json::parse(st.text(0)));
      if (r.collection == want) fn(r);
    }
  }
  auto st = impl_->db.prepare(
      "SELECT body, at, rev FROM changes WHERE state <> 'rejected' AND instr(body, ?) > 0 "
      "ORDER BY seq");
  st.bind(1, contains);
  while (st.step()) {
    Change c = change_from_json(json::parse(st.text(0)));
    if (c.collection != want) continue;
    Revision r;
    r.record_id = c.record_id;
    r.collection = c.collection;
    r.rev = st.is_null(2) ? 0 : st.int64(2);
    r.change_id = c.change_id;
    r.op = c.op;
    r.author = c.author;
    r.device = c.device;
    r.at = st.text(1);
    r.hlc = c.hlc;
    r.cause = std::move(c.cause);
    r.changes = std::move(c.fields);
    fn(r);
  }
}

}  // namespace kehu
