#!/usr/bin/env bash
# Runs short style transfers on Oclgrind's strict simulated device with API checks and
# data-race detection, and fails on any report (out-of-bounds access, race, API misuse,
# barrier divergence):
#   - a per-layer mix of conv algorithms (tiled, Winograd F(2x2), F(4x4), F(2x2): the
#     boundaries in both directions, forward and backward; an untapped
#     pooled layer and an untapped ReLU: the route and mask paths), 22x17, four convs,
#     two iterations (about 40 s);
#   - L-BFGS: the pair, the fused recursion sweeps (a coefficient shared through local
#     memory, partial sums in two halves) and the step, with pairs kept from iteration 2;
#   - the GPU row of the kernel tunables (CLSTYLE_GEMM_ROW=gpu: the work-group GEMM with
#     its local-memory tiles and barriers, the one-position transforms), one iteration of
#     the same mix (about 3 min);
#   - the op tests at small shapes (CLSTYLE_TEST_SMALL=1) against their double references:
#     test_ops, and test_conv_algos with every conv algorithm and every GEMM tile
#     candidate (test_ops in both rows of the tunables table; the gpu row's conv kernels
#     run in the gpu-row style transfer above: test_conv_algos there takes 10+ min).
# Usage: ci/oclgrind.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-build}"
CLSTYLE_SETUP_OCLGRIND=1 bash ci/setup.sh
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# clean NAME [VAR=value ...] -- clstyle ARGS: one run under Oclgrind, which must exit 0,
# report nothing and write its image
clean() {
  local name=$1 envs=() rc=0
  shift
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  env CLSTYLE_NO_TUNE=1 XDG_CACHE_HOME="$tmp/cache" ${envs[@]+"${envs[@]}"} timeout 600 \
    oclgrind --check-api --data-races --log "$tmp/$name.log" \
    "$dir/clstyle" -c tests/golden/content.png -s tests/golden/style.png -o "$tmp/$name.png" \
    --weights synthetic:7 --size 22 -q "$@" || rc=$?
  if [ "$rc" -ne 0 ]; then echo "oclgrind: the $name run failed (exit $rc)" >&2; exit 1; fi
  if [ -s "$tmp/$name.log" ]; then
    echo "oclgrind: $name reports:" >&2; head -n 60 "$tmp/$name.log" >&2; exit 1
  fi
  [ -s "$tmp/$name.png" ] || { echo "oclgrind: no $name image written" >&2; exit 1; }
  echo "oclgrind: $name run clean (no API, bounds or race reports)"
}

# clean_test NAME [VAR=value ...] -- TEST: a test binary under Oclgrind at small shapes, which
# must pass and report nothing
clean_test() {
  local name=$1 envs=() rc=0
  shift
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  env CLSTYLE_NO_TUNE=1 CLSTYLE_TEST_SMALL=1 CLSTYLE_KERNEL_DIR= XDG_CACHE_HOME="$tmp/cache" \
    CLSTYLE_TEST_TMP="$tmp/t_$name" CLSTYLE_SOURCE_DIR="$PWD" ${envs[@]+"${envs[@]}"} timeout 900 \
    oclgrind --check-api --data-races --log "$tmp/$name.log" "$dir/tests/$1" > "$tmp/$name.out" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "oclgrind: $name failed (exit $rc)" >&2; tail -n 30 "$tmp/$name.out" >&2; exit 1
  fi
  if [ -s "$tmp/$name.log" ]; then
    echo "oclgrind: $name reports:" >&2; head -n 60 "$tmp/$name.log" >&2; exit 1
  fi
  echo "oclgrind: $name clean ($(tail -n 1 "$tmp/$name.out"))"
}

mix=(--init content --content-layers relu2_2 --style-layers relu1_1,relu2_2)
clean mixed CLSTYLE_CONV_ALGO=tiled,winograd,winograd4,winograd -- --iters 2 "${mix[@]}"
clean lbfgs -- --iters 4 --init noise --content-layers relu1_2 --style-layers relu1_1 \
  --content-weight 1000 --style-weight 4000 --optimizer lbfgs --history 2
clean gpu-row CLSTYLE_GEMM_ROW=gpu CLSTYLE_CONV_ALGO=tiled,winograd,winograd4,winograd -- --iters 1 "${mix[@]}"
clean_test ops -- test_ops
clean_test conv_algos -- test_conv_algos
clean_test ops_gpu_row CLSTYLE_GEMM_ROW=gpu -- test_ops
