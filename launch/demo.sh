#!/usr/bin/env bash
# The embedded demo (DESIGN.md section 6), the README's first command:
#   1. install packages (setup.sh) and build the `revive` command;
#   2. make - or reuse - the toy world (facts, and general text from a small
#      grammar with held-out sentences of it) and a small Llama-architecture
#      model trained on it with REVIVE's own code (cached in $REVIVE_DEMO_DIR/toy-s<seed>);
#   3. run the same sequential editing five times - MEMIT, MEMIT + REVIVE,
#      AlphaEdit, AlphaEdit + REVIVE, and MEMIT + the paper's two-sided filter -
#      on the world's counterfactual requests,
#      recording metrics every 20% of the run (edited facts, facts never edited,
#      perplexity on held-out general text that states no fact, norm growth, and
#      the diagnostics of each batch);
#   4. the verdict (launch/demo_verdict.sh: PASS/FAIL per criterion from those
#      records), a side-by-side report and PNG plots (revive report).
# Environment:
#   REVIVE_DEMO_SEED   seed of the world, the model's initialisation and the request order (default: 1)
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
seed=${REVIVE_DEMO_SEED:-1}
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

step "toy world (facts and general text, seed $seed) and its model"
toy="$demo/toy-s$seed"
"$revive" toy-model --out "$toy" --seed "$seed" --subjects 250 --relations 4 --layers 4 --hidden 64 \
  --intermediate 256 --general-sentences 4000 --held-out-sentences 300 --log-every 500

# Shared by every run: edited layers, statistics over the world's own text,
# evaluation every 20% of the run (edited facts, facts never edited, perplexity
# of held-out general sentences).
common=(--model "$toy/model" --requests "$toy/world/requests.json" --preset toy --cache-dir "$demo/cache"
        --stats-corpus "$toy/world/train.txt" --stats-split lines
        --num-edits "$edits" --batch-size "$batch" --metrics-every $(( edits / 5 ))
        --eval-edited 200 --eval-retained 200 --eval-text "$toy/world/held_out.txt" --eval-text-docs 300)
run() {  # run NAME EDIT-OPTIONS...
  local name=$1; shift
  step "$name: $edits sequential edits"
  rm -rf "${demo:?}/$name"
  "$revive" edit "${common[@]}" "$@" --out "$demo/$name" --json > "$demo/$name.json"
}
# REVIVE's default configuration here is the constrained solve (the editor's
# least squares inside the unprotected subspace, REVIVE's extension): on this
# world the paper's two-sided filter, applied after the solve, multiplies the
# layer's output change on unedited keys ~40x (the records' disturbance_filtered)
# and the held-out perplexity ~60x, where the constrained solve keeps both at
# MEMIT's level (README, "Update filters"). The paper's filter runs last, for
# the comparison.
run memit --editor memit
run memit-revive --editor memit --filter constrained --tau 0.5
run alphaedit --editor alphaedit
run alphaedit-revive --editor alphaedit --filter constrained --tau 0.5
run memit-revive-paper --editor memit --filter revive --tau 0.5

step "report"
"$revive" report --runs "$demo"/{memit,memit-revive,alphaedit,alphaedit-revive,memit-revive-paper}/metrics.jsonl \
  --label MEMIT MEMIT+REVIVE AlphaEdit AlphaEdit+REVIVE "MEMIT+REVIVE(paper filter)" --out "$demo/report" \
  --metrics eval.efficacy eval.generalization eval.specificity eval.retained_recall eval.perplexity \
            "layers.model.layers.1.mlp.down_proj.subspace_similarity_u" \
            "layers.model.layers.1.mlp.down_proj.weight_norm_growth" \
            "layers.model.layers.1.mlp.down_proj.achieved_filtered" \
            "layers.model.layers.1.mlp.down_proj.disturbance_filtered"
step "verdict"
bash "$root/launch/demo_verdict.sh" "$demo" | tee "$demo/verdict.md"
step "done"
echo "verdict: $demo/verdict.md; tables and plots: $demo/report (report.md, *.png); metrics: $demo/<run>/metrics.jsonl"
