// B1, B2, B3, B9: the encrypted replica through the core library, no network.
#include <cstdio>
#include <filesystem>

#include "benches.h"
#include "data_gen.h"
#include "kehu/error.h"
#include "kehu/sheet.h"
#include "kehu/sqlite.h"
#include "stats.h"

namespace kehu::bench {
namespace {

constexpr std::int64_t kBatch = 1000;  // edits per transaction, as the table asks

// Builds ws.big: big_customers() customers through add_values, kBatch per
// Replica::batch. Generating a batch is not timed; the batch transaction is.
double build_big_replica(Workspace& ws) {
  const std::string path = ws.path("big.kehu");
  std::filesystem::remove(path);
  ws.big.reset();
  auto rep = Replica::create(path, kPassphrase);
  CustomerGenerator gen(kCustomerSeed);
  const std::int64_t n = ws.big_customers();
  Stopwatch sw;
  for (std::int64_t first = 0; first < n; first += kBatch) {
    std::vector<json> batch;
    for (std::int64_t i = first; i < std::min(n, first + kBatch); ++i)
      batch.push_back(gen.next(i).values);
    sw.start();
    rep->batch([&] {
      for (auto& v : batch) rep->add_values("customers", std::move(v));
    });
    sw.stop();
  }
  ws.big = std::move(rep);
  return sw.seconds();
}

// The physical limit for B1 and B3: the same rows' JSON inserted into a plain
// table of a separate SQLCipher file with the replica's settings (page size 4096,
// kdf_iter 256000 via Database::key; WAL and synchronous=NORMAL as replica.cc
// sets them), all in one transaction. Returns rows/s.
double raw_insert_rate(Workspace& ws, const std::string& name) {
  const std::string path = ws.path(name);
  std::filesystem::remove(path);
  db::Database d(path, /*create=*/true);
  d.key(kPassphrase);
  d.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  d.exec("CREATE TABLE customers(id INTEGER PRIMARY KEY, code TEXT NOT NULL, body TEXT NOT NULL)");
  CustomerGenerator gen(kCustomerSeed);
  const std::int64_t n = ws.big_customers();
  Stopwatch sw;
  sw.start();
  db::Transaction tx(d);
  auto& insert = d.cached("INSERT INTO customers(code, body) VALUES (?, ?)");
  sw.stop();
  for (std::int64_t first = 0; first < n; first += kBatch) {
    std::vector<std::pair<std::string, std::string>> rows;
    for (std::int64_t i = first; i < std::min(n, first + kBatch); ++i) {
      json v = gen.next(i).values;
      rows.emplace_back(v.value("code", ""), v.dump());
    }
    sw.start();
    for (const auto& [code, body] : rows) {
      insert.bind(1, code).bind(2, body).run();
      insert.reset();
    }
    sw.stop();
  }
  sw.start();
  tx.commit();
  sw.stop();
  return static_cast<double>(n) / sw.seconds();
}

std::string ms_text(double ms) { return format_number(ms) + " ms"; }

}  // namespace

Replica& ensure_big_replica(Workspace& ws) {
  if (!ws.big) build_big_replica(ws);
  return *ws.big;
}

double ensure_raw_insert_rate(Workspace& ws) {
  if (!ws.raw_insert_rate) ws.raw_insert_rate = raw_insert_rate(ws, "raw-insert.db");
  return *ws.raw_insert_rate;
}

Figure bench_b1_edits(Workspace& ws) {
  Figure f("B1", "customer edits (add_values), batches of 1,000", "rows/s");
  const std::int64_t n = ws.big_customers();
  // Baseline before and after: on a shared 2-core machine the disk and CPU drift
  // over a run; the better of the two is the limit we compare with.
  const double before = raw_insert_rate(ws, "raw-insert-1.db");
  const double kehu_s = build_big_replica(ws);
  const double after = raw_insert_rate(ws, "raw-insert-2.db");
  ws.raw_insert_rate = std::max(before, after);
  f.value = static_cast<double>(n) / kehu_s;
  f.baseline = *ws.raw_insert_rate;
  f.baseline_what = "raw SQLCipher INSERT of the same JSON, one transaction";
  f.ratio = f.value / *f.baseline;
  f.target = "≥ 0.5 × baseline";
  f.pass = *f.ratio >= 0.5;
  f.note = std::to_string(n) + " Replica::add_values (record + change-log entry each) in " +
           format_number(kehu_s) + " s";
  f.extra = {{"edits", n},
             {"seconds", kehu_s},
             {"baseline_before_rows_per_s", before},
             {"baseline_after_rows_per_s", after}};
  return f;
}

Figure bench_b2_cli_edit(Workspace& ws) {
  Figure f("B2", "one edit as the CLI makes it (own transaction)", "ms");
  Replica& rep = ensure_big_replica(ws);
  const std::int64_t n = ws.big_customers();
  const std::int64_t edits = ws.scaled(2000, 50);
  CustomerGenerator gen(kCustomerSeed + 2);
  std::vector<double> ms;
  for (std::int64_t i = 0; i < edits; ++i) {
    const std::string code =
        code_for_index(static_cast<std::int64_t>(gen.rng().below(static_cast<std::uint64_t>(n))));
    auto inputs = gen.typed_edit(i);
    const auto t0 = Clock::now();
    rep.edit(code, inputs);
    ms.push_back(seconds_since(t0) * 1000);
  }
  const double p50 = percentile(ms, 50), p99 = percentile(ms, 99);
  f.value = p99;
  f.shown = "p50 " + ms_text(p50) + ", p99 " + ms_text(p99);
  f.target = "p99 ≤ 2 ms";
  f.pass = p99 <= 2.0;
  f.note = std::to_string(edits) +
           " Replica::edit calls (typed labels, phone with +86) on random customers of a " +
           std::to_string(n) + "-customer replica";
  f.extra = {{"edits", edits}, {"p50_ms", p50}, {"p99_ms", p99}, {"max_ms", percentile(ms, 100)}};
  return f;
}

Figure bench_b3_import(Workspace& ws) {
  Figure f("B3", "import_csv of a template-layout sheet", "rows/s");
  const std::int64_t n = ws.big_customers();
  const std::string sheet = ws.path("sheet.csv");
  const std::string header =
      read_first_line(std::string(KEHU_SHARED_DATA_DIR) + "/customers-sample.csv");
  write_sheet_csv(sheet, header, n, kCustomerSeed + 1);
  const double baseline = ensure_raw_insert_rate(ws);
  const std::string path = ws.path("import.kehu");
  std::filesystem::remove(path);
  auto rep = Replica::create(path, kPassphrase);
  const auto t0 = Clock::now();
  ImportReport r = import_csv(*rep, sheet, {});
  const double s = seconds_since(t0);
  if (!r.written || r.bad_rows != 0 || static_cast<std::int64_t>(r.rows) != n) {
    std::string why = r.issues.empty() ? std::string("nothing written")
                                       : "line " + std::to_string(r.issues[0].line) + " " +
                                             r.issues[0].field + ": " + r.issues[0].reason;
    throw Error(Errc::internal, "B3: the generated sheet did not import: " + why);
  }
  f.value = static_cast<double>(r.rows) / s;
  f.baseline = baseline;
  f.baseline_what = "B1's raw SQLCipher INSERT";
  f.ratio = f.value / baseline;
  f.target = "≥ 50,000 rows/s";
  f.pass = f.value >= 50'000;
  const auto bytes = std::filesystem::file_size(sheet);
  f.note = std::to_string(r.rows) + " rows (" + format_number(static_cast<double>(bytes) / 1e6) +
           " MB, UTF-8 BOM, CRLF): " + std::to_string(r.created) + " customers + " +
           std::to_string(r.followups) + " follow-ups in " + format_number(s) + " s";
  f.extra = {{"rows", r.rows},
             {"seconds", s},
             {"customers", r.created},
             {"followups", r.followups},
             {"sheet_bytes", bytes}};
  return f;
}

Figure bench_b9_list(Workspace& ws) {
  Figure f("B9", "customer list --where type,province / --search 科技", "ms");
  Replica& rep = ensure_big_replica(ws);
  ListQuery where_q;
  where_q.where = {{"type", "intention"}, {"province", "江苏"}};
  ListQuery search_q;
  search_q.search = "科技";
  constexpr int kRuns = 7;
  auto measure = [&](const ListQuery& q, std::size_t& count, double& first) {
    std::vector<double> ms;
    for (int i = 0; i < kRuns; ++i) {
      const auto t0 = Clock::now();
      count = rep.list(q).size();
      ms.push_back(seconds_since(t0) * 1000);
    }
    first = ms.front();
    return median(ms);
  };
  std::size_t where_n = 0, search_n = 0;
  double where_first = 0, search_first = 0;
  const double where_ms = measure(where_q, where_n, where_first);
  const double search_ms = measure(search_q, search_n, search_first);
  // The same queries for a first page (--limit 50): not the target's figure,
  // which lists every match, but what a screen of results costs.
  constexpr std::size_t kPage = 50;
  where_q.limit = search_q.limit = kPage;
  std::size_t where_page_n = 0, search_page_n = 0;
  double unused = 0;
  const double where_page_ms = measure(where_q, where_page_n, unused);
  const double search_page_ms = measure(search_q, search_page_n, unused);
  if (where_page_n != std::min(kPage, where_n) || search_page_n != std::min(kPage, search_n)) {
    throw Error(Errc::internal, "B9: a --limit 50 page did not return its first 50 matches");
  }
  f.value = std::max(where_ms, search_ms);
  f.shown = "where " + ms_text(where_ms) + ", search " + ms_text(search_ms);
  f.target = "≤ 50 ms each";
  f.pass = where_ms <= 50 && search_ms <= 50;
  f.note = "median of " + std::to_string(kRuns) + " Replica::list calls on " +
           std::to_string(ws.big_customers()) + " customers; --where returns " +
           std::to_string(where_n) + ", --search returns " + std::to_string(search_n) +
           " customers; with --limit 50: where " + ms_text(where_page_ms) + ", search " +
           ms_text(search_page_ms);
  f.extra = {{"where_ms", where_ms},           {"search_ms", search_ms},
             {"where_first_ms", where_first},  {"search_first_ms", search_first},
             {"where_rows", where_n},          {"search_rows", search_n},
             {"where_page_ms", where_page_ms}, {"search_page_ms", search_page_ms}};
  return f;
}

}  // namespace kehu::bench
