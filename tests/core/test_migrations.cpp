// A replica made by an earlier schema version opens, migrates in place, and
// keeps its data.
#include <catch2/catch.hpp>

#include "cli_runner.h"
#include "kehu/replica.h"
#include "kehu/sqlite.h"
#include "replica_impl.h"  // kehu::migrate(db, target): make a file as an older kehu did

using kehu::json;
using kehu::ReplicaVersion;

TEST_CASE("a version-1 replica migrates to the current version and keeps its data", "[replica][migration]") {
  kehu::test::ScratchDir dir;
  const std::string path = dir.file("v1.db");
  {
    kehu::db::Database db(path, /*create=*/true);
    db.key("old-key");
    db.exec("PRAGMA journal_mode = WAL");
    kehu::migrate(db, ReplicaVersion::v1_initial);
    REQUIRE(kehu::read_schema_version(db) == 1);
    // What kehu 1 wrote: the derived last_followup_at inside the fields JSON.
    json customer = {{"name", "明达医疗器械有限公司"}, {"contact", "高敏"}, {"phone", "15908301661"},
                     {"need", "门店装修设计"}, {"type", "potential"}, {"last_followup_at", "2024-12-25"}};
    json followup = {{"date", "2024-12-25"}, {"person", "王五"}, {"content", "确认方案"}};
    db.prepare("INSERT INTO meta(key, value) VALUES ('device_id', 'dev-v1'), ('author', '王五')").run();
    db.prepare("INSERT INTO records(id, collection, code, rev, fields) VALUES ('c1', 'customers', 'C202411001', 0, ?)")
        .bind(1, customer.dump())
        .run();
    db.prepare("INSERT INTO records(id, collection, parent, rev, fields) VALUES ('f1', 'followups', 'c1', 0, ?)")
        .bind(1, followup.dump())
        .run();
  }
  auto rep = kehu::Replica::open(path, "old-key");
  CHECK(rep->schema_version() == static_cast<int>(ReplicaVersion::current));
  CHECK(rep->schema_version() == 7);
  auto c = rep->find_customer("C202411001");
  REQUIRE(c);
  CHECK(c->fields["name"] == "明达医疗器械有限公司");
  CHECK(c->fields["last_followup_at"] == "2024-12-25");
  // The derived field no longer sits in the stored JSON...
  {
    kehu::db::Database raw(path, false);
    raw.key("old-key");
    auto st = raw.prepare("SELECT fields, last_followup_at FROM records WHERE id = 'c1'");
    REQUIRE(st.step());
    CHECK(json::parse(st.text(0)).count("last_followup_at") == 0);
    CHECK(st.text(1) == "2024-12-25");
  }
  // ...and the migrated replica works as a new one: edits, follow-ups, history.
  rep->edit("C202411001", {{"stage", "需求分析"}});
  rep->add("followups", {{"date", "2025-01-05"}, {"person", "王五"}, {"content", "演示"}}, "C202411001");
  c = rep->find_customer("C202411001");
  CHECK(c->fields["stage"] == "needs");
  CHECK(c->fields["last_followup_at"] == "2025-01-05");
  auto h = rep->history("C202411001");
  REQUIRE(h.size() == 1);
  CHECK(h[0].revision.changes.count("stage") == 1);
  CHECK(h[0].revision.changes.count("last_followup_at") == 0);
  // Opening again is a no-op.
  rep.reset();
  CHECK(kehu::Replica::open(path, "old-key")->schema_version() == 7);
}
