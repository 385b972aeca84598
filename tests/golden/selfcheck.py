#!/usr/bin/python3
"""Self-checks of the PyTorch reference (clstyle_ref.py) against docs/ALGORITHM.md.

    /usr/bin/python3 tests/golden/selfcheck.py

Prints PASS/FAIL per check and exits non-zero on any failure. Takes about a minute on
two cores (the last checks run the golden configuration a few times)."""

import math
import os
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clstyle_ref as R  # noqa: E402

failures = 0


def report(name, ok, detail=""):
    global failures
    if not ok:
        failures += 1
    print("%s  %s%s" % ("PASS" if ok else "FAIL", name, ("  (" + detail + ")") if detail else ""))


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-30)


def psnr(a, b):
    d = a.astype(np.float64) - b.astype(np.float64)
    mse = float(np.mean(d * d))
    return float("inf") if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)


def check_prng():
    keys = [0, 1, 7, 3, 0xFFFFFFFFFFFFFFFF, 0x9E3779B97F4A7C15, 123456789123456789]
    ks = [0, 1, 2, 1000, 2 ** 32 + 5, 2 ** 63 - 1, 2 ** 64 - 2]
    ok = True
    for key in keys:
        for k in ks:
            a = float(R.splitmix_u(key, k, 1)[0])
            b = R.splitmix_u_scalar(key, k)
            ok &= (a == b)
        v = R.splitmix_u(key, 10, 50)
        ok &= all(float(v[i]) == R.splitmix_u_scalar(key, 10 + i) for i in range(50))
    u = R.splitmix_u(7, 0, 200000)
    ok &= bool(u.min() >= 0.0 and u.max() < 1.0 and abs(float(u.mean()) - 0.5) < 0.01)
    report("splitmix_u matches scalar mod-2^64 definition (incl. wrap-around)", ok)
    print("      stream 7, u[0..3] = %s" % ", ".join("%.9g" % x for x in R.splitmix_u(7, 0, 4)))


def check_synthetic():
    ws = R.synthetic_vgg19(7, nlayers=3)
    ok = True
    pos = 0
    for (w, b), (name, _, cin, cout) in zip(ws, R.VGG19_CONVS):
        fan = cin * 9
        ok &= tuple(w.shape) == (cout, cin, 3, 3) and tuple(b.shape) == (cout,)
        ok &= w.dtype == torch.float32 and b.dtype == torch.float32
        # spot-check positions against the scalar PRNG
        flat = w.reshape(-1)
        for i in [0, 1, flat.numel() - 1]:
            u = R.splitmix_u_scalar(7, pos + i)
            ok &= float(flat[i]) == float(np.float32((2 * u - 1) * math.sqrt(6.0 / fan)))
        pos += flat.numel()
        for i in [0, cout - 1]:
            u = R.splitmix_u_scalar(7, pos + i)
            ok &= float(b[i]) == float(np.float32((2 * u - 1) / math.sqrt(fan)))
        pos += cout
        ok &= float(w.abs().max()) <= math.sqrt(6.0 / fan) and float(b.abs().max()) <= 1 / math.sqrt(fan)
    full = R.synthetic_vgg19(7)
    ok &= len(full) == 16 and all(torch.equal(full[i][0], ws[i][0]) and torch.equal(full[i][1], ws[i][1])
                                  for i in range(3))
    n = sum(w.numel() + b.numel() for w, b in full)
    report("synthetic weights: one stream, weights then biases, layer by layer", ok,
           "%d values; conv1_1 w[0,0,0,0]=%.9g b[0]=%.9g" % (n, float(full[0][0][0, 0, 0, 0]), float(full[0][1][0])))


def check_fold():
    torch.manual_seed(0)
    ws = R.synthetic_vgg19(7, nlayers=2)
    x = torch.rand(3, 20, 28, dtype=torch.float64) * 255.0
    ws64 = [(w.double(), b.double()) for w, b in ws]
    for conv in ("torchvision", "caffe"):
        direct = R.vgg_features(R.normalise_input(x, conv), ws64, ["conv1_1", "relu1_1", "relu1_2"])
        xin, wf = R.fold_input(x, ws64, conv)
        folded = R.vgg_features(xin, wf, ["conv1_1", "relu1_1", "relu1_2"])
        err = max(float((direct[n] - folded[n]).abs().max() / direct[n].abs().max())
                  for n in direct)
        report("folded input convention == direct normalisation (%s, float64)" % conv, err < 1e-12,
               "max rel err %.2e" % err)
        # float32: both formulations agree to float32 rounding
        x32 = x.float()
        ws32 = [(w.float(), b.float()) for w, b in ws]
        d32 = R.vgg_features(R.normalise_input(x32, conv), ws32, ["relu1_1"])["relu1_1"]
        xin, wf = R.fold_input(x32, ws32, conv)
        f32 = R.vgg_features(xin, wf, ["relu1_1"])["relu1_1"]
        err = float((d32 - f32).abs().max() / d32.abs().max())
        report("folded == direct (%s, float32)" % conv, err < 1e-5, "max rel err %.2e" % err)
    # zero padding: border pixels included above (padding 1 on a 20x28 image); also a
    # constant-mean image must give conv1_1 == bias everywhere, borders included
    for conv in ("torchvision", "caffe"):
        mean = (torch.tensor(R.IMAGENET_MEAN_PIXEL, dtype=torch.float64) if conv == "torchvision"
                else torch.tensor(R.CAFFE_MEAN_BGR[::-1], dtype=torch.float64))
        x = mean.view(3, 1, 1).expand(3, 6, 7).clone()
        out = R.vgg_features(R.normalise_input(x, conv), ws64, ["conv1_1"])["conv1_1"]
        err = float((out - ws64[0][1].view(1, -1, 1, 1)).abs().max())
        report("mean image -> conv1_1 == bias incl. borders (%s)" % conv, err < 1e-12, "%.1e" % err)


def check_loss_grads():
    torch.manual_seed(1)
    ok = True
    worst = 0.0
    for (c, h, w) in [(8, 5, 7), (16, 4, 4)]:
        f = torch.randn(1, c, h, w, dtype=torch.float64, requires_grad=True)
        p = torch.randn(1, c, h, w, dtype=torch.float64)
        s = torch.randn(1, c, h + 2, w + 1, dtype=torch.float64)
        n = h * w
        alpha, beta, wl = 1.7, 100.0, 0.3
        # content
        lc = alpha * wl * ((f - p) ** 2).sum() / (4.0 * c * n)
        (g,) = torch.autograd.grad(lc, f)
        closed = alpha * wl * (f - p) / (2.0 * c * n)
        e = float((g - closed).abs().max() / closed.abs().max())
        worst = max(worst, e)
        # style (target from another-size image, scaled by N/N_k)
        nk = s.shape[2] * s.shape[3]
        a = R.gram(s) * (n / nk)
        gm = R.gram(f)
        ls = beta * wl * ((gm - a) ** 2).sum() / (4.0 * c * c * n * n)
        (g,) = torch.autograd.grad(ls, f)
        closed = beta * wl * ((gm - a) @ f.reshape(c, -1)).reshape(f.shape) / (c * c * n * n)
        e2 = float((g - closed).abs().max() / closed.abs().max())
        worst = max(worst, e2)
        ok &= e < 1e-12 and e2 < 1e-12
    report("autograd dLc/dF and dLs/dF == closed forms in the spec", ok, "max rel err %.1e" % worst)

    # The reference's own loss code, through the whole StyleTransfer object, against the
    # closed forms at its feature layers (float64, single style image of another size).
    ws = [(wt.double(), b.double()) for wt, b in R.synthetic_vgg19(7, nlayers=2)]
    cimg = torch.rand(3, 12, 10, dtype=torch.float64) * 255
    simg = torch.rand(3, 16, 14, dtype=torch.float64) * 255
    st = R.StyleTransfer(cimg, [simg], ws, alpha=1.3, beta=50.0, gamma=0.0,
                         content_layers={"relu1_2": 1.0}, style_layers={"relu1_1": 0.4, "conv1_2": 0.6},
                         init="noise", seed=3)
    x = st.x.detach().clone().requires_grad_(True)
    feats = st._features(x)
    for t in feats.values():
        t.retain_grad()
    total, lc, ls, ltv = st.losses(x)
    # recompute the losses from scratch with the spec formulas
    f = {k: v.detach() for k, v in feats.items()}
    nx = 12 * 10
    exp_lc = ((f["relu1_2"] - st.content_targets["relu1_2"]) ** 2).sum() / (4 * 64 * nx)
    sfe = R.vgg_features(R.normalise_input(simg, "torchvision"), ws, ["relu1_1", "conv1_2"])
    exp_ls = 0.0
    for n_, wl in (("relu1_1", 0.4), ("conv1_2", 0.6)):
        a = R.gram(sfe[n_]) * (nx / (16 * 14))
        exp_ls = exp_ls + wl * ((R.gram(f[n_]) - a) ** 2).sum() / (4 * 64 * 64 * nx * nx)
    ok = rel(float(lc), float(exp_lc)) < 1e-12 and rel(float(ls), float(exp_ls)) < 1e-12
    report("StyleTransfer losses == spec formulas (N/N_k target scaling)", ok)
    # The style gradient w.r.t. x: autograd vs closed-form injected at conv1_2 and relu1_1
    total.backward()
    gx = x.grad.clone()
    # closed form: inject dL/dF at the feature layers and backprop through the network
    x2 = st.x.detach().clone().requires_grad_(True)
    feats2 = st._features(x2)
    grads = []
    outs = []
    alpha, beta = 1.3, 50.0
    fc = feats2["relu1_2"]
    outs.append(fc)
    grads.append(alpha * 1.0 * (fc.detach() - st.content_targets["relu1_2"]) / (2 * 64 * nx))
    for n_, wl in (("relu1_1", 0.4), ("conv1_2", 0.6)):
        ff = feats2[n_]
        fm = ff.detach().reshape(64, -1)
        gmat = fm @ fm.t()
        outs.append(ff)
        grads.append((beta * wl * ((gmat - st.style_targets[n_]) @ fm) / (64 * 64 * nx * nx)).reshape(ff.shape))
    torch.autograd.backward(outs, grads)
    e = float((x2.grad - gx).abs().max() / gx.abs().max())
    report("dL/dx via closed-form dL/dF injection == autograd", e < 1e-10, "max rel err %.1e" % e)

    # TV: against explicit loops
    xs = torch.rand(3, 4, 5, dtype=torch.float64) * 255
    tv = 0.0
    for c in range(3):
        for i in range(4):
            for j in range(5):
                if i + 1 < 4:
                    tv += float((xs[c, i + 1, j] - xs[c, i, j]) / 255) ** 2
                if j + 1 < 5:
                    tv += float((xs[c, i, j + 1] - xs[c, i, j]) / 255) ** 2
    tv /= 3 * 4 * 5
    report("TV loss == explicit sum on x/255 / (3HW)", rel(float(R.tv_loss(xs)), tv) < 1e-12)


def check_adam():
    torch.manual_seed(2)
    x1 = torch.randn(3, 9, 11, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([x2], lr=2.0, betas=(0.9, 0.999), eps=1e-8)
    m = torch.zeros_like(x1)
    v = torch.zeros_like(x1)
    ok = True
    for t in range(1, 31):
        g = torch.randn_like(x1) * (10.0 ** torch.randint(-6, 3, x1.shape).float())
        R.adam_update(x1, g, m, v, t, 2.0)
        x2.grad = g.clone()
        opt.step()
        ok &= torch.equal(x1.detach(), x2.detach())
    report("hand-written Adam bit-identical to torch.optim.Adam (30 steps)", ok)


def check_pooling_and_flops():
    # floor pooling on odd sizes, deepest layer truncation
    ws = R.synthetic_vgg19(7)
    x = torch.rand(3, 37, 29) * 255
    for pool in ("max", "avg"):
        f = R.vgg_features(R.normalise_input(x, "torchvision"), ws, ["relu5_1", "relu1_1"], pool)
        ok = tuple(f["relu5_1"].shape) == (1, 512, 37 // 16, 29 // 16) and set(f) == {"relu5_1", "relu1_1"}
        report("VGG19 shapes with floor %s pooling (37x29 -> %s)" % (pool, tuple(f["relu5_1"].shape[2:])), ok)
    # FLOP count by hand for 32x32, deepest conv1_2, style relu1_1
    exp = 2 * (2 * 3 * 9 * 64 * 1024) + 2 * (2 * 64 * 9 * 64 * 1024) + 2 * (2 * 64 * 64 * 1024)
    got = R.flop_per_iter(32, 32, 1, ["relu1_1"])
    report("flop_per_iter hand count (conv1_1..conv1_2, Gram relu1_1)", got == exp, "%d" % got)
    for s in (256, 512):
        print("      flop_per_iter(%d, %d, conv5_1, default style) = %d (%.4g GFLOP)"
              % (s, s, R.flop_per_iter(s, s, "conv5_1"), R.flop_per_iter(s, s, "conv5_1") / 1e9))


def check_png():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (13, 17, 3), dtype=np.uint8)
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "t.png")
        R.write_png(p, img)
        ok = np.array_equal(R.read_png(p), img)
        try:
            from PIL import Image  # optional cross-check
            ok &= np.array_equal(np.asarray(Image.open(p).convert("RGB")), img)
            note = "cross-checked with PIL"
        except ImportError:
            note = "PIL not installed"
    report("PNG write/read round trip", ok, note)
    # output rounding: clamp, half away from zero
    x = torch.tensor([-3.0, 0.49999997, 0.5, 1.5, 2.5, 254.5, 254.49998, 300.0]).view(1, 1, 8).expand(3, 1, 8)
    got = R.tensor_to_uint8(x)[0, :, 0].tolist()
    report("output rounding clamp + half away from zero", got == [0, 0, 1, 2, 3, 255, 254, 255], str(got))


def golden_like(**kw):
    here = os.path.dirname(os.path.abspath(__file__))
    c = R.read_png(os.path.join(here, "content.png"))
    s = R.read_png(os.path.join(here, "style.png"))
    args = dict(iters=10, alpha=1.0, beta=100.0, gamma=10.0, lr=2.0, pooling="max",
                convention="torchvision", init="content", seed=0, weights=R.synthetic_vgg19(7))
    args.update(kw)
    return R.run(c, [s], **args)


def check_end_to_end():
    """How robust is the golden data to an independent float32 implementation? Compare the
    direct float32 reference with (a) the folded formulation (what the C code does) and
    (b) float64, using the ctest tolerances (total loss rel 1e-3 per row, PSNR >= 40 dB)."""
    here = os.path.dirname(os.path.abspath(__file__))
    if not os.path.exists(os.path.join(here, "content.png")):
        report("end-to-end checks (run make_golden.py first)", False)
        return
    for case, kw in (("max/content", dict(pooling="max", init="content")),
                     ("avg/noise seed 3", dict(pooling="avg", init="noise", seed=3))):
        base_l, base_x = golden_like(**kw)
        base_img = R.tensor_to_uint8(torch.from_numpy(base_x))
        for what, extra in (("folded float32", dict(fold=True)),
                            ("float64", dict(dtype=torch.float64))):
            l, x = golden_like(**kw, **extra)
            img = R.tensor_to_uint8(torch.from_numpy(x))
            worst = max(rel(a[1], b[1]) for a, b in zip(l, base_l))
            p = psnr(img, base_img)
            report("%s: %s vs direct float32 within ctest tolerances" % (case, what),
                   worst < 1e-3 and p >= 40.0,
                   "worst total-loss rel diff %.2e, PSNR %.1f dB" % (worst, p))
        # against the committed golden files, if present
        suffix = "" if case.startswith("max") else "_avg"
        lp = os.path.join(here, "losses%s.csv" % suffix)
        ip = os.path.join(here, "final%s.png" % suffix)
        if os.path.exists(lp) and os.path.exists(ip):
            rows = [r.split(",") for r in open(lp).read().split("\n")[1:] if r.strip()]
            worst = max(rel(float(r[1]), b[1]) for r, b in zip(rows, base_l))
            p = psnr(R.read_png(ip), base_img)
            report("%s: golden files reproduce" % case, len(rows) == len(base_l) and worst < 1e-5 and p >= 50.0,
                   "worst rel %.1e, PSNR %.1f dB" % (worst, p))


if __name__ == "__main__":
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    check_prng()
    check_synthetic()
    check_fold()
    check_loss_grads()
    check_adam()
    check_pooling_and_flops()
    check_png()
    check_end_to_end()
    print("selfcheck: %s (%d failure%s)" % ("PASS" if failures == 0 else "FAIL", failures,
                                            "" if failures == 1 else "s"))
    sys.exit(1 if failures else 0)
