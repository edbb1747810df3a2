// What a record is called in messages, in the thread's message language: a
// customer by its code, a child record by its kind, the end of its id (as
// lists show it) and its customer's code: "follow-up 935240d7 of C202612048",
// "跟进记录 935240d7（客户 C202612048）".
#pragma once

#include <string>

namespace kehu {

// "follow-up", "order", ...; 跟进记录, 订单, ... under Lang::zh.
std::string collection_noun(const std::string& collection);

// The last 8 characters of a record id, as lists show it (a UUIDv7 starts with
// its creation time; its end is random).
std::string short_id(const std::string& id);

// `code` is the record's own code for a customer, its customer's code for a
// child record ("" when that is not known).
std::string record_name(const std::string& collection, const std::string& id, const std::string& code);

// `name` and what is said of it, in the thread's language: name + " " + en, or
// name + " " + zh with no blank after a closing full-width bracket
// ("跟进记录 935240d7（客户 C202612048）已恢复").
std::string name_with(const std::string& name, const std::string& en, const std::string& zh);

}  // namespace kehu
