# The common start of a CLI test (sourced, not run): set -u; $bin and $tmp from the
# arguments (tmp emptied), $src, the golden images $C and $S, a private XDG_CACHE_HOME,
# and the pass/fail counters with ok / bad.
set -u
bin="$1"; tmp="$2"
rm -rf "$tmp"; mkdir -p "$tmp"
src="${CLSTYLE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
C="$src/tests/golden/content.png"; S="$src/tests/golden/style.png"
export XDG_CACHE_HOME="$tmp/cache"
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { echo "FAIL: $*"; fail=$((fail+1)); }
