#!/usr/bin/env python3
"""Converts MatConvNet's VGG19 (imagenet-vgg-verydeep-19.mat) to safetensors for clstyle.

    tools/convert_mat.py imagenet-vgg-verydeep-19.mat vgg19-mat.safetensors

MatConvNet keeps a cell array `layers` of structs (name, type, weights = {kernels,
bias}) with kernels stored (H, W, in, out), and the mean pixel in its normalisation
field (`normalization.averageImage`, or `meta.normalization.averageImage` in newer
files; a 3-vector or a whole mean image, averaged). Its input is RGB in 0..255 minus
that mean. The first 16 3x3 conv layers become `features.N.weight` (out, in, 3, 3) and
`features.N.bias` at torchvision's indices; conv1_1's input channels are reordered to
BGR and the file is marked with the caffe convention (clstyle.preprocess=caffe), with
the file's own mean under clstyle.mean ("R,G,B"), so clstyle feeds it exactly what
MatConvNet did. --kernel-layout whio reads kernels as (W, H, in, out) instead (what
some TensorFlow ports assume). Needs numpy and scipy (Debian python3-scipy).
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_pth import write_safetensors  # noqa: E402

FEATURES = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]  # conv1_1 .. conv5_4
CIN = [3, 64, 64, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512, 512, 512, 512]
COUT = [64, 64, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512, 512, 512, 512, 512]


def fail(msg):
    raise SystemExit("convert_mat: " + msg)


def field(s, name):
    """A field of a loadmat struct (a 1x1 record array), unwrapped; None when absent."""
    if s is None or s.dtype.names is None or name not in s.dtype.names:
        return None
    v = s[name]
    while isinstance(v, np.ndarray) and v.dtype == object and v.size == 1:
        v = v.flat[0]
    while isinstance(v, np.ndarray) and v.dtype.names is None and v.dtype == object and v.size == 1:
        v = v.flat[0]
    return v


def text(v):
    return str(v.flat[0]) if isinstance(v, np.ndarray) and v.size else str(v)


def layers_of(mat):
    layers = mat.get("layers")
    if layers is None:
        fail("no 'layers' cell array: not a MatConvNet network")
    out = []
    for cell in np.asarray(layers, dtype=object).flat:
        s = cell
        while isinstance(s, np.ndarray) and s.dtype == object and s.size == 1:
            s = s.flat[0]
        out.append(s)
    return out


def mean_pixel(mat):
    norm = mat.get("normalization")
    if norm is None and mat.get("meta") is not None:
        norm = field(mat["meta"], "normalization")
    avg = field(norm, "averageImage")
    if avg is None:
        fail("no normalization.averageImage (the mean pixel)")
    avg = np.asarray(avg, dtype=np.float64)
    if avg.size == 3:
        return avg.reshape(3)
    if avg.ndim == 3 and avg.shape[2] == 3:
        return avg.reshape(-1, 3).mean(axis=0)
    fail("averageImage has shape %s, expected 3 values or (H, W, 3)" % (avg.shape,))


def conv_tensors(layers, layout):
    convs = []
    for s in layers:
        kind, name = text(field(s, "type")), text(field(s, "name"))
        if kind != "conv" or not name.startswith("conv"):
            continue
        w = field(s, "weights")
        if w is None or np.asarray(w).size != 2:
            fail("layer %s has no {kernels, bias} weights" % name)
        k, b = [np.asarray(x, dtype=np.float64) for x in np.asarray(w, dtype=object).flat]
        convs.append((name, k, b))
    if len(convs) < 16:
        fail("%d conv layers named conv*, expected the 16 of VGG19" % len(convs))
    out = {}
    for i, (name, k, b) in enumerate(convs[:16]):
        want = (3, 3, CIN[i], COUT[i])
        if k.shape != want:
            fail("%s: kernels have shape %s, expected %s (H, W, in, out)" % (name, k.shape, want))
        if b.size != COUT[i]:
            fail("%s: bias has %d values, expected %d" % (name, b.size, COUT[i]))
        w = np.transpose(k, (3, 2, 0, 1) if layout == "hwio" else (3, 2, 1, 0))
        if i == 0:
            w = w[:, ::-1]  # RGB in -> caffe's BGR order (clstyle's fold puts it back)
        out["features.%d.weight" % FEATURES[i]] = np.ascontiguousarray(w)
        out["features.%d.bias" % FEATURES[i]] = b.reshape(COUT[i])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernel-layout", choices=["hwio", "whio"], default="hwio",
                    help="axis order of the stored kernels (default hwio: MatConvNet's own)")
    ap.add_argument("src")
    ap.add_argument("dst")
    a = ap.parse_args()
    import scipy.io

    try:
        mat = scipy.io.loadmat(a.src)
    except Exception as e:  # scipy raises several kinds on bad files
        fail("%s: cannot read it as a .mat file (%s)" % (a.src, e))
    t = conv_tensors(layers_of(mat), a.kernel_layout)
    mean = mean_pixel(mat)
    if not (np.isfinite(mean).all() and (mean >= 0).all() and (mean <= 255).all()):
        fail("the mean pixel %s is not three numbers in 0..255" % (mean,))
    meta = {"clstyle.preprocess": "caffe", "clstyle.mean": ",".join("%.9g" % v for v in mean),
            "clstyle.source": os.path.basename(a.src)}
    write_safetensors(a.dst, t, meta)
    print("convert_mat: wrote %d tensors to %s (RGB mean %s)" % (len(t), a.dst, meta["clstyle.mean"]))


if __name__ == "__main__":
    sys.exit(main())
