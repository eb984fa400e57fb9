#!/usr/bin/env bash
# bench/fidelity.sh end to end at a tiny size (the story world on stories260K,
# one seed, two variants, 10 edits): every record is in the JSON with the
# figures the bench compares, and the summary has one row per variant. Exit 77
# (skip) without the fixture.
#   fidelity_test.sh <revive> <data dir>
set -euo pipefail
revive=$1
export REVIVE_TEST_DATA=${REVIVE_TEST_DATA:-$2}
for f in stories260K-hf/model.safetensors text_corpora/tinystories_head_2MiB.txt; do
  [ -f "$REVIVE_TEST_DATA/$f" ] || { echo "skip: $f not found"; exit 77; }
done
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$root/bench/fidelity.sh" --worlds story --seeds 5 --edits 10 --batch 2 --stats-docs 20 \
  --variants plain=memit:none,paper=memit:revive --out "$work/out" --revive "$revive" -- --context-templates 0 \
  > "$work/f.json" 2> "$work/f.log" \
  || fail "bench_fidelity: $(tail -5 "$work/f.log")"
jq -e '.runs | length == 2' "$work/f.json" > /dev/null || fail "two runs expected: $(head -c 300 "$work/f.json")"
# A record every 20% of 10 edits: 0, 2, ..., 10.
jq -e '[.runs[] | .records | map(.edits)] == [[0,2,4,6,8,10],[0,2,4,6,8,10]]' "$work/f.json" > /dev/null \
  || fail "records at every 20%: $(jq -c '[.runs[] | .records | map(.edits)]' "$work/f.json")"
jq -e '.runs[] | .records[-1] | (.efficacy | type == "number") and (.perplexity > 1) and (.retained_recall | type == "number")
       and (.norm_growth >= 1)' "$work/f.json" > /dev/null || fail "a record lacks a figure"
jq -e '.runs[] | select(.variant == "paper") | .records[-1].diagnostics | has("disturbance_filtered")' "$work/f.json" \
  > /dev/null || fail "the filtered run's diagnostics are missing"
jq -e '.summary | map(.variant) == ["paper", "plain"]' "$work/f.json" > /dev/null \
  || fail "summary: $(jq -c '.summary' "$work/f.json")"
jq -e '.edit_options == ["--context-templates", "0"]' "$work/f.json" > /dev/null \
  || fail "edit options: $(jq -c '.edit_options' "$work/f.json")"
# Options after -- reach every revive edit (a bad one fails the run with revive's message).
if "$root/bench/fidelity.sh" --worlds story --seeds 5 --edits 10 --batch 2 --stats-docs 20 --variants plain=memit:none \
    --out "$work/out" --revive "$revive" -- --context-templates -1 > /dev/null 2> "$work/err"; then
  fail "a bad option after -- was accepted"
fi
grep -q -- "--context-templates: must not be negative" "$work/err" || fail "options after --: $(cat "$work/err")"
if "$root/bench/fidelity.sh" --worlds moon --revive "$revive" > /dev/null 2> "$work/err"; then fail "an unknown world was accepted"; fi
grep -q "unknown world 'moon'" "$work/err" || fail "unknown world: $(cat "$work/err")"
if "$root/bench/fidelity.sh" --seeds 0 --revive "$revive" > /dev/null 2> "$work/err"; then fail "seed 0 was accepted"; fi
grep -q -- "--seeds take positive integers" "$work/err" || fail "seed 0: $(cat "$work/err")"
echo "bench fidelity: ok"
