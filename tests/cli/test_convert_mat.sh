#!/usr/bin/env bash
# tools/convert_mat.py on a MatConvNet-layout VGG19 that the test writes with
# scipy.io.savemat (random kernels (H, W, in, out), relu/pool/fc layers between, a mean
# image): the tensors land transposed at torchvision's indices, conv1_1 in BGR order,
# the mean in clstyle.mean; clstyle reads the file, and its first style loss at relu1_1
# equals one computed here from the .mat directly, the way MatConvNet feeds it (RGB in
# 0..255 minus the mean, kernels as stored).
#   test_convert_mat.sh CLSTYLE TMPDIR
source "$(dirname "$0")/prologue.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

"$PY" - "$tmp/vgg.mat" <<'PYEOF' || bad "writing the synthetic .mat"
import sys
import numpy as np
import scipy.io
rng = np.random.default_rng(5)
cin = [3, 64, 64, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512, 512, 512, 512]
cout = [64, 64, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512, 512, 512, 512, 512]
names = ["conv1_1", "conv1_2", "conv2_1", "conv2_2"] + ["conv3_%d" % i for i in range(1, 5)] + \
        ["conv4_%d" % i for i in range(1, 5)] + ["conv5_%d" % i for i in range(1, 5)]
layers = []
def add(**kw):
    layers.append(kw)
for i, n in enumerate(names):
    w = np.empty((1, 2), dtype=object)
    w[0, 0] = (rng.standard_normal((3, 3, cin[i], cout[i])) * np.sqrt(2.0 / (9 * cin[i]))).astype(np.float32)
    w[0, 1] = (rng.standard_normal((1, cout[i])) * 0.01).astype(np.float32)
    add(name=n, type="conv", weights=w)
    add(name="relu" + n[4:], type="relu")
    if n.endswith("_2") and n < "conv3" or n.endswith("_4"):
        add(name="pool" + n[4], type="pool", method="max")
w = np.empty((1, 2), dtype=object)
w[0, 0] = np.zeros((7, 7, 512, 8), np.float32)
w[0, 1] = np.zeros((1, 8), np.float32)
add(name="fc6", type="conv", weights=w)
cells = np.empty((1, len(layers)), dtype=object)
for i, l in enumerate(layers):
    cells[0, i] = l
avg = np.empty((4, 4, 3), np.float32)
avg[:] = [123.5, 116.25, 104.0]
scipy.io.savemat(sys.argv[1], {"layers": cells, "normalization": {"averageImage": avg}})
PYEOF

"$PY" "$src/tools/convert_mat.py" "$tmp/vgg.mat" "$tmp/vgg.safetensors" >"$tmp/conv.out" 2>&1 && ok ||
  bad "convert_mat.py: $(cat "$tmp/conv.out")"
"$PY" - "$tmp/vgg.mat" "$tmp/vgg.safetensors" <<'PYEOF' && ok || bad "the converted tensors"
import json, struct, sys
import numpy as np
import scipy.io
mat = scipy.io.loadmat(sys.argv[1])
b = open(sys.argv[2], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
data = b[8 + n:]
def t(name):
    s, e = h[name]["data_offsets"]
    return np.frombuffer(data[s:e], "<f4").reshape(h[name]["shape"])
layers = [l[0, 0] for l in mat["layers"][0]]
convs = [l for l in layers if l["type"][0] == "conv" and l["name"][0].startswith("conv")]
k0 = convs[0]["weights"][0, 0]
assert t("features.0.weight").shape == (64, 3, 3, 3)
# (out, in, H, W) with in reversed (BGR) at conv1_1; as stored elsewhere
assert np.array_equal(t("features.0.weight"), np.transpose(k0, (3, 2, 0, 1))[:, ::-1])
k = convs[15]["weights"][0, 0]
assert np.array_equal(t("features.34.weight"), np.transpose(k, (3, 2, 0, 1)))
assert np.array_equal(t("features.34.bias"), convs[15]["weights"][0, 1].reshape(-1))
assert "features.36.weight" not in h, "fc6 was taken as a conv layer"
m = h["__metadata__"]
assert m["clstyle.preprocess"] == "caffe" and m["clstyle.mean"] == "123.5,116.25,104", m
PYEOF
"$bin" weights "$tmp/vgg.safetensors" >"$tmp/w.out" 2>&1 && grep -q "input convention: caffe" "$tmp/w.out" &&
  grep -q "mean pixel (RGB): 123.5, 116.25, 104" "$tmp/w.out" && ok || bad "clstyle weights: $(cat "$tmp/w.out")"

# the first style loss at relu1_1, from the content image itself (init content)
"$bin" -c "$C" -s "$S" -o "$tmp/o.png" -w "$tmp/vgg.safetensors" --size 64 -n 1 --init content \
  --content-layers relu1_1 --style-layers relu1_1:1 --content-weight 1 --style-weight 1 --tv-weight 0 \
  --log "$tmp/log.csv" -q || bad "a run on the converted weights"
"$PY" - "$tmp/vgg.mat" "$C" "$S" "$tmp/log.csv" "$src" <<'PYEOF' && ok || bad "the style loss on the converted weights"
import sys
import numpy as np
import scipy.io
sys.path.insert(0, sys.argv[5] + "/tests/golden")
from png_codec import read_png
mat = scipy.io.loadmat(sys.argv[1])
conv = [l[0, 0] for l in mat["layers"][0] if l[0, 0]["type"][0] == "conv"][0]
k, bias = conv["weights"][0, 0].astype(np.float64), conv["weights"][0, 1].astype(np.float64).reshape(-1)
mean = np.array([123.5, 116.25, 104.0])
def relu1_1(path):
    x = read_png(path).astype(np.float64) - mean  # (H, W, 3) RGB
    H, W, _ = x.shape
    p = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    y = np.zeros((H, W, k.shape[3]))
    for dy in range(3):
        for dx in range(3):
            y += np.einsum("hwc,co->hwo", p[dy:dy + H, dx:dx + W], k[dy, dx])
    return np.maximum(y + bias, 0).reshape(H * W, -1).T  # (C, N)
F, Fs = relu1_1(sys.argv[2]), relu1_1(sys.argv[3])
C, N = F.shape
A = Fs @ Fs.T * (N / Fs.shape[1])
ls = ((F @ F.T - A) ** 2).sum() / (4.0 * C * C * N * N)
got = float(open(sys.argv[4]).read().split("\n")[1].split(",")[3])
rel = abs(got - ls) / ls
print("style loss %.9g, from the .mat %.9g (relative %.1e)" % (got, ls, rel))
assert rel < 1e-4
PYEOF

echo "test_convert_mat: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
