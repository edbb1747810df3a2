// ReadSlots (server-stub/http/read_slots.h): the requests each user may have
// answered at once, and the 429 past them.
#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include "http_errors.h"
#include "read_slots.h"

using kehu::server::HttpError;
using kehu::server::ReadSlots;

TEST_CASE("a user's requests past the read slots are refused 429 too_many_reads until one ends", "[server][slots]") {
  ReadSlots slots(3);
  std::vector<std::unique_ptr<ReadSlots::Slot>> wang;
  for (int i = 0; i < 3; ++i) wang.push_back(std::make_unique<ReadSlots::Slot>(slots, "wang"));
  CHECK(slots.held("wang") == 3);
  try {
    ReadSlots::Slot fourth(slots, "wang");
    FAIL("a fourth slot was given");
  } catch (const HttpError& e) {
    CHECK(e.status() == 429);
    CHECK(e.code() == "too_many_reads");
    CHECK(e.retry_after() == 1);
    CHECK_THAT(std::string(e.what()), Catch::Contains("wang") && Catch::Contains("3"));
  }
  CHECK(slots.held("wang") == 3);  // the refused one took nothing
  {
    ReadSlots::Slot other(slots, "li");  // another user has slots of their own
    CHECK(slots.held("li") == 1);
  }
  CHECK(slots.held("li") == 0);
  wang.pop_back();
  CHECK(slots.held("wang") == 2);
  CHECK_NOTHROW(ReadSlots::Slot(slots, "wang"));
  wang.clear();
  CHECK(slots.held("wang") == 0);
}
