// Checks one pushed change before it is merged (DESIGN.md: validation runs on the
// device and again on the server; bad input names the field, the value and the
// rule, and nothing is written).
//
// A change passes when:
//   * the session's role may write (AccessPolicy), else Error(forbidden);
//   * its collection is a known one, else Error(validation);
//   * its hlc is a positive hybrid-clock time, else Error(validation);
//   * every field is a canonical key of the collection, or "deleted";
//     "deleted" is true, false or null; every other new value has its field's
//     stored shape (kehu::check_stored_value) and a required field is not cleared,
//     else Error(validation) naming the field;
//   * the role may write every field it changes (restricted fields), else
//     Error(forbidden). A field carried with old == new is not a change.
// Checks that need the stored record (does it exist, its parent, required fields
// after the merge) are PushService's.
//
// Stateless; thread-safe.
#pragma once

#include "kehu/record.h"
#include "kehu/schema.h"
#include "session.h"

namespace kehu::server {

class ChangeValidator {
 public:
  // Returns the change's collection. Throws as described above.
  // `schema`: the store's (built-in plus custom fields, schema_service.h).
  static const CollectionDef& check(const Change& change, const Session& session,
                                    const Schema& schema = Schema::builtin());
};

}  // namespace kehu::server
