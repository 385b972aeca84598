#!/usr/bin/env python3
"""Converts VGG19 weights from a PyTorch .pth file to safetensors for clstyle.

    tools/convert_pth.py vgg19-dcbb9e9d.pth vgg19.safetensors                    # torchvision
    tools/convert_pth.py --convention caffe vgg19-d01eb7cb.pth vgg19.safetensors  # caffe-converted

Keeps the conv tensors `features.N.weight` / `features.N.bias` (a state dict, or a
full model whose state_dict() has them), writes them as F32 and records the input
convention under __metadata__ "clstyle.preprocess". Needs PyTorch; no other package.
"""
import argparse
import json
import struct
import sys


def tensors_from(obj):
    if hasattr(obj, "state_dict"):
        obj = obj.state_dict()
    if not isinstance(obj, dict):
        raise SystemExit("convert_pth: the file holds neither a state dict nor a model")
    out = {}
    for k, v in obj.items():
        name = k[len("module."):] if k.startswith("module.") else k
        if name.startswith("features.") and (name.endswith(".weight") or name.endswith(".bias")):
            out[name] = v
    if "features.0.weight" not in out:
        raise SystemExit("convert_pth: no features.0.weight: not a VGG19 features state dict")
    return out


def write_safetensors(path, tensors, meta):
    import numpy as np

    header = {"__metadata__": meta}
    blobs, offset = [], 0
    for name in sorted(tensors, key=lambda n: (int(n.split(".")[1]), n)):
        t = tensors[name]
        a = np.ascontiguousarray(t.detach().float().cpu().numpy() if hasattr(t, "detach") else t, dtype="<f4")
        if not np.isfinite(a).all():
            raise SystemExit(f"{name} has NaN or Inf values")
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    import os
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--convention", choices=["torchvision", "caffe"], default="torchvision",
                    help="input convention of the weights (default torchvision)")
    ap.add_argument("src")
    ap.add_argument("dst")
    a = ap.parse_args()
    import torch

    obj = torch.load(a.src, map_location="cpu")
    t = tensors_from(obj)
    write_safetensors(a.dst, t, {"clstyle.preprocess": a.convention, "clstyle.source": a.src.split("/")[-1]})
    print(f"convert_pth: wrote {len(t)} tensors to {a.dst} ({a.convention} convention)")


if __name__ == "__main__":
    sys.exit(main())
