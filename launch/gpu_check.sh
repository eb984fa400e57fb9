#!/usr/bin/env bash
# One command that validates REVIVE's GPU path on a GPU machine with CUDA,
# PyTorch (its LibTorch), CMake, ninja and python3 but no network and none of
# REVIVE's other dependencies. The kit (launch/gpu_kit.sh prepare) carries the
# Debian packages, unpacked here under a private prefix, and the fixtures.
#   launch/gpu_check.sh [--kit DIR] [--out DIR] [--work DIR] [--budget SECONDS (530)]
#       on the GPU machine: build against PyTorch's LibTorch, then the CUDA tests,
#       NCCL at one rank, a stories260K edit on GPU vs CPU, kill and resume on GPU,
#       bench_rsvd at the 70B down_proj shape, forward tokens/s, export read back by transformers.
#   launch/gpu_check.sh --dry-run [--build DIR] [--kit DIR] [--out DIR]
#       here: the kit complete, its packages alone enough to configure (system
#       copies hidden in a private mount namespace where unshare works), every
#       target the check builds defined, and the CPU half of each comparison with
#       DIR's binaries (default build/).
# Each step runs under its own time limit, so a slow one cannot eat the rest.
# Writes three files to OUT (default WORK/out; the device tool brings back 8):
# gpu_check.json (one entry per step: status, seconds, limit, figures),
# gpu_check.log and logs.tar.gz (each step's own logs); exits non-zero when a
# step fails or times out.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dry=0
kit=$root/.gpu-kit
build=
work=${TMPDIR:-/tmp}/revive-gpu-check
out=${OUT:-}
budget=530  # seconds for all steps: one device call is 10 minutes, start and transfers included
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry=1 ;;
    --kit) kit=$2; shift ;;
    --out) out=$2; shift ;;
    --work) work=$2; shift ;;
    --build) build=$2; shift ;;
    --budget) budget=$2; shift ;;
    *) echo "gpu_check: unknown option $1 (see the comment at the top of launch/gpu_check.sh)" >&2; exit 2 ;;
  esac
  shift
done
result=${out:-$work/out}  # what comes back: gpu_check.json, gpu_check.log, logs.tar.gz
out=$work/steps           # every step's logs and figures
prefix=$work/prefix
data=$kit/data
tools="python3 $root/launch/gpu_check_tools.py"
if [ "$dry" = 1 ]; then
  device=cpu
  build=${build:-$root/build}
else
  device=cuda
  build=${build:-$work/build}
fi
# What the check builds (the dry run proves each is defined).
kit_targets="revive revive_spectral_tests revive_edit_tests revive_sharding_mpi_tests bench_rsvd bench_forward"
rm -rf "$out" && mkdir -p "$out" "$result"
log=$out/gpu_check.log
: > "$out/steps.jsonl"
export kit_targets root dry kit build work out prefix data tools device log
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}

say() { echo "gpu_check: $*"; }
host_python() { env -u LD_LIBRARY_PATH python3 "$@"; }  # PyTorch with the machine's libraries, not the kit's

# ---- the kit's prefix -----------------------------------------------------
kit_env() {  # PATH, libraries and Open MPI's relocation for the unpacked kit
  local libs=$prefix/usr/lib/x86_64-linux-gnu:$prefix/usr/lib/x86_64-linux-gnu/openmpi/lib:$prefix/lib/x86_64-linux-gnu
  # A system library the kit carries only for a machine without it.
  ldconfig -p 2> /dev/null | grep -q "libudev.so.1 " || libs=$libs:$prefix/fallback
  export PATH=$prefix/usr/bin:$PATH
  export LD_LIBRARY_PATH=$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export OPAL_PREFIX=$prefix/usr PMIX_INSTALL_PREFIX=$prefix/usr
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
}

# Dry run: hide this machine's copies of the kit's packages (a private mount
# namespace, nothing changes outside it), so the kit must be enough on its own.
hide_system_copies() {
  local a=/usr/lib/x86_64-linux-gnu d f
  for d in /usr/include/boost /usr/include/nlohmann /usr/include/gtest /usr/include/gmock "$a/openmpi" "$a/pmix2" \
           /usr/share/openmpi /etc/openmpi "$a/cmake/GTest" "$a"/cmake/Boost-* "$a"/cmake/boost_* /usr/share/cmake/nlohmann_json; do
    [ -d "$d" ] && mount -t tmpfs none "$d"
  done
  for f in /usr/include/pcre2*.h "$a"/lib{mpi,open-pal,open-rte,boost_program_options,gtest,gmock,pmix}* "$a/libpcre2-8.so" \
           "$a"/pkgconfig/{libpcre2,ompi,orte,gtest,gmock}* /usr/bin/{mpi,orte,ompi,opal}* /usr/bin/orted; do
    # Regular files only: a bind mount follows a link, and the runtime library
    # behind a -dev link (libpcre2-8.so.0) is one the system itself needs.
    [ -f "$f" ] && [ ! -L "$f" ] && mount --bind /dev/null "$f"
  done
  return 0
}
bare_system() {  # bare_system CMD...: CMD with the system copies hidden (dry run, where unshare works)
  if [ "$dry" = 1 ] && unshare -m --propagation private true 2> /dev/null; then
    unshare -m --propagation private bash -c "$(declare -f hide_system_copies); hide_system_copies && exec \"\$@\"" bash "$@"
  else
    "$@"
  fi
}

# ---- steps ----------------------------------------------------------------
step_machine() {
  local gpu torch
  gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2> /dev/null | head -1)
  torch=$(host_python -c 'import torch; print(torch.__version__, "cxx11abi", torch.compiled_with_cxx11_abi())' 2> /dev/null)
  printf '{"date":"%s","host":"%s","gpu":"%s","torch":"%s","cmake":"%s","cores":%s,"mode":"%s"}\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(hostname)" "${gpu:-none}" "${torch:-none}" \
    "$(cmake --version | head -1 | awk '{print $3}')" "$(nproc)" "$([ "$dry" = 1 ] && echo dry-run || echo gpu)" \
    > "$out/machine.json"
  cat "$out/machine.json"
  [ "$dry" = 1 ] || [ -n "$gpu" ] || { echo "no GPU (nvidia-smi): use --dry-run on a machine without one"; return 1; }
}

step_kit() { bash "$root/launch/gpu_kit.sh" verify "$kit"; }

step_unpack() {
  rm -rf "$prefix" && mkdir -p "$prefix"
  local deb n=0
  for deb in "$kit"/debs/*.deb; do
    if command -v dpkg-deb > /dev/null; then dpkg-deb -x "$deb" "$prefix"; else $tools unpack-deb "$deb" "$prefix"; fi || return 1
    n=$((n + 1))
  done
  mkdir -p "$prefix/fallback"
  mv "$prefix"/{usr/,}lib/x86_64-linux-gnu/libudev.so.1* "$prefix/fallback/" 2> /dev/null
  # Debian's alternatives give the plain names; here they are links in the prefix.
  local b
  for b in mpicc mpicxx mpic++ mpirun mpiexec; do ln -sf "$b.openmpi" "$prefix/usr/bin/$b"; done
  echo "unpacked $n packages under $prefix"
}

step_mpi_runtime() {  # the kit's Open MPI builds and runs a 2-rank program, relocated
  kit_env
  cat > "$work/hello_mpi.cpp" << 'EOF'
#include <mpi.h>
#include <cstdio>
int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 0, sum = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int one = rank + 1;
  MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0) std::printf("{\"ranks\":%d,\"allreduce\":%d}\n", size, sum);
  MPI_Finalize();
  return sum == size * (size + 1) / 2 ? 0 : 1;
}
EOF
  bare_system bash -c "mpicxx -o '$work/hello_mpi' '$work/hello_mpi.cpp' && \
    mpirun -np 2 --oversubscribe --mca btl self,vader '$work/hello_mpi' > '$out/mpi_runtime.json'" || return 1
  cat "$out/mpi_runtime.json"
}

# One NCCL in the process: the one PyTorch's wheel loads. The wheel ships
# libnccl.so.2 without the unversioned name find_library looks for.
wheel_nccl() {
  local d
  d=$(host_python -c 'import nvidia.nccl as n; print(list(n.__path__)[0])' 2> /dev/null) || { echo "no nvidia.nccl wheel"; return 1; }
  [ -f "$d/lib/libnccl.so.2" ] || { echo "$d/lib/libnccl.so.2 not found"; return 1; }
  mkdir -p "$work/nccl/lib"
  ln -sfn "$d/include" "$work/nccl/include"
  ln -sf "$d/lib/libnccl.so.2" "$work/nccl/lib/libnccl.so"
  export NCCL_ROOT=$work/nccl
  echo "NCCL: $d"
}

step_configure() {
  kit_env
  local b=$work/kit-build torch_prefix= gen=()
  if [ "$dry" = 0 ]; then
    torch_prefix=$(host_python -c 'import torch; print(torch.utils.cmake_prefix_path)') || return 1
  fi
  command -v ninja > /dev/null && gen=(-G Ninja)
  [ "$dry" = 1 ] || wheel_nccl || return 1
  rm -rf "$b"
  bare_system cmake -S "$root" -B "$b" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
    "-DCMAKE_PREFIX_PATH=$prefix/usr${torch_prefix:+;$torch_prefix}" "-DMPI_CXX_COMPILER=$prefix/usr/bin/mpicxx" \
    "-DREVIVE_DATA_DIR=$data" "-DREVIVE_CUDA=$([ "$dry" = 1 ] && echo AUTO || echo ON)" \
    -DREVIVE_BUILD_TESTS=ON -DREVIVE_BUILD_BENCH=ON > "$out/configure.log" 2>&1 || { tail -20 "$out/configure.log"; return 1; }
  grep "REVIVE:" "$out/configure.log"
  local t targets missing=()
  read -ra targets <<< "$kit_targets"
  for t in "${targets[@]}"; do grep -q "/$t.dir\$" "$b/CMakeFiles/TargetDirectories.txt" || missing+=("$t"); done
  [ ${#missing[@]} -eq 0 ] || { echo "targets not defined: ${missing[*]}"; return 1; }
  # Every dependency the kit carries must come from the kit.
  local key v bad=()
  for key in MPI_mpi_LIBRARY Boost_DIR nlohmann_json_DIR GTest_DIR PCRE2_LIBRARY PCRE2_INCLUDE_DIR; do
    v=$(grep "^$key:" "$b/CMakeCache.txt" | cut -d= -f2-)
    case "$v" in "$prefix"/*) ;; *) bad+=("$key=$v") ;; esac
  done
  [ ${#bad[@]} -eq 0 ] || { echo "found outside the kit: ${bad[*]}"; return 1; }
  echo "configured against the kit: ${#targets[@]} targets defined, MPI, Boost, nlohmann_json, GTest, PCRE2 from $prefix"
}

step_build() {
  if [ "$dry" = 1 ]; then echo "dry run: the CPU halves use $build's binaries"; return 77; fi
  kit_env
  local targets
  read -ra targets <<< "$kit_targets"
  rm -rf "$build" && mv "$work/kit-build" "$build" || return 1
  cmake --build "$build" --target "${targets[@]}" -j "$(nproc)" > "$out/build.log" 2>&1 || { tail -30 "$out/build.log"; return 1; }
  echo "built ${targets[*]}"
}

bin() {  # bin TARGET: the built program
  local f
  for f in "$build/launch/$1" "$build/tests/$1" "$build/bench/$1"; do [ -x "$f" ] && { echo "$f"; return 0; }; done
  echo "gpu_check: $1 not built in $build" >&2
  return 1
}

gtest_ran() {  # gtest_ran LOG: the filter matched at least one test
  grep -q "^\[ RUN      \]" "$1"
}
gtest_counts() {  # gtest_counts LOG: "N passed, M skipped"
  echo "$(grep -c '^\[       OK \]' "$1") passed, $(grep -c '^\[  SKIPPED \] .*(' "$1") skipped"
}
gtest_skipped() { grep -q '^\[  SKIPPED \] .*(' "$@"; }

step_cuda_tests() {  # dry run: the same filters run and skip without a GPU
  kit_env
  local s e
  s=$(bin revive_spectral_tests) && e=$(bin revive_edit_tests) || return 1
  "$s" --gtest_color=no --gtest_filter='CusolverSvd.*:OnCuda.*' > "$out/cuda_spectral.log" 2>&1 \
    || { tail -20 "$out/cuda_spectral.log"; return 1; }
  "$e" --gtest_color=no --gtest_filter='EditOnCuda.*' > "$out/cuda_edit.log" 2>&1 || { tail -20 "$out/cuda_edit.log"; return 1; }
  gtest_ran "$out/cuda_spectral.log" && gtest_ran "$out/cuda_edit.log" || { echo "a filter matched no test"; return 1; }
  if [ "$dry" = 0 ] && gtest_skipped "$out/cuda_spectral.log" "$out/cuda_edit.log"; then
    echo "CUDA tests skipped on a GPU machine"; return 1
  fi
  echo "CUDA spectral tests: $(gtest_counts "$out/cuda_spectral.log"); EditOnCuda: $(gtest_counts "$out/cuda_edit.log")"
}

step_nccl_one_rank() {
  local t
  t=$(bin revive_sharding_mpi_tests) || return 1
  # The dry run's binaries link this machine's MPI; the GPU build links the kit's.
  if [ "$dry" = 0 ]; then kit_env; fi
  mpirun -np 1 --allow-run-as-root "$t" --gtest_color=no --gtest_filter='NcclCommunicator.*' > "$out/nccl.log" 2>&1 \
    || { tail -20 "$out/nccl.log"; return 1; }
  gtest_ran "$out/nccl.log" || { echo "no NCCL test ran"; return 1; }
  if [ "$dry" = 0 ] && gtest_skipped "$out/nccl.log"; then echo "NCCL test skipped on a GPU machine"; return 1; fi
  echo "NCCL at one rank: $(gtest_counts "$out/nccl.log")"
}

# The stories260K edit every comparison uses: 30 story-world edits at layer 1
# with REVIVE's filter, a checkpoint and a metrics record every 10 edits; no
# context templates (the comparison is of devices, not of settings, and they
# would triple the time).
set_edit_args() {  # set_edit_args DEVICE RUN_FOLDER: the array edit_args
  edit_args=(--model "$data/stories260K-hf" --preset stories260k --layers 1 --requests "$work/requests.jsonl"
    --request-format jsonl --num-edits 30 --batch-size 10 --v-steps 10 --context-templates 0 --filter revive
    --stats-corpus "$data/text_corpora/tinystories_head_2MiB.txt" --stats-samples 40 --eval-edited 10
    --eval-retained 0 --eval-text "$data/text_corpora/tinystories_head_2MiB.txt" --eval-text-docs 20
    --metrics-every 10 --checkpoint-every 10 --device "$1" --out "$2" --cache-dir "$work/cache-$1")
}

step_edit_gpu_vs_cpu() {
  local revive
  revive=$(bin revive) || return 1
  "$revive" story-world --model "$data/stories260K-hf" --seed 7 --count 30 --out "$work/requests.jsonl" > /dev/null || return 1
  rm -rf "$work/edit-cpu" "$work/edit-cuda"
  set_edit_args cpu "$work/edit-cpu"
  "$revive" edit "${edit_args[@]}" > "$out/edit_cpu.log" 2>&1 || { tail -5 "$out/edit_cpu.log"; return 1; }
  if [ "$dry" = 1 ]; then
    tail -1 "$work/edit-cpu/metrics.jsonl" > "$out/edit_gpu_vs_cpu.json"
    echo "dry run: CPU half done (30 edits); GPU half on the GPU machine"
    return 0
  fi
  set_edit_args cuda "$work/edit-cuda"
  "$revive" edit "${edit_args[@]}" > "$out/edit_cuda.log" 2>&1 || { tail -5 "$out/edit_cuda.log"; return 1; }
  # f32 on two devices: reductions in another order, so a relative 2e-3, not bits.
  $tools compare-metrics "$work/edit-cpu/metrics.jsonl" "$work/edit-cuda/metrics.jsonl" --rtol 2e-3 --atol 1e-5 \
    > "$out/edit_gpu_vs_cpu.json"
  local rc=$?
  cat "$out/edit_gpu_vs_cpu.json"
  return $rc
}

step_kill_resume() {  # kill -9 after the first checkpoint, resume, compare with the uninterrupted run
  local revive run=$work/edit-resumed pid i
  revive=$(bin revive) || return 1
  [ -s "$work/edit-$device/metrics.jsonl" ] || { echo "the uninterrupted run (edit_gpu_vs_cpu) is missing"; return 1; }
  rm -rf "$run"
  set_edit_args "$device" "$run"
  "$revive" edit "${edit_args[@]}" > "$out/resume_first.log" 2>&1 &
  pid=$!
  for i in $(seq 1 600); do
    [ -s "$run/metrics.jsonl" ] && grep -q '"edits":10' "$run/metrics.jsonl" && break
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2> /dev/null
  wait "$pid" 2> /dev/null
  local at
  at=$(grep -c . "$run/metrics.jsonl" 2> /dev/null || echo 0)
  "$revive" edit "${edit_args[@]}" --resume > "$out/resume_second.log" 2>&1 \
    || { tail -5 "$out/resume_second.log"; return 1; }
  $tools compare-metrics "$work/edit-$device/metrics.jsonl" "$run/metrics.jsonl" --rtol 1e-6 --atol 1e-9 \
    > "$out/kill_resume.json"
  local rc=$? f same=true
  # The last checkpoints' bytes: required equal on the host; on a GPU recorded
  # (an order-dependent reduction there would be a finding, not a failure).
  for f in weights.tp0.safetensors editor.tp0.safetensors; do
    cmp -s "$work/edit-$device/checkpoints/edits-30/$f" "$run/checkpoints/edits-30/$f" || same=false
  done
  echo "killed with $at metrics records written, resumed to the end; last checkpoint byte-identical: $same"
  [ "$dry" = 1 ] && [ "$same" = false ] && return 1
  return $rc
}

step_rsvd() {  # the 70B down_proj shape on the GPU; a small one on the host in the dry run
  local b sizes
  b=$(bin bench_rsvd) || return 1
  if [ "$dry" = 1 ]; then sizes=512x1792; else sizes=8192x28672; fi
  "$b" --sizes "$sizes" --device "$device" --full-svd off > "$out/rsvd.json" 2> "$out/rsvd.log" || { tail -5 "$out/rsvd.log"; return 1; }
  $tools rsvd-line "$out/rsvd.json" "$device"
}

step_forward() {  # tokens/s of the forward pass: stories260K and a random Llama of 8 x 1024 x 2816
  local b args
  b=$(bin bench_forward) || return 1
  if [ "$dry" = 1 ]; then args=(--batch 2 --tokens 64 --iters 1); else args=(--batch 8 --tokens 512 --iters 10); fi
  "$b" "${args[@]}" --device "$device" --data "$data" > "$out/forward.json" 2> "$out/forward.log" || { tail -5 "$out/forward.log"; return 1; }
  $tools forward-line "$out/forward.json"
}

step_random_model_plan() {
  echo "not yet: needs \`revive random-model\` and \`revive plan\` (issue 23); real-width forward, v* and memory-vs-plan figures wait for them"
  return 77
}

ppl_json() {  # ppl_json MODEL: `revive ppl` as reference.json defines its NLL
  "$(bin revive)" ppl --model "$1" --text "$data/text_corpora/tinystories_head_2MiB.txt" --max-documents 50 \
    --max-length 256 --truncate --device "$device" --json
}

step_export_hf() {  # the edited model exported, then read by transformers: an independent client
  local revive run=$work/edit-$device exp=$work/exported
  revive=$(bin revive) || return 1
  rm -rf "$exp"
  "$revive" export --run "$run" --model "$data/stories260K-hf" --out "$exp" --json > "$out/export.log" 2>&1 \
    || { tail -5 "$out/export.log"; return 1; }
  ppl_json "$exp" > "$work/revive_ppl_exported.json" && ppl_json "$data/stories260K-hf" > "$work/revive_ppl_original.json" \
    || return 1
  local hf_dev=cpu hf_rc
  [ "$dry" = 0 ] && hf_dev=cuda
  host_python "$root/launch/gpu_check_tools.py" hf-ppl "$exp" "$data/text_corpora/tinystories_head_2MiB.txt" --device "$hf_dev" \
    > "$work/hf_ppl_exported.json"
  hf_rc=$?
  host_python "$root/launch/gpu_check_tools.py" hf-ppl "$data/stories260K-hf" "$data/text_corpora/tinystories_head_2MiB.txt" --device "$hf_dev" \
    > "$work/hf_ppl_original.json"
  $tools export-verdict "$work" "$data/stories260K-hf/reference.json" "$hf_rc" "$out/export_hf.json"
  local rc=$?
  [ "$dry" = 0 ] && [ "$hf_rc" != 0 ] && { echo "transformers missing on the GPU machine"; return 1; }
  return $rc
}

# ---- driver ---------------------------------------------------------------
run_step() {  # run_step NAME LIMIT_SECONDS: the step, within its limit and what is left of the budget
  local name=$1 limit=$2 t0 rc status detail left
  t0=$(date +%s.%N)
  left=$((deadline - $(date +%s)))
  [ "$left" -lt "$limit" ] && limit=$left
  echo "== $name (limit ${limit}s)" >> "$log"
  if [ "$limit" -le 0 ]; then
    echo "no time left in the ${budget}s budget" > "$out/step.out"
    rc=124
  else
    timeout --kill-after=5 "$limit" bash -c "step_$name" > "$out/step.out" 2>&1
    rc=$?
  fi
  cat "$out/step.out" >> "$log"
  case $rc in 0) status=pass ;; 77) status=skip ;; 124 | 137) status=timeout ;; *) status=fail ;; esac
  detail=$(grep -v '^\s*$' "$out/step.out" | tail -1 | cut -c1-300)
  printf '{"step":"%s","status":"%s","seconds":%.1f,"limit_s":%s,"detail":"%s"}\n' "$name" "$status" \
    "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')" "$limit" \
    "$(printf '%s' "$detail" | sed 's/\\/\\\\/g; s/"/\\"/g' | tr -d '\000-\037')" >> "$out/steps.jsonl"
  say "$(printf '%-22s %-7s %s' "$name" "$status" "$detail")"
  rm -f "$out/step.out"
  [ "$status" = pass ] || [ "$status" = skip ]
}

export -f $(declare -F | awk '{print $3}')
say "$([ "$dry" = 1 ] && echo "dry run" || echo "GPU check"): out $result"
# The GPU build's programs link the kit's libraries: every step runs with them.
[ "$dry" = 0 ] && kit_env
deadline=$(($(date +%s) + budget))
failed=0
run_step machine 60 || failed=1
run_step kit 60 || { failed=1; say "the kit is incomplete: stopping"; }
if [ "$failed" = 0 ]; then
  run_step unpack 120 || failed=1
  run_step mpi_runtime 60 || failed=1
  run_step configure 150 || failed=1
  if run_step build 300; then
    run_step cuda_tests 90 || failed=1
    run_step nccl_one_rank 60 || failed=1
    run_step edit_gpu_vs_cpu 150 || failed=1
    run_step kill_resume 90 || failed=1
    run_step rsvd 90 || failed=1
    run_step forward 60 || failed=1
    run_step random_model_plan 10 || failed=1
    run_step export_hf 90 || failed=1
  else
    failed=1
  fi
fi
$tools summary "$out" || failed=1
cp "$out/gpu_check.json" "$out/gpu_check.log" "$result/" && tar -czf "$result/logs.tar.gz" -C "$out" . || failed=1
exit $failed
