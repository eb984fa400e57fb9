#!/usr/bin/env bash
# Installs every Debian 12 package REVIVE needs to build, test and run its demo.
# Idempotent: packages already present are left alone; says what it installed;
# fails loudly (non-zero, naming the package) when a package cannot be had.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libtorch-dev          # LibTorch 1.13 (CPU)
  libopenblas-dev       # without it LibTorch falls back to reference BLAS (~30x slower GEMM)
  libopenmpi-dev openmpi-bin
  libboost-program-options-dev
  libgtest-dev libgmock-dev
  nlohmann-json3-dev
  libpcre2-dev
  libsentencepiece-dev
  gnuplot-nox           # PNG plots of editing runs
  jq                    # the demo's verdict from its metrics records (launch/demo_verdict.sh)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || { echo "setup: apt-get update failed" >&2; exit 1; }
if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/revive-setup-apt.log 2>&1; then
  tail -20 /tmp/revive-setup-apt.log >&2
  echo "setup: FAILED to install one of: ${missing[*]} (log: /tmp/revive-setup-apt.log)" >&2
  exit 1
fi
for p in "${missing[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || { echo "setup: package $p is still not installed" >&2; exit 1; }
done
echo "setup: installed ${missing[*]}"
