#!/usr/bin/env bash
# The demo's verdict (issue 22's criteria), one PASS/FAIL line per criterion,
# computed from the runs' own metrics records (DEMO_DIR/<run>/metrics.jsonl for
# the runs memit, memit-revive, alphaedit, alphaedit-revive, and, shown in the
# table only, memit-revive-paper; a record every 20%
# of the run, the first before any edit). "Every record" means every record
# after edits begin (efficacy) or every record (perplexity, recall, norm).
# Prints the verdict table (start and end of each run) first. Exits 0 whatever
# the verdict: a criterion that fails is a finding, reported, not an error.
#   launch/demo_verdict.sh DEMO_DIR
set -euo pipefail
d=${1:?usage: demo_verdict.sh DEMO_DIR}
command -v jq >/dev/null || { echo "demo_verdict: jq is missing (launch/setup.sh installs it)" >&2; exit 1; }
runs=(memit memit-revive alphaedit alphaedit-revive)
for r in "${runs[@]}"; do
  [ -s "$d/$r/metrics.jsonl" ] || { echo "demo_verdict: $d/$r/metrics.jsonl is missing" >&2; exit 1; }
done
# jq over one run's records (slurped into an array).
q() { jq -rs "$2" "$d/$1/metrics.jsonl"; }
# Largest weight norm growth over the edited layers of a record.
growth='[.layers[] | .weight_norm_growth] | max'

echo "| run | edits | efficacy | generalization | specificity | unedited recall | held-out perplexity | max norm growth |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
shown=("${runs[@]}")
[ -s "$d/memit-revive-paper/metrics.jsonl" ] && shown+=(memit-revive-paper)  # the paper's filter, for comparison
for r in "${shown[@]}"; do
  q "$r" ".[0], .[-1] | \"| $r | \(.edits) | \(.eval.efficacy*1000|round/1000) | \(.eval.generalization*1000|round/1000) | \(.eval.specificity*1000|round/1000) | \(.eval.retained_recall*1000|round/1000) | \(.eval.perplexity*100|round/100) | \(($growth)*100|round/100) |\""
done
echo

pass=0; total=0
verdict() {  # verdict NAME JQ_BOOL_EXPR_OVER_RUN RUN [DETAIL_EXPR]
  local name=$1 expr=$2 run=$3 detail=${4:-}
  local ok; ok=$(q "$run" "$expr")
  local shown=""; [ -n "$detail" ] && shown=" ($(q "$run" "$detail"))"
  total=$((total + 1))
  if [ "$ok" = "true" ]; then pass=$((pass + 1)); echo "PASS  $name$shown"; else echo "FAIL  $name$shown"; fi
}
verdict "MEMIT unprotected degrades: end perplexity >= 1.5x start or unedited recall <= 0.6x start" \
  '(.[-1].eval.perplexity >= 1.5 * .[0].eval.perplexity) or (.[-1].eval.retained_recall <= 0.6 * .[0].eval.retained_recall)' \
  memit '"perplexity x\(.[-1].eval.perplexity / .[0].eval.perplexity * 100 | round / 100), recall x\(.[-1].eval.retained_recall / .[0].eval.retained_recall * 100 | round / 100)"'
verdict "MEMIT+REVIVE efficacy >= 0.90 at every record after edits begin" \
  '[.[] | select(.edits > 0) | .eval.efficacy] | min >= 0.9' memit-revive \
  '"lowest \([.[] | select(.edits > 0) | .eval.efficacy] | min)"'
verdict "MEMIT+REVIVE held-out perplexity <= 1.10x start at every record" \
  '([.[] | .eval.perplexity] | max) <= 1.1 * .[0].eval.perplexity' memit-revive \
  '"highest x\(([.[] | .eval.perplexity] | max) / .[0].eval.perplexity * 1000 | round / 1000)"'
verdict "MEMIT+REVIVE unedited recall >= 0.90x start at every record" \
  '([.[] | .eval.retained_recall] | min) >= 0.9 * .[0].eval.retained_recall' memit-revive \
  '"lowest x\(([.[] | .eval.retained_recall] | min) / .[0].eval.retained_recall * 1000 | round / 1000)"'
verdict "MEMIT+REVIVE weight norm growth <= 2 at every record" \
  "[.[] | $growth] | max <= 2" memit-revive "\"highest x\([.[] | $growth] | max * 100 | round / 100)\""
# AlphaEdit+REVIVE against AlphaEdit, record by record.
worst=$(jq -rn --slurpfile a "$d/alphaedit/metrics.jsonl" --slurpfile b "$d/alphaedit-revive/metrics.jsonl" \
  '[range(0; [$a, $b] | map(length) | min) as $i | select($a[$i].edits > 0)
    | $b[$i].eval.efficacy - $a[$i].eval.efficacy] | min')
total=$((total + 1))
if jq -en "$worst >= -0.02" >/dev/null; then pass=$((pass + 1)); s=PASS; else s=FAIL; fi
echo "$s  AlphaEdit+REVIVE efficacy at most 0.02 below AlphaEdit's at every record (worst difference $worst)"
verdict "AlphaEdit+REVIVE held-out perplexity <= 1.10x start at every record" \
  '([.[] | .eval.perplexity] | max) <= 1.1 * .[0].eval.perplexity' alphaedit-revive \
  '"highest x\(([.[] | .eval.perplexity] | max) / .[0].eval.perplexity * 1000 | round / 1000)"'
echo
echo "verdict: $pass of $total criteria pass"
