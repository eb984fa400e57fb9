#!/usr/bin/env bash
# `revive export` on stories260K: a checkpointed 20-edit run exported as a model
# folder whose perplexity is the run's final one, side files byte-identical;
# the errors (--at-edits, an existing --out, another model); a tp 2 run exported
# by one process and under mpirun -np 2 gives the same bytes. Exit 77 (skip)
# without the fixture.
#   export_test.sh <revive> <data dir> <mpiexec> [mpiexec flags...]
set -euo pipefail
revive=$1
data=${REVIVE_TEST_DATA:-$2}
mpiexec=$3
shift 3
model=$data/stories260K-hf
corpus=$data/text_corpora/tinystories_head_2MiB.txt
[ -f "$model/model.safetensors" ] || { echo "skip: $model not found"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_error() {  # expect_error <text the message must hold> <revive arguments...>
  local want=$1
  shift
  if "$revive" "$@" > /dev/null 2> "$work/err"; then fail "accepted: $*"; fi
  grep -q -- "$want" "$work/err" || fail "the error does not say '$want': $(cat "$work/err")"
}
last_ppl() { tail -1 "$1" | grep -o '"perplexity":[0-9.e+-]*' | cut -d: -f2; }
ppl_of() { "$revive" ppl --model "$1" --text "$corpus" --split lines --max-documents 20 --max-length 256 --truncate \
  --json | grep -o '"ppl":[0-9.e+-]*' | cut -d: -f2; }

"$revive" story-world --model "$model" --seed 9 --count 20 --out "$work/requests.jsonl" > /dev/null
base=(edit --model "$model" --preset stories260k --layers 1 --requests "$work/requests.jsonl" --request-format jsonl
      --num-edits 20 --batch-size 10 --v-steps 5 --stats-corpus "$corpus" --stats-samples 20 --eval-edited 10
      --eval-retained 0 --eval-text "$corpus" --eval-text-docs 20 --metrics-every 10
      --no-drift --cache-dir "$work/cache")
edit=("${base[@]}" --checkpoint-every 10)
"$revive" "${edit[@]}" --out "$work/run" > "$work/edit.log" 2>&1 || fail "revive edit: $(tail -5 "$work/edit.log")"

"$revive" export --run "$work/run" --model "$model" --out "$work/exp" --json > "$work/export.json"
grep -q '"edits":20' "$work/export.json" || fail "export JSON: $(cat "$work/export.json")"
grep -q '"rewritten_files":\["model.safetensors"\]' "$work/export.json" || fail "export JSON: $(cat "$work/export.json")"
for f in config.json tokenizer.json tokenizer_config.json README.md reference.json; do
  cmp -s "$model/$f" "$work/exp/$f" || fail "$f differs from the original"
done
grep -q '"editor"' "$work/exp/revive_edit.json" || fail "no revive_edit.json"
! cmp -s "$model/model.safetensors" "$work/exp/model.safetensors" || fail "the edited weights were not written"
[ "$(stat -c %s "$model/model.safetensors")" = "$(stat -c %s "$work/exp/model.safetensors")" ] \
  || fail "model.safetensors changed size"
run_ppl=$(last_ppl "$work/run/metrics.jsonl")
exp_ppl=$(ppl_of "$work/exp")
[ -n "$run_ppl" ] && [ "$run_ppl" = "$exp_ppl" ] \
  || fail "the exported model's perplexity $exp_ppl is not the run's final $run_ppl"
[ "$(ppl_of "$model")" != "$exp_ppl" ] || fail "the export has the original model's perplexity"

# Errors: a count with no checkpoint names those that exist (older ones are
# removed by the run); an existing --out; a model other than the edited one.
expect_error "has checkpoints at: 20" export --run "$work/run" --model "$model" --out "$work/x" --at-edits 10
[ ! -e "$work/x" ] || fail "a refused export left $work/x"
expect_error "already exists" export --run "$work/run" --model "$model" --out "$work/exp"
"$revive" export --run "$work/run" --model "$model" --out "$work/exp" --force --at-edits 20 > /dev/null
mkdir "$work/other"
cp "$model"/* "$work/other/"
chmod u+w "$work/other"/*
printf '\n' >> "$work/other/config.json"
expect_error "run_config.model" export --run "$work/run" --model "$work/other" --out "$work/x"
expect_error "holds no checkpoints" export --run "$work/other" --model "$model" --out "$work/x"
[ ! -e "$work/x" ] || fail "a refused export left $work/x"

# revive edit --save-model: the same folder as an export of the run's last checkpoint.
expect_error "--save-model: exports the run's last checkpoint" "${base[@]}" --out "$work/nosave" \
  --save-model "$work/saved"
"$revive" "${edit[@]}" --out "$work/run_s" --save-model "$work/saved" > "$work/edit_s.log" 2>&1 \
  || fail "revive edit --save-model: $(tail -5 "$work/edit_s.log")"
"$revive" export --run "$work/run_s" --model "$model" --out "$work/exp_s" > /dev/null
cmp -s "$work/saved/model.safetensors" "$work/exp_s/model.safetensors" || fail "--save-model differs from revive export"
expect_error "--save-model: $work/saved already exists" "${edit[@]}" --out "$work/run_t" --save-model "$work/saved"

# tp 2: the run's shards gathered by one process or under mpirun -np 2: same bytes.
"$mpiexec" -np 2 "$@" "$revive" "${edit[@]}" --tp 2 --dp 1 --out "$work/run2" > "$work/edit2.log" 2>&1 \
  || fail "revive edit --tp 2: $(tail -5 "$work/edit2.log")"
grep -q '"tp_size": 2' "$work/run2/checkpoints/edits-20/state.json" || fail "the tp 2 run's checkpoint is not tp 2"
"$revive" export --run "$work/run2" --model "$model" --out "$work/exp2a" --no-edit-record > /dev/null
"$mpiexec" -np 2 "$@" "$revive" export --run "$work/run2" --model "$model" --out "$work/exp2b" --no-edit-record \
  > /dev/null || fail "export under mpirun -np 2"
for f in "$work"/exp2a/*; do
  cmp -s "$f" "$work/exp2b/$(basename "$f")" || fail "$(basename "$f"): export by one process and by -np 2 differ"
done
[ "$(ls "$work/exp2a" | wc -l)" = "$(ls "$work/exp2b" | wc -l)" ] || fail "the tp 2 exports hold other files"
run2_ppl=$(last_ppl "$work/run2/metrics.jsonl")
exp2_ppl=$(ppl_of "$work/exp2a")
awk -v a="$run2_ppl" -v b="$exp2_ppl" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && d <= 1e-5 * a) }' \
  || fail "the tp 2 export's perplexity $exp2_ppl (at tp 1) is not the tp 2 run's $run2_ppl"
echo "cli export: ok"
