#!/usr/bin/env bash
# Installs the built tree into a temporary prefix and builds + runs
# examples/cmake_consumer against it: proves find_package(revive) works.
# usage: consumer_test.sh <build dir> <source dir> <mpiexec> [mpiexec flags...]
set -euo pipefail
build=$1 src=$2 mpiexec=$3
shift 3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$src/examples/cmake_consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release >"$work/configure.log" 2>&1 || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/consumer" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
"$mpiexec" -np 2 "$@" "$work/consumer/revive_consumer"
