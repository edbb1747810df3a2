// Every input a fuzz target once failed on (fuzz/regressions/NAME/) stays a test
// here, with the target's contract: the wire decoders throw only kehu::Error.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "kehu/error.h"
#include "kehu/record.h"

namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `fn`; a kehu::Error is the decoder refusing the input, which is allowed.
// Returns false if anything else escaped.
template <typename F>
bool refuses_cleanly(F&& fn) {
  try {
    fn();
  } catch (const kehu::Error&) {
  } catch (...) {
    return false;
  }
  return true;
}

}  // namespace

TEST_CASE("protocol decoders refuse a non-object with Error(protocol)", "[protocol][fuzz]") {
  for (const kehu::json& j : {kehu::json(2), kehu::json("x"), kehu::json::array({1}), kehu::json()}) {
    CHECK_THROWS_AS(kehu::change_from_json(j), kehu::Error);
    CHECK_THROWS_AS(kehu::revision_from_json(j), kehu::Error);
    CHECK_THROWS_AS(kehu::conflict_from_json(j), kehu::Error);
  }
}

TEST_CASE("fuzz regression inputs of the protocol decoders", "[protocol][fuzz]") {
  const std::filesystem::path dir = std::filesystem::path(KEHU_SOURCE_DIR) / "fuzz" / "regressions" / "protocol";
  std::size_t inputs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const kehu::json j = kehu::json::parse(slurp(entry.path()), nullptr, false);
    if (j.is_discarded()) continue;
    ++inputs;
    INFO(entry.path().filename().string());
    CHECK(refuses_cleanly([&] { (void)kehu::change_from_json(j); }));
    CHECK(refuses_cleanly([&] { (void)kehu::revision_from_json(j); }));
    CHECK(refuses_cleanly([&] { (void)kehu::conflict_from_json(j); }));
    CHECK(refuses_cleanly([&] { (void)kehu::field_changes_from_json(j); }));
  }
  CHECK(inputs >= 1);
}
