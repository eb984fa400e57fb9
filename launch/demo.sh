#!/usr/bin/env bash
# The embedded demo (DESIGN.md section 6), the README's first command:
#   1. install packages (setup.sh) and build the `revive` command;
#   2. make - or reuse - the toy fact world and a small Llama-architecture model
#      trained on it with REVIVE's own code (cached in $REVIVE_DEMO_DIR/toy);
#   3. run the same sequential editing twice - MEMIT, and MEMIT + REVIVE - on the
#      toy world's counterfactual requests, printing metrics as edits accumulate;
#   4. a side-by-side summary and PNG plots (revive report).
# Environment:
#   REVIVE_BUILD_DIR   build folder (default: build/, shared with launch/test.sh)
#   REVIVE_DEMO_DIR    outputs (default: demo-run/)
#   REVIVE_DEMO_EDITS  number of sequential edits (default: 500)
#   REVIVE_DEMO_BATCH  requests per batch (default: 50)
#   REVIVE_JOBS        parallel build jobs (default: nproc)
# Point the same run at a real model: see "Editing a real checkpoint" in README.md.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${REVIVE_BUILD_DIR:-$root/build}
demo=${REVIVE_DEMO_DIR:-$root/demo-run}
edits=${REVIVE_DEMO_EDITS:-500}
batch=${REVIVE_DEMO_BATCH:-50}
jobs=${REVIVE_JOBS:-$(nproc)}
start=$(date +%s)
step() { printf '\n== %s (%ds)\n' "$1" $(( $(date +%s) - start )); }

step "setup and build"
bash "$root/launch/setup.sh"
mkdir -p "$build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREVIVE_WERROR=ON > "$build/demo-configure.log" 2>&1 \
  || { cat "$build/demo-configure.log"; exit 1; }
cmake --build "$build" --target revive -j"$jobs"
revive="$build/launch/revive"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)}

step "toy fact world and model"
toy="$demo/toy"
"$revive" toy-model --out "$toy" --subjects 250 --relations 4 --layers 4 --hidden 64 --intermediate 256 \
  --log-every 300

# Shared by both runs: edited layers, statistics over the world's own text,
# evaluation every 20% of the run (edited facts, facts never edited, perplexity).
common=(--model "$toy/model" --requests "$toy/world/requests.json" --preset toy --cache-dir "$demo/cache"
        --stats-corpus "$toy/world/train.txt" --stats-split lines
        --num-edits "$edits" --batch-size "$batch" --metrics-every $(( edits / 5 ))
        --eval-edited 200 --eval-retained 200 --eval-text "$toy/world/train.txt" --eval-text-docs 300)

step "MEMIT: $edits sequential edits"
"$revive" edit "${common[@]}" --editor memit --out "$demo/memit" --json > "$demo/memit.json"

step "MEMIT + REVIVE: the same edits, every update filtered"
"$revive" edit "${common[@]}" --editor memit --filter revive --tau 0.5 --out "$demo/memit-revive" --json \
  > "$demo/memit-revive.json"

step "report"
"$revive" report --runs "$demo/memit/metrics.jsonl" "$demo/memit-revive/metrics.jsonl" \
  --label MEMIT MEMIT+REVIVE --out "$demo/report" \
  --metrics eval.efficacy eval.generalization eval.specificity eval.retained_recall eval.perplexity \
            "layers.model.layers.1.mlp.down_proj.subspace_similarity_u" \
            "layers.model.layers.1.mlp.down_proj.weight_norm_growth"
step "done"
echo "tables and plots: $demo/report (report.md, *.png); metrics: $demo/memit*/metrics.jsonl"
