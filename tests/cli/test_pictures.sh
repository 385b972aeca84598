#!/usr/bin/env bash
# Photos and pictures through the CLI: a JPEG output (and its snapshots) read back as a
# JPEG input; --progress json lines, each a JSON object (progress, notices, the end);
# --plot and --sheet written; bad --quality, --plot name and 16-bit JPEG refused with 64
# before anything is written.
#   test_pictures.sh CLSTYLE TMPDIR
source "$(dirname "$0")/prologue.sh"
py=/usr/bin/python3; [ -x "$py" ] || py=python3

job=(-s "$S" -w synthetic:3 --size 48 -n 4)
"$bin" -c "$C" "${job[@]}" -q -o "$tmp/a.JPG" --save-every 2 --quality 75 || bad "a JPEG output"
head -c 3 "$tmp/a.JPG" | od -An -tx1 | grep -q "ff d8 ff" && [ -e "$tmp/a_0002.JPG" ] && ok ||
  bad "-o a.JPG is not a JPEG, or its snapshot a_0002.JPG is missing"
"$bin" -c "$tmp/a.JPG" "${job[@]}" -q -o "$tmp/b.png" && ok || bad "a JPEG content image"

# --progress json: every stderr line a JSON object; iterations 2 and 4, then done
"$bin" -c "$C" "${job[@]}" --print-every 2 --progress json -o "$tmp/c.png" --plot "$tmp/plot.png" \
  --sheet "$tmp/sheet.png" 2>"$tmp/json" || bad "--progress json --plot --sheet"
"$py" - "$tmp/json" <<'PY' >"$tmp/why" && ok || bad "--progress json: $(cat "$tmp/why")"
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
prog = [e for e in events if e["event"] == "progress"]
assert [e["iter"] for e in prog] == [2, 4], [e["iter"] for e in prog]
assert all(e["iters"] == 4 and e["loss"] > 0 and e["width"] == 48 and e["scales"] == 1 for e in prog), prog
assert any(e["event"] == "notice" for e in events)
assert events[-1]["event"] == "done" and events[-1]["status"] == 0, events[-1]
PY
for f in plot sheet; do
  head -c 8 "$tmp/$f.png" | od -An -tx1 | grep -q "89 50 4e 47" && ok || bad "--$f did not write a PNG"
done
# a failure in JSON mode ends with an error object naming the status
"$bin" -c "$tmp/missing.png" "${job[@]}" --progress json -o "$tmp/d.png" 2>"$tmp/json"
[ $? -eq 66 ] && tail -n 1 "$tmp/json" | grep -q '"event":"error","status":66' && ok ||
  bad "a missing input in JSON mode: $(cat "$tmp/json")"

# refused before any work, nothing written
for args in "--quality 0 -o $tmp/e.jpg" "--quality 101 -o $tmp/e.jpg" "--output-16bit -o $tmp/e.jpg" \
            "--plot $tmp/e.jpg -o $tmp/e.png" "--sheet $tmp/e.svg -o $tmp/e.png" "--progress fancy -o $tmp/e.png"; do
  # shellcheck disable=SC2086
  "$bin" -c "$C" "${job[@]}" $args 2>"$tmp/err"
  rc=$?
  [ $rc -eq 64 ] && [ ! -e "$tmp/e.jpg" ] && [ ! -e "$tmp/e.png" ] && [ ! -e "$tmp/e.svg" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
    ok || bad "$args: exit $rc, $(cat "$tmp/err")"
done

echo "test_pictures: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
