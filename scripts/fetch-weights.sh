#!/usr/bin/env bash
# Downloads the ImageNet VGG19 weights in safetensors form (timm's vgg19.tv_in1k, the
# torchvision weights) to clstyle's default location, resumably, then validates them.
#   scripts/fetch-weights.sh [DEST]
# DEST defaults to $CLSTYLE_WEIGHTS, else $XDG_DATA_HOME/clstyle/vgg19.safetensors,
# else ~/.local/share/clstyle/vgg19.safetensors. Set CLSTYLE_WEIGHTS_URL to use a mirror.
set -euo pipefail

url="${CLSTYLE_WEIGHTS_URL:-https://huggingface.co/timm/vgg19.tv_in1k/resolve/main/model.safetensors}"
if [ $# -ge 1 ]; then dest="$1"
elif [ -n "${CLSTYLE_WEIGHTS:-}" ]; then dest="$CLSTYLE_WEIGHTS"
elif [ -n "${XDG_DATA_HOME:-}" ]; then dest="$XDG_DATA_HOME/clstyle/vgg19.safetensors"
else dest="$HOME/.local/share/clstyle/vgg19.safetensors"
fi
here="$(cd "$(dirname "$0")/.." && pwd)"
clstyle="${CLSTYLE_BIN:-$here/build/clstyle}"

if [ -s "$dest" ]; then
  echo "fetch-weights: $dest already exists"
else
  mkdir -p "$(dirname "$dest")"
  part="$dest.part"
  echo "fetch-weights: downloading $url"
  echo "fetch-weights:   -> $dest (about 550 MB; re-run to resume)"
  if command -v curl >/dev/null; then
    curl -fL --retry 3 --connect-timeout 20 -C - --progress-bar -o "$part" "$url"
  elif command -v wget >/dev/null; then
    wget -c --tries=3 --timeout=20 --progress=bar:force -O "$part" "$url"
  else
    echo "fetch-weights: need curl or wget" >&2; exit 69
  fi
  mv "$part" "$dest"
fi

if command -v sha256sum >/dev/null; then
  echo "fetch-weights: sha256 $(sha256sum "$dest" | cut -d' ' -f1)"
fi
if [ -x "$clstyle" ]; then
  if ! "$clstyle" weights "$dest" >/dev/null; then
    echo "fetch-weights: $dest failed validation; removing it" >&2
    rm -f "$dest"
    exit 65
  fi
  echo "fetch-weights: $dest is a valid VGG19 weights file"
else
  echo "fetch-weights: build clstyle, then check the file with: clstyle weights $dest"
fi
