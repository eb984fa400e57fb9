#!/usr/bin/env bash
# `revive story-world` on stories260K: a JSONL stream that `revive edit` reads,
# fixed by the seed, with errors for seed 0 and a bad count. Exit 77 (skip)
# without the fixture.
#   story_world_test.sh <revive> <data dir>
set -euo pipefail
revive=$1
data=${REVIVE_TEST_DATA:-$2}
model=$data/stories260K-hf
[ -f "$model/model.safetensors" ] || { echo "skip: $model not found"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1
fail() { echo "FAIL: $*" >&2; exit 1; }

"$revive" story-world --model "$model" --seed 9 --count 40 --out "$work/a.jsonl" --json > "$work/a.json"
grep -q '"requests":40' "$work/a.json" || fail "story-world JSON: $(cat "$work/a.json")"
[ "$(wc -l < "$work/a.jsonl")" -eq 40 ] || fail "40 lines expected in a.jsonl"
"$revive" story-world --model "$model" --seed 9 --count 40 --out "$work/b.jsonl" > /dev/null
cmp -s "$work/a.jsonl" "$work/b.jsonl" || fail "one seed should give one stream"
"$revive" story-world --model "$model" --seed 10 --count 40 --out "$work/c.jsonl" > /dev/null
! cmp -s "$work/a.jsonl" "$work/c.jsonl" || fail "another seed should give another stream"
# The file is a request file `revive edit` reads (a 1-edit run at layer 1).
"$revive" edit --model "$model" --preset stories260k --layers 1 --requests "$work/a.jsonl" --request-format jsonl \
  --num-edits 10 --batch-size 10 --v-steps 5 --stats-corpus "$data/text_corpora/tinystories_head_2MiB.txt" \
  --stats-samples 20 --eval-edited 10 --eval-retained 0 --out "$work/run" --cache-dir "$work/cache" > "$work/edit.log" 2>&1 \
  || fail "revive edit on the stream: $(tail -5 "$work/edit.log")"
[ -s "$work/run/metrics.jsonl" ] || fail "the edit wrote no metrics"
if "$revive" story-world --model "$model" --seed 0 --count 5 --out "$work/z.jsonl" 2> "$work/err"; then
  fail "seed 0 should be refused"
fi
grep -q "seed 0" "$work/err" || fail "seed 0: $(cat "$work/err")"
[ ! -e "$work/z.jsonl" ] || fail "a refused stream should write nothing"
echo "cli story world: ok"
