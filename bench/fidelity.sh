#!/usr/bin/env bash
# bench_fidelity (issue 22): editor + filter variants on the same request streams,
# measured at every 20% of each run. Two worlds:
#   toy    the demo's toy world and model (`revive toy-model`, one per seed; the
#          world, the model's initialisation and the request order all set by the
#          seed), perplexity on its held-out grammar sentences;
#   story  stories260K with a generated story-world stream per seed (`revive
#          story-world`: invented names, objects chosen on the model; the 200
#          requests after the edited ones are the unedited facts), statistics over
#          the first --stats-docs (2,000) TinyStories documents, perplexity on the
#          corpus' last 100 stories (never in the statistics).
# Prints one JSON object: per world, seed and variant, one entry per record
# (edits, efficacy, generalization, specificity, unedited recall, perplexity,
# the largest weight norm growth, k, and the batch diagnostics averaged over the
# edited layers), and per world and variant the mean over seeds of the last
# record with its ratios to the start. Progress goes to stderr; each run's
# metrics.jsonl stays under --out/runs/<world>-s<seed>/<variant>/. A world whose
# fixtures are missing, or a failed run, stops the bench with exit status 1.
#   bench/fidelity.sh [--worlds toy,story] [--seeds 1,2,3] [--edits N] [--batch N]
#                     [--variants NAME=EDITOR:FILTER,...] [--tau T] [--stats-docs D] [--out DIR] [--revive BIN]
#                     [-- REVIVE_EDIT_OPTIONS...]
# Options after `--` go to every `revive edit` (e.g. -- --context-templates 0).
# Defaults: both worlds, seeds 1,2,3, the demo's 500 edits in batches of 50 on
# the toy world and 500 in batches of 10 on the story world (--edits / --batch
# set both), variants memit=memit:none, memit-revive=memit:revive,
# memit-constrained=memit:constrained, memit-sphere=memit:sphere,
# alphaedit=alphaedit:none, alphaedit-constrained=alphaedit:constrained.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
worlds=toy,story
seeds=1,2,3
edits=""
batch=""
tau=0.5
stats_docs=2000
out=$root/fidelity-run
revive=${REVIVE_BIN:-$root/build/launch/revive}
variants=memit=memit:none,memit-revive=memit:revive,memit-constrained=memit:constrained,memit-sphere=memit:sphere,alphaedit=alphaedit:none,alphaedit-constrained=alphaedit:constrained
data=${REVIVE_TEST_DATA:-$root/../shared/data}
extra=()
while [ $# -gt 0 ]; do
  if [ "$1" = -- ]; then
    shift
    extra=("$@")
    break
  fi
  [ $# -ge 2 ] || { echo "bench_fidelity: option $1 has no value" >&2; exit 2; }
  case $1 in
    --worlds) worlds=$2 ;;
    --seeds) seeds=$2 ;;
    --edits) edits=$2 ;;
    --batch) batch=$2 ;;
    --variants) variants=$2 ;;
    --tau) tau=$2 ;;
    --stats-docs) stats_docs=$2 ;;
    --out) out=$2 ;;
    --revive) revive=$2 ;;
    *) echo "bench_fidelity: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
command -v jq > /dev/null || { echo "bench_fidelity: jq is missing (launch/setup.sh installs it)" >&2; exit 1; }
[ -x "$revive" ] || { echo "bench_fidelity: no revive command at $revive (build it, or --revive BIN)" >&2; exit 1; }
for n in $edits $batch $stats_docs ${seeds//,/ }; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "bench_fidelity: --edits, --batch, --stats-docs and --seeds take positive integers" >&2; exit 2; }
done
jq -en --argjson t "$tau" '$t > 0 and $t <= 1' > /dev/null 2>&1 || { echo "bench_fidelity: --tau takes a number in (0, 1]" >&2; exit 2; }
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
mkdir -p "$out"
log() { echo "[fidelity] $*" >&2; }

# Per world: its requests, model, statistics and evaluation options for one seed
# (sets the array `setup` and the edit count `n`), made on first use and cached under $out. Each step
# returns on failure: `set -e` does not act inside a function called from `||`.
toy_setup() {
  local seed=$1 toy=$out/toy-s$1
  n=${edits:-500}
  if [ ! -f "$toy/model/config.json" ]; then
    log "toy world and model, seed $seed"
    "$revive" toy-model --out "$toy" --seed "$seed" --subjects 250 --relations 4 --layers 4 --hidden 64 \
      --intermediate 256 --general-sentences 4000 --held-out-sentences 300 --log-every 0 > /dev/null || return 1
  fi
  setup=(--model "$toy/model" --requests "$toy/world/requests.json" --preset toy --stats-corpus "$toy/world/train.txt"
         --stats-split lines --eval-text "$toy/world/held_out.txt" --eval-text-docs 300
         --num-edits "$n" --batch-size "${batch:-50}")
}
story_setup() {
  local seed=$1 model=$data/stories260K-hf corpus=$data/text_corpora/tinystories_head_2MiB.txt
  [ -f "$model/model.safetensors" ] && [ -f "$corpus" ] || { log "the story world needs $model and $corpus"; return 1; }
  n=${edits:-500}
  # 200 requests beyond the edited ones: the facts never edited, for recall.
  if [ ! -s "$out/story-s$seed-$n.jsonl" ]; then
    "$revive" story-world --model "$model" --seed "$seed" --count $(( n + 200 )) --out "$out/story-s$seed-$n.jsonl" \
      > /dev/null || return 1
  fi
  if [ ! -s "$out/story-held-out.txt" ]; then  # written whole or not at all
    awk 'BEGIN { RS = "<[|]endoftext[|]>" } { d[++n] = $0 }
      END { for (i = n - 99; i <= n; ++i) printf "%s%s", d[i], (i < n ? "<|endoftext|>" : "") }' "$corpus" \
      > "$out/story-held-out.txt.tmp" && mv "$out/story-held-out.txt.tmp" "$out/story-held-out.txt" || return 1
  fi
  setup=(--model "$model" --requests "$out/story-s$seed-$n.jsonl" --request-format jsonl --preset stories260k
         --stats-corpus "$corpus" --stats-samples "$stats_docs" --eval-text "$out/story-held-out.txt"
         --eval-text-split separator --eval-text-docs 100 --num-edits "$n" --batch-size "${batch:-10}")
}

# One record as JSON: the figures this bench compares.
record_filter='{edits, efficacy: .eval.efficacy, generalization: .eval.generalization,
  specificity: .eval.specificity, retained_recall: .eval.retained_recall, perplexity: .eval.perplexity,
  norm_growth: ([.layers[] | .weight_norm_growth] | max), k: [.layers[] | .k],
  diagnostics: ([.layers[] | to_entries[] | select(.key | test("^(achieved|disturbance|residual_unprotected)"))
                 | select(.value | type == "number")] | group_by(.key)
                | map({key: .[0].key, value: (map(.value) | add / length)}) | from_entries),
  values: (.values // {})}'

runs=()
IFS=, read -ra world_list <<< "$worlds"
IFS=, read -ra seed_list <<< "$seeds"
IFS=, read -ra variant_list <<< "$variants"
for world in "${world_list[@]}"; do
  [[ $world == toy || $world == story ]] || { echo "bench_fidelity: unknown world '$world' (toy, story)" >&2; exit 2; }
  for seed in "${seed_list[@]}"; do
    "${world}_setup" "$seed" || { log "$world world, seed $seed: setup failed"; exit 1; }
    for v in "${variant_list[@]}"; do
      name=${v%%=*} spec=${v#*=}
      editor=${spec%%:*} filter=${spec#*:}
      [[ -n $name && -n $editor && -n $filter && $v == *=*:* ]] \
        || { echo "bench_fidelity: variant '$v' is not NAME=EDITOR:FILTER" >&2; exit 2; }
      dir=$out/runs/$world-s$seed/$name
      log "$world seed $seed: $name ($editor, filter $filter), $n edits"
      rm -rf "$dir"
      mkdir -p "$(dirname "$dir")"
      "$revive" edit "${setup[@]}" --editor "$editor" --filter "$filter" --tau "$tau" --cache-dir "$out/cache-$world" \
        --metrics-every $(( n / 5 > 0 ? n / 5 : 1 )) --eval-edited 200 --eval-retained 200 --out "$dir" "${extra[@]+"${extra[@]}"}" > "$dir.log" 2>&1 \
        || { log "$name failed: $(tail -3 "$dir.log")"; exit 1; }
      runs+=("$(jq -cs --arg world "$world" --argjson seed "$seed" --arg name "$name" --arg editor "$editor" \
        --arg filter "$filter" "{world: \$world, seed: \$seed, variant: \$name, editor: \$editor, filter: \$filter,
          records: map($record_filter)}" "$dir/metrics.jsonl")")
    done
  done
done

edit_options='[]'
[ ${#extra[@]} -eq 0 ] || edit_options=$(printf '%s\n' "${extra[@]}" | jq -R . | jq -cs .)
printf '%s\n' "${runs[@]+"${runs[@]}"}" | jq -s --argjson tau "$tau" --argjson edit_options "$edit_options" '
  def mean: map(select(. != null)) | if length > 0 then add / length else null end;
  def ratio(f): if (.records[0] | f) > 0 then (.records[-1] | f) / (.records[0] | f) else null end;
  {tau: $tau, edit_options: $edit_options, runs: .,
   summary: (group_by([.world, .variant]) | map({
     world: .[0].world, variant: .[0].variant, seeds: length,
     final_efficacy: (map(.records[-1].efficacy) | mean),
     lowest_efficacy: (map(.records[1:] | map(.efficacy) | map(select(. != null)) | min)
                       | map(select(. != null)) | min),
     final_retained_recall: (map(.records[-1].retained_recall) | mean),
     perplexity_ratio: (map(ratio(.perplexity)) | mean),
     recall_ratio: (map(ratio(.retained_recall)) | mean),
     max_norm_growth: (map(.records | map(.norm_growth) | max) | max)}))}'
