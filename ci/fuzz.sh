#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang into build-fuzz and runs each one for
# FUZZ_SECONDS (default 60) from its seed corpus. Fails on any crash, leak, timeout or
# sanitizer report; reproducers land in build-fuzz/artifacts/. Usage: ci/fuzz.sh [NAME...]
set -euo pipefail
cd "$(dirname "$0")/.."
CLSTYLE_SETUP_FUZZ=1 bash ci/setup.sh

seconds="${FUZZ_SECONDS:-60}"
dir=build-fuzz
CC=clang cmake -S . -B "$dir" -DCLSTYLE_FUZZ=ON -DCLSTYLE_TESTS=OFF
cmake --build "$dir" -j"$(nproc)" --target fuzz

artifacts="$PWD/$dir/artifacts"
mkdir -p "$artifacts"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

# Reproducers libFuzzer writes on failure: crash-*, leak-*, timeout-*, oom-*.
count_artifacts() {
  find "$artifacts" -maxdepth 1 -type f \( -name "fuzz_$1-crash-*" -o -name "fuzz_$1-leak-*" \
    -o -name "fuzz_$1-timeout-*" -o -name "fuzz_$1-oom-*" \) | wc -l
}

names=("$@")
[ "${#names[@]}" -gt 0 ] || names=(safetensors checkpoint png jpeg)
failed=0
for name in "${names[@]}"; do
  bin="$dir/tests/fuzz/fuzz_$name"
  seeds="tests/fuzz/corpus_$name"
  scratch="$dir/corpus/$name" # libFuzzer writes new inputs into the FIRST corpus folder
  [ -x "$bin" ] || { echo "fuzz: no harness $bin" >&2; exit 64; }
  [ -d "$seeds" ] || { echo "fuzz: no seed corpus $seeds" >&2; exit 66; }
  mkdir -p "$scratch"
  dict=()
  [ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
  before=$(count_artifacts "$name")
  echo "fuzz: fuzz_$name for ${seconds}s"
  rc=0
  "$bin" "$scratch" "$seeds" "${dict[@]}" -max_total_time="$seconds" -max_len=65536 \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/fuzz_$name-" >"$dir/fuzz_$name.log" 2>&1 || rc=$?
  after=$(count_artifacts "$name")
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|^Done ' "$dir/fuzz_$name.log" || true
  if [ "$rc" -ne 0 ] || [ "$after" -ne "$before" ] ||
     grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$dir/fuzz_$name.log"; then
    echo "fuzz: fuzz_$name FAILED (exit $rc); log $dir/fuzz_$name.log, artifacts:" >&2
    find "$artifacts" -maxdepth 1 -type f -name "fuzz_$name-*" >&2
    tail -n 60 "$dir/fuzz_$name.log" >&2
    failed=1
  else
    echo "fuzz: fuzz_$name passed"
  fi
done
exit "$failed"
