// 查重 during an import (kehu/duplicates.h has the keys and their rules).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "kehu/duplicates.h"
#include "kehu/sheet.h"

namespace kehu {

// Import: the rows of one sheet checked against the replica and each other.
// Rows whose code the replica has are updates: only keys they add are checked,
// so re-importing an export flags nothing. Rows are checked in file order; a
// row is remembered for later rows only when check() found nothing wrong.
// Two rows that both carry their own code, and different ones, are distinct
// customers by the sheet's word: a match between them is no issue but a
// PossibleDuplicate (imported, listed for review).
class ImportDuplicateCheck {
 public:
  explicit ImportDuplicateCheck(const Replica& replica) : replica_(replica) {}
  // Issues for one good row (stored values), naming the other customer or line.
  // Matches with earlier rows of distinct own codes go to `possible`.
  std::vector<ImportIssue> check(std::size_t line, const json& customer,
                                 std::vector<PossibleDuplicate>& possible);

 private:
  struct Seen {
    std::string region;
    std::size_t line;
    std::string code, name;
  };
  const Replica& replica_;
  std::multimap<std::pair<std::string, std::string>, Seen> seen_;  // (kind, key) -> row
};

}  // namespace kehu
