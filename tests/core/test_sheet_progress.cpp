// Progress of long sheet work (kehu import / export show it on a terminal): the
// library reports rows done of total as it goes, ending at total, and nothing on
// a dry run.
#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

#include "cli_runner.h"
#include "kehu/replica.h"
#include "kehu/sheet.h"

using kehu::test::ScratchDir;
using kehu::test::write_bytes;

namespace {

using Calls = std::vector<std::pair<std::size_t, std::size_t>>;

void check_climbs_to(const Calls& calls, std::size_t total) {
  REQUIRE_FALSE(calls.empty());
  for (std::size_t i = 0; i < calls.size(); ++i) {
    CHECK(calls[i].second == total);
    if (i > 0) CHECK(calls[i].first > calls[i - 1].first);
  }
  CHECK(calls.back().first == total);
}

}  // namespace

TEST_CASE("sheet progress: import and export report rows done of total", "[sheets][progress]") {
  ScratchDir dir("kehu-sheet-progress");
  auto rep = kehu::Replica::create(dir.file("r.db"), "pw-progress");
  std::string csv = "客户名称,联系人,联系电话,核心需求\n";
  for (int i = 0; i < 25; ++i) {
    csv += "公司" + std::to_string(i) + ",张三,1380013" + std::to_string(8000 + i) + ",配件\n";
  }
  const std::string in = dir.file("in.csv");
  write_bytes(in, csv);

  Calls calls;
  kehu::ImportOptions opts;
  opts.progress = [&](std::size_t done, std::size_t total) { calls.emplace_back(done, total); };
  opts.dry_run = true;
  CHECK(kehu::import_sheet(*rep, in, opts).created == 25);
  CHECK(calls.empty());  // a dry run writes nothing, so nothing progresses
  opts.dry_run = false;
  CHECK(kehu::import_sheet(*rep, in, opts).created == 25);
  check_climbs_to(calls, 25);

  for (const char* name : {"out.csv", "out.xlsx"}) {
    INFO(name);
    Calls exported;
    CHECK(kehu::export_sheet(*rep, dir.file(name),
                             [&](std::size_t done, std::size_t total) { exported.emplace_back(done, total); }) == 25);
    check_climbs_to(exported, 25);
  }
}
