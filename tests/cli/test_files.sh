#!/usr/bin/env bash
# The files a run reads and writes (issue 12, parts 1-3 and 8): an output that is the
# same file as an input or another output is refused with 64; an output that is not a
# regular file (folder, FIFO, device, a path ending in /) with 73; an input that is not
# a regular file with 66, never a hang. Every case: one line on stderr, and no file
# created, changed or left behind.
#   test_files.sh CLSTYLE TMPDIR
source "$(dirname "$0")/prologue.sh"
mkdir -p "$tmp/w"
W="$tmp/w"
cp "$src/tests/golden/content.png" "$W/content.png"; cp "$src/tests/golden/style.png" "$W/style.png"
C="$W/content.png"; S="$W/style.png"
printf 'weights stand-in' >"$W/vgg19.safetensors"
mkfifo "$W/fifo"; mkdir "$W/dir"
ln "$C" "$W/hardlink.png"; ln -s "$C" "$W/symlink.png"
snapshot() { (cd "$W" && find . -mindepth 1 -printf '%p %y %s %T@\n' | sort; sha256sum content.png style.png vgg19.safetensors); }
before="$(snapshot)"

# expect CODE PATTERN -- ARGS...: exit code, a one-line stderr matching PATTERN, the
# folder unchanged (no output, no temp file), within 60 s (no hang)
expect() {
  local code="$1" pat="$2"; shift 3
  timeout 60 "$bin" "$@" -q >"$tmp/stdout" 2>"$tmp/stderr" </dev/null
  local rc=$?
  if [ "$rc" -ne "$code" ]; then bad "clstyle $* -> exit $rc, expected $code"; cat "$tmp/stderr"; return; fi
  if ! grep -qiE -- "$pat" "$tmp/stderr" || [ "$(wc -l <"$tmp/stderr")" -ne 1 ]; then
    bad "clstyle $* -> stderr is not one line matching /$pat/:"; cat "$tmp/stderr"; return
  fi
  if [ "$(snapshot)" != "$before" ]; then bad "clstyle $* changed the folder"; diff <(echo "$before") <(snapshot); return; fi
  ok
}
run=(-c "$C" -s "$S" -w synthetic:1 --size 32 -n 2)
O="$W/out.png"

# 1. outputs that collide with inputs or with each other (64)
expect 64 "--log .* also an input \(-c/--content" -- "${run[@]}" -o "$O" --log "$C"
expect 64 "--checkpoint .* also an input \(-w/--weights" -- "${run[@]/synthetic:1/$W/vgg19.safetensors}" -o "$O" --checkpoint "$W/vgg19.safetensors"
expect 64 "-o/--output .* also an input \(-s/--style" -- "${run[@]}" -o "$S"
expect 64 "-o/--output .* also an input \(-c/--content" -- "${run[@]}" -o "$W/hardlink.png"
expect 64 "-o/--output .* also an input \(-c/--content" -- "${run[@]}" -o "$W/symlink.png"
expect 64 "-o/--output .* also an input \(-c/--content" -- "${run[@]}" -o "$W/../w/content.png"
expect 64 "-o/--output .* and --log .* are the same file" -- "${run[@]}" -o "$O" --log "$O"
expect 64 "--checkpoint .* also an input \(--init" -- "${run[@]}" -o "$O" --init "$W/vgg19.safetensors" --checkpoint "$W/vgg19.safetensors"
expect 64 "-o/--output .* also an input \(--resume" -- "${run[@]}" -o "$W/vgg19.safetensors" --resume "$W/vgg19.safetensors"
# --checkpoint may name the checkpoint being resumed (it is read whole first): not a collision
expect 65 "not a clstyle checkpoint|header" -- "${run[@]}" -o "$O" --checkpoint "$W/vgg19.safetensors" --resume "$W/vgg19.safetensors"
cp "$S" "$W/snap_0002.png"; before="$(snapshot)"
expect 64 "--save-every would write .*snap_0002.png .* over -s/--style" -- -c "$C" -s "$W/snap_0002.png" -w synthetic:1 --size 32 -n 3 -o "$W/snap.png" --save-every 2
expect 64 "--save-every would write iteration 2's image over --log" -- "${run[@]}" -n 3 -o "$W/s.png" --save-every 1 --log "$W/s_0002.png"
rm -f "$W/snap_0002.png"; before="$(snapshot)"

# 2. outputs that are not regular files (73), left as they are
expect 73 "-o/--output .*dir is a folder" -- "${run[@]}" -o "$W/dir"
expect 73 "-o/--output .*fifo is a FIFO" -- "${run[@]}" -o "$W/fifo"
expect 73 "--log .*fifo is a FIFO" -- "${run[@]}" -o "$O" --log "$W/fifo"
expect 73 "--checkpoint .*dir is a folder" -- "${run[@]}" -o "$O" --checkpoint "$W/dir"
expect 73 "names a folder" -- "${run[@]}" -o "$W/newdir/"
expect 73 "/dev/null is a device" -- "${run[@]}" -o /dev/null
if mknod "$tmp/node" c 1 3 2>/dev/null; then
  expect 73 "node is a device" -- "${run[@]}" -o "$tmp/node"
  [ -c "$tmp/node" ] && ok || bad "the device node was replaced"
fi
[ -p "$W/fifo" ] && [ -c /dev/null ] && ok || bad "a FIFO or /dev/null was replaced"
# -o /dev/stdout: refused when stdout is a pipe; written when it is a regular file
timeout 60 "$bin" "${run[@]}" -o /dev/stdout -q 2>"$tmp/stderr" | cat >/dev/null
[ "${PIPESTATUS[0]}" -eq 73 ] && grep -q "is a FIFO" "$tmp/stderr" && ok || { bad "-o /dev/stdout into a pipe"; cat "$tmp/stderr"; }
timeout 120 "$bin" "${run[@]}" -o /dev/stdout -q >"$tmp/stdout.png" 2>"$tmp/stderr"
[ $? -eq 0 ] && head -c 8 "$tmp/stdout.png" | od -An -tx1 | grep -q "89 50 4e 47" && [ -L /dev/stdout ] && ok ||
  { bad "-o /dev/stdout into a file"; cat "$tmp/stderr"; }

# bench --json is an output like the others
timeout 60 "$bin" bench --json "$W/fifo" >"$tmp/stdout" 2>"$tmp/stderr"; rc=$?
[ $rc -eq 73 ] && grep -q "bench --json .*fifo is a FIFO" "$tmp/stderr" && ok || { bad "bench --json FIFO: exit $rc"; cat "$tmp/stderr"; }
timeout 60 "$bin" bench -w "$W/vgg19.safetensors" --json "$W/vgg19.safetensors" >"$tmp/stdout" 2>"$tmp/stderr"; rc=$?
[ $rc -eq 64 ] && grep -q "also an input (-w/--weights" "$tmp/stderr" && [ "$(snapshot)" = "$before" ] && ok ||
  { bad "bench --json onto the weights: exit $rc"; cat "$tmp/stderr"; }

# 3. inputs that are not regular files (66), no hang
expect 66 "fifo is a FIFO, not a regular file" -- -c "$W/fifo" -s "$S" -w synthetic:1 --size 32 -n 1 -o "$O"
expect 66 "dir is a folder, not a regular file" -- -c "$C" -s "$W/dir" -w synthetic:1 --size 32 -n 1 -o "$O"
expect 66 "/dev/zero is a device" -- -c /dev/zero -s "$S" -w synthetic:1 --size 32 -n 1 -o "$O"
expect 66 "fifo is a FIFO" -- "${run[@]/synthetic:1/$W/fifo}" -o "$O"
expect 66 "fifo is a FIFO" -- "${run[@]}" -o "$O" --init "$W/fifo"
expect 66 "dir is a folder" -- "${run[@]}" -o "$O" --resume "$W/dir"
mkdir "$tmp/kernels"; cp "$src"/cl/*.cl "$tmp/kernels/"; rm "$tmp/kernels/relu.cl"; mkfifo "$tmp/kernels/relu.cl"
CLSTYLE_KERNEL_DIR="$tmp/kernels" CLSTYLE_NO_CACHE=1 expect 66 "relu.cl is a FIFO" -- "${run[@]}" -o "$O"

# 4. lists and numbers
expect 64 "empty item" -- "${run[@]}" -o "$O" --style-layers relu1_1,,relu2_1
expect 64 "empty item" -- -c "$C" -s "$S,,$S" -w synthetic:1 --size 32 -n 1 -o "$O"
expect 64 "empty item" -- "${run[@]}" -o "$O" -s "$S" --style-blend 1,,1
expect 64 "relu1_1 is listed twice" -- "${run[@]}" -o "$O" --style-layers relu1_1,relu2_1,relu1_1:0.5
expect 64 "conv4_2 is listed twice" -- "${run[@]}" -o "$O" --content-layers conv4_2,conv4_2
for seed in +5 " 5" "5 " -1 18446744073709551616 ""; do
  expect 64 "synthetic:SEED" -- -c "$C" -s "$S" -w "synthetic:$seed" --size 32 -n 1 -o "$O"
done
expect 64 "--iters '99999999999999999999'" -- "${run[@]}" -o "$O" -n 99999999999999999999
# a blend whose sum overflows a double normalises; a style file with a comma in its name; -s repeated
cp "$S" "$tmp/a,b.png"
for args in "-s $S,$S --style-blend 1e308,1e308" "-s $tmp/a,b.png" "-s $S -s $tmp/a,b.png --style-blend 1,3"; do
  timeout 120 "$bin" -c "$C" $args -w synthetic:1 --size 32 -n 1 -o "$tmp/l.png" -q 2>"$tmp/stderr"
  [ $? -eq 0 ] && [ -s "$tmp/l.png" ] && ok || { bad "run with $args"; cat "$tmp/stderr"; }
  rm -f "$tmp/l.png"
done

# 8. names from files and paths are escaped: every message stays one line
evil="$W/evil"$'\n'$'\e'"[31mred.png"
expect 66 'evil\\x0a\\x1b\[31mred.png' -- -c "$evil" -s "$S" -w synthetic:1 --size 32 -n 1 -o "$O"
expect 73 'evil\\x0a\\x1b\[31mred.png/ names a folder' -- "${run[@]}" -o "$evil/"

# 8. closed standard streams: progress never lands in the outputs
"$bin" "${run[@]}" -o "$tmp/closed.png" --log "$tmp/closed.csv" --print-every 1 <&- >&- 2>&-
head -c 8 "$tmp/closed.png" | od -An -tx1 | grep -q "89 50 4e 47" && ! grep -q "iter" "$tmp/closed.png" &&
  [ "$(head -n 1 "$tmp/closed.csv")" = "iter,total,content,style,tv,seconds,scale" ] && ! grep -q "^clstyle\|^iter " "$tmp/closed.csv" &&
  ok || bad "closed stdin/stdout/stderr: progress in an output"

echo "test_files: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
