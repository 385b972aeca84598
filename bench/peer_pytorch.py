#!/usr/bin/python3
"""PyTorch peer benchmark for clstyle: the same algorithm (docs/ALGORITHM.md) through the
reference implementation in tests/golden/clstyle_ref.py, timed per iteration.

    /usr/bin/python3 bench/peer_pytorch.py --size 256,512 --iters 10 [--device cpu|cuda|auto]
        [--threads N] [--seed S] [--weights-seed 7] [--json FILE]

Setup per size N: square N x N content and style images drawn deterministically with
numpy, synthetic weights (--weights-seed, default 7, as clstyle's --weights synthetic:7),
torchvision convention, default layers (content relu4_2; style relu1_1..relu5_1 at 0.2),
max pooling, alpha 1, beta 100, gamma 10, Adam lr 2, noise init with --seed. Two warm-up
iterations, then --iters timed iterations (each = forward, losses, backward, Adam step;
on CUDA bracketed by torch.cuda.synchronize()).

Prints one line per size and, with --json, writes a JSON array with one object per size;
`framework` is "pytorch <torch.__version__>", `first_loss` the loss of iteration 1 (before
its update; bench/peer_tensorflow.py reports the same), `final_loss` the loss after the
last timed iteration.
gflops = flop_per_iter / median seconds, with flop_per_iter from clstyle_ref.flop_per_iter
(convs conv1_1..conv5_1 forward + input gradient, Gram forward + gradient; the clstyle
benchmark counts the same way).
"""

import argparse
import json
import os
import platform
import re
import resource
import statistics
import sys
import time
import warnings

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "golden"))
import clstyle_ref as R  # noqa: E402


def bench_images(n):
    """Deterministic n x n content and style images (uint8 RGB), geometry relative to n."""
    y, x = np.mgrid[0:n, 0:n].astype(np.float64) / max(n - 1, 1)
    c = np.stack([40 + 170 * x, 60 + 140 * y, 200 - 120 * (x + y) / 2], axis=-1)
    disc = (x - 0.3) ** 2 + (y - 0.45) ** 2 <= 0.17 ** 2
    c[disc] = (230, 200, 40)
    rect = (x >= 0.6) & (x <= 0.9) & (y >= 0.1) & (y <= 0.4)
    c[rect] = (30, 90, 160)
    band = (y >= 0.6) & (x >= 0.55)
    stripes = (np.floor((x + y) * n / 6) % 2) == 0
    c[band & stripes] = (250, 250, 245)
    c[band & ~stripes] = (20, 30, 25)
    c += 12 * np.sin(x * n * 0.7)[..., None]
    s = np.stack([128 + 100 * np.sin(x * 28 + 2 * np.sin(y * 13)),
                  128 + 90 * np.sin(y * 22 + 1),
                  128 + 110 * np.cos((x - y) * 16)], axis=-1)
    rings = np.sqrt((x - 0.7) ** 2 + (y - 0.7) ** 2)
    on = rings < 0.25
    ring = ((np.floor(rings * 20) % 2) == 0)[..., None]
    s[on] = np.where(ring, np.array([220.0, 40, 40]), np.array([30.0, 160, 200]))[on]
    to8 = lambda a: np.clip(np.rint(a), 0, 255).astype(np.uint8)  # noqa: E731
    return to8(c), to8(s)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_info():
    cfg = torch.__config__.show()
    parts = []
    for key in ("BLAS_INFO", "LAPACK_INFO"):
        m = re.search(key + r"=([^,\s]+)", cfg)
        if m:
            parts.append("%s=%s" % (key, m.group(1)))
    m = re.search(r"(MKL-DNN v[0-9.]+|oneDNN v[0-9.]+)", cfg)
    if m:
        parts.append(m.group(1))
    if "Intel(R) Math Kernel Library" in cfg:
        parts.append("MKL")
    return ", ".join(parts) or "unknown"


def bench_size(n, args, device, weights):
    content, style = bench_images(n)
    ct = R.image_to_tensor(content, device)
    stt = R.image_to_tensor(style, device)
    st = R.StyleTransfer(ct, [stt], weights, alpha=1.0, beta=100.0, gamma=10.0, lr=2.0,
                         pooling="max", convention="torchvision", init="noise", seed=args.seed)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    with warnings.catch_warnings():  # newer torch warns on float() of the loss tensors
        warnings.simplefilter("ignore", UserWarning)
        first = st.step()[0]  # warm-up 1; its loss is row 1 (the TF peer's first_loss)
    st.step(return_losses=False)  # warm-up 2
    sync()
    times = []
    for _ in range(args.iters):
        sync()
        t0 = time.perf_counter()
        st.step(return_losses=False)
        sync()
        times.append(time.perf_counter() - t0)
    loss = st.losses(st.x.detach())[0].item()  # keeps the work observable; not timed
    med = statistics.median(times)
    flop = R.flop_per_iter(n, n, len(weights) - 1, list(R.DEFAULT_STYLE_LAYERS))
    if device.type == "cuda":
        dev_name = torch.cuda.get_device_name(device)
        typ, plat = "GPU", "PyTorch CUDA"
        driver = "torch %s / CUDA %s" % (torch.__version__, torch.version.cuda)
    else:
        dev_name = cpu_model()
        typ, plat = "CPU", "PyTorch CPU"
        driver = "torch %s" % torch.__version__
    rec = dict(
        tool="pytorch",
        torch_version=torch.__version__,
        framework="pytorch %s" % torch.__version__,
        device=dev_name,
        type=typ,
        platform=plat,
        driver=driver,
        size=n,
        iterations=args.iters,
        sec_per_iter_median=med,
        sec_per_iter_min=min(times),
        sec_per_iter_max=max(times),
        iters_per_sec=1.0 / med,
        gflops=flop / med / 1e9,
        flop_per_iter=flop,
        peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        blas=blas_info(),
        threads=torch.get_num_threads(),
        first_loss=first,
        final_loss=loss,
    )
    if device.type == "cuda":
        rec["peak_device_bytes"] = torch.cuda.max_memory_allocated(device)
    return rec


def main():
    ap = argparse.ArgumentParser(description="PyTorch peer benchmark for clstyle")
    ap.add_argument("--size", default="256", help="N[,N...]: square image sizes (default 256)")
    ap.add_argument("--iters", type=int, default=10, help="timed iterations after 2 warm-ups")
    ap.add_argument("--device", default="auto", choices=["cpu", "cuda", "auto"])
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (default: all cores)")
    ap.add_argument("--seed", type=int, default=0, help="noise-init seed (default 0)")
    ap.add_argument("--weights-seed", type=int, default=7, help="synthetic weights seed (default 7)")
    ap.add_argument("--json", metavar="FILE", help="write the results as a JSON array")
    args = ap.parse_args()
    try:
        sizes = [int(s) for s in args.size.split(",") if s.strip()]
    except ValueError:
        ap.error("--size wants N[,N...]")
    if not sizes or min(sizes) < 16 or args.iters < 1:
        ap.error("sizes must be >= 16 and --iters >= 1")

    if args.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(args.device)
        if device.type == "cuda" and not torch.cuda.is_available():
            sys.exit("peer_pytorch: CUDA requested but torch.cuda.is_available() is False")
    torch.set_num_threads(args.threads if args.threads > 0 else (os.cpu_count() or 1))
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True

    run_sizes("pytorch", sizes, args, device, bench_size)


def run_sizes(framework, sizes, args, device, bench_size):
    """Runs bench_size(n, args, device, weights) per size on the default layers' synthetic
    weights, prints a line per size and writes the JSON array (shared by the peers)."""
    deepest = max(R.layer_conv_ordinal(n) for n in
                  list(R.DEFAULT_STYLE_LAYERS) + list(R.DEFAULT_CONTENT_LAYERS))
    weights = R.synthetic_vgg19(args.weights_seed, nlayers=deepest + 1)  # conv1_1..conv5_1

    results = []
    for n in sizes:
        rec = bench_size(n, args, device, weights)
        results.append(rec)
        print("%s %s [%s] size %d: %.4f s/iter median (min %.4f, max %.4f), %.2f it/s, "
              "%.1f GFLOP/s (%.3g GFLOP/iter), peak RSS %.0f MiB, first loss %.9g"
              % (framework, rec["platform"], rec["device"], n, rec["sec_per_iter_median"],
                 rec["sec_per_iter_min"], rec["sec_per_iter_max"], rec["iters_per_sec"],
                 rec["gflops"], rec["flop_per_iter"] / 1e9, rec["peak_rss_bytes"] / 2 ** 20,
                 rec["first_loss"]),
              flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
