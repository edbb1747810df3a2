// The benchmarks, one function per id of the table in bench/RESULTS.md. Each
// measures its figure beside its baseline in the same run (ratios hold on a noisy
// machine), grades it against its target, and throws only if it cannot run.
#pragma once

#include "report.h"
#include "workspace.h"

namespace kehu::bench {

// Core (bench_core.cc): the encrypted replica through the library.
Figure bench_b1_edits(Workspace& ws);     // add_values in batches of 1,000 vs raw inserts
Figure bench_b2_cli_edit(Workspace& ws);  // one Replica::edit, p50/p99
Figure bench_b3_import(Workspace& ws);    // import_csv of a template-layout sheet
Figure bench_b9_list(Workspace& ws);      // Replica::list --where / --search

// Reports (bench_reports.cc): on the big replica.
Figure bench_r1_report_funnel(Workspace& ws);  // report_funnel, plain and --by owner

// Sync (bench_sync.cc): the real server on 127.0.0.1.
Figure bench_b5_push(Workspace& ws);        // one replica pushes every pending change
Figure bench_b4_first_sync(Workspace& ws);  // `kehu sync` into an empty replica vs bare libcurl
Figure bench_b6_round_trip(Workspace& ws);  // edit one field + sync, p50
Figure bench_b7_concurrent(Workspace& ws);  // 8 replicas push at once
Figure bench_b8_memory(Workspace& ws);      // peak RSS of the client in B4, the server in B7
// Live sync (bench_live.cc): edit on device A to device B's waiting sync
// delivering it, with 200 other devices waiting.
Figure bench_b10_live(Workspace& ws);

// The big replica of ws (built untimed if B1 did not run). Returns it.
Replica& ensure_big_replica(Workspace& ws);
// Raw-insert rows/s (measured once if B1 did not run).
double ensure_raw_insert_rate(Workspace& ws);

}  // namespace kehu::bench
