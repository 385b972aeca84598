#!/usr/bin/env bash
# Runs clstyle bench and its peers on the same work in one invocation, alternating per
# size and round (clstyle, each peer, clstyle, each peer, ...), and prints for each size
# every one's seconds per iteration (median over the rounds of each run's median), the
# fastest peer, and the ratio clstyle / fastest peer.
#   bench/compare.sh [--size 256,512] [--iters 5] [--rounds 1] [-d SPEC] [--out DIR]
#                    [--venv DIR] [--json FILE]
# Peers, all on the CPU with every core (bench/peer_pytorch.py, bench/peer_tensorflow.py):
#   pytorch-debian  /usr/bin/python3 (or $PYTHON) with Debian's python3-torch
#   pytorch-pypi    the venv's python with PyPI's torch
#   tensorflow      the venv's python with PyPI's tensorflow-cpu (and torch, which builds
#                   the same weights, images and initial image)
# The venv: --venv DIR, else $CLSTYLE_PEERS_VENV, else ~/.cache/clstyle-peers; make it with
# bench/peers-setup.sh (not a CI dependency). A peer whose python or framework is missing
# is skipped with a one-line notice; a failed peer run is reported and left out of that
# size's figures. Needs a built clstyle (build/clstyle or $CLSTYLE_BIN).
# Results: DIR/clstyle_N_R.json, DIR/<peer>_N_R.json (and <peer>_N_R.log, its stderr);
# --json FILE: the summary, with each peer's framework version.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${CLSTYLE_BIN:-$here/build/clstyle}"
py="${PYTHON:-python3}"
command -v /usr/bin/python3 >/dev/null && py="${PYTHON:-/usr/bin/python3}"
venv="${CLSTYLE_PEERS_VENV:-$HOME/.cache/clstyle-peers}"
sizes=256,512; iters=5; rounds=1; dev=""; out="$here/build/compare"; json=""
while [ $# -gt 0 ]; do
  case "$1" in
    --size) sizes="$2"; shift 2;;
    --iters) iters="$2"; shift 2;;
    --rounds) rounds="$2"; shift 2;;
    -d|--device) dev="$2"; shift 2;;
    --out) out="$2"; shift 2;;
    --venv) venv="$2"; shift 2;;
    --json) json="$2"; shift 2;;
    *) echo "compare.sh: unknown argument $1" >&2; exit 64;;
  esac
done
[ -x "$bin" ] || { echo "compare.sh: no clstyle at $bin (build it, or set CLSTYLE_BIN)" >&2; exit 69; }

# missing PYTHON MODULE...: prints the modules PYTHON cannot find (without importing them)
missing() {
  local p="$1"; shift
  "$p" -c 'import importlib.util as u, sys; print(" ".join(m for m in sys.argv[1:] if not u.find_spec(m)))' \
    "$@" 2>/dev/null || echo "$*"
}
ids=(); pys=(); scripts=(); skipped=""
add_peer() {  # ID PYTHON SCRIPT MODULE...
  local id="$1" p="$2" s="$3"; shift 3
  local why="" lack
  if ! command -v "$p" >/dev/null 2>&1; then why="no python at $p"
  else
    lack="$(missing "$p" "$@")"
    [ -z "$lack" ] || why="$p lacks $lack"
  fi
  if [ -z "$why" ]; then
    ids+=("$id"); pys+=("$p"); scripts+=("$s")
  else
    echo "compare.sh: peer $id skipped: $why (see bench/peers-setup.sh)" >&2
    skipped+="$id=$why"$'\n'
  fi
}
add_peer pytorch-debian "$py" peer_pytorch.py torch
add_peer pytorch-pypi "$venv/bin/python" peer_pytorch.py torch
add_peer tensorflow "$venv/bin/python" peer_tensorflow.py tensorflow torch
[ ${#ids[@]} -gt 0 ] || { echo "compare.sh: no peer can run" >&2; exit 69; }

mkdir -p "$out"
for n in ${sizes//,/ }; do
  for r in $(seq 1 "$rounds"); do
    "$bin" bench ${dev:+-d "$dev"} --size "$n" --iters "$iters" --json "$out/clstyle_${n}_$r.json" >/dev/null
    for i in "${!ids[@]}"; do
      f="$out/${ids[$i]}_${n}_$r"
      rm -f "$f.json"
      if ! "${pys[$i]}" "$here/bench/${scripts[$i]}" --size "$n" --iters "$iters" --device cpu \
           --json "$f.json" >/dev/null 2>"$f.log"; then
        echo "compare.sh: peer ${ids[$i]} failed at size $n round $r ($f.log): $(tail -n 1 "$f.log")" >&2
        rm -f "$f.json"
      fi
    done
  done
done

sumpy="$py"
command -v "$sumpy" >/dev/null 2>&1 || sumpy="${pys[0]}"
peer_args=()
for i in "${!ids[@]}"; do peer_args+=("${ids[$i]}=${pys[$i]}"); done
COMPARE_SKIPPED="$skipped" "$sumpy" - "$out" "$sizes" "$rounds" "$iters" "$json" "${peer_args[@]}" <<'PY'
import json, os, sys, statistics as st
out, sizes, rounds, iters, jpath = sys.argv[1:6]
sizes, rounds = [int(s) for s in sizes.split(",") if s.strip()], int(rounds)
peers = [a.split("=", 1) for a in sys.argv[6:]]  # [id, python]
skipped = [dict(zip(("id", "reason"), l.split("=", 1)))
           for l in os.environ.get("COMPARE_SKIPPED", "").splitlines() if l]

def load(name, n):
    recs = []
    for r in range(1, rounds + 1):
        try:
            with open(f"{out}/{name}_{n}_{r}.json") as f:
                recs.append(json.load(f)[0])
        except (OSError, ValueError, IndexError):
            pass
    return recs

w = max([7] + [len(p) for p, _ in peers])
print(f"{'size':>5} {'clstyle s/it':>13} " + " ".join(f"{p:>{w}}" for p, _ in peers) +
      f"  {'best peer':>{w}} {'ratio':>7}  {'clstyle GFLOP/s':>15} {'best GFLOP/s':>12}")
summary, info = [], {}
for n in sizes:
    c = load("clstyle", n)
    cs = st.median(x["sec_per_iter_median"] for x in c)
    row = dict(size=n, clstyle=dict(sec_per_iter=cs, gflops=c[0]["flop_per_iter"] / cs / 1e9,
                                    device=c[0].get("device"),
                                    rounds=[x["sec_per_iter_median"] for x in c]), peers={})
    for pid, pyth in peers:
        p = load(pid, n)
        if not p:
            continue
        ps = st.median(x["sec_per_iter_median"] for x in p)
        row["peers"][pid] = dict(framework=p[0].get("framework"), platform=p[0].get("platform"),
                                 device=p[0].get("device"), blas=p[0].get("blas"),
                                 threads=p[0].get("threads"), sec_per_iter=ps,
                                 gflops=p[0]["flop_per_iter"] / ps / 1e9,
                                 first_loss=p[0].get("first_loss"),
                                 rounds=[x["sec_per_iter_median"] for x in p])
        info.setdefault(pid, dict(id=pid, python=pyth, framework=p[0].get("framework"),
                                  platform=p[0].get("platform"), device=p[0].get("device"),
                                  blas=p[0].get("blas")))
    cells = " ".join(f"{row['peers'][p]['sec_per_iter']:>{w}.3f}" if p in row["peers"] else f"{'-':>{w}}"
                     for p, _ in peers)
    if row["peers"]:
        best = min(row["peers"], key=lambda p: row["peers"][p]["sec_per_iter"])
        bs = row["peers"][best]["sec_per_iter"]
        row.update(best_peer=best, best_peer_sec_per_iter=bs, ratio_to_best=cs / bs)
        tail = f"  {best:>{w}} {cs / bs:>6.2f}x  {row['clstyle']['gflops']:>15.1f} {row['peers'][best]['gflops']:>12.1f}"
    else:
        row.update(best_peer=None, best_peer_sec_per_iter=None, ratio_to_best=None)
        tail = f"  {'-':>{w}} {'-':>7}  {row['clstyle']['gflops']:>15.1f} {'-':>12}"
    print(f"{n:>5} {cs:>13.3f} " + cells + tail)
    summary.append(row)
c0 = load("clstyle", sizes[0])[0]
print(f"clstyle: {c0.get('version', '?')} on {c0.get('device')} ({c0.get('platform')})")
for pid, _ in peers:
    if pid in info:
        i = info[pid]
        print(f"{pid}: {i['framework']} ({i['platform']}, {i['blas']}) on {i['device']}")
if jpath:
    doc = dict(iters=int(iters), rounds=rounds,
               clstyle=dict(version=c0.get("version"), device=c0.get("device"),
                            platform=c0.get("platform"), driver=c0.get("driver")),
               peers=[info.get(p, dict(id=p, python=py, framework=None)) for p, py in peers],
               skipped=skipped, sizes=summary)
    with open(jpath, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
PY
