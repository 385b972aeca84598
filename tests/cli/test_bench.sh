#!/usr/bin/env bash
# Smoke test of `clstyle bench`: runs it at 64 px for 2 iterations with --json and
# validates the JSON against the schema documented in docs/BENCHMARKS.md.
#   test_bench.sh CLSTYLE TMPDIR
set -u
bin="$1"; tmp="$2"
rm -rf "$tmp"; mkdir -p "$tmp"
export XDG_CACHE_HOME="$tmp/cache"
if ! "$bin" bench --size 64 --iters 2 --json "$tmp/bench.json" >"$tmp/out" 2>"$tmp/err"; then
  cat "$tmp/err"; echo "test_bench: 0 passed, 1 failed"; exit 1
fi
python3 - "$tmp/bench.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
fails = []
num = (int, float)
schema = {"tool": str, "version": str, "device": str, "type": str, "platform": str, "driver": str,
          "size": int, "iterations": int, "sec_per_iter_median": num, "sec_per_iter_min": num,
          "sec_per_iter_max": num, "iters_per_sec": num, "gflops": num, "flop_per_iter": num,
          "peak_device_bytes": num, "peak_rss_bytes": num, "compile_cold_s": num, "compile_cached_s": num,
          "convs": list, "ops": list, "optimizer": str, "history": int}
op_schema = {"name": str, "launches": int, "seconds": num, "gflops": num, "gbps": num, "share": num}
if not isinstance(doc, list) or len(doc) != 1:
    fails.append("top level must be a list with one result")
for r in doc if isinstance(doc, list) else []:
    for k, t in schema.items():
        if not isinstance(r.get(k), t):
            fails.append(f"field {k}: {r.get(k)!r} is not {t}")
    if fails:
        break
    if r["type"] not in ("GPU", "CPU", "accelerator", "other"): fails.append("type")
    if r["size"] != 64 or r["iterations"] != 2: fails.append("size/iterations")
    if r["optimizer"] != "adam" or r["history"] != 0: fails.append("optimizer/history of an Adam bench")
    if not (0 < r["sec_per_iter_min"] <= r["sec_per_iter_median"] <= r["sec_per_iter_max"]): fails.append("min<=median<=max")
    # FLOP count of docs/BENCHMARKS.md at 64x64 (conv1_1..conv5_1 fwd+input-grad, Grams at 5 layers)
    if abs(r["flop_per_iter"] - 6202327040) > 1: fails.append(f"flop_per_iter {r['flop_per_iter']}")
    if abs(r["gflops"] - r["flop_per_iter"] / r["sec_per_iter_median"] / 1e9) > 0.01 * r["gflops"]: fails.append("gflops")
    if r["peak_device_bytes"] <= 0 or r["peak_rss_bytes"] <= 0: fails.append("memory")
    names = [o["name"] for o in r["ops"]]
    for o in r["ops"]:
        for k, t in op_schema.items():
            if not isinstance(o.get(k), t): fails.append(f"op field {k}")
    for want in ("conv1_1 fwd", "conv5_1 bwd", "style loss+grad", "adam"):
        if want not in names: fails.append(f"op {want} missing")
    convs = r["convs"]
    if [c.get("layer") for c in convs] != ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2",
                                           "conv3_3", "conv3_4", "conv4_1", "conv4_2", "conv4_3", "conv4_4", "conv5_1"]:
        fails.append("convs: layers conv1_1..conv5_1 in order")
    for c in convs:
        if not isinstance(c.get("algorithm"), str) or not isinstance(c.get("tuning_ms"), num): fails.append("conv fields")
        if c.get("chosen_by") not in ("measured", "cache", "default", "env"): fails.append(f"chosen_by {c.get('chosen_by')}")
    share = sum(o["share"] for o in r["ops"])
    if abs(share - 1) > 1e-3: fails.append(f"shares sum to {share}")
for f in fails: print("FAIL:", f)
print(f"test_bench: {0 if fails else 1} passed, {len(fails)} failed")
sys.exit(1 if fails else 0)
PY
rc=$?
# L-BFGS timed instead: the JSON says so, and its op table has the optimizer's row
if ! "$bin" bench --size 32 --iters 2 --optimizer lbfgs --history 7 --json "$tmp/lbfgs.json" >"$tmp/out" 2>"$tmp/err"; then
  cat "$tmp/err"; echo "test_bench: L-BFGS bench failed"; exit 1
fi
python3 - "$tmp/lbfgs.json" <<'PY' || rc=1
import json, sys
r = json.load(open(sys.argv[1]))[0]
ok = r["optimizer"] == "lbfgs" and r["history"] == 7 and "lbfgs" in [o["name"] for o in r["ops"]]
print("test_bench: L-BFGS bench", "passed" if ok else "FAILED: %r %r" % (r["optimizer"], [o["name"] for o in r["ops"]]))
sys.exit(0 if ok else 1)
PY
[ $? -eq 0 ] || rc=1
"$bin" bench --optimizer sgd >/dev/null 2>"$tmp/err"
if [ $? -ne 64 ] || ! grep -q "optimizer 'sgd'" "$tmp/err"; then echo "FAIL: bench --optimizer sgd"; rc=1; fi
exit $rc
