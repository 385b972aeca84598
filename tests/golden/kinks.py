#!/usr/bin/python3
"""How close a golden case's starting point is to the kinks of the loss, per layer.

    /usr/bin/python3 tests/golden/kinks.py [--case ''|_avg] [--size N] [--alpha A]
                                           [--beta B] [--gamma G]

Run by a developer (not by CI); needs torch + numpy. Uses the inputs, weights and settings
of make_golden.py and the reference of clstyle_ref.py, in float64, and writes nothing.

Why: the loss is only piecewise smooth. Where a pre-activation sits within float32
rounding of 0 (a ReLU kink), or the two largest entries of a max-pool window within
rounding of each other, two float32 implementations (PyTorch, TensorFlow, clstyle's
tiled GEMM, Winograd, CLBlast, or one PyTorch version and the next) may take different
branches; the image gradient then differs by a whole unit's contribution, far beyond
rounding, and Adam's first steps (about lr * sign(g) per pixel) carry that into every
later loss. Per conv layer this prints the smallest |z| / max|z| over its
pre-activations and how many lie within 1e-6 of max|z| (about the rounding of a long
float32 sum), and for each max pool the smallest gap between a positive window's two
largest entries over its maximum, with the count of exact ties (flat image areas give
them). docs/ALGORITHM.md quotes the figures for the golden cases.
"""

import argparse
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import clstyle_ref as R  # noqa: E402


def report(st, x):
    """Prints the per-layer margins of the network at x (see the module docstring)."""
    xin, w = R.normalise_input(x, st.convention), st.weights
    deepest = max(R.layer_conv_ordinal(n) for n in st.layers)
    h = xin
    for i in range(deepest + 1):
        name = R.CONV_NAMES[i]
        z = F.conv2d(h, w[i][0], w[i][1], stride=1, padding=1)
        rel = z.abs() / z.abs().max()
        line = "%-8s %7d units: min |z|/max %.2e, %3d within 1e-6" % (
            name, z.numel(), float(rel.min()), int((rel < 1e-6).sum()))
        h = F.relu(z)
        pool = name in R.POOL_AFTER and i < deepest
        if pool and st.pooling == "max":
            c, hh, ww = h.shape[1], h.shape[2] // 2 * 2, h.shape[3] // 2 * 2
            win = h[:, :, :hh, :ww].reshape(c, hh // 2, 2, ww // 2, 2).permute(0, 1, 3, 2, 4)
            top = win.reshape(c, hh // 2, ww // 2, 4).topk(2, dim=-1).values
            pos = top[..., 0] > 0
            gap = (top[..., 0] - top[..., 1])[pos] / top[..., 0][pos]
            line += "; max pool: min gap %.2e, %d exact ties" % (float(gap.min()), int((gap == 0).sum()))
        print(line)
        if pool:
            h = F.max_pool2d(h, 2, 2) if st.pooling == "max" else F.avg_pool2d(h, 2, 2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", default="", choices=["", "_avg"])
    ap.add_argument("--size", type=int, default=0, help="resize the content (longest side); 0 keeps 64")
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--beta", type=float, default=100.0)
    ap.add_argument("--gamma", type=float, default=10.0)
    a = ap.parse_args()
    content = R.read_png(os.path.join(HERE, "content.png"))
    style = R.read_png(os.path.join(HERE, "style.png"))
    pool, init, seed = ("max", "content", 0) if a.case == "" else ("avg", "noise", 3)
    ct = R.image_to_tensor(content, dtype=torch.float64)
    if a.size:
        hh, ww = ct.shape[1], ct.shape[2]
        s = a.size / max(hh, ww)
        ct = F.interpolate(ct.unsqueeze(0), size=(round(hh * s), round(ww * s)), mode="bilinear",
                           align_corners=False).squeeze(0)
    st = R.StyleTransfer(ct, [R.image_to_tensor(style, dtype=torch.float64)], R.synthetic_vgg19(7),
                         blend=[1.0], alpha=a.alpha, beta=a.beta, gamma=a.gamma, lr=2.0,
                         content_layers=dict(R.DEFAULT_CONTENT_LAYERS),
                         style_layers=dict(R.DEFAULT_STYLE_LAYERS), pooling=pool, init=init, seed=seed)
    print("case%s %dx%d, pooling %s, init %s, alpha %g beta %g gamma %g, float64:"
          % (a.case, ct.shape[2], ct.shape[1], pool, init, a.alpha, a.beta, a.gamma))
    with torch.no_grad():
        report(st, st.x)


if __name__ == "__main__":
    main()
