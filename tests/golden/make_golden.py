#!/usr/bin/python3
"""Regenerates the golden data in tests/golden/ with the PyTorch reference.

    /usr/bin/python3 tests/golden/make_golden.py [--out DIR]

Run by a developer when docs/ALGORITHM.md changes (not by CI). Needs torch + numpy
(Debian: python3-torch). Draws the two input images deterministically with numpy,
runs the reference (clstyle_ref.py) for two configurations and writes:
  content.png, style.png           inputs (64x48 and 64x64, 8-bit RGB)
  losses.csv,     final.png        case 1: pooling max, init content
  losses_avg.csv, final_avg.png    case 2: pooling avg, init noise, seed 3
  config.json                      every setting, versions, the clstyle command lines
"""

import argparse
import json
import os
import platform
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import clstyle_ref as R  # noqa: E402


def draw_content(w=64, h=48):
    """Smooth colour gradients, a disc, a rectangle, a stripe band: something with edges,
    flat areas and texture."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 40 + 170 * x / (w - 1)
    g = 60 + 140 * y / (h - 1)
    b = 200 - 120 * (x + y) / (w + h - 2)
    img = np.stack([r, g, b], axis=-1)
    # disc
    disc = (x - 20.0) ** 2 + (y - 22.0) ** 2 <= 11.0 ** 2
    img[disc] = (230, 200, 40)
    # rectangle with a darker frame
    rect = (x >= 38) & (x <= 58) & (y >= 6) & (y <= 20)
    img[rect] = (30, 90, 160)
    inner = (x >= 41) & (x <= 55) & (y >= 9) & (y <= 17)
    img[inner] = (200, 60, 70)
    # diagonal stripes band at the bottom right
    band = (y >= 30) & (x >= 36)
    stripes = ((x + y) // 3) % 2 == 0
    img[band & stripes] = (250, 250, 245)
    img[band & ~stripes] = (20, 30, 25)
    # a soft vertical sine ripple everywhere
    img += 12.0 * np.sin(x * 0.7)[..., None]
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def draw_style(w=64, h=64):
    """Colourful texture: sinusoidal waves, a checker patch, concentric rings."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 128 + 100 * np.sin(x * 0.45 + 2.0 * np.sin(y * 0.2))
    g = 128 + 90 * np.sin(y * 0.35 + 1.0)
    b = 128 + 110 * np.cos((x - y) * 0.25)
    img = np.stack([r, g, b], axis=-1)
    checker = ((x // 4 + y // 4) % 2 == 0) & (x < 24) & (y >= 40)
    img[checker] = (240, 230, 60)
    img[((x < 24) & (y >= 40)) & ~checker] = (40, 20, 90)
    rings = np.sqrt((x - 46.0) ** 2 + (y - 46.0) ** 2)
    ring_mask = rings < 16
    ring_col = np.where((rings // 3) % 2 == 0, 1.0, 0.0)[..., None]
    img[ring_mask] = (ring_col * np.array([220.0, 40.0, 40.0]) +
                      (1 - ring_col) * np.array([30.0, 160.0, 200.0]))[ring_mask]
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


COMMON = dict(weights_seed=7, convention="torchvision", size=64, iters=10,
              alpha=1.0, beta=100.0, gamma=10.0, lr=2.0,
              content_layers=dict(R.DEFAULT_CONTENT_LAYERS),
              style_layers=dict(R.DEFAULT_STYLE_LAYERS), blend=[1.0])

CASES = [
    dict(suffix="", pooling="max", init="content", seed=0,
         cmd="clstyle -c content.png -s style.png -o OUT.png --weights synthetic:7 --size 64 "
             "--iters 10 --init content --content-weight 1 --style-weight 100 --tv-weight 10 "
             "--lr 2 --pooling max"),
    dict(suffix="_avg", pooling="avg", init="noise", seed=3,
         cmd="clstyle -c content.png -s style.png -o OUT.png --weights synthetic:7 --size 64 "
             "--iters 10 --init noise --seed 3 --content-weight 1 --style-weight 100 "
             "--tv-weight 10 --lr 2 --pooling avg"),
    # L-BFGS (torch.optim.LBFGS, history 100, no line search): the seed's beta/alpha = 4,
    # scaled 100x with gamma = alpha so that the first curvature pair stands well above
    # float32 noise with these small synthetic features (tests/golden/README.md)
    dict(suffix="_lbfgs", pooling="max", init="noise", seed=3, optimizer="lbfgs",
         alpha=1000.0, beta=4000.0, gamma=1000.0, lr=1.0, history=100,
         cmd="clstyle -c content.png -s style.png -o OUT.png --weights synthetic:7 --size 64 "
             "--iters 10 --init noise --seed 3 --content-weight 1000 --style-weight 4000 "
             "--tv-weight 1000 --pooling max --optimizer lbfgs"),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=HERE, help="output directory (default: tests/golden)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: all cores)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    content = draw_content()
    style = draw_style()
    R.write_png(os.path.join(args.out, "content.png"), content)
    R.write_png(os.path.join(args.out, "style.png"), style)
    # run on what was written (round trip through our PNG codec)
    content = R.read_png(os.path.join(args.out, "content.png"))
    style = R.read_png(os.path.join(args.out, "style.png"))
    weights = R.synthetic_vgg19(COMMON["weights_seed"])

    cases_json = []
    for case in CASES:
        opts = dict(blend=COMMON["blend"], iters=COMMON["iters"],
                    alpha=case.get("alpha", COMMON["alpha"]), beta=case.get("beta", COMMON["beta"]),
                    gamma=case.get("gamma", COMMON["gamma"]), lr=case.get("lr", COMMON["lr"]),
                    content_layers=COMMON["content_layers"], style_layers=COMMON["style_layers"],
                    pooling=case["pooling"], convention=COMMON["convention"], init=case["init"],
                    seed=case["seed"], weights=weights)
        if case.get("optimizer") == "lbfgs":
            losses, final = R.run_lbfgs(content, [style], history=case["history"],
                                        line_search=case.get("line_search"), **opts)
        else:
            losses, final = R.run(content, [style], **opts)
        sfx = case["suffix"]
        with open(os.path.join(args.out, "losses%s.csv" % sfx), "w") as f:
            f.write("iter,total,content,style,tv\n")
            for k, tot, lc, ls, ltv in losses:
                f.write("%d,%.9g,%.9g,%.9g,%.9g\n" % (k, tot, lc, ls, ltv))
        img = R.tensor_to_uint8(torch.from_numpy(final))
        R.write_png(os.path.join(args.out, "final%s.png" % sfx), img)
        print("case %s (pooling %s, init %s%s):" % (sfx or "default", case["pooling"], case["init"],
                                                    " seed %d" % case["seed"] if case["init"] == "noise" else ""))
        for row in (losses[0], losses[-1]):
            print("  iter %d total %.9g content %.9g style %.9g tv %.9g" % row)
        cases_json.append(dict(
            name="default" if not sfx else sfx.lstrip("_"),
            losses="losses%s.csv" % sfx, final="final%s.png" % sfx,
            pooling=case["pooling"], init=case["init"],
            seed=case["seed"] if case["init"] == "noise" else None,
            optimizer=case.get("optimizer", "adam"),
            **({k: case[k] for k in ("alpha", "beta", "gamma", "lr", "history")} if "history" in case else {}),
            **({"line_search": case["line_search"]} if "line_search" in case else {}),
            command=case["cmd"]))

    config = dict(
        spec="docs/ALGORITHM.md",
        generator="tests/golden/make_golden.py (reference: tests/golden/clstyle_ref.py)",
        torch_version=torch.__version__,
        numpy_version=np.__version__,
        python_version=platform.python_version(),
        dtype="float32",
        content=dict(file="content.png", width=int(content.shape[1]), height=int(content.shape[0])),
        style=[dict(file="style.png", width=int(style.shape[1]), height=int(style.shape[0]),
                    blend=1.0)],
        resize=("none: --size 64 equals the content's longest side and the style image is "
                "used at its own 64x64 size (N/N_k = 0.75 at every style layer)"),
        weights="synthetic:%d" % COMMON["weights_seed"],
        convention=COMMON["convention"],
        size=COMMON["size"],
        iters=COMMON["iters"],
        alpha=COMMON["alpha"], beta=COMMON["beta"], gamma=COMMON["gamma"], lr=COMMON["lr"],
        adam=dict(beta1=R.ADAM_BETA1, beta2=R.ADAM_BETA2, eps=R.ADAM_EPS),
        content_layers=COMMON["content_layers"],
        style_layers=COMMON["style_layers"],
        losses_columns=("iter k = losses computed in iteration k before its Adam step; "
                        "total = alpha*content + beta*style + gamma*tv; content and style "
                        "include the per-layer weights, not alpha/beta"),
        final_image=("x after the last (10th) Adam step, clamped to [0,255], rounded half "
                     "away from zero, 8-bit RGB"),
        tolerances=dict(total_loss_rel_per_iter=1e-3, final_psnr_db_min=40.0,
                        lbfgs="rows 1-6 within 1e-3, rows 7-10 within 1e-2, PSNR >= 40 dB"),
        cases=cases_json,
    )
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    names = ["content.png", "style.png", "config.json"] + [c["losses"] for c in cases_json] + \
        [c["final"] for c in cases_json]
    total = sum(os.path.getsize(os.path.join(args.out, n)) for n in names)
    print("wrote %s (%d bytes)" % (", ".join(names), total))


if __name__ == "__main__":
    main()
