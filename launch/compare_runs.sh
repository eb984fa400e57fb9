#!/usr/bin/env bash
# Two edit runs' ends, byte for byte: the last checkpoint each one's `latest`
# pointer names (the same name, every .safetensors file of it: weights and
# editor state of every tp shard), and every metrics record without its clock
# (seconds, timings, memory). Used by bench/crash_resume.sh and the disk tests.
#   launch/compare_runs.sh RUN_A RUN_B
# Prints "checkpoint_files_identical=true|false metrics_identical=true|false";
# exits 1 unless both are true.
set -uo pipefail
a=$1
b=$2
files=true
last=$(cat "$a/checkpoints/latest" 2> /dev/null)
[ -n "$last" ] && [ "$(cat "$b/checkpoints/latest" 2> /dev/null)" = "$last" ] || files=false
for f in "$a/checkpoints/$last"/*.safetensors; do
  cmp -s "$f" "$b/checkpoints/$last/$(basename "$f")" || files=false
done
without_clock() { jq -c 'del(.seconds, .timings, .memory)' "$1"; }
metrics=true
cmp -s <(without_clock "$a/metrics.jsonl") <(without_clock "$b/metrics.jsonl") || metrics=false
echo "checkpoint_files_identical=$files metrics_identical=$metrics"
[ "$files" = true ] && [ "$metrics" = true ]
