#!/usr/bin/env bash
# The project's test command: installs the Debian packages, builds, runs every test on
# the OpenCL CPU device (PoCL), then the same suite under ASan + UBSan (ci/sanitize.sh)
# and each libFuzzer harness for FUZZ_SECONDS (ci/fuzz.sh, default 60 s each); before
# those, the cross-vendor compile gate of every GPU kernel (ci/gpu-kernels.sh, AMD and
# NVIDIA targets with Debian's clang) and short runs on Oclgrind's strict device
# (ci/oclgrind.sh).
# No GPU and no network beyond Debian packages needed.
# CLSTYLE_QUICK=1 runs the plain suite only (a minute or two, for local iteration).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
bash ci/build.sh build
# Kernel binaries are cached per run in the build folder, so tests start from a cold
# cache on a fresh machine and reuse it within the run.
(
  export XDG_CACHE_HOME="$PWD/build/cache"
  cd build
  ctest --output-on-failure -j2 --timeout 900
)
if [ "${CLSTYLE_QUICK:-0}" = 1 ]; then
  echo "test: CLSTYLE_QUICK=1, sanitizer and fuzz runs skipped"
  exit 0
fi
bash ci/gpu-kernels.sh build
bash ci/oclgrind.sh build
bash ci/sanitize.sh
FUZZ_SECONDS="${FUZZ_SECONDS:-60}" bash ci/fuzz.sh
echo "test: suite, Oclgrind run, sanitizer suite and fuzzers all passed"
