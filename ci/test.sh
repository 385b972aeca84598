#!/usr/bin/env bash
# The project's test command: installs the Debian packages, builds, runs every test on
# the OpenCL CPU device (PoCL). No GPU and no network beyond Debian packages needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
bash ci/build.sh build
# Kernel binaries are cached per run in the build folder, so tests start from a cold
# cache on a fresh machine and reuse it within the run.
export XDG_CACHE_HOME="$PWD/build/cache"
cd build
ctest --output-on-failure -j2 --timeout 900
