#!/usr/bin/env bash
# bench/crash_resume.sh at a small size: one run killed with SIGKILL at random
# times and resumed each time ends byte-identical to the uninterrupted run, in
# one process (5 kills) and under mpirun -np 2 at tp 2 and at dp 2 (3 kills each).
#   crash_resume_test.sh <source dir> <revive> <mpiexec> [mpiexec flags...]
set -euo pipefail
root=$1
revive=$2
mpiexec=$3
shift 3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
check() {  # check JSON_FILE KILLS
  grep -q '"checkpoint_files_identical": true, "metrics_identical": true' "$1" || fail "$(cat "$1")"
  grep -q "\"kills\": $2," "$1" || fail "fewer kills than $2: $(cat "$1")"
  cat "$1"
}
bench=(bash "$root/bench/crash_resume.sh" --revive "$revive" --edits 200 --work "$work")
"${bench[@]}" --kills 5 > "$work/np1.json" || fail "np 1: $(cat "$work/np1.json")"
check "$work/np1.json" 5
for grid in tp dp; do
  "${bench[@]}" --kills 3 --np 2 --grid "$grid" --mpiexec "$mpiexec" "$@" -- > "$work/$grid.json" \
    || fail "np 2 $grid: $(cat "$work/$grid.json")"
  check "$work/$grid.json" 3
done
echo "crash resume: ok"
