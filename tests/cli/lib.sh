# Shared harness of the CLI tests (sourced, not run): pass/fail counters and a runner.
# Needs $CLSTYLE (the binary) and $TMP (the test's scratch folder).
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() {
    failed=$((failed + 1))
    echo "FAIL: $*" >&2
    for f in "$TMP/out" "$TMP/err"; do
        if [ -s "$f" ]; then echo "--- ${f##*/}:" >&2; head -n 20 "$f" >&2; fi
    done
}
# run [VAR=value ...] -- ARGS...: runs clstyle with the given environment, sets $rc
run() {
    local envs=()
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    env ${envs[@]+"${envs[@]}"} "$CLSTYLE" "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
}
expect_rc() { if [ "$rc" -eq "$1" ]; then ok; else bad "$2: exit $rc, want $1"; fi; }
