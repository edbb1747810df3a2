#!/usr/bin/env bash
# Configures and builds Kehu into BUILD_DIR (default build/). Extra arguments go to
# cmake's configure step, e.g. -DKEHU_SANITIZE=ON.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
bash "$root/scripts/install-deps.sh"
# ccache: paths inside the clone are hashed relative to it, so a fresh clone
# elsewhere (CI's) reuses what another clone compiled.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
cmake --build "$build" -j"${JOBS:-2}"
