#!/usr/bin/env bash
# The GPU kit: everything launch/gpu_check.sh needs on a GPU machine that has
# CUDA, PyTorch (its LibTorch), CMake, ninja and python3 but no network and none
# of REVIVE's other dependencies. Prepared here, carried there (the device
# tool's `carry`, 64 MiB together with the working tree).
#   launch/gpu_kit.sh prepare [DIR]   Debian packages (downloaded, not installed) and fixtures
#   launch/gpu_kit.sh verify  [DIR]   every file of the manifest present with its checksum
# DIR defaults to .gpu-kit/ in the checkout (ignored by git).
# Environment: REVIVE_DATA_DIR fixtures (default ../shared/data beside the checkout).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
action=${1:-}
kit=${2:-$root/.gpu-kit}
data=${REVIVE_DATA_DIR:-$root/../shared/data}
# Leaves room for the working tree in the device tool's 64 MiB.
max_kit_bytes=$((56 * 1024 * 1024))

# What the build needs that a PyTorch GPU image lacks, with the libraries those
# need at run time (Open MPI's transports and launcher; the multi-rank test
# binaries start MPI even at one rank). Debian 12 (glibc 2.36) builds run on
# newer glibc.
packages=(
  libopenmpi3 libopenmpi-dev openmpi-bin openmpi-common
  libhwloc15 libhwloc-plugins libpciaccess0 libxnvctrl0 libevent-core-2.1-7 libevent-pthreads-2.1-7
  libpmix2 libfabric1 libucx0 libibverbs1 librdmacm1 libnl-3-200 libnl-route-3-200
  libpsm2-2 libpsm-infinipath1 libnuma1 libltdl7 libmunge2
  libboost1.74-dev libboost-program-options1.74-dev libboost-program-options1.74.0
  nlohmann-json3-dev
  libpcre2-dev libpcre2-8-0 libpcre2-16-0 libpcre2-32-0 libpcre2-posix3
  libgtest-dev libgmock-dev
  libudev1  # hwloc's; used there only where the machine has none (gpu_check.sh's kit_env)
)
# Fixtures the check reads, relative to the data folder.
fixtures=(
  stories260K-hf/config.json stories260K-hf/model.safetensors stories260K-hf/tokenizer.json
  stories260K-hf/tokenizer_config.json stories260K-hf/reference.json
  text_corpora/tinystories_head_2MiB.txt
  counterfact_rome_samples/orthogonal_facts.json
)

die() { echo "gpu_kit: $*" >&2; exit 1; }

download_packages() {
  mkdir -p "$kit/debs"
  # apt-get download writes into the current folder; lists may be stale on a fresh machine.
  if ! (cd "$kit/debs" && apt-get download "${packages[@]}" > "$kit/apt.log" 2>&1); then
    apt-get update -qq > /dev/null 2>&1 || true
    (cd "$kit/debs" && apt-get download "${packages[@]}" > "$kit/apt.log" 2>&1) \
      || { tail -5 "$kit/apt.log" >&2; die "apt-get download failed (log: $kit/apt.log)"; }
  fi
  rm -f "$kit/apt.log"
  local p
  for p in "${packages[@]}"; do
    compgen -G "$kit/debs/${p}_*.deb" > /dev/null || die "package $p was not downloaded"
  done
}

copy_fixtures() {
  local f
  for f in "${fixtures[@]}"; do
    [ -f "$data/$f" ] || die "fixture $data/$f not found (set REVIVE_DATA_DIR)"
    mkdir -p "$kit/data/$(dirname "$f")"
    cp "$data/$f" "$kit/data/$f"
  done
}

# manifest.txt: one line per file, "sha256  bytes  path", then the total.
write_manifest() {
  (cd "$kit" && find debs data -type f | LC_ALL=C sort | while read -r f; do
     printf '%s  %s  %s\n' "$(sha256sum "$f" | cut -d' ' -f1)" "$(stat -c %s "$f")" "$f"
   done) > "$kit/manifest.txt.tmp"
  mv "$kit/manifest.txt.tmp" "$kit/manifest.txt"
}

kit_bytes() { awk '{s += $2} END {print s + 0}' "$kit/manifest.txt"; }

verify() {
  [ -f "$kit/manifest.txt" ] || die "$kit/manifest.txt not found: run launch/gpu_kit.sh prepare"
  local sum bytes path n=0
  while read -r sum bytes path; do
    [ -f "$kit/$path" ] || die "$kit/$path (in the manifest) is missing"
    [ "$(stat -c %s "$kit/$path")" = "$bytes" ] || die "$kit/$path: size differs from the manifest"
    [ "$(sha256sum "$kit/$path" | cut -d' ' -f1)" = "$sum" ] || die "$kit/$path: checksum differs from the manifest"
    n=$((n + 1))
  done < "$kit/manifest.txt"
  local p f
  for p in "${packages[@]}"; do
    grep -q " debs/${p}_" "$kit/manifest.txt" || die "package $p is not in the kit"
  done
  for f in "${fixtures[@]}"; do
    grep -q " data/$f\$" "$kit/manifest.txt" || die "fixture $f is not in the kit"
  done
  local total
  total=$(kit_bytes)
  [ "$total" -le "$max_kit_bytes" ] || die "the kit holds $total bytes, over its $max_kit_bytes"
  echo "gpu_kit: $kit complete: $n files, $((total / 1024)) KiB (limit $((max_kit_bytes / 1024)) KiB)"
}

case "$action" in
  prepare)
    mkdir -p "$kit"
    rm -rf "$kit/debs" "$kit/data"
    download_packages
    copy_fixtures
    write_manifest
    verify
    ;;
  verify) verify ;;
  *) echo "usage: launch/gpu_kit.sh prepare|verify [DIR]" >&2; exit 2 ;;
esac
