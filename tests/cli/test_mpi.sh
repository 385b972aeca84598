#!/usr/bin/env bash
# mpirun -np N clstyle (host/mpi.h, docs/ALGORITHM.md "MPI ranks") against one process:
# - -np 2 on a 64 px image in exact tiles: every --log loss row within relative 1e-5
#   of the single (untiled) process, the output image at PSNR >= 50 dB, one log and
#   one image written (by rank 0), no temp files left;
# - -np 3 on an image that has one tile for three ranks: two idle notices, no hang,
#   the same result;
# - one tile layout (--tile 32) gives the same bits with 2 and 3 ranks;
# - a failure every rank meets before any exchange (a missing input) ends the job
#   with its exit status, without a hang;
# - SIGINT to the ranks stops them together (rank 0 writes the image);
# - bench --json under mpirun: ranks 2 and two entries in rank_compute_s and
#   rank_comm_s; a plain bench says ranks 1.
# usage: bash tests/cli/test_mpi.sh PATH/TO/clstyle TMPDIR [MPIEXEC]
set -u
CLSTYLE=${1:?usage: test_mpi.sh PATH/TO/clstyle TMPDIR [MPIEXEC]}
TMP=${2:?usage: test_mpi.sh PATH/TO/clstyle TMPDIR [MPIEXEC]}
MPIEXEC=${3:-mpirun}
rm -rf "$TMP" && mkdir -p "$TMP" || exit 1
unset CLSTYLE_DEVICE CLSTYLE_KERNEL_DIR CLSTYLE_NO_CACHE
export XDG_CACHE_HOME="$TMP/cache" POCL_MAX_PTHREAD_COUNT=1 CLSTYLE_NO_TUNE=${CLSTYLE_NO_TUNE:-1}
. "$(dirname "$0")/lib.sh"
SRC=${CLSTYLE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
ROOT=()
[ "$(id -u)" = 0 ] && ROOT=(--allow-run-as-root)
# mpi NP ARGS...: clstyle under mpirun with NP ranks (a hang fails after 300 s), sets $rc
mpi() {
    local np=$1
    shift
    timeout 300 "$MPIEXEC" "${ROOT[@]}" --oversubscribe -np "$np" -x XDG_CACHE_HOME -x POCL_MAX_PTHREAD_COUNT \
        -x CLSTYLE_NO_TUNE "$CLSTYLE" "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
}
expect_in() { if grep -qiF -- "$2" "$TMP/$1"; then ok; else bad "$3: '$2' not on std$1"; fi; }

# compare A.csv B.csv A.png B.png TOL MIN_PSNR: every loss column of every row within
# relative TOL, and the images' PSNR (8-bit RGB PNGs, decoded here) at least MIN_PSNR
compare() {
    python3 - "$@" <<'EOF'
import math, struct, sys, zlib
def rows(p):
    lines = open(p).read().split("\n")[1:]
    return [[float(v) for v in l.split(",")[1:5]] for l in lines if l]
def png(p):
    d = open(p, "rb").read()
    assert d[:8] == b"\x89PNG\r\n\x1a\n", p
    i, idat, w = 8, b"", 0
    while i < len(d):
        n, = struct.unpack(">I", d[i:i + 4]); t = d[i + 4:i + 8]; c = d[i + 8:i + 8 + n]; i += 12 + n
        if t == b"IHDR":
            w, h, depth, ctype, _, _, lace = struct.unpack(">IIBBBBB", c)
            assert depth == 8 and ctype == 2 and lace == 0, (p, depth, ctype, lace)
        elif t == b"IDAT":
            idat += c
    raw, bpp, stride, out, prev = zlib.decompress(idat), 3, 3 * w, [], bytearray(3 * w)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0; b = prev[x]; c = prev[x - bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += line; prev = line
    return out
ra, rb, ia, ib = rows(sys.argv[1]), rows(sys.argv[2]), png(sys.argv[3]), png(sys.argv[4])
tol, want = float(sys.argv[5]), float(sys.argv[6])
assert len(ra) == len(rb) and ra, f"{len(ra)} rows against {len(rb)}"
worst = max(abs(x - y) / max(abs(x), 1e-30) for a, b in zip(ra, rb) for x, y in zip(a, b) if x or y)
assert worst <= tol, f"a loss differs by {worst:.3g} relative (at most {tol})"
assert len(ia) == len(ib), "image sizes differ"
mse = sum((x - y) ** 2 for x, y in zip(ia, ib)) / len(ia)
p = 99.0 if mse == 0 else 10 * math.log10(255 ** 2 / mse)
assert p >= want, f"PSNR {p:.1f} dB, want >= {want}"
print(f"worst loss difference {worst:.2g}, PSNR {p:.1f} dB")
EOF
}

IN=(-c "$SRC/assets/content.png" -s "$SRC/assets/style.png" -w synthetic:1 --size 64)
SHALLOW=(--content-layers relu2_2 --style-layers relu1_1,relu2_1) # a 16 px halo: a 64 px image has tiles

# ---- -np 2 against one process (untiled)
run -- "${IN[@]}" "${SHALLOW[@]}" -n 3 -o "$TMP/one.png" --log "$TMP/one.csv"
expect_rc 0 "one process"
mpi 2 "${IN[@]}" "${SHALLOW[@]}" -n 3 -o "$TMP/two.png" --log "$TMP/two.csv"
expect_rc 0 "mpirun -np 2"
expect_in err "2 ranks share 2 exact tiles" "mpirun -np 2 (the layout)"
if [ "$(grep -c 'memory: about' "$TMP/err")" = 1 ]; then ok; else bad "mpirun -np 2: notices not from rank 0 alone"; fi
if compare "$TMP/one.csv" "$TMP/two.csv" "$TMP/one.png" "$TMP/two.png" 1e-5 50 >"$TMP/py" 2>&1; then ok
else bad "mpirun -np 2 against one process: $(tail -1 "$TMP/py")"; fi
if [ "$(grep -c '^[0-9]' "$TMP/two.csv")" = 3 ]; then ok; else bad "mpirun -np 2: --log has not 3 rows (two writers?)"; fi
if ls -a "$TMP" | grep -q '\.tmp'; then bad "mpirun -np 2 left temp files: $(ls -a "$TMP")"; else ok; fi

# ---- -np 3 with one tile (relu5_1's 96 px halo on a 64 px image): two idle ranks
run -- "${IN[@]}" -n 2 -o "$TMP/one5.png" --log "$TMP/one5.csv"
expect_rc 0 "one process, to relu5_1"
mpi 3 "${IN[@]}" -n 2 -o "$TMP/three.png" --log "$TMP/three.csv"
expect_rc 0 "mpirun -np 3 (more ranks than tiles)"
if [ "$(grep -c 'is idle' "$TMP/err")" = 2 ]; then ok; else bad "mpirun -np 3: want two idle notices"; fi
expect_in err "rank 2 of 3 is idle" "mpirun -np 3"
if compare "$TMP/one5.csv" "$TMP/three.csv" "$TMP/one5.png" "$TMP/three.png" 1e-5 50 >"$TMP/py" 2>&1; then ok
else bad "mpirun -np 3 against one process: $(tail -1 "$TMP/py")"; fi

# ---- one tile layout: the same bits whatever the number of ranks (sums in tile order)
for np in 2 3; do
    mpi $np "${IN[@]}" "${SHALLOW[@]}" -n 3 --tile 32 -o "$TMP/t$np.png" --log "$TMP/t$np.csv"
    expect_rc 0 "mpirun -np $np --tile 32"
    cut -d, -f1-5 "$TMP/t$np.csv" >"$TMP/t$np.loss"
done
expect_in err "3 ranks share 4 exact tiles of 32 px" "mpirun -np 3 --tile 32"
if cmp -s "$TMP/t2.png" "$TMP/t3.png" && cmp -s "$TMP/t2.loss" "$TMP/t3.loss"; then ok
else bad "--tile 32: -np 2 and -np 3 differ"; fi
if compare "$TMP/one.csv" "$TMP/t3.csv" "$TMP/one.png" "$TMP/t3.png" 1e-5 50 >"$TMP/py" 2>&1; then ok
else bad "mpirun -np 3 --tile 32 against one process: $(tail -1 "$TMP/py")"; fi

# ---- a failure every rank meets before any exchange: its status, no hang
mpi 2 -c "$TMP/missing.png" -s "$SRC/assets/style.png" -w synthetic:1 --size 64 -n 1 -o "$TMP/none.png"
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then ok; else bad "mpirun -np 2, missing content: exit $rc"; fi
expect_in err "missing.png" "mpirun -np 2, missing content"
if [ -e "$TMP/none.png" ]; then bad "mpirun -np 2, missing content: wrote an output"; else ok; fi

# ---- SIGINT to the ranks: they agree and stop at the same point (after an iteration,
# or inside one, keeping the one before), and rank 0 writes that image
rm -f "$TMP/sig.png" "$TMP/sig.csv"
timeout 300 "$MPIEXEC" "${ROOT[@]}" --oversubscribe -np 2 -x XDG_CACHE_HOME -x POCL_MAX_PTHREAD_COUNT \
    -x CLSTYLE_NO_TUNE "$CLSTYLE" "${IN[@]}" "${SHALLOW[@]}" -n 100000 -o "$TMP/sig.png" --log "$TMP/sig.csv" \
    >"$TMP/out" 2>"$TMP/err" &
tpid=$!
for _ in $(seq 1 600); do # until the log has a few rows
    [ "$(grep -c '^[0-9]' "$TMP/sig.csv" 2>/dev/null)" -ge 3 ] 2>/dev/null && break
    sleep 0.1
done
# the children of a process, from /proc (no procps needed): timeout -> mpirun -> the ranks
children() { for st in /proc/[0-9]*/stat; do read -r pid _ _ ppid _ <"$st" 2>/dev/null && [ "$ppid" = "$1" ] && echo "$pid"; done; }
ranks=$(for m in $(children "$tpid"); do for r in $(children "$m"); do
    [ "$(cat "/proc/$r/comm" 2>/dev/null)" = clstyle ] && echo "$r"; done; done)
if [ -n "$ranks" ]; then kill -INT $ranks; fi
wait "$tpid"
rc=$?
expect_rc 130 "mpirun -np 2, SIGINT to the ranks"
last=$(tail -1 "$TMP/sig.csv" | cut -d, -f1)
if [ "$(grep -c "iteration $last's image written" "$TMP/err")" = 2 ] && [ -s "$TMP/sig.png" ]; then ok
else bad "mpirun -np 2, SIGINT: both ranks should stop after iteration $last, rank 0 writing the image"; fi

# ---- bench --json: ranks and the per-rank seconds
mpi 2 bench --size 64 --iters 2 --json "$TMP/bench2.json"
expect_rc 0 "mpirun -np 2 bench"
run -- bench --size 64 --iters 2 --json "$TMP/bench1.json"
expect_rc 0 "bench"
if python3 - "$TMP/bench2.json" "$TMP/bench1.json" >"$TMP/py" 2>&1 <<'EOF'
import json, sys
for path, n in ((sys.argv[1], 2), (sys.argv[2], 1)):
    r = json.load(open(path))
    assert isinstance(r, list) and len(r) == 1, f"{path}: one result"
    r = r[0]
    assert r.get("ranks") == n, f"{path}: ranks {r.get('ranks')!r}, want {n}"
    for k in ("rank_compute_s", "rank_comm_s"):
        v = r.get(k)
        assert isinstance(v, list) and len(v) == n and all(isinstance(x, (int, float)) and x >= 0 for x in v), \
            f"{path}: {k} {v!r}"
    assert sum(r["rank_compute_s"]) > 0, f"{path}: no compute time"
    assert (r["bytes_moved_per_iter"] > 0) == (n > 1), f"{path}: bytes_moved_per_iter {r['bytes_moved_per_iter']}"
EOF
then ok; else bad "bench --json ranks: $(tail -1 "$TMP/py")"; fi

echo "test_mpi: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
