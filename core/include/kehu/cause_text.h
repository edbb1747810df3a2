// A revision's cause ("claim from the public pool (公海)", "churn rule: no
// order or follow-up for 90 days", "reassign from wang to li: 调岗", ...) as
// people read it. Causes are stored and hashed in English, as the code writes
// them; under Lang::zh the known ones read in Chinese (history, audit, reports).
#pragma once

#include <string>

#include "kehu/lang.h"

namespace kehu {

// `cause` in `lang`: the known forms translated, anything else as it is.
std::string cause_text(const std::string& cause, Lang lang);

}  // namespace kehu
