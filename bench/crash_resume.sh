#!/usr/bin/env bash
# bench/crash_resume.sh: SIGKILL one editing run at random times, resume it each
# time, and compare what it ends with against an uninterrupted run, byte for
# byte: the last checkpoint's weights and editor state (every tp shard) and
# every metrics record (timings, seconds and memory left out, being the clock's).
#   bench/crash_resume.sh --revive BUILD/launch/revive [--kills 50] [--np 1] [--grid dp|tp]
#                         [--edits 300] [--seed 1] [--work DIR] [--mpiexec mpirun [flags...] --]
# The run: a toy world and model made by `revive toy-model` (cached in WORK),
# MEMIT + REVIVE's filter, batches of 10, a checkpoint and a metrics record
# after every batch, statistics computed by the run itself (a fresh cache per
# trial, so early kills land in the statistics pass). A quarter of the kills
# land at a uniform time in the start-up (loading, statistics, basis), the rest
# at a uniform time within one batch once the batches begin (keys, v*, the
# solve, the filter, writes, checkpoints, evaluation), timed on an uninterrupted
# run with its statistics cached. Prints one JSON object: the
# kills, the phase each landed in (the run's last progress line), and whether
# everything matched; exits 1 when something differs.
set -euo pipefail
revive=
kills=50
np=1
grid=dp
edits=300
seed=1
work=${TMPDIR:-/tmp}/revive-crash-resume
mpiexec=(mpirun)
while [ $# -gt 0 ]; do
  case "$1" in
    --revive) revive=$2; shift ;;
    --kills) kills=$2; shift ;;
    --np) np=$2; shift ;;
    --grid) grid=$2; shift ;;
    --edits) edits=$2; shift ;;
    --seed) seed=$2; shift ;;
    --work) work=$2; shift ;;
    --mpiexec) shift; mpiexec=(); while [ "$1" != "--" ]; do mpiexec+=("$1"); shift; done ;;
    *) echo "crash_resume: unknown option $1 (see the comment at the top)" >&2; exit 2 ;;
  esac
  shift
done
[ -x "$revive" ] || { echo "crash_resume: --revive must name the built revive program" >&2; exit 2; }
case "$grid" in dp | tp) ;; *) echo "crash_resume: --grid is dp or tp" >&2; exit 2 ;; esac
mkdir -p "$work"
export OMP_NUM_THREADS=1
RANDOM=$seed

subjects=$((edits / 2 + 10))  # two relations: a request per subject and relation, and some to spare
toy=$work/toy-s$seed-$subjects
if [ ! -f "$toy/model/config.json" ]; then
  "$revive" toy-model --out "$toy" --subjects "$subjects" --relations 2 --layers 2 --seed "$seed" --log-every 0 \
    > "$work/toy.log" 2>&1 || { tail -5 "$work/toy.log" >&2; exit 1; }
fi
launch=()
if [ "$np" -gt 1 ]; then
  launch=("${mpiexec[@]}" -np "$np" -x OMP_NUM_THREADS -x "REVIVE_TP=$([ "$grid" = tp ] && echo "$np" || echo 1)")
fi
edit_args() {  # edit_args OUT CACHE: the one run every trial repeats
  echo --model "$toy/model" --preset toy --layers 0-1 --requests "$toy/world/requests.json" \
    --num-edits "$edits" --batch-size 10 --v-steps 10 --filter revive \
    --stats-corpus "$toy/world/train.txt" --stats-split lines --eval-edited 20 --eval-retained 10 \
    --eval-text "$toy/world/train.txt" --eval-text-docs 20 --metrics-every 10 --checkpoint-every 10 \
    --out "$1" --cache-dir "$2"
}

phase_of() {  # phase_of LAST_LINE: where a kill landed, from the run's last progress line
  case "$1" in
    "") echo "start-up (loading)" ;;
    statistics*) echo "statistics pass" ;;
    basis*) echo "protected basis" ;;
    "revive edit:"*) echo "evaluation of the unedited model, first batch" ;;
    *) echo "batches (keys, v*, solve, filter, write, checkpoint, evaluation)" ;;
  esac
}
wait_for_batches() {  # wait_for_batches LOG PID: until the run's header line (its batches begin) or its end
  while kill -0 "$2" 2> /dev/null && ! grep -qs "^revive edit:" "$1"; do sleep 0.01; done
}
uniform_s() { awk -v r="$RANDOM" -v ms="$1" 'BEGIN {printf "%.3f", r / 32768 * ms / 1000}'; }  # uniform_s MS

# The uninterrupted run; then the same with its statistics cached, timed: the
# start-up a resumed run pays (loading, basis) and a batch with its evaluation.
rm -rf "$work/straight" "$work/straight-cache" "$work/warm"
t0=$(date +%s%N)
# shellcheck disable=SC2046
"${launch[@]}" "$revive" edit $(edit_args "$work/straight" "$work/straight-cache") > "$work/straight.log" 2>&1 \
  || { tail -5 "$work/straight.log" >&2; exit 1; }
total_ms=$((($(date +%s%N) - t0) / 1000000))
rm -f "$work/warm.log"  # the wait below reads it: nothing of an earlier run may be in it
t0=$(date +%s%N)
# shellcheck disable=SC2046
stdbuf -oL -eL "${launch[@]}" "$revive" edit $(edit_args "$work/warm" "$work/straight-cache") > "$work/warm.log" 2>&1 &
pid=$!
wait_for_batches "$work/warm.log" "$pid"
startup_ms=$((($(date +%s%N) - t0) / 1000000))
wait "$pid" || { tail -5 "$work/warm.log" >&2; exit 1; }
batch_ms=$(((($(date +%s%N) - t0) / 1000000 - startup_ms) * 10 / edits))

# The killed run. A quarter of the kills land anywhere in the start-up; the
# others at a uniform time within one batch after the batches begin, so a
# cycle saves at most a batch or two and the run lasts many kills.
run=$work/killed
rm -rf "$run" "$work/killed-cache" "$work/phases.txt"
done_kills=0 starts=0
while :; do
  resume=()
  [ "$starts" -gt 0 ] && resume=(--resume)
  rm -f "$work/killed.log"
  # Its own process group, so a kill reaches mpirun and every rank at once.
  # shellcheck disable=SC2046
  setsid stdbuf -oL -eL "${launch[@]}" "$revive" edit $(edit_args "$run" "$work/killed-cache") "${resume[@]}" \
    > "$work/killed.log" 2>&1 &
  pid=$!
  starts=$((starts + 1))
  [ "$done_kills" -ge "$kills" ] && { wait "$pid" || { tail -5 "$work/killed.log" >&2; exit 1; }; break; }
  if [ $((RANDOM % 4)) -eq 0 ]; then
    sleep "$(uniform_s "$startup_ms")"
  else
    wait_for_batches "$work/killed.log" "$pid"
    sleep "$(uniform_s "$batch_ms")"
  fi
  if kill -0 "$pid" 2> /dev/null; then
    kill -9 -- -"$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
    # mpirun may give its ranks groups of their own: none may outlive the kill
    # and write beside the resumed run.
    while pkill -9 -f -- "edit .*--out $run " 2> /dev/null; do sleep 0.05; done
    done_kills=$((done_kills + 1))
    phase_of "$(tail -1 "$work/killed.log")" >> "$work/phases.txt"
  else
    wait "$pid" || { tail -5 "$work/killed.log" >&2; exit 1; }
    echo "crash_resume: the run finished after $done_kills kills: raise --edits for $kills" >&2
    break
  fi
done

# Byte for byte: the last checkpoints and the metrics records.
compared=$(bash "$(dirname "${BASH_SOURCE[0]}")/../launch/compare_runs.sh" "$work/straight" "$run") || true
same_files=$(echo "$compared" | grep -o 'checkpoint_files_identical=[a-z]*' | cut -d= -f2)
same_metrics=$(echo "$compared" | grep -o 'metrics_identical=[a-z]*' | cut -d= -f2)
phases=$(sort "$work/phases.txt" 2> /dev/null | uniq -c | awk '{n = $1; $1 = ""; sub(/^ /, ""); gsub(/"/, "'"'"'"); printf "%s\"%s\": %d", (c++ ? ", " : ""), $0, n}')
printf '{"bench": "crash_resume", "np": %d, "grid": "%s", "edits": %d, "seed": %d, "kills": %d, "starts": %d, ' \
  "$np" "$grid" "$edits" "$seed" "$done_kills" "$starts"
printf '"uninterrupted_s": %.2f, "startup_s": %.2f, "batch_s": %.3f, "checkpoint_files_identical": %s, "metrics_identical": %s, ' \
  "$(awk -v w="$total_ms" 'BEGIN {print w / 1000}')" "$(awk -v w="$startup_ms" 'BEGIN {print w / 1000}')" \
  "$(awk -v w="$batch_ms" 'BEGIN {print w / 1000}')" "$same_files" "$same_metrics"
printf '"kill_phases": {%s}}\n' "$phases"
[ "$same_files" = true ] && [ "$same_metrics" = true ] && [ "$done_kills" -ge "$kills" ]
