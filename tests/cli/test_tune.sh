# Convolution tuning: `clstyle tune` measures every candidate per layer shape and keeps
# the winners in the cache; a second run measures nothing; bench and runs use (and show)
# the cached choice; a corrupt cache file is measured again; --force re-measures;
# CLSTYLE_NO_TUNE=1 and CLSTYLE_CONV_ALGO (one name or a per-layer list) give the defaults;
# no cache is a clear error.
# usage: bash tests/cli/test_tune.sh PATH/TO/clstyle TMPDIR
set -u
CLSTYLE=${1:?usage: test_tune.sh PATH/TO/clstyle TMPDIR}
TMP=${2:?usage: test_tune.sh PATH/TO/clstyle TMPDIR}
rm -rf "$TMP" && mkdir -p "$TMP" || exit 1
unset CLSTYLE_DEVICE CLSTYLE_KERNEL_DIR CLSTYLE_NO_CACHE CLSTYLE_NO_TUNE CLSTYLE_CONV_ALGO CLSTYLE_CONV_OPTIONS
export XDG_CACHE_HOME="$TMP/cache" # never the user's cache
# ctest runs tests side by side: timings spread, and the tuner would keep nothing (its
# busy rule is tested in tests/test_tune.c); sections 1-10 test the cache itself
export CLSTYLE_TUNE_KEEP_BUSY=1

. "$(dirname "$0")/lib.sh"
count() { grep -c -- "$1" "$TMP/out"; }
tunefile() { ls "$XDG_CACHE_HOME"/clstyle/conv-tune-*.tsv 2>/dev/null; }

# 1. first tune at 32x32 measures all 13 layers (9 distinct shapes), every candidate
run -- tune --size 32
expect_rc 0 "first tune"
n=$(count "measured")
[ "$n" -eq 13 ] && ok || bad "first tune: $n layers measured, want 13"
ncand=$(count "^tune conv")
[ "$ncand" -ge 18 ] && ok || bad "first tune: $ncand candidate timings, want >= 2 per distinct shape"
f=$(tunefile)
if [ -n "$f" ] && [ "$(grep -vc '^#' "$f")" -eq 9 ]; then ok; else bad "cache file '$f' should hold 9 shapes"; fi
cp "$f" "$TMP/first.tsv" 2>/dev/null

# 2. second tune: everything from the cache, nothing measured, file unchanged
run -- tune --size 32
expect_rc 0 "second tune"
[ "$(count "cache")" -eq 13 ] && [ "$(count "^tune conv")" -eq 0 ] && ok || bad "second tune re-measured"
cmp -s "$f" "$TMP/first.tsv" && ok || bad "second tune rewrote the cache file"

# 3. bench uses the cached choices and reports them per layer in its JSON
run -- bench --size 32 --iters 1 --json "$TMP/b.json"
expect_rc 0 "bench with tuning"
python3 - "$TMP/b.json" "$f" <<'PY' && ok || bad "bench JSON convs do not match the cache"
import json, sys
r = json.load(open(sys.argv[1]))[0]
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[2]) if not l.startswith("#")]
convs = r["convs"]
assert len(convs) == 13, len(convs)
assert all(c["chosen_by"] == "cache" for c in convs), convs
# conv1_2 (64 -> 64 at 32x32): the algorithm the cache holds for that shape
row = [x for x in rows if x[0].split()[:2] == ["64", "64"] and x[0].split()[3:] == ["32", "32"]][0]
want = row[1] if row[1] != "tiled" else "tiled %s /%s" % (row[2], row[3])
assert convs[1]["layer"] == "conv1_2" and convs[1]["algorithm"] == want, (convs[1], want)
PY

# 4. a corrupt cache file is ignored and measured again (and replaced by a valid one)
printf '# clstyle conv tune v2\n64 64 10 32 32\tnot-an-algo\t-\t0\tx\n' >"$f"
run -- tune --size 32
expect_rc 0 "tune over a corrupt cache"
[ "$(count "measured")" -eq 13 ] && ok || bad "corrupt cache was not measured again"
[ "$(grep -vc '^#' "$f")" -eq 9 ] && ok || bad "corrupt cache file not replaced"

# 5. --force measures again even with a valid cache
run -- tune --size 32 --force
expect_rc 0 "tune --force"
[ "$(count "measured")" -eq 13 ] && ok || bad "--force did not re-measure"

# 5b. --force at another size keeps the shapes of the first (32x32: conv1_2 is "64 64 10 32 32")
run -- tune --size 64 --force
expect_rc 0 "tune --size 64 --force"
grep -q "^64 64 10 32 32"$'\t' "$f" && grep -q "^64 64 12 64 64"$'\t' "$f" && ok \
    || bad "tuning 64 --force lost the 32x32 shapes or did not add its own"

# 6. CLSTYLE_NO_TUNE=1 and CLSTYLE_CONV_ALGO give the defaults, without measuring
run CLSTYLE_NO_TUNE=1 -- bench --size 32 --iters 1 --json "$TMP/d.json"
expect_rc 0 "bench CLSTYLE_NO_TUNE=1"
python3 -c "import json,sys; c=json.load(open(sys.argv[1]))[0]['convs']; assert all(x['chosen_by']=='default' and x['tuning_ms']==0 for x in c)" "$TMP/d.json" \
    && ok || bad "CLSTYLE_NO_TUNE=1 did not use the defaults"
run CLSTYLE_CONV_ALGO=clblast -- bench --size 32 --iters 1 --json "$TMP/e.json"
expect_rc 0 "bench CLSTYLE_CONV_ALGO=clblast"
python3 -c "import json,sys; c=json.load(open(sys.argv[1]))[0]['convs']; assert all(x['chosen_by']=='env' and x['algorithm']=='clblast' for x in c)" "$TMP/e.json" \
    && ok || bad "CLSTYLE_CONV_ALGO=clblast not honoured"
# a comma list: one algorithm per conv layer from conv1_1 on, the last entry repeating
run CLSTYLE_CONV_ALGO=tiled,winograd,clblast -- bench --size 32 --iters 1 --json "$TMP/m.json"
expect_rc 0 "bench CLSTYLE_CONV_ALGO=tiled,winograd,clblast"
python3 -c "import json,sys; c=json.load(open(sys.argv[1]))[0]['convs']; a=[x['algorithm'] for x in c]; assert a[:3]==['tiled','winograd','clblast'] and set(a[3:])=={'clblast'} and all(x['chosen_by']=='env' for x in c), a" "$TMP/m.json" \
    && ok || bad "CLSTYLE_CONV_ALGO=tiled,winograd,clblast not honoured per layer"
run CLSTYLE_CONV_ALGO=tiled,fft -- bench --size 32 --iters 1
expect_rc 64 "CLSTYLE_CONV_ALGO=tiled,fft"
grep -q "CLSTYLE_CONV_ALGO='tiled,fft': entry 2 'fft'" "$TMP/err" && ok || bad "bad list entry not named"

# 7. a run at a new size measures the shapes it meets (the octaves not yet cached), once
run -- -c "$CLSTYLE_SOURCE_DIR/assets/content.png" -s "$CLSTYLE_SOURCE_DIR/assets/style.png" -o "$TMP/o.png" \
    --size 48 --iters 1 -w synthetic:3
expect_rc 0 "run at 48"
grep -q "tuning the convolutions" "$TMP/err" && ok || bad "run at a new size did not tune"
run -- -c "$CLSTYLE_SOURCE_DIR/assets/content.png" -s "$CLSTYLE_SOURCE_DIR/assets/style.png" -o "$TMP/o.png" \
    --size 48 --iters 1 -w synthetic:3
expect_rc 0 "second run at 48"
grep -q "^clstyle: tune " "$TMP/err" && bad "second run at 48 measured again" || ok

# 8. errors: no cache to keep results, bad size, unknown option
run CLSTYLE_NO_CACHE=1 -- tune --size 32
expect_rc 73 "tune without a cache"
grep -q "cache is off" "$TMP/err" && ok || bad "tune without a cache: message"
run -- tune --size 0
expect_rc 64 "tune --size 0"
run -- tune --bogus
expect_rc 64 "tune --bogus"

# 9. CLBlast's own Xgemm tuner (a tiny fraction of its search space, to stay quick): the
#    parameters are kept, applied on later runs, and the CLBlast candidate says so
run -- tune --size 16 --clblast --fraction 0.0002
expect_rc 0 "tune --clblast"
x=$(ls "$XDG_CACHE_HOME"/clstyle/clblast-xgemm-*.tsv 2>/dev/null)
if [ -n "$x" ] && sed -n 2p "$x" | grep -Eq '^([A-Z]+=[0-9]+ )+[A-Z]+=[0-9]+$' && sed -n 2p "$x" | grep -q "KWG="; then ok
else bad "tune --clblast: no valid parameter file ('$x')"; fi
grep -q "clblast (tuned Xgemm)" "$TMP/out" && ok || bad "tune --clblast: the CLBlast candidate did not run tuned"
run CLSTYLE_CONV_ALGO=clblast -- bench --size 32 --iters 1 --json "$TMP/x.json"
expect_rc 0 "bench with tuned CLBlast"
python3 -c "import json,sys; c=json.load(open(sys.argv[1]))[0]['convs']; assert all(x['algorithm']=='clblast (tuned Xgemm)' for x in c)" "$TMP/x.json" \
    && ok || bad "kept Xgemm parameters not applied"
printf '# clstyle clblast xgemm v1\nBOGUS=1\n' >"$x"
run CLSTYLE_CONV_ALGO=clblast -- bench --size 32 --iters 1 --json "$TMP/y.json"
expect_rc 0 "bench with a bad Xgemm file"
python3 -c "import json,sys; c=json.load(open(sys.argv[1]))[0]['convs']; assert all(x['algorithm']=='clblast' for x in c)" "$TMP/y.json" \
    && ok || bad "bad Xgemm file: CLBlast should run with its own parameters"
run CLSTYLE_CONV_ALGO=clblast -- -c "$CLSTYLE_SOURCE_DIR/assets/content.png" -s "$CLSTYLE_SOURCE_DIR/assets/style.png" \
    -o "$TMP/o.png" --size 32 --iters 1 -w synthetic:3
expect_rc 0 "run with a bad Xgemm file"
grep -q "ignoring .*clblast-xgemm" "$TMP/err" && ok || bad "bad Xgemm file not reported"
run -- tune --clblast --fraction 2
expect_rc 64 "tune --fraction 2"

# 10. --verify re-times every cached choice: a cached time far off what the choice takes
#     now (edited to 100000 ms) has its shape measured again and replaced; the rest stay
run -- tune --size 32
expect_rc 0 "tune before --verify"
awk -F'\t' 'BEGIN { OFS = "\t" } $1 == "64 64 10 32 32" { $5 = "100000.0000" } { print }' "$f" >"$TMP/v.tsv" && cp "$TMP/v.tsv" "$f"
run -- tune --size 32 --verify
expect_rc 0 "tune --verify"
[ "$(count "^verify ")" -ge 9 ] && ok || bad "--verify: $(count "^verify ") verify lines, want one per cached layer"
grep -q "^verify conv1_2 at 32x32: .*cached 100000.00 ms.*off, measuring again" "$TMP/out" && ok ||
  bad "--verify did not find conv1_2's edited time off"
grep -q $'^64 64 10 32 32\t.*\t100000.0000\t' "$f" && bad "--verify kept the edited time" || ok

echo "test_tune: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
