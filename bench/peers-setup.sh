#!/usr/bin/env bash
# Makes the virtual environment of bench/compare.sh's PyPI peers (PyTorch and
# TensorFlow for CPU), outside the repository; they are not CI dependencies.
#   bench/peers-setup.sh [--venv DIR]
# DIR: --venv, else $CLSTYLE_PEERS_VENV, else ~/.cache/clstyle-peers. Uses /usr/bin/python3
# -m venv (override with $PYTHON) and pip from PyPI; writes the installed versions to
# DIR/versions.txt. Idempotent: an existing venv is reused, and pip leaves the pinned
# versions alone when they are already installed. Override the pins with
# $CLSTYLE_TORCH_VERSION / $CLSTYLE_TF_VERSION.
# Note: PyPI's Linux x86-64 torch wheel is the CUDA build and pulls in the nvidia-* CUDA
# libraries (some GiB); it runs on CPU all the same.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd -P)"
venv="${CLSTYLE_PEERS_VENV:-$HOME/.cache/clstyle-peers}"
torch_v="${CLSTYLE_TORCH_VERSION:-2.15.0}"
tf_v="${CLSTYLE_TF_VERSION:-2.21.0}"
py="${PYTHON:-/usr/bin/python3}"
while [ $# -gt 0 ]; do
  case "$1" in
    --venv) venv="$2"; shift 2;;
    -h|--help) sed -n '2,11p' "$0"; exit 0;;
    *) echo "peers-setup.sh: unknown argument $1" >&2; exit 64;;
  esac
done
venv="$(realpath -m "$venv")"
case "$venv/" in
  "$here"/*) echo "peers-setup.sh: $venv is inside the repository; pick a folder outside it" >&2; exit 64;;
esac
mkdir -p "$(dirname "$venv")"
if [ ! -x "$venv/bin/python" ]; then
  echo "peers-setup.sh: creating $venv"
  "$py" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --disable-pip-version-check -q \
  "torch==$torch_v" "tensorflow-cpu==$tf_v"
"$venv/bin/python" - "$venv/versions.txt" <<'PY'
import importlib.metadata as md, platform, sys
names = ("torch", "tensorflow-cpu", "keras", "numpy")
with open(sys.argv[1], "w") as f:
    f.write("python==%s\n" % platform.python_version())
    for n in names:
        try:
            f.write("%s==%s\n" % (n, md.version(n)))
        except md.PackageNotFoundError:
            f.write("%s not installed\n" % n)
PY
echo "peers-setup.sh: $venv ready; versions in $venv/versions.txt:"
cat "$venv/versions.txt"
