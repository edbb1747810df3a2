#include "revision_customers.h"

namespace kehu::server {

const std::optional<RecordView>& RevisionCustomers::view(const std::string& id) {
  auto it = views_.find(id);
  if (it != views_.end()) return it->second;
  if (views_.size() >= kMaxCached) views_.clear();
  return views_.emplace(id, txn_.find_record_view(id)).first->second;
}

const CustomerOfRecord& RevisionCustomers::of(const std::string& record_id) {
  last_ = CustomerOfRecord{};
  std::string customer_id = record_id;
  if (const auto& v = view(record_id); v && v->collection != "customers") customer_id = v->parent;
  if (customer_id.empty()) return last_;
  // Copied out before the next lookup, which may clear the cache.
  if (const auto& c = view(customer_id); c && c->collection == "customers") {
    last_.id = c->id;
    last_.code = c->code;
    last_.fields = c->fields;
  }
  return last_;
}

}  // namespace kehu::server
