#!/usr/bin/env bash
# Runs a short style transfer with a per-layer mix of conv algorithms (tiled, Winograd,
# tiled, Winograd: every tiled<->Winograd boundary in both directions, forward and
# backward; an untapped pooled layer and an untapped ReLU: the route and mask paths) on
# Oclgrind's strict simulated device with API checks and data-race detection, and fails
# on any report (out-of-bounds access, race, API misuse, barrier divergence). Small on
# purpose (22x17, four convs, two iterations: about 40 s). Usage: ci/oclgrind.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-build}"
CLSTYLE_SETUP_OCLGRIND=1 bash ci/setup.sh
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
rc=0
CLSTYLE_NO_TUNE=1 CLSTYLE_CONV_ALGO=tiled,winograd,tiled,winograd XDG_CACHE_HOME="$tmp/cache" timeout 600 \
  oclgrind --check-api --data-races --log "$tmp/oclgrind.log" \
  "$dir/clstyle" -c tests/golden/content.png -s tests/golden/style.png -o "$tmp/out.png" \
  --weights synthetic:7 --size 22 --iters 2 --init content --content-layers relu2_2 \
  --style-layers relu1_1,relu2_2 -q || rc=$?
if [ "$rc" -ne 0 ]; then echo "oclgrind: the run failed (exit $rc)" >&2; exit 1; fi
if [ -s "$tmp/oclgrind.log" ]; then
  echo "oclgrind: reports:" >&2; head -n 60 "$tmp/oclgrind.log" >&2; exit 1
fi
[ -s "$tmp/out.png" ] || { echo "oclgrind: no image written" >&2; exit 1; }
# L-BFGS: the pair, the fused recursion sweeps (a coefficient shared through local
# memory, partial sums in two halves) and the step, with pairs kept from iteration 2
rc=0
CLSTYLE_NO_TUNE=1 XDG_CACHE_HOME="$tmp/cache" timeout 600 \
  oclgrind --check-api --data-races --log "$tmp/oclgrind_lbfgs.log" \
  "$dir/clstyle" -c tests/golden/content.png -s tests/golden/style.png -o "$tmp/lbfgs.png" \
  --weights synthetic:7 --size 22 --iters 4 --init noise --content-layers relu1_2 --style-layers relu1_1 \
  --content-weight 1000 --style-weight 4000 --optimizer lbfgs --history 2 -q || rc=$?
if [ "$rc" -ne 0 ]; then echo "oclgrind: the L-BFGS run failed (exit $rc)" >&2; exit 1; fi
if [ -s "$tmp/oclgrind_lbfgs.log" ]; then
  echo "oclgrind: L-BFGS reports:" >&2; head -n 60 "$tmp/oclgrind_lbfgs.log" >&2; exit 1
fi
[ -s "$tmp/lbfgs.png" ] || { echo "oclgrind: no L-BFGS image written" >&2; exit 1; }
echo "oclgrind: mixed tiled/winograd run clean (no API, bounds or race reports)"
echo "oclgrind: L-BFGS run clean"
