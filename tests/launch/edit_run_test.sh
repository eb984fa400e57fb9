#!/usr/bin/env bash
# The CLI end to end on a tiny toy world: toy-model, stats, basis, edit with
# checkpoints, an interrupted run resumed, eval/ppl, report; the same edit under
# mpirun -np 2 (dp 2) gives the same final metrics as one process.
#   edit_run_test.sh <revive> <mpiexec> [mpiexec flags...]
set -euo pipefail
revive=$1
mpiexec=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1
fail() { echo "FAIL: $*" >&2; exit 1; }

"$revive" toy-model --out "$work/toy" --subjects 20 --relations 2 --layers 2 --log-every 0 --json > "$work/toy.json"
grep -q '"recall"' "$work/toy.json" || fail "toy-model printed no recall"
model=$work/toy/model
base=(--model "$model" --preset toy --layers 0 --cache-dir "$work/cache")
stats=(--stats-corpus "$work/toy/world/train.txt" --stats-split lines)
run=(--batch-size 10 --eval-edited 20 --eval-retained 10 --eval-text "$work/toy/world/train.txt" --eval-text-docs 20
     --v-steps 10)
common=("${base[@]}" "${stats[@]}" "${run[@]}" --requests "$work/toy/world/requests.json")

"$revive" stats "${base[@]}" "${stats[@]}" --json > "$work/stats.json"
grep -q '"model.layers.0.mlp.down_proj"' "$work/stats.json" || fail "stats JSON lacks the layer"
grep -q '"cached":false' "$work/stats.json" || fail "first stats run should compute"
"$revive" stats "${base[@]}" "${stats[@]}" --json | grep -q '"cached":true' || fail "second stats run should reuse the cache"
"$revive" basis --model "$model" --preset toy --layers 0 --cache-dir "$work/cache" --tau 0.5 --json > "$work/basis.json"
grep -q '"k":' "$work/basis.json" || fail "basis JSON lacks k"

# 30 edits straight, and 20 then resumed to 30: same final metrics.
"$revive" edit "${common[@]}" --filter revive --num-edits 30 --metrics-every 10 --checkpoint-every 10 \
  --out "$work/straight" --json > "$work/straight.json"
"$revive" edit "${common[@]}" --filter revive --num-edits 20 --metrics-every 10 --checkpoint-every 10 \
  --out "$work/resumed" --json > /dev/null
"$revive" edit "${common[@]}" --filter revive --num-edits 30 --metrics-every 10 --checkpoint-every 10 \
  --out "$work/resumed" --resume --json > "$work/resumed.json"
grep -q '"resumed_from":20' "$work/resumed.json" || fail "resume did not start from edit 20"
[ "$(wc -l < "$work/resumed/metrics.jsonl")" -eq 4 ] || fail "metrics.jsonl should hold records at 0, 10, 20, 30"
python_free_eff() { grep -o '"efficacy":[0-9.e-]*' "$1" | head -1; }
[ "$(python_free_eff "$work/straight.json")" = "$(python_free_eff "$work/resumed.json")" ] \
  || fail "resumed run ends with other metrics: $(python_free_eff "$work/straight.json") vs $(python_free_eff "$work/resumed.json")"

# A resume must match the run it continues; a fresh run must not start over a
# checkpointed folder (a later resume would pick up the older run).
expect_error() {  # expect_error <text the message must hold> <revive arguments...>
  local want=$1
  shift
  if "$revive" "$@" > /dev/null 2> "$work/err"; then fail "accepted: $*"; fi
  grep -q -- "$want" "$work/err" || fail "the error does not say '$want': $(cat "$work/err")"
}
# A cached basis is found by its name (tau or k, and the weights' fingerprint);
# a file renamed to other settings is refused, not used.
"$revive" basis "${base[@]}" --rank 3 --json > /dev/null
k3=$(ls "$work"/cache/basis-*-k3-*.safetensors)
cp "$k3" "${k3/-k3-/-k5-}"
expect_error "__metadata__.k: holds k = 3; this run asks for k5" basis "${base[@]}" --rank 5
tau_file=$(ls "$work"/cache/basis-*-tau0.5-*.safetensors)
cp "$tau_file" "${tau_file/-tau0.5-/-tau0.6-}"
expect_error "made with tau 0.5; this run asks for tau0.6" basis "${base[@]}" --tau 0.6
rm "${k3/-k3-/-k5-}" "${tau_file/-tau0.5-/-tau0.6-}"

resume_at=("${common[@]}" --metrics-every 10 --out "$work/resumed" --resume)
expect_error "more than the 10" edit "${resume_at[@]}" --filter revive --num-edits 10
expect_error "run_config.filters" edit "${resume_at[@]}" --num-edits 30
expect_error "run_config.filters" edit "${resume_at[@]}" --filter revive --tau 0.6 --num-edits 30
expect_error "run_config.values" edit "${resume_at[@]}" --filter revive --kl-factor 0.5 --num-edits 30
# RECT's share and MEMIT's key memory are part of what a checkpoint was made with.
"$revive" edit "${common[@]}" --editor rect --num-edits 10 --checkpoint-every 10 --no-drift --out "$work/rect" > /dev/null
expect_error "run_config.solve" edit "${common[@]}" --editor rect --rect-keep 0.2 --num-edits 20 --no-drift \
  --out "$work/rect" --resume
expect_error "checkpoint was made by RECT" edit "${common[@]}" --editor memit-seq --num-edits 20 --no-drift \
  --out "$work/rect" --resume
# PRUNE restrains after the last batch: the last record says so, and its checkpoint
# holds the restrained weights, which a longer run cannot continue from.
"$revive" edit "${common[@]}" --editor prune --num-edits 10 --checkpoint-every 10 --no-drift --out "$work/prune" \
  > /dev/null
grep -q '"final_step":{"editor":"PRUNE"' "$work/prune/metrics.jsonl" || fail "PRUNE's last record has no final_step"
expect_error "finished: the checkpoint at 10 edits holds the weights after PRUNE" edit "${common[@]}" --editor prune \
  --num-edits 20 --no-drift --out "$work/prune" --resume
expect_error "run_config.solve" edit "${common[@]}" --editor prune --prune-when batch --num-edits 20 --no-drift \
  --out "$work/prune" --resume
expect_error "--prune-when: applies to --editor prune only" edit "${common[@]}" --prune-when batch
expect_error "--prune-when: 'last' is not end" edit "${common[@]}" --editor prune --prune-when last
expect_error "holds a checkpoint" edit "${common[@]}" --filter revive --num-edits 30 --out "$work/resumed"
expect_error "--out: cannot create" edit "${common[@]}" --num-edits 10 --out "$work/toy.json/run"
expect_error "--nullspace-threshold: must be a finite number" edit "${common[@]}" --editor alphaedit --nullspace-threshold nan
expect_error "--clamp-norm-factor: must be a finite number" edit "${common[@]}" --clamp-norm-factor inf
# Resuming the finished run edits nothing and reports the run's last record.
"$revive" edit "${resume_at[@]}" --filter revive --num-edits 30 --json > "$work/again.json"
[ "$(python_free_eff "$work/again.json")" = "$(python_free_eff "$work/resumed.json")" ] \
  || fail "a resume of the finished run reports other metrics: $(cat "$work/again.json")"
[ "$(wc -l < "$work/resumed/metrics.jsonl")" -eq 4 ] || fail "a resume of the finished run changed metrics.jsonl"
# The same corpus by another path is the same run (statistics are matched by content).
"$revive" edit "${base[@]}" --stats-corpus "$work/toy/world/../world/train.txt" --stats-split lines "${run[@]}" \
  --requests "$work/toy/world/requests.json" --metrics-every 10 --out "$work/resumed" --resume --filter revive \
  --num-edits 30 > /dev/null 2> "$work/err" || fail "a resume with the corpus by another path was refused: $(cat "$work/err")"
# A checkpoint of an older build (no run_config, no seconds) resumes, with a note.
cp -r "$work/resumed" "$work/old"
state=$(ls "$work"/old/checkpoints/*/state.json)
awk '/^  "run_config": /{skip=1} skip&&/^  }/{skip=0; next} !skip && !/^  "seconds": /' "$state" > "$work/state.old"
mv "$work/state.old" "$state"
! grep -q run_config "$state" || fail "the old-style state.json still holds run_config"
"$revive" edit "${common[@]}" --filter revive --num-edits 30 --metrics-every 10 --out "$work/old" --resume \
  > /dev/null 2> "$work/err" || fail "an old-style checkpoint was refused: $(cat "$work/err")"
grep -q "predates run_config" "$work/err" || fail "no note that the old checkpoint's settings are unchecked"
: > "$work/old/checkpoints/latest"
expect_error "latest: empty" edit "${common[@]}" --filter revive --num-edits 30 --out "$work/old" --resume
# --resume without a checkpoint starts afresh, and so does the folder's metrics file.
mkdir "$work/stale"
cp "$work/resumed/metrics.jsonl" "$work/stale/"
"$revive" edit "${common[@]}" --num-edits 10 --metrics-every 10 --out "$work/stale" --resume --no-drift > /dev/null
[ "$(wc -l < "$work/stale/metrics.jsonl")" -eq 2 ] || fail "stale records kept: $(cut -c1-40 "$work/stale/metrics.jsonl")"

# On/off options in a config file take the value given: json = false prints no JSON.
printf 'json = false\nno-drift = yes\n' > "$work/switches.cfg"
"$revive" edit "${common[@]}" --num-edits 10 --config "$work/switches.cfg" > "$work/switches.out"
grep -q '"command"' "$work/switches.out" && fail "json = false printed JSON"
grep -q 'subspace similarity' "$work/switches.out" && fail "no-drift = yes left the drift metrics on"
# The command line wins over the file, multi-value options included.
printf 'filter = revive\n' > "$work/filter.cfg"
"$revive" edit "${common[@]}" --num-edits 10 --filter rect --no-drift --config "$work/filter.cfg" --json > "$work/filter.json"
grep -q '"filters":\["rect"\]' "$work/filter.json" || fail "the config file's filter was added: $(cut -c1-200 "$work/filter.json")"
printf 'jsn = 1\n' > "$work/typo.cfg"
expect_error "typo.cfg: unrecognised option 'jsn'" edit "${common[@]}" --config "$work/typo.cfg"

# dp 2: the requests of each batch split over two replicas.
"$mpiexec" -np 2 "$@" "$revive" edit "${common[@]}" --filter revive --num-edits 30 --metrics-every 10 --dp 2 --tp 1 \
  --out "$work/dp2" --json > "$work/dp2.json"
grep -q '"edits":30' "$work/dp2.json" || fail "dp 2 run did not finish"

# NSE with its clustering: each batch of 10 edited as 3 groups of requests.
"$revive" edit "${common[@]}" --editor nse --request-clusters 3 --num-edits 10 --metrics-every 10 --no-drift \
  --out "$work/nse" --json > "$work/nse.json"
grep -q '"groups_per_batch":3' "$work/nse.json" || fail "nse run did not edit 3 groups per batch: $(cat "$work/nse.json")"
expect_error "request-clusters" edit "${common[@]}" --editor nse --request-clusters 0 --num-edits 10 --out "$work/nse0"

"$revive" eval --model "$model" --requests "$work/toy/world/requests.json" --limit 20 --no-fluency --json \
  | grep -q '"efficacy"' || fail "eval JSON lacks efficacy"
# EasyEdit's flat records have no generation prompts: no fluency, and a note says so.
cat > "$work/easyedit.json" <<'EOF'
[{"prompt": "Pouba lives in", "subject": "Pouba", "target_new": "Prague", "ground_truth": "Lima"}]
EOF
"$revive" eval --model "$model" --requests "$work/easyedit.json" --json > "$work/eval.json" 2> "$work/eval.err"
grep -q "fluency is not measured" "$work/eval.err" || fail "eval gave no note on fluency: $(cat "$work/eval.err")"
if grep -q '"fluency"' "$work/eval.json"; then fail "eval reported a fluency it did not measure"; fi
"$revive" ppl --model "$model" --text "$work/toy/world/train.txt" --split lines --json | grep -q '"ppl"' \
  || fail "ppl JSON lacks ppl"
# --device: cuda gives the host's perplexity where a GPU is visible, else an error naming --device.
ppl_of() { grep -o '"ppl":[0-9.e+-]*' "$1" | cut -d: -f2; }
ppl_args=(--model "$model" --text "$work/toy/world/train.txt" --split lines --json)
"$revive" ppl "${ppl_args[@]}" > "$work/ppl_cpu.json"
[ -n "$(ppl_of "$work/ppl_cpu.json")" ] || fail "ppl JSON lacks ppl: $(cat "$work/ppl_cpu.json")"
if "$revive" ppl "${ppl_args[@]}" --device cuda > "$work/ppl_cuda.json" 2> "$work/ppl_cuda.err"; then
  [ -n "$(ppl_of "$work/ppl_cuda.json")" ] || fail "ppl JSON on the GPU lacks ppl: $(cat "$work/ppl_cuda.json")"
  awk -v a="$(ppl_of "$work/ppl_cpu.json")" -v b="$(ppl_of "$work/ppl_cuda.json")" \
    'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-4 * a) }' \
    || fail "perplexity on the GPU $(ppl_of "$work/ppl_cuda.json") differs from the host's $(ppl_of "$work/ppl_cpu.json")"
else
  grep -q -- "--device: no CUDA device" "$work/ppl_cuda.err" || fail "--device cuda without a GPU: $(cat "$work/ppl_cuda.err")"
fi
expect_error "--device: 'tpu'" ppl "${ppl_args[@]}" --device tpu
# A GPU model split over tp ranks needs NCCL: under MPI it is refused before any GPU is looked for.
if "$mpiexec" -np 2 "$@" "$revive" ppl "${ppl_args[@]}" --tp 2 --dp 1 --device cuda > /dev/null 2> "$work/ppl_tp2.err"; then
  fail "--device cuda with tp 2 over MPI was accepted"
fi
grep -q -- "--device: cuda with tp 2 needs --backend nccl" "$work/ppl_tp2.err" \
  || fail "tp 2 on GPUs over MPI: $(cat "$work/ppl_tp2.err")"
"$revive" report --runs "$work/straight/metrics.jsonl" "$work/dp2/metrics.jsonl" --label one dp2 --out "$work/report" \
  --metrics eval.efficacy > /dev/null
[ -s "$work/report/report.md" ] || fail "report.md missing"

# A malformed request file is a clear error naming the file.
printf '{"prompt_template": "no slot", "subject": "x", "target_new": "y"}\n' > "$work/bad.jsonl"
expect_error "bad.jsonl" edit "${base[@]}" "${stats[@]}" "${run[@]}" --requests "$work/bad.jsonl" --request-format jsonl \
  --num-edits 1 --out "$work/bad"
# --on-error skip reports each malformed record (here the file's only one, so nothing is left to edit).
expect_error "skipped: .*bad.jsonl: record 0" edit "${base[@]}" "${stats[@]}" "${run[@]}" --requests "$work/bad.jsonl" \
  --request-format jsonl --on-error skip --num-edits 1 --out "$work/bad"
grep -q "no usable requests" "$work/err" || fail "skipping every record should leave no usable requests: $(cat "$work/err")"
expect_error "--on-error: 'sk'" edit "${common[@]}" --on-error sk
expect_error "--context-templates: must not be negative" edit "${common[@]}" --context-templates -1
# The constrained solve needs a least-squares editor: refused before the statistics pass (no corpus given here).
expect_error "not a least-squares solve" edit --model "$model" --preset toy --layers 0 --cache-dir "$work/no-cache" \
  --requests "$work/toy/world/requests.json" --editor rect --filter constrained --out "$work/rect-constrained"
expect_error "--rect-keep: must be in (0, 1]" edit "${common[@]}" --editor rect --rect-keep 1.5
expect_error "--rect-keep: applies to --editor rect or --filter rect only" edit "${common[@]}" --rect-keep 0.3
echo "cli edit run: ok"
