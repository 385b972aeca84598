#!/usr/bin/env bash
# Prepares what ci/gpu-bench.sh needs on a GPU machine that has the NVIDIA driver but
# none of our packages: a Release build of clstyle and the GPU-relevant test binaries,
# plus the shared libraries they load (all but glibc's), and the compile gate's kernel
# report, copied into .dev/gpu/ (git-ignored; carry it to the machine with the working tree).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
bash ci/build.sh build
out=.dev/gpu
rm -rf "$out" && mkdir -p "$out/bin"
cp build/clstyle "$out/bin/"
for t in test_ops test_conv_algos test_gradcheck test_golden; do cp "build/tests/$t" "$out/bin/"; done
# every shared library the binaries load except glibc's own (the machine has those):
# the ICD loader, CLBlast, libpng, libjpeg, Cairo and what Cairo pulls in
for bin in "$out"/bin/*; do ldd "$bin"; done | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | sort -u |
  while read -r name path; do
    case "$name" in
      libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*|libresolv.so.*) ;;
      *) cp -L "$path" "$out/" ;;
    esac
  done
for lib in libOpenCL.so.1 libclblast.so.1 libjpeg.so.62 libcairo.so.2; do
  [ -e "$out/$lib" ] || { echo "gpu-pack: $lib not found by ldd" >&2; exit 1; }
done
# the compile gate's report of the kernels the GPU will run (VGPRs, spills, occupancy)
bash ci/gpu-kernels.sh build >/dev/null && cp build/gpu-kernels.md "$out/"
du -sh "$out"
echo "gpu-pack: ready in $out (carry it: run(carry=[\"$out\"], command=\"bash ci/gpu-bench.sh\"))"
