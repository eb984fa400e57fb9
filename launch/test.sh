#!/usr/bin/env bash
# The test command: install what is missing, configure, build, run every test
# (unit tests, and multi-rank tests under mpirun -np 1, 2 and 4). Exits non-zero
# on any failure; the last lines are ctest's summary.
#   REVIVE_BUILD_DIR  build folder (default: build/)
#   REVIVE_JOBS       parallel build jobs (default: nproc)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${REVIVE_BUILD_DIR:-$root/build}
jobs=${REVIVE_JOBS:-$(nproc)}

bash "$root/launch/setup.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREVIVE_WERROR=ON
cmake --build "$build" -j"$jobs"
cd "$build"
ctest --output-on-failure -j"$jobs" --timeout 900
