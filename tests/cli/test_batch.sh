#!/usr/bin/env bash
# clstyle batch (issue 18): a manifest of four jobs at 32 px, 2 iterations, over two
# shards (one from Slurm's variables, one from a Kubernetes completion index) writes
# every output once; a rerun skips them all; a bad line fails its job alone (its line
# number in the summary, the exit status the failed count); two jobs with one output,
# a bad shard or flag are 64 with nothing written; a missing manifest is 66; a job
# stopped by SIGTERM leaves no output without a checkpoint and resumes from one.
#   test_batch.sh CLSTYLE TMPDIR
source "$(dirname "$0")/prologue.sh"
unset SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT SLURM_ARRAY_TASK_MIN SLURM_ARRAY_TASK_MAX SLURM_ARRAY_TASK_STEP \
      JOB_COMPLETION_INDEX
W="$tmp/jobs"
mkdir -p "$W/out" "$W/in"
cp "$C" "$W/in/c.png"; cp "$S" "$W/in/s.png"
common=(-w synthetic:1 --size 32 -n 2 -q)
tab=$'\t'

# batch [VAR=value ...] -- ARGS: runs clstyle batch, sets $rc; stdout in $tmp/out, stderr in $tmp/err
batch() {
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  env ${envs[@]+"${envs[@]}"} timeout 300 "$bin" batch "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
}
expect_rc() { [ "$rc" -eq "$1" ] && ok || { bad "$2: exit $rc, want $1"; cat "$tmp/out" "$tmp/err"; }; }
outputs() { (cd "$W/out" && ls -A); }

# paths relative to the manifest's folder; a comment, an empty line; per-job options
cat >"$W/m.tsv" <<EOF
# content	style	output	options
in/c.png${tab}in/s.png${tab}out/a.png

in/c.png${tab}in/s.png,in/s.png${tab}out/b.jpg${tab}--style-blend 1,3 --seed 5
$W/in/c.png${tab}in/s.png${tab}out/c.png${tab}--iters 3
in/c.png${tab}in/s.png${tab}out/d.png${tab}--init in/c.png --tv-weight 1 --log out/d.csv
EOF

# 1. two shards: 1/2 from a Slurm array run as --array=1-2, 2/2 from JOB_COMPLETION_INDEX 1
batch SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=2 SLURM_ARRAY_TASK_COUNT=2 -- "$W/m.tsv" "${common[@]}"
expect_rc 0 "shard 1/2 (Slurm)"
cp "$tmp/out" "$tmp/shard1"
batch JOB_COMPLETION_INDEX=1 -- "$W/m.tsv" "${common[@]}" --shards 2
expect_rc 0 "shard 2/2 (JOB_COMPLETION_INDEX)"
cp "$tmp/out" "$tmp/shard2"
grep -qE "m.tsv:2 ok .*out/a.png" "$tmp/shard1" && grep -qE "m.tsv:5 ok .*out/c.png" "$tmp/shard1" && ok ||
  bad "shard 1 should run lines 2 and 5: $(cat "$tmp/shard1")"
grep -qE "m.tsv:4 ok .*out/b.jpg" "$tmp/shard2" && grep -qE "m.tsv:6 ok .*out/d.png" "$tmp/shard2" && ok ||
  bad "shard 2 should run lines 4 and 6: $(cat "$tmp/shard2")"
for o in a.png b.jpg c.png d.png; do
  n=$(cat "$tmp/shard1" "$tmp/shard2" | grep -c " ok .*out/$o ")
  [ "$n" -eq 1 ] && [ -s "$W/out/$o" ] && ok || bad "out/$o: run $n times by the two shards, or missing"
done
[ "$(outputs | tr '\n' ' ')" = "a.png b.jpg c.png d.csv d.png " ] && ok || bad "outputs (the options' paths relative to the manifest too): $(outputs | tr '\n' ' ')"
[ "$(wc -l <"$tmp/shard1")" -eq 2 ] && [ "$(wc -l <"$tmp/shard2")" -eq 2 ] && ok || bad "one summary line per job"
grep -qE "ok [0-9.]+s .*\(setup [0-9.]+s\)" "$tmp/shard1" && ok || bad "summary lines name the setup time"

# 2. a rerun (every job, one process) skips them all, touching nothing
before=$(cd "$W/out" && stat -c '%n %Y %s' *)
batch -- "$W/m.tsv" "${common[@]}"
expect_rc 0 "rerun"
[ "$(grep -c " skipped .*(exists)" "$tmp/out")" -eq 4 ] && ok || bad "rerun: all four skipped: $(cat "$tmp/out")"
[ "$before" = "$(cd "$W/out" && stat -c '%n %Y %s' *)" ] && ok || bad "rerun changed outputs"

# 3. bad lines fail their own job only; the exit status counts them
cat >"$W/bad.tsv" <<EOF
in/c.png${tab}in/s.png${tab}out/e.png
in/c.png${tab}in/s.png
in/nosuch.png${tab}in/s.png${tab}out/f.png
in/c.png${tab}in/s.png${tab}out/g.png${tab}--iters zero
in/c.png${tab}in/s.png${tab}out/h.png${tab}-o out/x.png
in/c.png${tab}in/s.png${tab}out/i.png${tab}--size 32
EOF
batch -- "$W/bad.tsv" "${common[@]}"
expect_rc 4 "four bad lines"
grep -qE "^$W/bad.tsv:1 ok .*out/e.png" "$tmp/out" && grep -qE "^$W/bad.tsv:6 ok .*out/i.png" "$tmp/out" && ok ||
  bad "good lines of bad.tsv should run: $(cat "$tmp/out")"
grep -qE "^$W/bad.tsv:2 failed .*64 .*found 2 columns" "$tmp/out" && ok || bad "line 2 (a missing column): $(cat "$tmp/out")"
grep -qE "^$W/bad.tsv:3 failed .*out/f.png \(66 .*nosuch.png" "$tmp/out" && ok || bad "line 3 (a missing image)"
grep -qE "^$W/bad.tsv:4 failed .*\(64 .*options column: --iters 'zero'" "$tmp/out" && ok || bad "line 4 (a bad option)"
grep -qE "^$W/bad.tsv:5 failed .*\(64 .*-o/--output is a column" "$tmp/out" && ok || bad "line 5 (-o in the options)"
[ ! -e "$W/out/f.png" ] && [ ! -e "$W/out/g.png" ] && [ ! -e "$W/out/x.png" ] && ok || bad "a failed job wrote"
rm -f "$W/out/e.png" "$W/out/i.png"

# 4. refused before any work, nothing written: two jobs with one output (by another
# name, or a file named on the command line), flags and shards
printf 'in/c.png\tin/s.png\tout/n1.png\nin/c.png\tin/s.png\tout/../out/./n1.png\n' >"$W/dup.tsv"
printf 'in/c.png\tin/s.png\tout/n2.png\nin/c.png\tin/s.png\tout/n3.png\n' >"$W/two.tsv"
expect_refused() { # CODE PATTERN -- [VAR=value ...] -- ARGS
  local code="$1" pat="$2"; shift 3
  local list; list=$(outputs)
  batch "$@"
  expect_rc "$code" "$*"
  grep -qE -- "$pat" "$tmp/err" && ok || bad "$*: stderr lacks /$pat/: $(cat "$tmp/err")"
  [ "$(outputs)" = "$list" ] && [ ! -s "$tmp/out" ] && ok || bad "$*: wrote $(outputs | tr '\n' ' ') $(cat "$tmp/out")"
}
expect_refused 64 "dup.tsv: lines 1 and 2 both write .*out/../out/./n1.png \(-o/--output .*out/n1.png, -o/--output" \
  -- -- "$W/dup.tsv" "${common[@]}"
expect_refused 64 "lines 1 and 2 both write .*run.csv \(--log .*, --log .*\): a file named on the command line is" \
  -- -- "$W/two.tsv" "${common[@]}" --log "$tmp/run.csv"
expect_refused 64 "--shard '0/2'" -- -- "$W/m.tsv" "${common[@]}" --shard 0/2
expect_refused 64 "--shard '3/2'" -- -- "$W/m.tsv" "${common[@]}" --shard 3/2
expect_refused 64 "--shard 'x'" -- -- "$W/m.tsv" "${common[@]}" --shard x
expect_refused 64 "--shard 2/2 disagrees with the environment" -- SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_TASK_COUNT=2 -- \
  "$W/m.tsv" "${common[@]}" --shard 2/2
expect_refused 64 "SLURM_ARRAY_TASK_ID 7 is not one of an array" -- SLURM_ARRAY_TASK_ID=7 SLURM_ARRAY_TASK_MIN=1 \
  SLURM_ARRAY_TASK_MAX=7 SLURM_ARRAY_TASK_COUNT=3 -- "$W/m.tsv" "${common[@]}"
expect_refused 64 "JOB_COMPLETION_INDEX is set" -- JOB_COMPLETION_INDEX=0 -- "$W/m.tsv" "${common[@]}"
expect_refused 64 "--shards 2: no JOB_COMPLETION_INDEX" -- -- "$W/m.tsv" "${common[@]}" --shards 2
expect_refused 64 "-c/--content comes from the manifest" -- -- "$W/m.tsv" "${common[@]}" -c "$C"
expect_refused 64 "unknown option '--frobnicate'" -- -- "$W/m.tsv" "${common[@]}" --frobnicate
expect_refused 64 "MANIFEST is required" -- -- "${common[@]}"
expect_refused 66 "manifest.*nosuch.tsv" -- -- "$W/nosuch.tsv" "${common[@]}"
expect_refused 66 "manifest .*jobs is a folder" -- -- "$W" "${common[@]}"
"$bin" batch --help | grep -q -- "--shard K/N" && ok || bad "batch --help"

# 5. SIGTERM during a job: no checkpoint, no output left (a rerun must not take it for
# done); with a checkpoint, the image and checkpoint stay and a rerun resumes it
stop_job() { # MANIFEST: starts the batch, waits for iteration 3, sends SIGTERM; sets $rc
  "$bin" batch "$1" -w synthetic:1 --size 32 --print-every 1 --progress line >"$tmp/out" 2>"$tmp/err" &
  local pid=$! i
  for i in $(seq 600); do grep -q "iter 3/" "$tmp/err" && break; sleep 0.1; done
  kill -TERM $pid
  wait $pid
  rc=$?
}
printf 'in/c.png\tin/s.png\tout/long.png\t--iters 1000000\n' >"$W/long.tsv"
stop_job "$W/long.tsv"
expect_rc 143 "SIGTERM without a checkpoint"
grep -qE "long.tsv:1 interrupted .*then removed: no checkpoint" "$tmp/out" && [ ! -e "$W/out/long.png" ] && ok ||
  bad "an interrupted job without a checkpoint left its image: $(cat "$tmp/out")"
printf 'in/c.png\tin/s.png\tout/ck.png\t--iters 1000000 --checkpoint out/ck.st\n' >"$W/ck.tsv"
stop_job "$W/ck.tsv"
expect_rc 143 "SIGTERM with a checkpoint"
k=$(sed -nE 's/.*interrupted after iteration ([0-9]+).*/\1/p' "$tmp/out")
[ -n "$k" ] && [ -s "$W/out/ck.png" ] && [ -s "$W/out/ck.st" ] && ok || bad "a checkpointed job keeps image and checkpoint"
printf 'in/c.png\tin/s.png\tout/ck.png\t--iters %d --checkpoint out/ck.st\n' "$((k + 1))" >"$W/ck.tsv"
batch -- "$W/ck.tsv" -w synthetic:1 --size 32 -q
expect_rc 0 "resume"
grep -qE "ck.tsv:1 ok .*\(resumed after iteration $k of $((k + 1))" "$tmp/out" && ok || bad "not resumed: $(cat "$tmp/out")"
batch -- "$W/ck.tsv" -w synthetic:1 --size 32 -q
grep -qE "ck.tsv:1 skipped .*done: its checkpoint is at iteration $((k + 1)) of $((k + 1))" "$tmp/out" && ok ||
  bad "a finished checkpointed job is skipped: $(cat "$tmp/out")"

# a checkpoint that is not one: the job fails with 65 naming it, the file stays
printf 'not a checkpoint' >"$W/out/bad.st"
printf 'in/c.png\tin/s.png\tout/bc.png\t--checkpoint out/bad.st\n' >"$W/bc.tsv"
batch -- "$W/bc.tsv" "${common[@]}"
expect_rc 1 "a corrupt checkpoint"
grep -qE "bc.tsv:1 failed .*\(65 .*out/bad.st" "$tmp/out" && [ ! -e "$W/out/bc.png" ] &&
  [ "$(cat "$W/out/bad.st")" = "not a checkpoint" ] && ok || bad "a corrupt checkpoint: $(cat "$tmp/out")"

ls "$W/out" | grep -q '\.tmp-' && bad "temp files left in out/" || ok
echo "test_batch: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
