#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang + ASan + UBSan into build-fuzz/
# and runs each for SECONDS (default 60) from its seed corpus (fuzz/corpus/NAME)
# plus the inputs of crashes found before (fuzz/regressions/NAME, run first: any
# failure there fails at once). New corpus entries go to a scratch directory, not
# the repository. A crash leaves its input in build-fuzz/artifacts/ and fails.
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 600 fuzz_server
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-60}"
shift || true
targets=("$@")
((${#targets[@]})) || targets=(fuzz_protocol fuzz_csv fuzz_xlsx fuzz_server fuzz_inflate)
build="$root/build-fuzz"
bash "$root/scripts/install-deps.sh"
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DKEHU_FUZZ=ON -DKEHU_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"${JOBS:-2}" --target "${targets[@]}"
mkdir -p "$build/artifacts"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"  # the in-process server lives until exit
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
for t in "${targets[@]}"; do
  name="${t#fuzz_}"
  bin="$build/fuzz/$t"
  regressions="$root/fuzz/regressions/$name"
  if compgen -G "$regressions/*" >/dev/null; then
    "$bin" -runs=0 "$regressions"/* >"$build/artifacts/$t.regressions.log" 2>&1 ||
      { cat "$build/artifacts/$t.regressions.log" >&2; echo "fuzz: $t fails on a regression input" >&2; exit 1; }
  fi
  work="$(mktemp -d)"
  log="$build/artifacts/$t.log"
  if ! "$bin" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$build/artifacts/$t-" "$work" "$root/fuzz/corpus/$name" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz: $t found a failure; its input is in $build/artifacts/" >&2
    rm -rf "$work"
    exit 1
  fi
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")"
  echo "fuzz: $t: $runs executions in ${seconds}s ($rate/s), corpus $(ls "$work" | wc -l) new units, no failure"
  rm -rf "$work"
done
