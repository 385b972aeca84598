#!/usr/bin/env bash
# Prepares what ci/gpu-bench.sh needs on a GPU machine that has the NVIDIA driver but
# none of our packages: a Release build of clstyle and the GPU-relevant test binaries,
# plus the shared libraries they load (ICD loader, CLBlast, libpng, zlib, libstdc++),
# copied into .dev/gpu/ (git-ignored; carry it to the machine with the working tree).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
bash ci/build.sh build
out=.dev/gpu
rm -rf "$out" && mkdir -p "$out/bin"
cp build/clstyle "$out/bin/"
for t in test_ops test_conv_algos test_gradcheck test_golden; do cp "build/tests/$t" "$out/bin/"; done
for lib in libOpenCL.so.1 libclblast.so.1 libpng16.so.16 libz.so.1 libstdc++.so.6 libgcc_s.so.1; do
  path=$(ldd build/clstyle | awk -v l="$lib" '$1 == l {print $3}')
  [ -n "$path" ] || { echo "gpu-pack: $lib not found by ldd" >&2; exit 1; }
  cp -L "$path" "$out/"
done
du -sh "$out"
echo "gpu-pack: ready in $out (carry it: run(carry=[\"$out\"], command=\"bash ci/gpu-bench.sh\"))"
