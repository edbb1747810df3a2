// Every input a fuzz target once failed on (fuzz/regressions/NAME/) stays a test
// here, with the target's contract: the wire decoders and the xlsx reader throw
// only kehu::Error.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "kehu/error.h"
#include "kehu/record.h"
#include "kehu/xlsx.h"

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

TEST_CASE("fuzz regression inputs of the xlsx reader", "[xlsx][fuzz]") {
  // fuzz_xlsx's limits (fuzz/fuzz_xlsx.cc).
  kehu::XlsxLimits limits;
  limits.max_uncompressed_bytes = 4u << 20;
  limits.max_cells = 20000;
  limits.max_cell_text_bytes = 8u << 20;
  limits.max_xml_depth = 64;
  const std::filesystem::path dir =
      std::filesystem::path(KEHU_SOURCE_DIR) / "fuzz" / "regressions" / "xlsx";
  std::size_t inputs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    ++inputs;
    INFO(entry.path().filename().string());
    const std::string bytes = slurp(entry.path());
    CHECK(refuses_cleanly(
        [&] { (void)kehu::read_xlsx_bytes(bytes, "", entry.path().filename().string(), limits); }));
  }
  CHECK(inputs >= 1);
  // shared-string-amplification.xlsx: one 1 MiB shared string in 20000 cells
  // (20 GiB once copied into the cells) stops at the cell text limit.
  const std::string amp = slurp(dir / "shared-string-amplification.xlsx");
  REQUIRE(!amp.empty());
  try {
    (void)kehu::read_xlsx_bytes(amp, "", "amp.xlsx", limits);
    FAIL("the amplifying workbook was read");
  } catch (const kehu::Error& e) {
    CHECK(e.code() == kehu::Errc::validation);
    CHECK(std::string(e.what()).find("more than 8 MiB of cell text") != std::string::npos);
  }
}
