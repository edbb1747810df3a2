// kehu-bench: measures Kehu against the physical limits of its machine.
//
//   kehu-bench [--scale F] [--only B1,B4] [--json FILE] [--store URL [--servers N]]
//
// --store runs B7 on a PostgreSQL store (the URL of an empty database; B7 runs
// `kehu-server init --store URL` and adds its users) and --servers N spreads
// B7's replicas over N serve processes on it (1-8). Other benchmarks keep their
// SQLite server.
//
// --scale multiplies every size (1.0 = 100,000 customers; the smoke test uses
// 0.005). Prints a table (id, what, figure, baseline, ratio, target, PASS/MISS)
// and writes the same as JSON. Exit 0 when every selected benchmark ran (whether
// or not it met its target), 1 when one could not run, 2 for a usage error.
//
// Benchmarks run in dependency order, not id order: B1 builds the replica that
// B2, B9 and B5 use, B5 fills the server that B4 and B6 read, and B8 reports what
// B4 and B7 measured.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <set>
#include <sstream>

#include "benches.h"
#include "kehu/record.h"
#include "stats.h"

namespace kehu::bench {
namespace {

struct Args {
  double scale = 1.0;
  std::set<std::string> only;  // empty = all
  std::string json_path;
  std::string store;  // B7's PostgreSQL URL, "" = SQLite
  int servers = 1;
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "kehu-bench: " << why
            << "\nusage: kehu-bench [--scale F] [--only B1,B4,...] [--json FILE] [--store postgresql://... "
               "[--servers N]]\n";
  std::exit(2);
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--scale") {
      const std::string v = value();
      char* end = nullptr;
      a.scale = std::strtod(v.c_str(), &end);
      if (end == v.c_str() || *end || !(a.scale > 0) || a.scale > 10)
        usage("--scale wants a number in (0, 10]");
    } else if (arg == "--only") {
      std::stringstream ss(value());
      for (std::string id; std::getline(ss, id, ',');) {
        static const std::set<std::string> known = {"B1", "B2", "B3", "B4", "B5", "B6", "B7",
                                                    "B8", "B9", "B10", "R1"};
        if (!known.count(id)) usage("unknown benchmark \"" + id + "\"");
        a.only.insert(id);
      }
    } else if (arg == "--json") {
      a.json_path = value();
    } else if (arg == "--store") {
      a.store = value();
      if (a.store.rfind("postgresql://", 0) != 0 && a.store.rfind("postgres://", 0) != 0)
        usage("--store wants a postgresql:// URL");
    } else if (arg == "--servers") {
      const std::string v = value();
      if (v.size() != 1 || v[0] < '1' || v[0] > '8') usage("--servers wants a number from 1 to 8");
      a.servers = v[0] - '0';
    } else if (arg == "-h" || arg == "--help") {
      usage("measures Kehu against its targets");
    } else {
      usage("unknown argument \"" + arg + "\"");
    }
  }
  if (a.servers > 1 && a.store.empty()) usage("--servers needs --store (processes share a PostgreSQL store)");
  return a;
}

}  // namespace

int run(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  using Bench = std::function<Figure(Workspace&)>;
  // Dependency order (see the file comment).
  const std::vector<std::pair<std::string, Bench>> order = {
      {"B1", bench_b1_edits},      {"B2", bench_b2_cli_edit},   {"B9", bench_b9_list},
      {"R1", bench_r1_report_funnel},
      {"B3", bench_b3_import},     {"B5", bench_b5_push},       {"B4", bench_b4_first_sync},
      {"B6", bench_b6_round_trip}, {"B7", bench_b7_concurrent}, {"B8", bench_b8_memory},
      {"B10", bench_b10_live}};
  RunInfo info{kehu::today_local(), sysconf(_SC_NPROCESSORS_ONLN), args.scale, 0};
  std::vector<Figure> figures;
  bool all_ran = true;
  const auto t0 = Clock::now();
  {
    Workspace ws(args.scale);
    ws.b7_store = args.store;
    ws.b7_servers = args.servers;
    for (const auto& [id, bench] : order) {
      if (!args.only.empty() && !args.only.count(id)) continue;
      std::cerr << "kehu-bench: " << id << "…" << std::flush;
      const auto t = Clock::now();
      try {
        figures.push_back(bench(ws));
      } catch (const std::exception& e) {
        Figure f;
        f.id = id;
        f.what = "(could not run)";
        f.failed = true;
        f.note = e.what();
        figures.push_back(f);
        all_ran = false;
      }
      std::cerr << " " << format_number(seconds_since(t)) << " s\n";
    }
  }  // the workspace stops its servers and removes its files here
  info.total_s = seconds_since(t0);
  std::sort(figures.begin(), figures.end(),
            [](const Figure& a, const Figure& b) { return a.id < b.id; });
  std::cout << render_report(figures, info) << std::flush;
  if (!args.json_path.empty()) {
    std::ofstream out(args.json_path, std::ios::binary);
    out << report_json(figures, info).dump(2) << '\n';
    if (!out.flush()) {
      std::cerr << "kehu-bench: cannot write " << args.json_path << '\n';
      return 1;
    }
  }
  return all_ran ? 0 : 1;
}

}  // namespace kehu::bench

int main(int argc, char** argv) {
  try {
    return kehu::bench::run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "kehu-bench: " << e.what() << '\n';
    return 1;
  }
}
