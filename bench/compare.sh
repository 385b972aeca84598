#!/usr/bin/env bash
# Runs clstyle bench and the PyTorch peer (bench/peer_pytorch.py) on the same work in
# one invocation, alternating per size (clstyle, peer, clstyle, peer, ...), and prints
# the ratio clstyle/peer of seconds per iteration (median) for each size.
#   bench/compare.sh [--size 256,512] [--iters 5] [--rounds 1] [-d SPEC] [--out DIR]
# Needs a built clstyle (build/clstyle or $CLSTYLE_BIN) and PyTorch for python3
# (Debian: apt-get install python3-torch). Results: DIR/clstyle_N_R.json, DIR/peer_N_R.json.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${CLSTYLE_BIN:-$here/build/clstyle}"
py="${PYTHON:-python3}"
command -v /usr/bin/python3 >/dev/null && py="${PYTHON:-/usr/bin/python3}"
sizes=256,512; iters=5; rounds=1; dev=""; out="$here/build/compare"
while [ $# -gt 0 ]; do
  case "$1" in
    --size) sizes="$2"; shift 2;;
    --iters) iters="$2"; shift 2;;
    --rounds) rounds="$2"; shift 2;;
    -d|--device) dev="$2"; shift 2;;
    --out) out="$2"; shift 2;;
    *) echo "compare.sh: unknown argument $1" >&2; exit 64;;
  esac
done
mkdir -p "$out"
for n in ${sizes//,/ }; do
  for r in $(seq 1 "$rounds"); do
    "$bin" bench ${dev:+-d "$dev"} --size "$n" --iters "$iters" --json "$out/clstyle_${n}_$r.json" >/dev/null
    "$py" "$here/bench/peer_pytorch.py" --size "$n" --iters "$iters" --device cpu --json "$out/peer_${n}_$r.json" >/dev/null
  done
done
"$py" - "$out" "$sizes" "$rounds" <<'PY'
import json, sys, statistics as st
out, sizes, rounds = sys.argv[1], [int(s) for s in sys.argv[2].split(",")], int(sys.argv[3])
print(f"{'size':>5} {'clstyle s/it':>13} {'peer s/it':>10} {'ratio':>7}  {'clstyle GFLOP/s':>15} {'peer GFLOP/s':>12}  devices")
for n in sizes:
    c = [json.load(open(f"{out}/clstyle_{n}_{r}.json"))[0] for r in range(1, rounds + 1)]
    p = [json.load(open(f"{out}/peer_{n}_{r}.json"))[0] for r in range(1, rounds + 1)]
    cs = st.median(x["sec_per_iter_median"] for x in c)
    ps = st.median(x["sec_per_iter_median"] for x in p)
    print(f"{n:>5} {cs:>13.3f} {ps:>10.3f} {cs/ps:>6.2f}x  {c[0]['flop_per_iter']/cs/1e9:>15.1f} "
          f"{p[0]['flop_per_iter']/ps/1e9:>12.1f}  {c[0]['device']} | {p[0]['platform']}")
PY
