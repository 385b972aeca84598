#!/usr/bin/env bash
# CLI errors of the main command: each bad input gives its documented exit code, a
# one-line message naming the flag or file, and creates no output. Also -h / -V.
#   test_run_errors.sh CLSTYLE TMPDIR
source "$(dirname "$0")/prologue.sh"

# expect CODE PATTERN -- ARGS...: exit code, stderr matches PATTERN, no output file
expect() {
  local code="$1" pat="$2"; shift 3
  rm -f "$tmp/out.png"
  "$bin" "$@" >"$tmp/stdout" 2>"$tmp/stderr"
  local rc=$?
  if [ "$rc" -ne "$code" ]; then
    echo "FAIL: clstyle $* -> exit $rc, expected $code"; cat "$tmp/stderr"; fail=$((fail+1)); return
  fi
  if ! grep -qiE -- "$pat" "$tmp/stderr"; then
    echo "FAIL: clstyle $* -> stderr lacks /$pat/:"; cat "$tmp/stderr"; fail=$((fail+1)); return
  fi
  if [ -e "$tmp/out.png" ] || ls "$tmp" | grep -q '\.tmp-'; then
    echo "FAIL: clstyle $* left an output or temp file"; fail=$((fail+1)); return
  fi
  pass=$((pass+1))
}

O="$tmp/out.png"
base=(-c "$C" -s "$S" -o "$O" -w synthetic:1 --size 64 -n 2 -q)
expect 64 "content.*required" -- -s "$S" -o "$O"
expect 64 "style.*required" -- -c "$C" -o "$O"
expect 64 "output.*required" -- -c "$C" -s "$S"
expect 64 "unknown option '--frobnicate'" -- "${base[@]}" --frobnicate
expect 64 "--size.*between" -- "${base[@]}" --size -5
expect 64 "--size 'abc'" -- "${base[@]}" --size abc
expect 64 "--size.*between" -- "${base[@]}" --size 0
expect 64 "--lr 'nan'" -- "${base[@]}" --lr nan
expect 64 "--content-weight 'inf'" -- "${base[@]}" --content-weight inf
expect 64 "--lr.*> 0" -- "${base[@]}" --lr 0
expect 64 "--style-weight.*>= 0" -- "${base[@]}" --style-weight -1
expect 64 "--iters.*between" -- "${base[@]}" -n 0
expect 64 "--iters.*between" -- "${base[@]}" -n 99999999
expect 64 "--iters '1e3x'" -- "${base[@]}" -n 1e3x
expect 64 "unknown layer 'relu9_9'" -- "${base[@]}" --style-layers relu1_1,relu9_9
expect 64 "unknown layer 'pool1'" -- "${base[@]}" --content-layers pool1
expect 64 "--pooling 'median'" -- "${base[@]}" --pooling median
expect 64 "style-blend has 1 weights for 3" -- "${base[@]}" -s "$S,$S" --style-blend 1  # -s repeats: 1 + 2 styles
expect 64 "needs a value" -- "${base[@]}" --size
expect 64 "also an input" -- -c "$C" -s "$S" -o "$C" -w synthetic:1 --size 64 -n 1 -q
expect 64 "synthetic:SEED" -- "${base[@]}" -w synthetic:x
expect 64 "--scales.*between" -- "${base[@]}" --scales 0
expect 64 "--scales 'two'" -- "${base[@]}" --scales two
expect 64 "--scale-factor" -- "${base[@]}" --scales 2 --scale-factor 1
expect 64 "--scales 3: the smallest scale.*under 16" -- "${base[@]}" --scales 3 --scale-factor 3
expect 64 "--iters-after.*between" -- "${base[@]}" --scales 2 --iters-after 0
expect 66 "nosuch.png" -- -c "$tmp/nosuch.png" -s "$S" -o "$O" -w synthetic:1 --size 64 -n 1 -q
expect 66 "nosuch.safetensors" -- "${base[@]}" -w "$tmp/nosuch.safetensors"
expect 66 "scripts/fetch-weights.sh" -- -c "$C" -s "$S" -o "$O" --size 64 -n 1 -q
printf 'not a png' >"$tmp/bad.png"
expect 65 "bad.png.*not a PNG" -- -c "$tmp/bad.png" -s "$S" -o "$O" -w synthetic:1 --size 64 -n 1 -q
expect 65 "at least 16" -- "${base[@]}" --style-scale 0.1
expect 73 "missing-dir" -- -c "$C" -s "$S" -o "$tmp/missing-dir/out.png" -w synthetic:1 --size 64 -n 1 -q
expect 69 "matches no OpenCL device" -- "${base[@]}" -d nosuchdevice
expect 64 "--tile 40: must be a multiple of 16" -- "${base[@]}" --tile 40
expect 64 "--tile 64: .*at least 96 \(the halo of conv5_1" -- "${base[@]}" --tile 64
expect 64 "--tile 'x'" -- "${base[@]}" --tile x

"$bin" --help >"$tmp/help" 2>&1 && grep -q -- "--style-blend" "$tmp/help" && pass=$((pass+1)) || { echo "FAIL: --help"; fail=$((fail+1)); }
# L-BFGS's flags, the preset
expect 64 "--optimizer 'sgd'.*adam or lbfgs" -- "${base[@]}" --optimizer sgd
expect 64 "--history 0: must be between 1" -- "${base[@]}" --optimizer lbfgs --history 0
expect 64 "--history -2: must be between 1" -- "${base[@]}" --optimizer lbfgs --history -2
expect 64 "--history 100000: L-BFGS keeps its pairs on the device.*give --history [0-9]+ or less" -- \
  "${base[@]}" --optimizer lbfgs --history 100000 --memory-limit 64M
expect 64 "--preset 'nope'" -- "${base[@]}" --preset nope
expect 64 "--line-search 'backtrack': expected none or strong-wolfe" -- "${base[@]}" --optimizer lbfgs --line-search backtrack
expect 64 "--line-search strong-wolfe: a line search is L-BFGS's" -- "${base[@]}" --line-search strong-wolfe
"$bin" -V | grep -qE "^clstyle [0-9]+\.[0-9]+" && pass=$((pass+1)) || { echo "FAIL: -V"; fail=$((fail+1)); }
"$bin" >/dev/null 2>&1; [ $? -eq 64 ] && pass=$((pass+1)) || { echo "FAIL: no arguments should exit 64"; fail=$((fail+1)); }

echo "test_run_errors: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
