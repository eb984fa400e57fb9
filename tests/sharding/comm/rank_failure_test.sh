#!/usr/bin/env bash
# A rank that dies, throws or hangs mid-collective must make the job exit non-zero
# within a bounded time, with a message naming the operation and the failed rank.
# usage: rank_failure_test.sh <mpiexec> <program> <np> [mpiexec flags...]
set -u
mpiexec=$1 program=$2 np=$3
shift 3
# This test sets its own (short) collective timeout: drop any other.
flags=()
while [ $# -gt 0 ]; do
  if [ "$1" = "-x" ] && [[ "${2:-}" == REVIVE_COMM_TIMEOUT_S* ]]; then shift 2; continue; fi
  flags+=("$1"); shift
done
bound=60
status=0
for mode in kill throw hang; do
  victim=$((np - 1))
  log=$(mktemp)
  start=$(date +%s)
  REVIVE_COMM_TIMEOUT_S=5 timeout $((bound + 30)) "$mpiexec" -np "$np" "${flags[@]}" \
    -x REVIVE_COMM_TIMEOUT_S "$program" "$mode" "$victim" >"$log" 2>&1
  rc=$?
  elapsed=$(( $(date +%s) - start ))
  fail() { echo "FAIL [$mode]: $1"; sed 's/^/    | /' "$log"; status=1; }
  if [ $rc -eq 0 ]; then fail "job exited 0"
  elif [ $rc -eq 124 ]; then fail "job hung (killed by timeout after ${elapsed}s)"
  elif [ $elapsed -gt $bound ]; then fail "took ${elapsed}s (bound ${bound}s)"
  else
    case $mode in
      kill)  grep -q "during all_reduce" "$log" && grep -q "dead peers: rank $victim " "$log" \
               || fail "no message naming all_reduce and dead rank $victim" ;;
      throw) grep -q "rank $victim \[mpi:world\] all_reduce: tensor is not contiguous" "$log" \
               || fail "no message naming all_reduce and rank $victim" ;;
      hang)  grep -q "all_reduce (collective #[0-9]*) did not complete within" "$log" \
               || fail "no timeout message naming all_reduce" ;;
    esac
  fi
  [ $status -eq 0 ] && echo "ok [$mode]: exit $rc after ${elapsed}s: $(grep -m1 'revive:\|rank_failure:' "$log")"
  rm -f "$log"
done
exit $status
