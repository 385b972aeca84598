#!/usr/bin/env bash
# The README's first Quick-start command: installs the Debian packages, builds clstyle,
# fetches the VGG19 weights when the network allows, and stylises the bundled samples.
# Without weights it runs with synthetic ones and says so: such output carries the
# style's colour and texture statistics only, not a painting of the photo.
#   scripts/demo.sh [OUT.png]      (default: demo.png in the current folder)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$PWD/demo.png}"

bash "$here/ci/setup.sh"
bash "$here/ci/build.sh" "$here/build" >/dev/null
clstyle="$here/build/clstyle"

weights=""
if CLSTYLE_BIN="$clstyle" bash "$here/scripts/fetch-weights.sh"; then
  weights=""   # default location
else
  echo "demo: the VGG19 weights could not be downloaded here."
  echo "demo: running with SYNTHETIC weights instead: the result shows the style's colours and"
  echo "demo: textures only, not a painting of the photo. Get real weights with scripts/fetch-weights.sh."
  weights="synthetic:1"
fi

# A GPU runs the full default job; on a CPU (PoCL) a smaller one finishes in minutes.
if "$clstyle" devices --json | grep -q '"type": "GPU"'; then
  size=512; iters=500
else
  size=256; iters=150
  echo "demo: no GPU found: running on the CPU at --size $size for $iters iterations"
fi
"$clstyle" -c "$here/assets/content.png" -s "$here/assets/style.png" -o "$out" \
  ${weights:+--weights "$weights"} --size "$size" --iters "$iters" --init content --print-every 10
echo "demo: wrote $out"
