#!/usr/bin/env bash
# Dead and stuck ranks in every phase of an edit run: under mpirun -np 2 (tp 2),
# REVIVE_FAULT_INJECT makes rank 1 raise SIGKILL or SIGSTOP on entering a phase
# (statistics, basis, v*, keys, solve, filter, write, checkpoint, evaluation),
# on its third entry where the phase recurs, so a checkpoint exists.
# The job must end non-zero within 30 s (collective timeout 8 s), its messages
# naming the failed rank and the phase, and the latest checkpoint must still be
# whole: the same run resumed from it finishes.
#   rank_fault_test.sh <revive> <mpiexec> [mpiexec flags...]
set -uo pipefail
revive=$1
mpiexec=$2
shift 2
mpi_flags=("$@")
work=$(mktemp -d)
trap 'pkill -9 -f -- "--out $work/" 2> /dev/null; rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1
fail() { echo "FAIL: $*" >&2; exit 1; }
"$revive" toy-model --out "$work/toy" --subjects 20 --relations 2 --layers 2 --log-every 0 > /dev/null 2>&1 || fail "toy-model"
edit() {  # edit [more revive edit options]: the 40-edit tp-2 run in $out, with its own cache
  "$mpiexec" -np 2 "${mpi_flags[@]}" -x REVIVE_TP=2 -x REVIVE_COMM_TIMEOUT_S=8 -x REVIVE_FAULT_INJECT "$revive" edit \
    --model "$work/toy/model" --preset toy --layers 0-1 --requests "$work/toy/world/requests.json" --num-edits 40 \
    --batch-size 10 --v-steps 10 --filter revive --stats-corpus "$work/toy/world/train.txt" --stats-split lines \
    --eval-edited 10 --eval-retained 10 --eval-text "$work/toy/world/train.txt" --eval-text-docs 10 \
    --metrics-every 10 --checkpoint-every 10 --out "$out" --cache-dir "$out-cache" "$@"
}
phases=${REVIVE_FAULT_PHASES:-statistics basis v* keys solve filter write checkpoint evaluation}
set -f  # "v*" is a phase name, not a pattern
for phase in $phases; do
  for signal in KILL STOP; do
    out=$work/run-${phase//\*/s}-$signal
    # Once a checkpoint exists where the phase recurs (twice per batch for the
    # per-layer phases of 2 layers, once per batch, record or checkpoint else).
    count=3
    case "$phase" in statistics | basis) count=1 ;; esac
    export REVIVE_FAULT_INJECT="rank=1,phase=$phase,signal=$signal,count=$count"
    t0=$(date +%s)
    edit > "$work/log" 2>&1
    rc=$?
    took=$(($(date +%s) - t0))
    pkill -9 -f -- "--out $out " 2> /dev/null  # a stopped rank the launcher left behind
    [ "$rc" -ne 0 ] || fail "$phase/$signal: the job succeeded"
    [ "$took" -le 30 ] || fail "$phase/$signal: the job took $took s to end"
    # What the other rank and the launcher say (not the injection's own line).
    grep -v REVIVE_FAULT_INJECT "$work/log" > "$work/said"
    grep -Eq "(dead|stopped) peers:[^;]*rank 1 |process rank 1 " "$work/said" \
      || fail "$phase/$signal: no message names rank 1: $(tail -5 "$work/said")"
    # The surviving rank names the phase it was in (its own: it may be past rank 1's).
    grep -Eq "in phase [a-z*]+|, phase [a-z*]+" "$work/said" \
      || fail "$phase/$signal: no message names the phase: $(tail -5 "$work/said")"
    if [ -e "$out/checkpoints/latest" ]; then
      export REVIVE_FAULT_INJECT=
      edit --resume --json > "$work/resume.log" 2>&1 || fail "$phase/$signal: resume: $(tail -5 "$work/resume.log")"
      resumed="resumed from $(grep -o '"resumed_from":[0-9]*' "$work/resume.log" | cut -d: -f2) edits to the end"
    else
      resumed="no checkpoint yet"
    fi
    echo "$phase / $signal: ended in $took s, rank 1 and the phase named ($(grep -Eo "(in|, ) phase [a-z*]+" "$work/said" | head -1 | sed 's/^, //')); $resumed"
  done
done
echo "rank faults: ok"
