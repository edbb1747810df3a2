// A revision's cause ("claim from the public pool (公海)", "churn rule: no
// order or follow-up for 90 days", "reassign from wang to li: 调岗", ...) as
// people read it. Causes are stored and hashed in English, as the code writes
// them; under Lang::zh the known ones read in Chinese (history, audit, reports).
#pragma once

#include <cstdint>
#include <string>

#include "kehu/lang.h"

namespace kehu {

// `cause` in `lang`: the known forms translated, anything else as it is.
std::string cause_text(const std::string& cause, Lang lang);

// The cause of the approval of change request #id, which came with `held` (the
// change's own cause, if any): "approved change request #12[: merged into K]".
std::string approval_cause(std::int64_t id, const std::string& held);

// The customer (code, alias or id) a merge's delete names: K for "merged into
// K", as pushed or as approved (approval_cause); empty for any other cause.
std::string merge_target_of(const std::string& cause);

}  // namespace kehu
