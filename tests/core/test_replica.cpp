// Library-level tests of kehu::Replica (core/src/replica*.cc) and of the sheet
// import/export (core/sheet/sheet_csv.cc), on real SQLCipher files in a fresh
// temporary directory per test.
#include <iconv.h>
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "kehu/customer_code.h"
#include "kehu/error.h"
#include "kehu/record.h"
#include "kehu/replica.h"
#include "kehu/sheet.h"
#include "test_support.h"

using namespace kehu;
using Catch::Matchers::Contains;
using kehu::test::read_bytes;
using kehu::test::ScopedToday;
using kehu::test::ScratchDir;
using kehu::test::write_bytes;

namespace {

constexpr const char* kPass = "correct horse battery staple";

// A replica in a fresh directory. The replica can be closed and reopened.
struct ReplicaFixture {
  ScratchDir dir{"kehu-replica"};
  std::string path = dir.file("replica.db");
  std::unique_ptr<Replica> rep = Replica::create(path, kPass);

  void reopen() {
    rep.reset();
    rep = Replica::open(path, kPass);
  }
};

FieldInputs customer_inputs(const std::string& name, const std::string& phone = "13800138000") {
  return {{"name", name}, {"contact", "张三"}, {"phone", phone}, {"need", "办公用品"}};
}

std::vector<LoggedChange> all_pending(const Replica& rep) { return rep.pending_changes(0, 100000); }

std::vector<Record> customers(const Replica& rep, bool deleted = false) {
  ListQuery q;
  q.deleted = deleted;
  return rep.list(q);
}

std::vector<Record> all_of(const Replica& rep, const std::string& collection) {
  ListQuery q;
  q.collection = collection;
  return rep.list(q);
}

Errc error_code_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.code();
  }
  FAIL("expected a kehu::Error");
  return Errc::internal;
}

// ---- Reading the sample sheets independently of the code under test.

std::string iconv_to_utf8(const std::string& bytes, const char* from) {
  iconv_t cd = ::iconv_open("UTF-8", from);
  REQUIRE(cd != reinterpret_cast<iconv_t>(-1));
  std::string out(bytes.size() * 4 + 16, '\0');
  char* in = const_cast<char*>(bytes.data());
  std::size_t in_left = bytes.size();
  char* o = out.data();
  std::size_t out_left = out.size();
  std::size_t rc = ::iconv(cd, &in, &in_left, &o, &out_left);
  ::iconv_close(cd);
  REQUIRE(rc != static_cast<std::size_t>(-1));
  out.resize(out.size() - out_left);
  return out;
}

// The sample sheets have no quoted cells (checked), so lines and commas are enough.
// Row i of the result is physical line i + 1 of the file.
std::vector<std::vector<std::string>> read_sample(const std::string& path, bool gb18030) {
  auto bytes = read_bytes(path);
  REQUIRE(bytes.has_value());
  std::string text = gb18030 ? iconv_to_utf8(*bytes, "GB18030") : *bytes;
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
  REQUIRE(text.find('"') == std::string::npos);
  std::vector<std::vector<std::string>> rows;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<std::string> cells;
    std::size_t start = 0;
    for (;;) {
      std::size_t comma = line.find(',', start);
      cells.push_back(
          line.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    rows.push_back(std::move(cells));
  }
  return rows;
}

std::size_t column(const std::vector<std::string>& header, const std::string& name) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return i;
  }
  FAIL("no column " << name);
  return 0;
}

std::string sample(const char* name) { return kehu::test::sample_sheet(name); }

// Checks every good row of a sample sheet against the imported customers.
void check_imported(const Replica& rep, const std::vector<std::vector<std::string>>& sheet,
                    std::size_t good_rows) {
  const auto& h = sheet[0];
  auto recs = customers(rep);
  REQUIRE(recs.size() == good_rows);
  std::map<std::string, Record> by_code;
  for (auto& r : recs) by_code[r.code] = r;
  // Enum labels as the template's dropdowns spell them.
  const std::map<std::string, std::string> types = {{"潜在客户", "potential"},
                                                    {"意向客户", "intention"},
                                                    {"成交客户", "deal"},
                                                    {"流失客户", "lost"}};
  for (std::size_t i = 1; i <= good_rows; ++i) {
    const auto& row = sheet[i];
    INFO("sheet line " << i + 1);
    auto it = by_code.find(row[column(h, "客户编号")]);
    REQUIRE(it != by_code.end());
    const json& f = it->second.fields;
    CHECK(f.value("name", "") == row[column(h, "客户名称")]);
    CHECK(f.value("contact", "") == row[column(h, "联系人")]);
    CHECK(f.value("phone", "") == row[column(h, "联系电话")]);
    CHECK(f.value("email", "") == row[column(h, "邮箱")]);
    CHECK(f.value("city", "") == row[column(h, "城市")]);
    CHECK(f.value("type", "") == types.at(row[column(h, "客户类型")]));
    CHECK(f.value("created_at", "") == row[column(h, "创建日期")]);
    // One follow-up per row, so the latest follow-up date is the row's.
    CHECK(f.value("last_followup_at", "") == row[column(h, "跟进日期")]);
  }
}

struct FileState {
  std::string bytes;
  off_t size = 0;
  timespec mtime{};
};

FileState file_state(const std::string& path) {
  FileState s;
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  s.size = st.st_size;
  s.mtime = st.st_mtim;
  s.bytes = read_bytes(path).value();
  return s;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

TEST_CASE("record and change ids are UUIDv7: unique, in creation order", "[replica]") {
  std::vector<std::string> ids;
  for (int i = 0; i < 20000; ++i) ids.push_back(new_uuid());  // several per millisecond
  std::set<std::string> distinct(ids.begin(), ids.end());
  CHECK(distinct.size() == ids.size());
  CHECK(std::is_sorted(ids.begin(), ids.end()));
  for (const auto& id : {ids.front(), ids.back()}) {
    REQUIRE(id.size() == 36);
    CHECK(id[8] == '-');
    CHECK(id[14] == '7');                                          // version 7
    CHECK(std::string("89ab").find(id[19]) != std::string::npos);  // RFC 9562 variant
  }
  // The first 48 bits are the Unix time in milliseconds.
  const long long ms = std::stoll(ids.back().substr(0, 8) + ids.back().substr(9, 4), nullptr, 16);
  const long long now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  CHECK(ms <= now + 1000);
  CHECK(ms > now - 60'000);
}

TEST_CASE("device ids are random (v4): their prefix tells devices made together apart",
          "[replica]") {
  // The first characters of a device id label it in history ("王五@1a2b3c4d") and
  // in provisional codes; a time-ordered id would share them across devices.
  ScratchDir dir{"kehu-device-ids"};
  std::set<std::string> prefixes;
  for (int i = 0; i < 4; ++i) {
    auto rep = Replica::create(dir.file("r" + std::to_string(i) + ".db"), kPass);
    const std::string id = rep->meta("device_id");
    REQUIRE(id.size() == 36);
    CHECK(id[14] == '4');
    prefixes.insert(id.substr(0, 8));
  }
  CHECK(prefixes.size() == 4);  // 32 random bits each: equal with chance ~1e-9
}

TEST_CASE("add, edit, remove and restore each log exactly one change", "[replica]") {
  ReplicaFixture fx;
  Replica& rep = *fx.rep;
  REQUIRE(all_pending(rep).empty());

  Record r = rep.add("customers", customer_inputs("一号客户"));
  auto log = all_pending(rep);
  REQUIRE(log.size() == 1);
  CHECK(log[0].change.op == Op::create);
  CHECK(log[0].change.record_id == r.id);
  CHECK(log[0].change.base_rev == 0);
  CHECK(log[0].change.device == rep.device_id());
  CHECK_FALSE(log[0].change.change_id.empty());
  CHECK(log[0].change.fields.at("name").new_value == "一号客户");
  CHECK(log[0].change.fields.at("name").old_value.is_null());
  CHECK(r.pending);

  rep.edit(r.code, {{"phone", "+86 139-0000-1111"}});
  log = all_pending(rep);
  REQUIRE(log.size() == 2);
  CHECK(log[1].change.op == Op::update);
  REQUIRE(log[1].change.fields.size() == 1);
  CHECK(log[1].change.fields.at("phone").old_value == "13800138000");
  CHECK(log[1].change.fields.at("phone").new_value == "13900001111");

  SECTION("an edit that changes nothing logs nothing") {
    // Same values typed differently: they normalise to what is stored.
    Record same = rep.edit(r.code, {{"phone", "139 0000 1111"}, {"联系人", " 张三 "}});
    CHECK(all_pending(rep).size() == 2);
    CHECK(same.fields == rep.require(r.code).fields);
    CHECK(rep.history(r.code).size() == 2);
  }

  SECTION("remove and restore are one change each") {
    rep.remove(r.code);
    log = all_pending(rep);
    REQUIRE(log.size() == 3);
    CHECK(log[2].change.op == Op::remove);
    CHECK(log[2].change.fields.at(kDeletedField).new_value == true);
    CHECK(customers(rep).empty());
    CHECK(customers(rep, /*deleted=*/true).size() == 1);

    rep.restore(r.code);
    log = all_pending(rep);
    REQUIRE(log.size() == 4);
    CHECK(log[3].change.op == Op::restore);
    CHECK(log[3].change.fields.at(kDeletedField).new_value == false);
    CHECK(customers(rep).size() == 1);

    // Log order, device order and clock order agree; every change has its own id.
    std::set<std::string> ids;
    for (std::size_t i = 0; i < log.size(); ++i) {
      ids.insert(log[i].change.change_id);
      if (i > 0) {
        CHECK(log[i].seq > log[i - 1].seq);
        CHECK(log[i].change.device_seq > log[i - 1].change.device_seq);
        CHECK(log[i].change.hlc > log[i - 1].change.hlc);
      }
    }
    CHECK(ids.size() == 4);
    CHECK(rep.status().pending == 4);

    // Deleting twice or restoring a live record is refused and logs nothing.
    CHECK(error_code_of([&] { rep.restore(r.code); }) == Errc::validation);
    rep.remove(r.code);
    CHECK(error_code_of([&] { rep.remove(r.code); }) == Errc::validation);
    CHECK(all_pending(rep).size() == 5);
  }

  SECTION("the log survives closing the replica") {
    fx.reopen();
    CHECK(all_pending(*fx.rep).size() == 2);
    CHECK(fx.rep->require(r.code).fields.value("phone", "") == "13900001111");
  }
}

TEST_CASE("a failed edit writes nothing", "[replica]") {
  ReplicaFixture fx;
  Replica& rep = *fx.rep;
  CHECK(error_code_of([&] { rep.add("customers", customer_inputs("坏号码", "1395678")); }) ==
        Errc::validation);
  CHECK(error_code_of([&] { rep.add("customers", {{"name", "缺联系人"}}); }) == Errc::validation);
  CHECK(customers(rep).empty());
  CHECK(all_pending(rep).empty());

  Record r = rep.add("customers", customer_inputs("好客户"));
  CHECK(error_code_of([&] { rep.edit(r.code, {{"email", "not-an-email"}}); }) == Errc::validation);
  CHECK(error_code_of([&] { rep.edit(r.code, {{"name", ""}}); }) == Errc::validation);
  CHECK(all_pending(rep).size() == 1);
  CHECK(rep.require(r.code).fields == r.fields);
}

TEST_CASE("a validation failure inside batch() rolls back everything", "[replica]") {
  ReplicaFixture fx;
  Replica& rep = *fx.rep;
  Record existing = rep.add("customers", customer_inputs("已有客户"));
  REQUIRE(all_pending(rep).size() == 1);

  try {
    rep.batch([&] {
      Record a = rep.add("customers", customer_inputs("批量一"));
      rep.add("followups", {{"date", "2024-05-01"}, {"person", "李四"}, {"content", "电话"}},
              a.code);
      rep.edit(existing.code, {{"city", "上海"}});
      rep.remove(existing.code);
      rep.add("customers", customer_inputs("批量坏", "12345"));  // bad phone
      FAIL("the bad add did not throw");
    });
    FAIL("batch() did not rethrow");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::validation);
    CHECK_THAT(e.what(), Contains("phone"));
  }
  // Only what existed before the batch is there.
  auto live = customers(rep);
  REQUIRE(live.size() == 1);
  CHECK(live[0].id == existing.id);
  CHECK(live[0].fields == existing.fields);
  CHECK(customers(rep, /*deleted=*/true).empty());
  CHECK(all_of(rep, "followups").empty());
  CHECK(all_pending(rep).size() == 1);
  CHECK(rep.status().pending == 1);

  // The replica is still usable, and a good batch commits all of it.
  rep.batch([&] {
    Record a = rep.add("customers", customer_inputs("批量一"));
    rep.add("followups", {{"date", "2024-05-01"}, {"person", "李四"}, {"content", "电话"}}, a.code);
  });
  CHECK(customers(rep).size() == 2);
  CHECK(all_of(rep, "followups").size() == 1);
  CHECK(all_pending(rep).size() == 3);
}

// A customer the server has, as a pull brings it.
PulledRecord pulled_customer(const std::string& code, const std::string& name) {
  PulledRecord p;
  p.id = new_uuid();
  p.collection = "customers";
  p.code = code;
  p.rev = 1;
  p.fields = {{"name", name}, {"contact", "李四"}, {"phone", "13900139000"}, {"need", "打印纸"}};
  return p;
}

// Every customer's code, each once: the replica's UNIQUE index would refuse a
// repeat, so this also checks that nothing was lost on the way.
std::set<std::string> all_codes(const Replica& rep) {
  std::set<std::string> out;
  for (const auto& r : customers(rep)) out.insert(r.code);
  return out;
}

TEST_CASE("customer codes across a month boundary: a code being taken is never handed out again",
          "[replica][codes]") {
  ReplicaFixture fx;
  Replica& rep = *fx.rep;
  ScopedToday today("2026-11-30");

  SECTION("standalone: codes of the new month start at 001; a pulled code moves its holder") {
    const std::string nov = rep.add("customers", customer_inputs("十一月商贸", "13800000001")).code;
    CHECK(nov == "C202611001");
    today.set("2026-12-01");
    const Record dec = rep.add("customers", customer_inputs("十二月商贸", "13800000002"));
    CHECK(dec.code == "C202612001");
    // The server gave December's first code to another customer (the bug of
    // issue 20: the holder was handed the very code being taken).
    rep.apply_pulled({pulled_customer("C202612001", "华信商贸")}, {}, "1");
    const std::string moved = rep.get(dec.id)->code;
    CHECK(moved == "C202612002");
    CHECK(rep.require("C202612001").fields.at("name") == "华信商贸");
    // November's code taken in December: its holder moves into December.
    const std::string nov_id = rep.require(nov).id;
    rep.apply_pulled({pulled_customer(nov, "远景物流")}, {}, "2");
    CHECK(rep.get(nov_id)->code == "C202612003");
    CHECK(all_codes(rep) == std::set<std::string>{"C202611001", "C202612001", "C202612002", "C202612003"});
    // A code that only an alias still holds is not handed out either: the server
    // re-codes the moved customer, and its December code stays an alias.
    std::string nov_change;
    for (const auto& lc : all_pending(rep)) {
      if (lc.change.record_id == nov_id) nov_change = lc.change.change_id;
    }
    REQUIRE(!nov_change.empty());
    rep.mark_accepted(nov_change, 1, "C202611077");
    CHECK(rep.get(nov_id)->code == "C202611077");
    CHECK(rep.require("C202612003").id == nov_id);  // the alias finds it
    CHECK(rep.add("customers", customer_inputs("新客户", "13800000004")).code == "C202612004");
  }

  SECTION("standalone: the last day of a year, then the first of the next") {
    today.set("2026-12-31");
    const Record dec = rep.add("customers", customer_inputs("年末商贸", "13800000001"));
    CHECK(dec.code == "C202612001");
    CHECK(dec.fields.at("created_at") == "2026-12-31");
    today.set("2027-01-01");
    const Record jan = rep.add("customers", customer_inputs("新年商贸", "13800000002"));
    CHECK(jan.code == "C202701001");
    CHECK(jan.fields.at("created_at") == "2027-01-01");
    rep.apply_pulled({pulled_customer("C202701001", "华信商贸")}, {}, "1");
    CHECK(rep.get(jan.id)->code == "C202701002");
  }

  SECTION("leased: each month's lease; a taken code moves its holder to the next leased one") {
    rep.set_meta("server", "http://127.0.0.1:9");
    rep.add_code_lease("202611", 1, 2);
    rep.add_code_lease("202612", 1, 3);
    CHECK(rep.add("customers", customer_inputs("十一月商贸", "13800000001")).code == "C202611001");
    today.set("2026-12-01");
    const Record dec = rep.add("customers", customer_inputs("十二月商贸", "13800000002"));
    CHECK(dec.code == "C202612001");
    rep.apply_pulled({pulled_customer("C202612001", "华信商贸")}, {}, "1");
    CHECK(rep.get(dec.id)->code == "C202612002");
    // A leased serial the server gave elsewhere is skipped, not handed out.
    rep.apply_pulled({pulled_customer("C202612003", "远景物流")}, {}, "2");
    const Record next = rep.add("customers", customer_inputs("后来的客户", "13800000003"));
    CHECK(next.code.rfind("P202612-", 0) == 0);  // lease used up: provisional
    CHECK(rep.leased_codes_left("202612") == 0);
    // A provisional holder of a taken code gets the next provisional one.
    rep.apply_pulled({pulled_customer(next.code, "冒名商贸")}, {}, "3");
    const std::string again = rep.get(next.id)->code;
    CHECK(again.rfind("P202612-", 0) == 0);
    CHECK(again != next.code);
    CHECK(all_codes(rep).size() == 6);
  }
}

TEST_CASE("customers list in the order their codes were made, past serial 999", "[replica][walk14]") {
  // R14-6: as text, C2026111000 sorts between C202611100 and C202611101, so
  // --sort code and every page of `customer list --limit` put the thousandth
  // customer of a month among the hundreds.
  CHECK(code_less("C202611999", "C2026111000"));
  CHECK_FALSE(code_less("C2026111000", "C202611101"));
  CHECK(code_less("C202611101", "C202612001"));
  CHECK(code_less("C2026119999", "C202612001"));
  CHECK(code_sort_key("C202611999") < code_sort_key("C2026111000"));
  CHECK(code_sort_key("C202611100") < code_sort_key("C202611101"));
  ReplicaFixture fx;
  Replica& rep = *fx.rep;
  std::vector<PulledRecord> pulled;
  for (const char* code : {"C2026111000", "C202611101", "C202612001", "C202611100", "C202611999", "C2026111001"})
    pulled.push_back(pulled_customer(code, std::string("客户") + code));
  rep.apply_pulled(pulled, {}, "1");
  const std::vector<std::string> want = {"C202611100", "C202611101", "C202611999",
                                         "C2026111000", "C2026111001", "C202612001"};
  auto codes = [&](const std::string& sort, std::size_t limit) {
    ListQuery q;
    q.sort = sort;
    q.limit = limit;
    std::vector<std::string> out;
    for (const auto& r : rep.list(q)) out.push_back(r.code);
    return out;
  };
  CHECK(codes("", 0) == want);  // read and sorted
  CHECK(codes("code", 0) == want);
  CHECK(codes("", 4) == std::vector<std::string>(want.begin(), want.begin() + 4));  // the index walk
  CHECK(codes("-code", 3) == std::vector<std::string>{"C202612001", "C2026111001", "C2026111000"});
  CHECK(codes("-code", 0) == std::vector<std::string>(want.rbegin(), want.rend()));
}

TEST_CASE("apply_pulled shows server state plus pending edits", "[replica]") {
  ReplicaFixture fx;
  Replica& rep = *fx.rep;
  const std::string id = new_uuid();
  auto pulled = [&](std::int64_t rev, json fields) {
    PulledRecord p;
    p.id = id;
    p.collection = "customers";
    p.code = "C202401001";
    p.rev = rev;
    p.fields = std::move(fields);
    return p;
  };
  auto revision = [&](std::int64_t rev, const std::string& change_id, const std::string& field,
                      json old_value, json new_value) {
    Revision r;
    r.record_id = id;
    r.collection = "customers";
    r.rev = rev;
    r.seq = rev;
    r.change_id = change_id;
    r.op = rev == 1 ? Op::create : Op::update;
    r.author = "alice";
    r.device = "device-of-alice";
    r.at = "2024-01-02T03:04:05Z";
    r.changes[field] = FieldChange{std::move(old_value), std::move(new_value)};
    return r;
  };
  json v1 = {{"name", "服务器客户"}, {"contact", "王五"}, {"phone", "13800000001"},
             {"need", "仓储系统"},   {"city", "上海"},    {"tags", json::array({"华东"})}};
  rep.apply_pulled({pulled(1, v1)}, {revision(1, new_uuid(), "name", nullptr, "服务器客户")}, "1");
  Record r1 = rep.require("C202401001");
  CHECK(r1.rev == 1);
  CHECK_FALSE(r1.pending);
  CHECK(r1.fields == v1);
  CHECK(rep.meta("cursor") == "1");

  // Local edits on top of rev 1: a phone, and a tag added.
  rep.edit("C202401001", {{"phone", "13911112222"}, {"tags", "华东;高预算"}});
  auto log = all_pending(rep);
  REQUIRE(log.size() == 1);
  CHECK(log[0].change.base_rev == 1);
  const std::string my_change = log[0].change.change_id;

  // Meanwhile someone else changed the city and added another tag (rev 2).
  json v2 = v1;
  v2["city"] = "北京";
  v2["tags"] = json::array({"华东", "需要演示"});
  rep.apply_pulled({pulled(2, v2)}, {revision(2, new_uuid(), "city", "上海", "北京")}, "2");
  Record r2 = rep.require("C202401001");
  CHECK(r2.rev == 2);
  CHECK(r2.pending);
  CHECK(r2.fields.value("city", "") == "北京");          // server state
  CHECK(r2.fields.value("phone", "") == "13911112222");  // + my pending edit
  CHECK(r2.fields.value("name", "") == "服务器客户");
  CHECK(r2.fields["tags"] == json::array({"华东", "需要演示", "高预算"}));  // sets merge
  // The pending change keeps the base_rev it was made on, so the server can see
  // the concurrency.
  log = all_pending(rep);
  REQUIRE(log.size() == 1);
  CHECK(log[0].change.change_id == my_change);
  CHECK(log[0].change.base_rev == 1);
  auto hist = rep.history("C202401001");
  REQUIRE(hist.size() == 3);
  CHECK(hist[0].state == "pending");
  CHECK(hist[1].revision.rev == 2);
  CHECK(hist[2].revision.rev == 1);

  SECTION("a pulled revision of my own change ends its pending state") {
    json v3 = v2;
    v3["phone"] = "13911112222";
    v3["tags"] = json::array({"华东", "需要演示", "高预算"});
    rep.apply_pulled({pulled(3, v3)},
                     {revision(3, my_change, "phone", "13800000001", "13911112222")}, "3");
    Record r3 = rep.require("C202401001");
    CHECK(r3.rev == 3);
    CHECK_FALSE(r3.pending);
    CHECK(r3.fields == v3);
    CHECK(all_pending(rep).empty());
    CHECK(rep.status().pending == 0);
  }

  SECTION("a record without pending changes is replaced by the pulled one") {
    const std::string other = new_uuid();
    PulledRecord p;
    p.id = other;
    p.collection = "customers";
    p.code = "C202401002";
    p.rev = 5;
    p.fields = {{"name", "别的客户"}, {"contact", "赵六"}, {"phone", "13800000002"}, {"need", "x"}};
    rep.apply_pulled({p}, {}, "4");
    p.fields["need"] = "y";
    p.rev = 6;
    rep.apply_pulled({p}, {}, "5");
    Record o = rep.require("C202401002");
    CHECK(o.rev == 6);
    CHECK_FALSE(o.pending);
    CHECK(o.fields == p.fields);
    CHECK(rep.meta("cursor") == "5");
  }
}

TEST_CASE("mark_rejected keeps the change with its reason", "[replica]") {
  ReplicaFixture fx;
  Replica& rep = *fx.rep;
  Record a = rep.add("customers", customer_inputs("被拒客户"));
  Record b = rep.add("customers", customer_inputs("被接受客户"));
  auto log = all_pending(rep);
  REQUIRE(log.size() == 2);

  rep.mark_rejected(log[0].change.change_id, "forbidden: 华南 is outside your territory");
  rep.mark_accepted(log[1].change.change_id, 1, "");

  CHECK(all_pending(rep).empty());
  auto rejected = rep.changes_in_state("rejected");
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0].change.change_id == log[0].change.change_id);
  CHECK(rejected[0].change.record_id == a.id);
  CHECK(rejected[0].reason == "forbidden: 华南 is outside your territory");
  CHECK(rejected[0].change.fields.at("name").new_value == "被拒客户");
  CHECK(rep.changes_in_state("acked").size() == 1);
  auto st = rep.status();
  CHECK(st.rejected == 1);
  CHECK(st.pending == 0);

  // The server never had the customer: it leaves the list, and the change with
  // what was typed stays, after a reopen too; a retry makes the customer again.
  CHECK_FALSE(rep.get(a.id));
  fx.reopen();
  CHECK_FALSE(fx.rep->get(a.id));
  const auto kept = fx.rep->changes_in_state("rejected");
  REQUIRE(kept.size() == 1);
  CHECK(kept[0].reason == "forbidden: 华南 is outside your territory");
  const Record again = fx.rep->reapply_rejected(kept[0].seq, {}, {});
  CHECK(again.id == a.id);
  CHECK(again.fields["name"] == "被拒客户");
  CHECK(fx.rep->changes_in_state("rejected").empty());
  CHECK(fx.rep->status().pending == 1);
}

TEST_CASE("the replica file holds no plaintext", "[replica]") {
  ReplicaFixture fx;
  const std::string name = "独特测试客户甲乙丙";
  const std::string phone = "13987654321";
  const std::string marker = "PLAINTEXT-MARKER-7f3a";
  Record r = fx.rep->add("customers", {{"name", name},
                                       {"contact", "独特联系人"},
                                       {"phone", phone},
                                       {"need", "加密检查"},
                                       {"notes", marker}});
  fx.rep->add("followups", {{"date", "2024-05-01"}, {"person", "李四"}, {"content", marker}},
              r.code);
  fx.rep->checkpoint();

  // Control: the same scan finds the values where they are stored in the clear.
  const std::string csv = fx.dir.file("export.csv");
  REQUIRE(export_csv(*fx.rep, csv) == 1);
  auto plain = read_bytes(csv).value();
  REQUIRE(plain.find(name) != std::string::npos);
  REQUIRE(plain.find(phone) != std::string::npos);
  REQUIRE(plain.find(marker) != std::string::npos);

  auto scan = [&](const std::string& when) {
    INFO(when);
    for (const std::string suffix : {"", "-wal", "-journal"}) {
      auto bytes = read_bytes(fx.path + suffix);
      if (!bytes) continue;
      INFO("file " << fx.path + suffix << " (" << bytes->size() << " bytes)");
      if (suffix.empty()) {
        REQUIRE(bytes->size() >= 4096);
        CHECK(bytes->rfind("SQLite format 3", 0) != 0);
      }
      CHECK(bytes->find(name) == std::string::npos);
      CHECK(bytes->find(phone) == std::string::npos);
      CHECK(bytes->find(marker) == std::string::npos);
      CHECK(bytes->find("customers") == std::string::npos);
      CHECK(bytes->find("CREATE TABLE") == std::string::npos);
    }
  };
  scan("after checkpoint(), replica open");
  fx.rep.reset();
  scan("after closing");

  // And the data is really in there.
  fx.reopen();
  CHECK(fx.rep->require(r.code).fields.value("name", "") == name);
}

TEST_CASE("opening with a wrong passphrase fails and changes nothing", "[replica]") {
  ReplicaFixture fx;
  fx.rep->add("customers", customer_inputs("客户"));
  fx.rep.reset();
  FileState before = file_state(fx.path);
  REQUIRE_FALSE(exists(fx.path + "-wal"));

  try {
    Replica::open(fx.path, "wrong passphrase");
    FAIL("opened with a wrong passphrase");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::wrong_passphrase);
    CHECK_THAT(e.what(), Contains("passphrase"));
  }
  FileState after = file_state(fx.path);
  CHECK(after.size == before.size);
  CHECK(after.mtime.tv_sec == before.mtime.tv_sec);
  CHECK(after.mtime.tv_nsec == before.mtime.tv_nsec);
  CHECK(after.bytes == before.bytes);
  CHECK_FALSE(exists(fx.path + "-wal"));
  CHECK_FALSE(exists(fx.path + "-journal"));

  // A process that died with the replica open left committed changes in its WAL.
  // A wrong passphrase must not checkpoint or remove that WAL either.
  kehu::test::run_then_kill([&] {
    // Released, not closed: the process dies with the replica open.
    auto* holder = Replica::open(fx.path, kPass).release();
    holder->add("customers", customer_inputs("崩溃前写入"));
  });
  REQUIRE(exists(fx.path + "-wal"));
  FileState db_before = file_state(fx.path), wal_before = file_state(fx.path + "-wal");
  REQUIRE(wal_before.size > 0);
  CHECK(error_code_of([&] { Replica::open(fx.path, "wrong passphrase"); }) ==
        Errc::wrong_passphrase);
  for (auto [name, was] :
       {std::pair{fx.path, db_before}, std::pair{fx.path + "-wal", wal_before}}) {
    INFO(name);
    REQUIRE(exists(name));
    FileState now = file_state(name);
    CHECK(now.size == was.size);
    CHECK(now.mtime.tv_sec == was.mtime.tv_sec);
    CHECK(now.mtime.tv_nsec == was.mtime.tv_nsec);
    CHECK(now.bytes == was.bytes);
  }

  CHECK(error_code_of([&] { Replica::create(fx.path, kPass); }) == Errc::exists);
  CHECK(error_code_of([&] { Replica::open(fx.dir.file("missing.db"), kPass); }) == Errc::not_found);
  fx.reopen();
  CHECK(customers(*fx.rep).size() == 2);  // the crashed process's write survived
}

TEST_CASE("backup and rekey", "[replica]") {
  ReplicaFixture fx;
  Replica& rep = *fx.rep;
  rep.add("customers", customer_inputs("备份客户一"));
  Record two = rep.add("customers", customer_inputs("备份客户二"));
  rep.edit(two.code, {{"city", "杭州"}});

  const std::string copy = fx.dir.file("backup.db");
  rep.backup(copy);
  CHECK(error_code_of([&] { rep.backup(copy); }) == Errc::exists);
  {
    CHECK(error_code_of([&] { Replica::open(copy, "not the passphrase"); }) ==
          Errc::wrong_passphrase);
    auto b = Replica::open(copy, kPass);
    auto orig = customers(rep), copied = customers(*b);
    REQUIRE(copied.size() == orig.size());
    for (std::size_t i = 0; i < orig.size(); ++i) {
      CHECK(copied[i].code == orig[i].code);
      CHECK(copied[i].fields == orig[i].fields);
    }
    CHECK(b->pending_changes(0, 100).size() == 3);
    CHECK(b->device_id() == rep.device_id());
    CHECK(b->schema_version() == static_cast<int>(ReplicaVersion::current));
  }

  rep.status();  // reads first: rekey must work whatever ran before it
  rep.rekey("new 'quoted' passphrase");
  rep.add("customers", customer_inputs("换密后客户"));
  fx.rep.reset();
  CHECK(error_code_of([&] { Replica::open(fx.path, kPass); }) == Errc::wrong_passphrase);
  auto reopened = Replica::open(fx.path, "new 'quoted' passphrase");
  CHECK(customers(*reopened).size() == 3);
  CHECK(reopened->pending_changes(0, 100).size() == 4);
}

TEST_CASE("import: a row with a known code updates it from only the columns the sheet has",
          "[replica]") {
  ReplicaFixture fx;
  Replica& rep = *fx.rep;
  const std::string code = rep.add("customers", customer_inputs("明达科技", "13800138000")).code;
  const std::string file = fx.dir.file("owners.csv");
  {
    std::ofstream out(file, std::ios::binary);
    // Reassigning owners: code and the changed column only. The second row's code
    // is unknown, so it creates a customer and needs every required field; the
    // third creates one and the fourth updates that one from the same file.
    out << "客户编号,负责人,客户名称,联系人,联系电话,核心需求\n"
        << code << ",王五,,,,\n"
        << "C209901001,李四,,,,\n"
        << "C209901002,赵六,华信物流,钱七,13900139000,运输\n"
        << "C209901002,孙八,,,,\n";
  }
  ImportReport dry = import_csv(rep, file, {/*dry_run=*/true, /*skip_bad=*/false});
  REQUIRE(dry.bad_rows == 1);
  std::set<std::string> missing;
  for (const auto& is : dry.issues) {
    CHECK(is.line == 3);
    missing.insert(is.reason);
  }
  CHECK(missing ==
        std::set<std::string>{"客户名称 (name) is required", "联系人 (contact) is required",
                              "联系电话 (phone) is required", "核心需求 (need) is required"});
  ImportReport done = import_csv(rep, file, {/*dry_run=*/false, /*skip_bad=*/true});
  CHECK(done.written);
  CHECK(done.created == 1);
  CHECK(done.updated == 2);
  CHECK(rep.require(code).fields.value("owner", "") == "王五");
  CHECK(rep.require(code).fields.value("name", "") == "明达科技");  // empty cells change nothing
  CHECK(rep.require("C209901002").fields.value("owner", "") == "孙八");
  CHECK_FALSE(rep.find_customer("C209901001").has_value());
}

TEST_CASE("import_csv of the UTF-8 sample sheet", "[replica]") {
  ReplicaFixture fx;
  Replica& rep = *fx.rep;
  const std::string file = sample("customers-sample.csv");
  auto sheet = read_sample(file, /*gb18030=*/false);
  REQUIRE(sheet.size() == 306);

  ImportReport stop = import_csv(rep, file, {});
  CHECK(stop.encoding == SourceEncoding::utf8_bom);
  CHECK(stop.rows == 305);
  CHECK(stop.bad_rows == 5);
  CHECK_FALSE(stop.written);
  CHECK(stop.created == 0);
  CHECK(customers(rep).empty());
  CHECK(all_pending(rep).empty());
  // Each bad row is named by its line and the column that is wrong.
  std::set<std::pair<std::size_t, std::string>> issues;
  for (const auto& i : stop.issues) issues.insert({i.line, i.field});
  CHECK(issues == std::set<std::pair<std::size_t, std::string>>{{302, "联系电话"},
                                                                {303, "客户名称"},
                                                                {304, "客户类型"},
                                                                {305, "跟进日期"},
                                                                {306, "邮箱"}});
  for (const auto& i : stop.issues) {
    INFO("line " << i.line << ": " << i.reason);
    CHECK_THAT(i.reason, Contains(i.field));
    CHECK(i.value == sheet[i.line - 1][column(sheet[0], i.field)]);
  }

  ImportReport dry = import_csv(rep, file, {/*dry_run=*/true, /*skip_bad=*/true});
  CHECK_FALSE(dry.written);
  CHECK(dry.created == 300);
  CHECK(dry.followups == 300);
  CHECK(customers(rep).empty());
  CHECK(all_pending(rep).empty());

  ImportReport done = import_csv(rep, file, {false, /*skip_bad=*/true});
  CHECK(done.written);
  CHECK(done.created == 300);
  CHECK(done.updated == 0);
  CHECK(done.followups == 300);
  CHECK(done.bad_rows == 5);
  check_imported(rep, sheet, 300);
  CHECK(all_of(rep, "followups").size() == 300);
  CHECK(all_pending(rep).size() == 600);  // a create per customer and per follow-up

  // The same sheet again: every code exists, nothing changes.
  ImportReport again = import_csv(rep, file, {false, true});
  CHECK(again.created == 0);
  CHECK(again.updated == 0);
  CHECK(again.unchanged == 300);
  CHECK(again.followups == 0);
  CHECK(all_pending(rep).size() == 600);
}

TEST_CASE("import_csv of the GB18030 sample sheet", "[replica]") {
  ReplicaFixture fx;
  const std::string file = sample("customers-sample-gbk.csv");
  auto sheet = read_sample(file, /*gb18030=*/true);
  REQUIRE(sheet.size() == 66);
  ImportReport stop = import_csv(*fx.rep, file, {});
  CHECK(stop.encoding == SourceEncoding::gb18030);
  CHECK(stop.bad_rows == 5);
  std::set<std::size_t> lines;
  for (const auto& i : stop.issues) lines.insert(i.line);
  CHECK(lines == std::set<std::size_t>{62, 63, 64, 65, 66});
  CHECK(customers(*fx.rep).empty());

  ImportReport done = import_csv(*fx.rep, file, {false, true});
  CHECK(done.created == 60);
  CHECK(done.followups == 60);
  check_imported(*fx.rep, sheet, 60);
}

TEST_CASE("export_csv and import_csv round-trip awkward values", "[replica]") {
  ReplicaFixture fx;
  Replica& rep = *fx.rep;
  Record a = rep.add("customers", {{"name", "引号\"与,逗号公司"},
                                   {"contact", "欧阳娜娜"},
                                   {"phone", "0755-12345678"},
                                   {"need", "第一行\n第二行"},
                                   {"type", "成交客户"},
                                   {"source", "referral"},
                                   {"tags", "高预算；华东,需要演示"},
                                   {"annual_spend", "¥1,234,567.89"},
                                   {"credit_limit", "0.29"},
                                   {"birthday", "1980/2/29"},
                                   {"notes", " 前后 空格 保留？ "}});
  rep.add("followups",
          {{"date", "2024-03-01"}, {"person", "李四"}, {"content", "早"}, {"method", "phone"}},
          a.code);
  rep.add("followups",
          {{"date", "2024-04-01"},
           {"person", "王五"},
           {"content", "晚,\"带引号\""},
           {"feedback", "积极"}},
          a.code);
  rep.add("customers", customer_inputs("普通客户"));

  const std::string csv = fx.dir.file("export.csv");
  REQUIRE(export_csv(rep, csv) == 2);
  auto bytes = read_bytes(csv).value();
  CHECK(bytes.rfind("\xEF\xBB\xBF序号,客户编号,客户名称,", 0) == 0);

  ReplicaFixture other;
  ImportReport r = import_csv(*other.rep, csv, {});
  INFO((r.issues.empty() ? std::string() : r.issues[0].reason));
  CHECK(r.bad_rows == 0);
  CHECK(r.created == 2);
  CHECK(r.followups == 1);  // the latest follow-up travels with its customer
  auto x = customers(rep), y = customers(*other.rep);
  REQUIRE(x.size() == y.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    CHECK(x[i].code == y[i].code);
    CHECK(x[i].fields == y[i].fields);
  }
  CHECK(y[0].fields["annual_spend"] == 123456789);
  CHECK(y[0].fields["credit_limit"] == 29);
  CHECK(y[0].fields["last_followup_at"] == "2024-04-01");
  auto fus = all_of(*other.rep, "followups");
  REQUIRE(fus.size() == 1);
  CHECK(fus[0].fields.value("content", "") == "晚,\"带引号\"");
  CHECK(fus[0].fields.value("feedback", "") == "positive");

  ImportReport again = import_csv(rep, csv, {});
  CHECK(again.unchanged == 2);
  CHECK(again.created + again.updated + again.followups == 0);
}

TEST_CASE("import_csv names bad rows by physical line after multi-line cells", "[replica]") {
  ReplicaFixture fx;
  const std::string csv = fx.dir.file("sheet.csv");
  write_bytes(csv,
              "客户编号,客户名称,联系人,联系电话,核心需求,备注\r\n"
              "C202401001,甲公司,张三,13800138000,需求,\"两行\r\n备注\"\r\n"
              "C202401002,乙公司,李四,12345,需求,\r\n"
              "C202401003,丙公司,王五,13800138001,,\r\n");
  ImportReport r = import_csv(*fx.rep, csv, {});
  REQUIRE(r.issues.size() == 2);
  CHECK(r.issues[0].line == 4);
  CHECK(r.issues[0].field == "联系电话");
  CHECK(r.issues[0].value == "12345");
  CHECK(r.issues[1].line == 5);
  CHECK(r.issues[1].field == "核心需求");
  CHECK(customers(*fx.rep).empty());

  ImportReport skip = import_csv(*fx.rep, csv, {false, true});
  CHECK(skip.created == 1);
  auto c = fx.rep->require("C202401001");
  CHECK(c.fields.value("notes", "") == "两行\n备注");
}
