#!/usr/bin/env python3
"""TensorFlow 2 peer benchmark for clstyle: the same work as bench/peer_pytorch.py (the
algorithm of docs/ALGORITHM.md), written in TensorFlow, timed per iteration.

    python3 bench/peer_tensorflow.py --size 256,512 --iters 10 [--device cpu|gpu|auto]
        [--threads N] [--seed S] [--weights-seed 7] [--json FILE]

Same setup as the PyTorch peer: the images of peer_pytorch.bench_images, the synthetic
weights of tests/golden/clstyle_ref.py (--weights-seed, default 7), the noise init of
clstyle_ref (--seed), torchvision convention, content relu4_2, style relu1_1..relu5_1 at
0.2, max pooling, alpha 1, beta 100, gamma 10, Adam lr 2 written out as PyTorch's (the
bias corrections in host double). Activations are NHWC, convolutions tf.nn.conv2d; one
iteration (forward, losses, gradient by tf.GradientTape, Adam step) is one tf.function.
Two warm-up iterations (the first traces and compiles the graph), then --iters timed
ones, each ended by reading the loss back (which waits for the step on any device).

Needs tensorflow (PyPI: tensorflow-cpu) and, for the shared weight generator, image
builder and noise init (clstyle_ref and peer_pytorch import it), torch in the same
Python; torch does no work after setup. bench/peers-setup.sh makes such a venv.

The JSON objects carry the keys of peer_pytorch.py's (torch_version is null here),
`framework` ("tensorflow 2.x.y"), `first_loss` (the loss of iteration 1, before its
update: compare it with the PyTorch peer's at the same size and seeds) and
`inter_op_threads`.
"""

import argparse
import math
import os
import resource
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import peer_pytorch as P  # noqa: E402  (also puts tests/golden on sys.path)
R = P.R  # tests/golden/clstyle_ref.py


def onednn_info():
    """'oneDNN' when TensorFlow's oneDNN ops are on (the x86 Linux default), else 'Eigen'."""
    try:
        from tensorflow.python.util import _pywrap_util_port as port
        built = bool(port.IsMklEnabled())
    except Exception:  # noqa: BLE001 (private module: absent in some builds)
        built = False
    off = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "").strip().lower() in ("0", "false")
    return "oneDNN" if built and not off else "Eigen"


class TFStyleTransfer:
    """clstyle_ref.StyleTransfer's default configuration in TensorFlow, NHWC."""

    def __init__(self, content, style, weights, alpha=1.0, beta=100.0, gamma=10.0, lr=2.0,
                 seed=0):
        # content, style: uint8 (H,W,3); weights: clstyle_ref's list of torch (out,in,3,3)
        # weights and (out,) biases, converted once to HWIO / numpy.
        self.alpha, self.beta, self.gamma, self.lr = float(alpha), float(beta), float(gamma), float(lr)
        self.content_layers = dict(R.DEFAULT_CONTENT_LAYERS)
        self.style_layers = dict(R.DEFAULT_STYLE_LAYERS)
        self.layers = list(dict.fromkeys(list(self.content_layers) + list(self.style_layers)))
        self.deepest = max(R.layer_conv_ordinal(n) for n in self.layers)
        self.weights = [(tf.constant(np.ascontiguousarray(w.numpy().transpose(2, 3, 1, 0))),
                         tf.constant(b.numpy())) for w, b in weights[:self.deepest + 1]]
        self.mean = tf.constant(R.TORCHVISION_MEAN, dtype=tf.float32)
        self.std = tf.constant(R.TORCHVISION_STD, dtype=tf.float32)

        c = tf.constant(content.astype(np.float32)[None])
        s = tf.constant(style.astype(np.float32)[None])
        feats = self._features(c)
        self.content_targets = {n: tf.identity(feats[n]) for n in self.content_layers}
        sf = self._features(s)
        self.style_targets = {}
        for n in self.style_layers:
            nx = int(feats[n].shape[1]) * int(feats[n].shape[2])
            nk = int(sf[n].shape[1]) * int(sf[n].shape[2])
            self.style_targets[n] = self._gram(sf[n]) * float(nx / nk)  # one style, blend 1

        # noise init exactly as clstyle_ref (float64, rounded once), (3,H,W) -> NHWC
        x0 = R.noise_init(R.image_to_tensor(content), seed).numpy().transpose(1, 2, 0)[None]
        self.x = tf.Variable(np.ascontiguousarray(x0), dtype=tf.float32)
        self.m = tf.Variable(tf.zeros_like(self.x))
        self.v = tf.Variable(tf.zeros_like(self.x))
        self.t = 0
        self._step = tf.function(self._step_graph)
        self._losses = tf.function(self._loss_graph)

    def _features(self, x):
        """x (1,H,W,3) pixel units -> {layer: activation (1,H,W,C)} for self.layers."""
        want = set(self.layers)
        out = {}
        h = (x / 255.0 - self.mean) / self.std
        for i in range(self.deepest + 1):
            name = R.CONV_NAMES[i]
            w, b = self.weights[i]
            h = tf.nn.bias_add(tf.nn.conv2d(h, w, strides=1, padding="SAME"), b)
            if name in want:
                out[name] = h
            h = tf.nn.relu(h)
            if "relu" + name[4:] in want:
                out["relu" + name[4:]] = h
            if name in R.POOL_AFTER and i < self.deepest:
                h = tf.nn.max_pool2d(h, 2, 2, "VALID")  # floor mode, as torch
        return out

    @staticmethod
    def _gram(f):
        """f (1,H,W,C) -> (C,C) = F F^T with F (C, H*W), not normalised."""
        m = tf.reshape(f, (-1, tf.shape(f)[-1]))
        return tf.matmul(m, m, transpose_a=True)

    def _loss_graph(self, x):
        feats = self._features(x)
        lc = tf.constant(0.0)
        for n, wl in self.content_layers.items():
            f = feats[n]
            c, npos = int(f.shape[3]), int(f.shape[1]) * int(f.shape[2])
            d = f - self.content_targets[n]
            lc = lc + tf.reduce_sum(d * d) * (wl / (4.0 * c * npos))
        ls = tf.constant(0.0)
        for n, wl in self.style_layers.items():
            f = feats[n]
            c, npos = int(f.shape[3]), int(f.shape[1]) * int(f.shape[2])
            d = self._gram(f) - self.style_targets[n]
            ls = ls + tf.reduce_sum(d * d) * (wl / (4.0 * c * c * float(npos) * float(npos)))
        hh, ww = int(x.shape[1]), int(x.shape[2])
        dy = x[:, 1:, :, :] - x[:, :-1, :, :]
        dx = x[:, :, 1:, :] - x[:, :, :-1, :]
        ltv = (tf.reduce_sum(dy * dy) + tf.reduce_sum(dx * dx)) / (255.0 * 255.0 * 3.0 * hh * ww)
        total = self.alpha * lc + self.beta * ls + self.gamma * ltv
        return total, lc, ls, ltv

    def _step_graph(self, step_size, sqrt_bc2):
        with tf.GradientTape() as tape:
            tape.watch(self.x)
            total, lc, ls, ltv = self._loss_graph(self.x)
        g = tape.gradient(total, self.x)
        b1, b2 = R.ADAM_BETA1, R.ADAM_BETA2
        self.m.assign(self.m * b1 + g * (1.0 - b1))
        self.v.assign(self.v * b2 + g * g * (1.0 - b2))
        self.x.assign_sub(step_size * self.m / (tf.sqrt(self.v) / sqrt_bc2 + R.ADAM_EPS))
        return lc, ls, ltv

    def step(self):
        """One iteration; returns (total, Lc, Ls, Ltv) of x before the update, the total
        combined in double from the float32 components as clstyle_ref does."""
        self.t += 1
        bc1 = 1.0 - R.ADAM_BETA1 ** self.t  # host double
        bc2 = 1.0 - R.ADAM_BETA2 ** self.t
        lc, ls, ltv = self._step(tf.constant(self.lr / bc1, tf.float32),
                                 tf.constant(math.sqrt(bc2), tf.float32))
        lc, ls, ltv = float(lc.numpy()), float(ls.numpy()), float(ltv.numpy())
        return (self.alpha * lc + self.beta * ls + self.gamma * ltv, lc, ls, ltv)

    def loss(self):
        return float(self._losses(self.x)[0].numpy())


def bench_size(n, args, device, weights):
    content, style = P.bench_images(n)
    with tf.device(device):
        st = TFStyleTransfer(content, style, weights, seed=args.seed)
        first = st.step()[0]  # warm-up 1 (traces the graph); its loss is row 1
        st.step()             # warm-up 2
        times = []
        for _ in range(args.iters):
            t0 = time.perf_counter()
            st.step()  # reads the three loss scalars back: the step has finished
            times.append(time.perf_counter() - t0)
        loss = st.loss()  # keeps the work observable; not timed
    med = statistics.median(times)
    flop = R.flop_per_iter(n, n, st.deepest, list(R.DEFAULT_STYLE_LAYERS))
    if "GPU" in device:
        gpus = tf.config.list_physical_devices("GPU")
        try:
            dev_name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
        except Exception:  # noqa: BLE001
            dev_name = "GPU"
        typ, plat = "GPU", "TensorFlow GPU"
    else:
        dev_name = P.cpu_model()
        typ, plat = "CPU", "TensorFlow CPU"
    intra = tf.config.threading.get_intra_op_parallelism_threads()
    inter = tf.config.threading.get_inter_op_parallelism_threads()
    return dict(
        tool="tensorflow",
        torch_version=None,
        framework="tensorflow %s" % tf.__version__,
        device=dev_name,
        type=typ,
        platform=plat,
        driver="tensorflow %s" % tf.__version__,
        size=n,
        iterations=args.iters,
        sec_per_iter_median=med,
        sec_per_iter_min=min(times),
        sec_per_iter_max=max(times),
        iters_per_sec=1.0 / med,
        gflops=flop / med / 1e9,
        flop_per_iter=flop,
        peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        blas=onednn_info(),
        threads=intra or (os.cpu_count() or 1),
        inter_op_threads=inter,
        first_loss=first,
        final_loss=loss,
    )


def main():
    ap = argparse.ArgumentParser(description="TensorFlow peer benchmark for clstyle")
    ap.add_argument("--size", default="256", help="N[,N...]: square image sizes (default 256)")
    ap.add_argument("--iters", type=int, default=10, help="timed iterations after 2 warm-ups")
    ap.add_argument("--device", default="auto", choices=["cpu", "gpu", "cuda", "auto"])
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

    # before TensorFlow's runtime starts: intra-op threads as PyTorch's; inter-op left
    # at TensorFlow's default
    tf.config.threading.set_intra_op_parallelism_threads(
        args.threads if args.threads > 0 else (os.cpu_count() or 1))
    P.torch.set_num_threads(1)  # torch only builds the inputs here
    gpus = tf.config.list_physical_devices("GPU")
    if args.device == "auto":
        device = "/GPU:0" if gpus else "/CPU:0"
    elif args.device in ("gpu", "cuda"):
        if not gpus:
            sys.exit("peer_tensorflow: GPU requested but TensorFlow sees none")
        device = "/GPU:0"
    else:
        device = "/CPU:0"
        if gpus:
            tf.config.set_visible_devices([], "GPU")

    P.run_sizes("tensorflow", sizes, args, device, bench_size)


if __name__ == "__main__":
    main()
