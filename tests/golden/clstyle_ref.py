"""PyTorch reference of clstyle's algorithm (docs/ALGORITHM.md), in float32.

Shared by tests/golden/make_golden.py (golden data for the C tests),
tests/golden/selfcheck.py and bench/peer_pytorch.py (the PyTorch peer benchmark).

Everything here follows the spec's *first* definitions: the input convention is
applied by normalising the image (not by folding it into conv1_1 as the C code does),
the losses are computed with autograd, and Adam is written out exactly as PyTorch's
(single-tensor) implementation does it. Images are numpy uint8 (H, W, 3) RGB on the
outside and torch float32 (3, H, W) in pixel units (0..255) on the inside.

Needs only torch and numpy (Debian: /usr/bin/python3 with python3-torch).
"""

import json
import math
import struct

import numpy as np
import torch
import torch.nn.functional as F

from png_codec import read_png, write_png  # noqa: F401 (part of this module's interface)

# ---------------------------------------------------------------------------
# Network description
# ---------------------------------------------------------------------------

# (name, torchvision features index, in channels, out channels), conv1_1 ... conv5_4
VGG19_CONVS = []
_feat = 0
_cin = 3
for _block, (_nconv, _cout) in enumerate([(2, 64), (2, 128), (4, 256), (4, 512), (4, 512)], 1):
    for _k in range(1, _nconv + 1):
        VGG19_CONVS.append(("conv%d_%d" % (_block, _k), _feat, _cin, _cout))
        _cin = _cout
        _feat += 2  # conv, relu
    if _block < 5:
        _feat += 1  # pool
del _feat, _cin, _block, _nconv, _cout, _k

CONV_NAMES = [c[0] for c in VGG19_CONVS]
# After these convs (their ReLU, to be precise) sits a 2x2 stride-2 pool.
POOL_AFTER = {"conv1_2", "conv2_2", "conv3_4", "conv4_4"}

DEFAULT_CONTENT_LAYERS = {"relu4_2": 1.0}
DEFAULT_STYLE_LAYERS = {"relu1_1": 0.2, "relu2_1": 0.2, "relu3_1": 0.2,
                        "relu4_1": 0.2, "relu5_1": 0.2}

TORCHVISION_MEAN = (0.485, 0.456, 0.406)
TORCHVISION_STD = (0.229, 0.224, 0.225)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
IMAGENET_MEAN_PIXEL = (123.675, 116.28, 103.53)  # RGB, = 255 * TORCHVISION_MEAN

ADAM_BETA1 = 0.9
ADAM_BETA2 = 0.999
ADAM_EPS = 1e-8


def layer_conv_ordinal(name):
    """'conv4_2' or 'relu4_2' -> 0-based position of its conv in VGG19_CONVS."""
    if name.startswith("conv"):
        base = name
    elif name.startswith("relu"):
        base = "conv" + name[4:]
    else:
        raise ValueError("unknown layer %r (want convB_K or reluB_K)" % name)
    try:
        return CONV_NAMES.index(base)
    except ValueError:
        raise ValueError("unknown layer %r" % name) from None


def _as_layer_dict(layers):
    if isinstance(layers, dict):
        return dict((str(k), float(v)) for k, v in layers.items())
    return dict((str(k), float(v)) for k, v in layers)


# ---------------------------------------------------------------------------
# PRNG and synthetic weights
# ---------------------------------------------------------------------------

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def splitmix_u(key, start, count):
    """u values k = start .. start+count-1 of the counter-based SplitMix64 stream `key`,
    as float32 (exact: 24-bit fractions in [0, 1))."""
    key = np.uint64(int(key) & 0xFFFFFFFFFFFFFFFF)
    k1 = np.arange(count, dtype=np.uint64) + np.uint64(int(start) + 1)  # k + 1
    with np.errstate(over="ignore"):
        z = key + k1 * _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(40)).astype(np.float64) * (2.0 ** -24)).astype(np.float32)


def splitmix_u_scalar(key, k):
    """Plain-Python (arbitrary precision, explicit mod 2^64) version, for self-checks."""
    mask = (1 << 64) - 1
    z = (key + (k + 1) * 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    z = z ^ (z >> 31)
    return (z >> 40) * 2.0 ** -24


def synthetic_vgg19(seed, nlayers=16):
    """He-uniform synthetic weights (torchvision convention): list of (weight (out,in,3,3),
    bias (out,)) float32 CPU tensors for conv1_1 ... One continuous stream with key
    `seed`; per layer first the weights (row-major), then the biases. `nlayers` < 16
    generates only the first layers (the stream positions are the same)."""
    out = []
    pos = 0
    for name, _, cin, cout in VGG19_CONVS[:nlayers]:
        fan_in = cin * 9
        nw = cout * cin * 9
        u = splitmix_u(seed, pos, nw).astype(np.float64)
        pos += nw
        w = ((2.0 * u - 1.0) * math.sqrt(6.0 / fan_in)).astype(np.float32).reshape(cout, cin, 3, 3)
        u = splitmix_u(seed, pos, cout).astype(np.float64)
        pos += cout
        b = ((2.0 * u - 1.0) / math.sqrt(fan_in)).astype(np.float32)
        out.append((torch.from_numpy(w), torch.from_numpy(b)))
    return out


def load_safetensors_vgg19(path):
    """Reads features.N.weight / features.N.bias (any key prefix) for the 16 VGG19 convs
    from a .safetensors file (F32, F16 or BF16) with a tiny pure-numpy reader."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError("%s: too short for safetensors" % path)
    (hlen,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + hlen].decode("utf-8"))
    data = memoryview(blob)[8 + hlen:]

    def tensor(entry):
        a, b = entry["data_offsets"]
        raw = data[a:b]
        dt = entry["dtype"]
        if dt == "F32":
            arr = np.frombuffer(raw, dtype="<f4")
        elif dt == "F16":
            arr = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        elif dt == "BF16":
            arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError("%s: unsupported dtype %s" % (path, dt))
        return arr.reshape(entry["shape"]).astype(np.float32)

    def find(suffix):
        hits = [k for k in header if k != "__metadata__" and (k == suffix or k.endswith("." + suffix))]
        if len(hits) != 1:
            raise KeyError("%s: %d tensors named *%s" % (path, len(hits), suffix))
        return tensor(header[hits[0]])

    out = []
    for name, idx, cin, cout in VGG19_CONVS:
        w = find("features.%d.weight" % idx)
        b = find("features.%d.bias" % idx)
        if w.shape != (cout, cin, 3, 3) or b.shape != (cout,):
            raise ValueError("%s: %s has shape %s / %s" % (path, name, w.shape, b.shape))
        out.append((torch.from_numpy(w.copy()), torch.from_numpy(b.copy())))
    return out


# ---------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------

def normalise_input(x, convention):
    """x: (3,H,W) pixel units, RGB. Returns the (1,3,H,W) network input, computed as the
    spec's direct definition."""
    if convention == "torchvision":
        mean = torch.tensor(TORCHVISION_MEAN, dtype=x.dtype, device=x.device).view(3, 1, 1)
        std = torch.tensor(TORCHVISION_STD, dtype=x.dtype, device=x.device).view(3, 1, 1)
        xn = (x / 255.0 - mean) / std
    elif convention == "caffe":
        mean = torch.tensor(CAFFE_MEAN_BGR, dtype=x.dtype, device=x.device).view(3, 1, 1)
        xn = x.flip(0) - mean
    else:
        raise ValueError("convention must be torchvision or caffe")
    return xn.unsqueeze(0)


def fold_input(x, weights, convention):
    """The C code's formulation: subtract a per-channel mean in pixel units and fold scale
    and channel order into conv1_1. Returns ((1,3,H,W) input, new weight list). Used by the
    self-checks only."""
    w0, b0 = weights[0]
    if convention == "torchvision":
        mean = torch.tensor([255.0 * m for m in TORCHVISION_MEAN], dtype=torch.float64)
        scale = torch.tensor([1.0 / (255.0 * s) for s in TORCHVISION_STD], dtype=torch.float64)
        w = (w0.double() * scale.view(1, 3, 1, 1)).to(w0.dtype)
    elif convention == "caffe":
        mean = torch.tensor(CAFFE_MEAN_BGR[::-1], dtype=torch.float64)  # RGB order
        w = w0.flip(1).contiguous()  # network channel j (BGR) reads image channel 2-j
    else:
        raise ValueError("convention must be torchvision or caffe")
    xin = (x - mean.to(x.dtype).to(x.device).view(3, 1, 1)).unsqueeze(0)
    return xin, [(w, b0)] + list(weights[1:])


def vgg_features(xin, weights, layers, pooling="max"):
    """Runs VGG19 features on xin (1,3,H,W) up to the deepest of `layers` (names convB_K /
    reluB_K) and returns {name: activation (1,C,H,W)}."""
    deepest = max(layer_conv_ordinal(n) for n in layers)
    want = set(layers)
    out = {}
    h = xin
    for i in range(deepest + 1):
        name = CONV_NAMES[i]
        w, b = weights[i]
        h = F.conv2d(h, w, b, stride=1, padding=1)
        if name in want:
            out[name] = h
        h = F.relu(h)
        rname = "relu" + name[4:]
        if rname in want:
            out[rname] = h
        if name in POOL_AFTER and i < deepest:
            if pooling == "max":
                h = F.max_pool2d(h, 2, 2)
            elif pooling == "avg":
                h = F.avg_pool2d(h, 2, 2)
            else:
                raise ValueError("pooling must be max or avg")
    return out


def gram(f):
    """f (1,C,H,W) -> (C,C) = F F^T, not normalised."""
    c = f.shape[1]
    m = f.reshape(c, -1)
    return m @ m.t()


# ---------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------

def image_to_tensor(img, device="cpu", dtype=torch.float32):
    """numpy uint8 (H,W,3) RGB -> (3,H,W) float pixel units."""
    a = np.ascontiguousarray(np.asarray(img, dtype=np.uint8).transpose(2, 0, 1))
    return torch.from_numpy(a.astype(np.float32)).to(device=device, dtype=dtype)


def tensor_to_uint8(x):
    """(3,H,W) pixel units -> numpy uint8 (H,W,3): clamp to [0,255], round half away from
    zero (done in float64 so no float32 rounding sneaks into x + 0.5)."""
    a = x.detach().to("cpu", torch.float64).numpy()
    a = np.clip(a, 0.0, 255.0)
    a = np.floor(a + 0.5)  # values are >= 0 here, so this is half away from zero
    return np.ascontiguousarray(a.astype(np.uint8).transpose(1, 2, 0))


def noise_init(content, seed):
    """x0 = 0.4*content + 0.6*(m + U(-20,20)); u from stream `seed`, (c,h,w) order.
    content: (3,H,W) tensor. Computed in float64, rounded once to the content's dtype."""
    _, hh, ww = content.shape
    u = splitmix_u(seed, 0, 3 * hh * ww).astype(np.float64).reshape(3, hh, ww)
    m = np.array(IMAGENET_MEAN_PIXEL, dtype=np.float64).reshape(3, 1, 1)
    c = content.detach().to("cpu", torch.float64).numpy()
    x0 = 0.4 * c + 0.6 * (m + (-20.0 + 40.0 * u))
    return torch.from_numpy(x0).to(device=content.device, dtype=content.dtype)


# ---------------------------------------------------------------------------
# Losses and the optimisation loop
# ---------------------------------------------------------------------------

def tv_loss(x):
    """Ltv on x/255, x (3,H,W) pixel units."""
    c, h, w = x.shape
    dy = x[:, 1:, :] - x[:, :-1, :]
    dx = x[:, :, 1:] - x[:, :, :-1]
    return ((dy * dy).sum() + (dx * dx).sum()) / (255.0 * 255.0 * 3.0 * h * w)


class StyleTransfer:
    """Holds the targets and the Adam state; step() is one iteration of the spec:
    forward on x, losses (returned, these are row k), backward, Adam step k.

    content: (3,H,W) tensor in pixel units. styles: list of (3,Hk,Wk) tensors (used at
    their own size). blend: list of weights (normalised to sum 1) or None (equal).
    init: 'content', 'noise', or a (3,H,W) tensor / uint8 (H,W,3) array (already at the
    content's size). Logged losses: total, Lc, Ls, Ltv, where Lc / Ls include the
    per-layer weights w_l but not alpha / beta / gamma."""

    def __init__(self, content, styles, weights, blend=None, alpha=1.0, beta=100.0,
                 gamma=10.0, lr=2.0, content_layers=None, style_layers=None,
                 pooling="max", convention="torchvision", init="noise", seed=0,
                 fold=False):
        dev = content.device
        dt = content.dtype
        self.weights = [(w.to(dev, dt), b.to(dev, dt)) for w, b in weights]
        self.alpha, self.beta, self.gamma = float(alpha), float(beta), float(gamma)
        self.lr = float(lr)
        self.content_layers = _as_layer_dict(content_layers if content_layers is not None
                                             else DEFAULT_CONTENT_LAYERS)
        self.style_layers = _as_layer_dict(style_layers if style_layers is not None
                                           else DEFAULT_STYLE_LAYERS)
        self.pooling = pooling
        self.convention = convention
        self.fold = fold
        self.layers = list(dict.fromkeys(list(self.content_layers) + list(self.style_layers)))
        if blend is None:
            blend = [1.0] * len(styles)
        if len(blend) != len(styles) or len(styles) == 0:
            raise ValueError("need one blend weight per style image (and at least one style)")
        bsum = float(sum(blend))
        blend = [float(b) / bsum for b in blend]

        with torch.no_grad():
            feats = self._features(content)
            self.content_targets = {n: feats[n].detach().clone() for n in self.content_layers}
            self.style_targets = {}
            n_x = {}
            # positions N of x's activation at each style layer = those of the content
            for n in self.style_layers:
                n_x[n] = feats[n].shape[2] * feats[n].shape[3]
            for s, b in zip(styles, blend):
                sf = self._features(s, self.style_layers)
                for n in self.style_layers:
                    nk = sf[n].shape[2] * sf[n].shape[3]
                    g = gram(sf[n]) * float(b * n_x[n] / nk)
                    self.style_targets[n] = g if n not in self.style_targets else self.style_targets[n] + g

        if isinstance(init, str) and init == "content":
            x0 = content.clone()
        elif isinstance(init, str) and init == "noise":
            x0 = noise_init(content, seed)
        else:
            x0 = init if torch.is_tensor(init) else image_to_tensor(init)
            x0 = x0.to(dev, dt).clone()
            if x0.shape != content.shape:
                raise ValueError("init image must already have the content's size")
        self.x = x0.detach().clone().requires_grad_(True)
        self.m = torch.zeros_like(self.x)
        self.v = torch.zeros_like(self.x)
        self.t = 0

    def _features(self, x, layers=None):
        layers = self.layers if layers is None else list(layers)
        if self.fold:
            xin, w = fold_input(x, self.weights, self.convention)
        else:
            xin, w = normalise_input(x, self.convention), self.weights
        return vgg_features(xin, w, layers, self.pooling)

    def losses(self, x):
        """(total, Lc, Ls, Ltv) as tensors, differentiable in x."""
        feats = self._features(x)
        lc = x.new_zeros(())
        for n, wl in self.content_layers.items():
            f = feats[n]
            c = f.shape[1]
            npos = f.shape[2] * f.shape[3]
            d = f - self.content_targets[n]
            lc = lc + (d * d).sum() * (wl / (4.0 * c * npos))
        ls = x.new_zeros(())
        for n, wl in self.style_layers.items():
            f = feats[n]
            c = f.shape[1]
            npos = f.shape[2] * f.shape[3]
            d = gram(f) - self.style_targets[n]
            ls = ls + (d * d).sum() * (wl / (4.0 * c * c * float(npos) * float(npos)))
        ltv = tv_loss(x)
        total = self.alpha * lc + self.beta * ls + self.gamma * ltv
        return total, lc, ls, ltv

    def step(self, return_losses=True):
        x = self.x
        if x.grad is not None:
            x.grad = None
        total, lc, ls, ltv = self.losses(x)
        total.backward()
        self.t += 1
        adam_update(x, x.grad, self.m, self.v, self.t, self.lr)
        if not return_losses:
            return None
        lc, ls, ltv = float(lc), float(ls), float(ltv)
        # total for the log: the float32 components combined in double
        return (self.alpha * lc + self.beta * ls + self.gamma * ltv, lc, ls, ltv)


def adam_update(x, g, m, v, t, lr, beta1=ADAM_BETA1, beta2=ADAM_BETA2, eps=ADAM_EPS):
    """PyTorch's Adam (torch.optim.Adam, single-tensor path), in place on x (a leaf)."""
    with torch.no_grad():
        m.mul_(beta1).add_(g, alpha=1.0 - beta1)
        v.mul_(beta2).addcmul_(g, g, value=1.0 - beta2)
        bc1 = 1.0 - beta1 ** t  # host double
        bc2 = 1.0 - beta2 ** t
        denom = (v.sqrt() / math.sqrt(bc2)).add_(eps)
        x.addcdiv_(m, denom, value=-(lr / bc1))


def _transfer(content_img, style_imgs, weights, device, dtype, **kw):
    """A StyleTransfer on numpy uint8 images or tensors; weights: a list, or an int seed
    of synthetic ones (None: 7)."""
    if weights is None or isinstance(weights, int):
        weights = synthetic_vgg19(7 if weights is None else weights)

    def t(img):
        if torch.is_tensor(img):
            return img.to(device=device, dtype=dtype)
        return image_to_tensor(img, device, dtype)

    return StyleTransfer(t(content_img), [t(s) for s in style_imgs], weights, **kw)


def run(content_img, style_imgs, blend=None, iters=10, alpha=1.0, beta=100.0, gamma=10.0,
        lr=2.0, content_layers=None, style_layers=None, pooling="max",
        convention="torchvision", init="noise", seed=0, weights=None,
        device="cpu", dtype=torch.float32, fold=False):
    """Runs the algorithm. content_img / style_imgs: numpy uint8 (H,W,3) (or (3,H,W)
    tensors in pixel units). weights: list from synthetic_vgg19 / load_safetensors_vgg19,
    or an int = synthetic seed. Returns (losses, final) where losses is a list of
    (k, total, Lc, Ls, Ltv) for k = 1..iters (computed in iteration k before its update)
    and final is the (3,H,W) float32 numpy image after the last update (unclamped;
    tensor_to_uint8 makes the output image)."""
    st = _transfer(content_img, style_imgs, weights, device, dtype, blend=blend, alpha=alpha,
                   beta=beta, gamma=gamma, lr=lr, content_layers=content_layers,
                   style_layers=style_layers, pooling=pooling, convention=convention,
                   init=init, seed=seed, fold=fold)
    losses = []
    for k in range(1, iters + 1):
        losses.append((k,) + st.step())
    final = st.x.detach().to("cpu", torch.float32).numpy().copy()
    return losses, final


def run_lbfgs(content_img, style_imgs, blend=None, iters=10, alpha=1.0, beta=100.0, gamma=10.0,
              lr=1.0, history=100, line_search=None, content_layers=None, style_layers=None, pooling="max",
              convention="torchvision", init="noise", seed=0, weights=None,
              device="cpu", dtype=torch.float32, fold=False):
    """The same run under torch.optim.LBFGS(lr, history_size=history, line_search_fn=
    line_search) that never stops early (both tolerances -inf, no evaluation limit): row
    k is the loss at x_k; final is x after the last step."""
    st = _transfer(content_img, style_imgs, weights, device, dtype, blend=blend, alpha=alpha,
                   beta=beta, gamma=gamma, lr=lr, content_layers=content_layers,
                   style_layers=style_layers, pooling=pooling, convention=convention,
                   init=init, seed=seed, fold=fold)
    wolfe = line_search == "strong_wolfe"
    opt = torch.optim.LBFGS([st.x], lr=lr, max_iter=1 if wolfe else iters, max_eval=10 ** 9,
                            tolerance_grad=-math.inf, tolerance_change=-math.inf,
                            history_size=history, line_search_fn=line_search)
    losses, evals = [], []

    def closure():
        opt.zero_grad()
        total, lc, ls, ltv = st.losses(st.x)
        total.backward()
        lc, ls, ltv = float(lc), float(ls), float(ltv)
        evals.append((st.alpha * lc + st.beta * ls + st.gamma * ltv, lc, ls, ltv))
        return total

    if not wolfe:  # one step() over all iterations: evaluation k is at x_k
        opt.step(closure)
        losses = [(k + 1,) + e for k, e in enumerate(evals)]
    else:  # the line search evaluates trial points too: one step() per iteration, whose
        # first evaluation (at x_k; the state carries over between calls) is row k
        for k in range(iters):
            evals.clear()
            opt.step(closure)
            losses.append((k + 1,) + evals[0])
    if len(losses) != iters:
        raise RuntimeError("L-BFGS evaluated %d times, expected %d" % (len(losses), iters))
    final = st.x.detach().to("cpu", torch.float32).numpy().copy()
    return losses, final


# ---------------------------------------------------------------------------
# FLOP count (shared with the C benchmark)
# ---------------------------------------------------------------------------

def flop_per_iter(h, w, deepest_conv_index, style_layers=None):
    """FLOPs of one iteration at content size h x w, the convention clstyle's benchmark
    and the PyTorch peer both use:
      - every conv layer conv1_1 .. the deepest used (deepest_conv_index: 0-based position
        in conv1_1..conv5_4, e.g. 12 for conv5_1; a layer name is accepted too):
        forward 2*Cin*9*Cout*H*W, plus the same again for its input gradient (input
        gradients are needed all the way down to the image, conv1_1 included);
        H, W are that layer's spatial size (floor-halved by each pool before it);
        weight gradients are not needed and not counted;
      - every style layer (C channels, N = H*W positions of x's activation): Gram forward
        2*C^2*N (F F^T) and gradient 2*C^2*N ((G - A) F);
      - elementwise work (ReLU, pooling, losses, TV, Adam) is ignored.
    """
    if isinstance(deepest_conv_index, str):
        deepest_conv_index = layer_conv_ordinal(deepest_conv_index)
    if style_layers is None:
        style_layers = list(DEFAULT_STYLE_LAYERS)
    style_layers = list(style_layers)
    total = 0
    hh, ww = int(h), int(w)
    size_at = {}
    for i in range(int(deepest_conv_index) + 1):
        name, _, cin, cout = VGG19_CONVS[i]
        conv = 2 * cin * 9 * cout * hh * ww
        total += 2 * conv
        size_at[name] = (cout, hh * ww)
        if name in POOL_AFTER:
            hh, ww = hh // 2, ww // 2
    for n in style_layers:
        base = "conv" + n[4:] if n.startswith("relu") else n
        if base not in size_at:
            raise ValueError("style layer %s is deeper than conv index %d" % (n, deepest_conv_index))
        c, npos = size_at[base]
        total += 2 * (2 * c * c * npos)
    return total
