#include "kehu/record_name.h"

#include "kehu/lang.h"
#include "kehu/schema.h"

namespace kehu {

std::string collection_noun(const std::string& collection) {
  if (message_lang() == Lang::zh) {
    if (const CollectionDef* c = Schema::builtin().find(collection)) return c->zh;
  }
  if (collection == "customers") return "customer";
  if (collection == "followups") return "follow-up";
  if (collection == "orders") return "order";
  if (collection == "contacts") return "contact";
  if (collection == "services") return "service record";
  if (collection == "activities") return "activity";
  return collection;
}

std::string short_id(const std::string& id) { return id.size() > 8 ? id.substr(id.size() - 8) : id; }

std::string record_name(const std::string& collection, const std::string& id, const std::string& code) {
  if (collection == "customers") return code.empty() ? id : code;
  const std::string name = collection_noun(collection) + ' ' + short_id(id);
  if (code.empty()) return name;
  return tr(name + " of " + code, name + "（客户 " + code + "）");
}

std::string name_with(const std::string& name, const std::string& en, const std::string& zh) {
  if (message_lang() != Lang::zh) return name + ' ' + en;
  const std::string bracket = "）";
  const bool closed = name.size() >= bracket.size() && name.compare(name.size() - bracket.size(), bracket.size(), bracket) == 0;
  return name + (closed ? "" : " ") + zh;
}

}  // namespace kehu
