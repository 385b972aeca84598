#!/usr/bin/env bash
# Installs everything clstyle needs to build and test, from Debian packages only.
# Idempotent: safe to run again; skips apt when every package is already present.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config
  ocl-icd-opencl-dev opencl-c-headers ocl-icd-libopencl1 clinfo
  pocl-opencl-icd
  libclblast-dev
  libpng-dev zlib1g-dev libjpeg-dev libcairo2-dev
  python3-numpy python3-scipy
  libopenmpi-dev openmpi-bin
)
# Optional extras: clang for the libFuzzer harnesses.
if [ "${CLSTYLE_SETUP_FUZZ:-0}" = 1 ]; then
  pkgs+=(clang libclang-rt-dev)
fi
# Optional extras: clang-15 with AMD's device libraries and libclc for ci/gpu-kernels.sh.
if [ "${CLSTYLE_SETUP_GPUGATE:-0}" = 1 ]; then
  pkgs+=(clang-15 rocm-device-libs libclc-15)
fi
# Optional extras: Oclgrind for ci/oclgrind.sh.
if [ "${CLSTYLE_SETUP_OCLGRIND:-0}" = 1 ]; then
  pkgs+=(oclgrind)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
echo "setup: installed ${missing[*]}"
