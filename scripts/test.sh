#!/usr/bin/env bash
# Builds Kehu with warnings as errors and runs every test (ctest runs each Catch2
# test case on its own; [.slow] cases are skipped).
#   scripts/test.sh             the normal build (build-test/)
#   scripts/test.sh --sanitize  the same under ASan + UBSan (build-asan/), but not
#                               the "pg:" tests again (the server on PostgreSQL),
#                               nor the new-user walkthroughs ("walkN:", "daily:",
#                               "zh:"): they replay CLI paths the other CLI tests
#                               run under ASan too, and were a third of its time
#   scripts/test.sh --slow      only the slow [.slow] cases, normal build
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mode="${1:-}"
case "$mode" in
  ""|--slow) build="$root/build-test"; flags=(-DKEHU_WERROR=ON) ;;
  --sanitize) build="$root/build-asan"; flags=(-DKEHU_WERROR=ON -DKEHU_SANITIZE=ON) ;;
  *) echo "usage: scripts/test.sh [--sanitize|--slow]" >&2; exit 2 ;;
esac
BUILD_DIR="$build" bash "$root/scripts/build.sh" "${flags[@]}"
# A 32 MB quarantine (the default is 256 MB) still catches a use of memory freed
# shortly before, and makes each replica open (256,000 PBKDF2 rounds, a few
# allocations each) about twice as fast: the sanitizer stage is most of CI.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:quarantine_size_mb=32"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
if [ "$mode" = "--slow" ]; then
  "$build/tests/kehu_tests" "[.slow]"
else
  exclude=()
  [ "$mode" = "--sanitize" ] && exclude=(-E '^(pg|walk[0-9]*|daily|zh):')
  ctest --test-dir "$build" --output-on-failure -j"${JOBS:-2}" "${exclude[@]}"
fi
