#!/usr/bin/env bash
# Guards around a run (issue 12, parts 7, 9, 10): an unsafe cache folder is not used; a
# tuning cache line the device would not try is measured again, not fatal; an unusable
# XDG_CACHE_HOME is named (PoCL then offers no device); Ctrl-C during the first compile
# exits 130 with nothing written; a second signal leaves no temp file; a --size the
# device cannot hold fails at once with the numbers; --memory-limit tiles the run and
# holds; Ctrl-C inside a tiled iteration keeps the iteration before.
#   test_guards.sh CLSTYLE TMPDIR
source "$(dirname "$0")/prologue.sh"
run=(-c "$C" -s "$S" -w synthetic:1 --size 32 -n 1)

# 7. a group/other-writable cache folder, or one owned by another user: a notice, the run goes on
mkdir -p "$tmp/open/clstyle"; chmod 777 "$tmp/open/clstyle"
XDG_CACHE_HOME="$tmp/open" "$bin" "${run[@]}" -o "$tmp/o1.png" 2>"$tmp/err"
[ $? -eq 0 ] && grep -q "writable by group or others: not used" "$tmp/err" && [ -z "$(ls "$tmp/open/clstyle")" ] && ok ||
  { bad "open cache folder"; cat "$tmp/err"; }
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
  mkdir -p "$tmp/other/clstyle"; chown nobody "$tmp/other/clstyle"
  XDG_CACHE_HOME="$tmp/other" "$bin" "${run[@]}" -o "$tmp/o2.png" 2>"$tmp/err"
  [ $? -eq 0 ] && grep -q "owned by another user: not used" "$tmp/err" && ok || { bad "foreign cache folder"; cat "$tmp/err"; }
fi
# an unusable XDG_CACHE_HOME is named as the cause when no device shows up
touch "$tmp/notadir"
XDG_CACHE_HOME="$tmp/notadir" "$bin" "${run[@]}" -o "$tmp/o3.png" 2>"$tmp/err"; rc=$?
if [ $rc -eq 69 ]; then grep -q "cache folder .*notadir is not a folder" "$tmp/err" && ok || { bad "XDG_CACHE_HOME a file"; cat "$tmp/err"; }
elif [ $rc -eq 0 ]; then ok; else bad "XDG_CACHE_HOME a file: exit $rc"; cat "$tmp/err"; fi

# 7. a tuning entry with options the device would not try: dropped and measured again
env -u CLSTYLE_NO_TUNE "$bin" tune --size 32 >"$tmp/tune.out" 2>&1 || { bad "tune"; cat "$tmp/tune.out"; }
f=$(ls "$XDG_CACHE_HOME"/clstyle/conv-tune-*.tsv 2>/dev/null | head -n 1)
if [ -n "$f" ] && awk -F'\t' 'NR > 1 && $2 == "tiled" { found = 1 } END { exit !found }' "$f"; then
  awk -F'\t' 'BEGIN { OFS = "\t" } NR > 1 && $2 == "tiled" && !done { $3 = "-DMR=99 -DNR=32"; done = 1 } { print }' "$f" >"$f.new" && mv "$f.new" "$f"
  env -u CLSTYLE_NO_TUNE "$bin" "${run[@]}" -o "$tmp/o4.png" 2>"$tmp/err"
  [ $? -eq 0 ] && grep -q "dropping the cached choice" "$tmp/err" && ok || { bad "bad tuning entry"; cat "$tmp/err"; }
  ! grep -q -- "-DMR=99" "$f" && ok || bad "the bad tuning entry was kept"
elif [ -n "$f" ]; then
  ok # no layer chose the tiled GEMM on this device: nothing to corrupt
else
  bad "tune wrote no cache file"; cat "$tmp/tune.out"
fi

# 9. Ctrl-C during the first kernel compile (cold caches): 130, nothing written, no temp file
cold="$tmp/cold"; mkdir -p "$cold"
XDG_CACHE_HOME="$cold" CLSTYLE_NO_CACHE=1 "$bin" "${run[@]}" -n 5 -o "$tmp/sig.png" 2>"$tmp/sig.err" &
pid=$!
for _ in $(seq 100); do grep -q "^clstyle: device:" "$tmp/sig.err" 2>/dev/null && break; sleep 0.05; done
sleep 0.3; kill -INT $pid; wait $pid; rc=$?
if [ $rc -eq 130 ] && grep -q "before the first iteration" "$tmp/sig.err"; then
  [ ! -e "$tmp/sig.png" ] && ! ls "$tmp" | grep -q '\.tmp-' && ok || bad "Ctrl-C during compile left a file"
elif [ $rc -eq 130 ] && grep -q "interrupted" "$tmp/sig.err"; then
  ok # the compile was faster than the signal: an ordinary interrupt
else bad "Ctrl-C during compile: exit $rc"; cat "$tmp/sig.err"; fi
# a second signal while images are written every iteration: never a temp file left
mkdir -p "$tmp/twice"
for i in 1 2 3; do
  "$bin" -c "$C" -s "$S" -w synthetic:1 --size 256 -n 1000 --save-every 1 --print-every 1 -o "$tmp/twice/o.png" \
    2>"$tmp/twice.err" & pid=$!
  for _ in $(seq 1200); do grep -q "^iter 2/" "$tmp/twice.err" 2>/dev/null && break; sleep 0.1; done
  kill -INT $pid; sleep 0.0$i; kill -INT $pid; wait $pid; rc=$?
  [ $rc -eq 130 ] && ! ls "$tmp/twice" | grep -q '\.tmp-' && ok || { bad "double signal $i: exit $rc or a temp file"; ls "$tmp/twice"; }
done

# 10. a size the host or the device cannot hold fails at once, before any image is resized
for size in 32768 8192; do
  start=$(date +%s)
  POCL_MEMORY_LIMIT=1 timeout 60 "$bin" -c "$C" -s "$S" -w synthetic:1 --size $size -n 1 -o "$tmp/big.png" -q 2>"$tmp/err"; rc=$?
  [ $rc -eq 70 ] && grep -qE "^clstyle: content image .* would be ${size}x[0-9]+ at the working size: its (whole-image device buffers|images) alone need [0-9.]+ MiB" "$tmp/err" &&
    [ $(( $(date +%s) - start )) -lt 30 ] && [ ! -e "$tmp/big.png" ] && ok || { bad "--size $size: exit $rc"; cat "$tmp/err"; }
done
grep -q "whole-image device buffers alone need .* (use --size [0-9]* or less)" "$tmp/err" && ok || { bad "--size 8192: not the device check"; cat "$tmp/err"; }

# 10. --memory-limit: the run is cut into exact tiles to stay under it; the budget holds
shallow=(--content-layers relu2_2 --style-layers relu1_1,relu2_1,relu3_1)
timeout 300 "$bin" -c "$C" -s "$S" -w synthetic:1 --size 320 -n 1 "${shallow[@]}" --memory-limit 60M -o "$tmp/lim.png" 2>"$tmp/err"; rc=$?
peak=$(sed -n 's/^clstyle: device memory: \([0-9.]*\) MiB allocated$/\1/p' "$tmp/err")
[ $rc -eq 0 ] && grep -q "of a 60 MiB budget in [0-9]*x[0-9]* tiles" "$tmp/err" && [ -n "$peak" ] &&
  awk -v p="$peak" 'BEGIN { exit !(p <= 60) }' && ok || { bad "--memory-limit 60M: exit $rc, peak '$peak' MiB"; cat "$tmp/err"; }
# the default budget under a device limit (POCL_MEMORY_LIMIT=1: 1 GiB) tiles a run that would not fit,
# here the last scale of a coarse-to-fine ladder (400 px untiled, then 800 px in tiles)
POCL_MEMORY_LIMIT=1 timeout 300 "$bin" -c "$C" -s "$S" -w synthetic:1 --size 800 -n 1 --scales 2 --iters-after 1 "${shallow[@]}" -o "$tmp/lim2.png" 2>"$tmp/err"; rc=$?
peak=$(sed -n 's/^clstyle: device memory: \([0-9.]*\) MiB allocated$/\1/p' "$tmp/err" | sort -n | tail -n 1)  # each scale's peak
[ $rc -eq 0 ] && grep -q "scale 2 of 2: content 800x" "$tmp/err" && grep -q "budget in [0-9]*x[0-9]* tiles" "$tmp/err" && [ -n "$peak" ] &&
  awk -v p="$peak" 'BEGIN { exit !(p <= 1024) }' && ok || { bad "POCL_MEMORY_LIMIT=1 at 800 px: exit $rc, peak '$peak'"; cat "$tmp/err"; }
for m in 0 abc 1x 2.5G; do
  "$bin" -c "$C" -s "$S" -w synthetic:1 --size 64 -n 1 --memory-limit "$m" -o "$tmp/lim3.png" 2>"$tmp/err"; rc=$?
  [ $rc -eq 64 ] && grep -q "expected a size above zero" "$tmp/err" && ok || { bad "--memory-limit $m: exit $rc"; cat "$tmp/err"; }
done
"$bin" -c "$C" -s "$S" -w synthetic:1 --size 256 -n 1 --memory-limit 1M -o "$tmp/lim3.png" 2>"$tmp/err"; rc=$?
[ $rc -eq 64 ] && grep -q "too small for .* even 96 px tiles need about [0-9]* MiB" "$tmp/err" && [ ! -e "$tmp/lim3.png" ] && ok ||
  { bad "--memory-limit 1M: exit $rc"; cat "$tmp/err"; }

# 11. Ctrl-C inside a tiled iteration stops at the next tile: 130, the previous iteration's
# image and checkpoint written; resuming from them gives the uninterrupted run's image exactly
tiles=(-c "$C" -s "$S" -w synthetic:1 --size 256 "${shallow[@]}" --tile 32 --print-every 1 --output-16bit)
"$bin" "${tiles[@]}" -n 50 --checkpoint "$tmp/cut.ckpt" -o "$tmp/cut.png" 2>"$tmp/cut.err" & pid=$!
for _ in $(seq 1200); do grep -q "^iter 1/" "$tmp/cut.err" 2>/dev/null && break; sleep 0.1; done
kill -INT $pid; wait $pid; rc=$?
k=$(sed -n "s/^clstyle: interrupted during iteration \([0-9]*\) (between its tiles); iteration [0-9]*'s image written.*/\1/p" "$tmp/cut.err")
[ $rc -eq 130 ] && [ -n "$k" ] && [ -s "$tmp/cut.png" ] && [ -s "$tmp/cut.ckpt" ] && ok ||
  { bad "Ctrl-C inside a tiled iteration: exit $rc"; cat "$tmp/cut.err"; k=2; }
timeout 300 "$bin" "${tiles[@]}" -n "$k" -o "$tmp/cut_ref.png" 2>"$tmp/err" || { bad "tiled reference run"; cat "$tmp/err"; }
timeout 300 "$bin" "${tiles[@]}" -n "$k" --resume "$tmp/cut.ckpt" -o "$tmp/cut_res.png" 2>"$tmp/err" &&
  cmp -s "$tmp/cut_ref.png" "$tmp/cut_res.png" && ok || { bad "resumed after a cut iteration: not the uninterrupted image"; cat "$tmp/err"; }

echo "test_guards: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
