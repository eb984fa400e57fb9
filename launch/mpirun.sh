#!/usr/bin/env bash
# Run a `revive` subcommand on a dp x tp grid with mpirun.
#   launch/mpirun.sh <np> <tp> <revive args...>
# e.g. launch/mpirun.sh 4 2 info    (2-way tensor x 2-way data parallel)
# Extra mpirun flags: REVIVE_MPIRUN_FLAGS (e.g. "--hostfile hosts"). One OpenMP
# thread per rank unless OMP_NUM_THREADS is set.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 <np> <tp> <revive subcommand> [options]" >&2
  exit 2
fi
np=$1 tp=$2
shift 2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
revive=${REVIVE_BIN:-$root/build/launch/revive}
[ -x "$revive" ] || { echo "$revive not built: run launch/test.sh or cmake --build build" >&2; exit 1; }
flags=(--oversubscribe)
[ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)
# shellcheck disable=SC2206
flags+=(${REVIVE_MPIRUN_FLAGS:-})
exec mpirun -np "$np" "${flags[@]}" -x OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" -x REVIVE_TP="$tp" \
  "$revive" "$@"
