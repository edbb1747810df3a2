// Smoke test of the benchmark program: the real kehu-bench binary at a tiny scale
// must run every benchmark (B1-B9) against the real kehu and kehu-server and write
// its JSON report. It asserts that each figure was measured, never how fast: a
// shared CI machine makes timing assertions flaky, and the targets are graded by
// kehu-bench itself (bench/RESULTS.md).
//
// The binary is $KEHU_BENCH_BIN if set, else bench/kehu-bench next to the kehu
// binary's cli/ directory in the same build tree.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "cli_runner.h"

using kehu::test::CliResult;
using kehu::test::read_bytes;
using kehu::test::run_program;
using kehu::test::RunOptions;
using kehu::test::ScratchDir;
using json = nlohmann::json;

namespace {

std::string bench_binary() {
  if (const char* env = std::getenv("KEHU_BENCH_BIN"); env && *env) return env;
  std::filesystem::path cli = KEHU_CLI_BIN_PATH;
  return (cli.parent_path() / ".." / "bench" / "kehu-bench").lexically_normal().string();
}

}  // namespace

TEST_CASE("kehu-bench measures every figure at a tiny scale", "[bench]") {
  const std::string bin = bench_binary();
  INFO("kehu-bench binary: " << bin << " (build the kehu-bench target, or set KEHU_BENCH_BIN)");
  REQUIRE(::access(bin.c_str(), X_OK) == 0);

  ScratchDir dir("kehu-bench-smoke");
  const std::string report = dir.file("bench.json");
  RunOptions opts;
  opts.timeout_seconds = 900;  // hang guard; the run takes seconds (minutes under ASan)
  CliResult r = run_program(bin, {"--scale", "0.005", "--json", report}, opts);
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);

  auto text = read_bytes(report);
  REQUIRE(text.has_value());
  json j = json::parse(*text);
  CHECK(j.at("scale").get<double>() == Approx(0.005));
  CHECK(j.at("nproc").get<long>() > 0);
  CHECK_FALSE(j.at("date").get<std::string>().empty());

  std::set<std::string> seen;
  for (const auto& f : j.at("figures")) {
    const std::string id = f.at("id").get<std::string>();
    INFO(id << ": " << f.dump());
    seen.insert(id);
    CHECK_FALSE(f.at("failed").get<bool>());
    CHECK(f.at("value").get<double>() > 0);
    CHECK(f.at("pass").is_boolean());
    CHECK_FALSE(f.at("unit").get<std::string>().empty());
  }
  CHECK(seen == std::set<std::string>{"B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B10", "R1"});
  // The table goes to stdout, one line per figure.
  for (const char* id : {"B1", "B5", "B9"})
    CHECK(r.out.find(std::string("\n") + id + "  ") != std::string::npos);
}
