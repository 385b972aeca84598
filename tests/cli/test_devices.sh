# `clstyle devices` (text and --json), missing platform and unmatched -d / CLSTYLE_DEVICE
# (exit 69 with the device list), selftest with its binary cache (second run: hits, no
# builds), and that --help / devices never compile kernels.
# usage: bash tests/cli/test_devices.sh PATH/TO/clstyle TMPDIR
set -u
CLSTYLE=${1:?usage: test_devices.sh PATH/TO/clstyle TMPDIR}
TMP=${2:?usage: test_devices.sh PATH/TO/clstyle TMPDIR}
rm -rf "$TMP" && mkdir -p "$TMP" || exit 1
unset CLSTYLE_DEVICE CLSTYLE_KERNEL_DIR CLSTYLE_NO_CACHE
export XDG_CACHE_HOME="$TMP/cache" # never the user's cache

. "$(dirname "$0")/lib.sh"
expect_in() { if grep -qiF -- "$2" "$TMP/$1"; then ok; else bad "$3: '$2' not on std$1"; fi; }

# ---- devices, text: every field of the PoCL device
run -- devices
expect_rc 0 "devices"
for field in "Portable Computing Language" "pthread" "(CPU)" "vendor:" "driver:" "OpenCL C" \
    "compute units" "MHz" "global" "max alloc" "local" "fp16" "fp64"; do
    expect_in out "$field" "devices"
done
if grep -qE '^\[[0-9]+\] [0-9]+:[0-9]+ ' "$TMP/out"; then ok; else bad "devices: no '[index] platform:device' line"; fi
ntext=$(grep -cE '^\[[0-9]+\] ' "$TMP/out")
if [ -s "$TMP/err" ]; then bad "devices wrote to stderr"; else ok; fi

# ---- devices --json: valid JSON, every key with its type, same devices as the text
run -- devices --json
expect_rc 0 "devices --json"
if python3 - "$TMP/out" "$ntext" >"$TMP/py" 2>&1 <<'EOF'
import json, sys
devs = json.load(open(sys.argv[1]))
assert isinstance(devs, list) and devs, "not a non-empty list"
assert len(devs) == int(sys.argv[2]), f"{len(devs)} devices in JSON, {sys.argv[2]} in the table"
keys = {"index": int, "platform_index": int, "device_index": int, "platform": str, "name": str,
        "type": str, "vendor": str, "driver": str, "opencl_c": str, "compute_units": int,
        "clock_mhz": int, "global_mem_bytes": int, "max_alloc_bytes": int, "local_mem_bytes": int,
        "fp16": bool, "fp64": bool, "in_all": bool}
for i, d in enumerate(devs):
    for k, t in keys.items():
        assert k in d, f"device {i}: no key {k}"
        assert type(d[k]) is t, f"device {i}: {k} is {type(d[k]).__name__}, want {t.__name__}"
    assert d["index"] == i, f"device {i} has index {d['index']}"
    assert d["type"] in ("GPU", "CPU", "accelerator", "other"), d["type"]
    assert d["opencl_c"].startswith("OpenCL C"), d["opencl_c"]
    assert d["compute_units"] > 0 and 0 < d["max_alloc_bytes"] <= d["global_mem_bytes"], d
pocl = [d for d in devs if d["platform"] == "Portable Computing Language"]
assert pocl and pocl[0]["type"] == "CPU", "no PoCL CPU device"
print(pocl[0]["index"], pocl[0]["name"])
EOF
then ok; else bad "devices --json: $(cat "$TMP/py")"; fi
read -r pocl_index pocl_name <"$TMP/py"
case "$pocl_index" in ''|*[!0-9]*) pocl_index=0 pocl_name="(PoCL device not found)" ;; esac

run -- devices --bogus
expect_rc 64 "devices --bogus"

# ---- no OpenCL platform: a clear error, exit 69, not a crash
for args in "devices" "devices --json" "selftest"; do
    run OCL_ICD_VENDORS=/nonexistent -- $args
    expect_rc 69 "OCL_ICD_VENDORS=/nonexistent $args"
    expect_in err "no OpenCL platform" "OCL_ICD_VENDORS=/nonexistent $args"
    if [ -s "$TMP/out" ] && [ "$args" != selftest ]; then bad "$args printed a list without a platform"; else ok; fi
done

# ---- a SPEC that matches nothing: exit 69, names the SPEC, lists the devices
for dflag in "-d" "--device"; do
    run -- selftest $dflag nosuchdevice
    expect_rc 69 "selftest $dflag nosuchdevice"
    expect_in err "nosuchdevice" "selftest $dflag nosuchdevice"
    expect_in err "$pocl_name" "selftest $dflag nosuchdevice (device list)"
done
run -- selftest -d 99
expect_rc 69 "selftest -d 99"
run -- selftest -d 0:99
expect_rc 69 "selftest -d 0:99"
expect_in err "available devices" "selftest -d 0:99"
run CLSTYLE_DEVICE=nosuch -- selftest
expect_rc 69 "CLSTYLE_DEVICE=nosuch selftest"
expect_in err "CLSTYLE_DEVICE" "CLSTYLE_DEVICE=nosuch selftest"
expect_in err "$pocl_name" "CLSTYLE_DEVICE=nosuch selftest (device list)"
if [ -e "$XDG_CACHE_HOME/clstyle" ]; then bad "a failed device selection created the cache"; else ok; fi

# ---- several devices (-d all, -d A,B): a device named twice 64, a SPEC that matches none 69,
# both listing the devices, nothing written; --tile with a list 64; two PoCL devices run
gold="${CLSTYLE_SOURCE_DIR:-$(dirname "$0")/../..}/tests/golden"
# (equal shares: PoCL's pthread devices share one thread pool, measured ones would leave one out;
# not the cache the selftest checks below)
two=(POCL_DEVICES="pthread pthread" CLSTYLE_NO_TUNE=1 CLSTYLE_EQUAL_SHARES=1 XDG_CACHE_HOME="$TMP/cache-multi")
job=(-c "$gold/content.png" -s "$gold/style.png" -w synthetic:1 --size 48 -n 1 -o "$TMP/multi.png")
run "${two[@]}" -- devices
expect_in out "-d all uses: [0] [1]" "devices with two PoCL devices"
run "${two[@]}" -- "${job[@]}" -d 0,0
expect_rc 64 "-d 0,0"
expect_in err "again" "-d 0,0"
expect_in err "[1] " "-d 0,0 (device list)"
run "${two[@]}" -- "${job[@]}" -d 1,nosuch
expect_rc 69 "-d 1,nosuch"
expect_in err "'nosuch' matches no OpenCL device" "-d 1,nosuch"
run "${two[@]}" -- "${job[@]}" -d 0, 
expect_rc 64 "-d '0,'"
run "${two[@]}" -- "${job[@]}" -d all --tile 96
expect_rc 64 "-d all --tile 96"
if [ -e "$TMP/multi.png" ]; then bad "a refused device list wrote the output"; else ok; fi
run "${two[@]}" -- "${job[@]}" -d all
expect_rc 0 "-d all with two PoCL devices"
expect_in err "devices: 2 together" "-d all with two PoCL devices"
run POCL_DEVICES="pthread pthread" CLSTYLE_NO_TUNE=1 XDG_CACHE_HOME="$TMP/cache-multi" -- "${job[@]}" -d all
expect_rc 0 "-d all, measured shares"
expect_in err "devices: " "-d all, measured shares"
# a checkpoint of a run in bands holds no device state: it resumes on one device
run "${two[@]}" -- "${job[@]}" -d all -n 2 --checkpoint "$TMP/multi.ckpt"
expect_rc 0 "-d all --checkpoint"
run "${two[@]}" -- "${job[@]}" -d 0 -n 3 --resume "$TMP/multi.ckpt"
expect_rc 0 "--resume on one device after -d all"
expect_in err "resum" "--resume on one device after -d all"
run POCL_DEVICES=pthread CLSTYLE_NO_TUNE=1 XDG_CACHE_HOME="$TMP/cache-multi" -- "${job[@]}" -d all
expect_rc 0 "-d all with one device"
expect_in err "one device, an ordinary run" "-d all with one device"

# ---- --help and devices compile nothing and need no kernel sources (fresh, empty caches)
help_cache="$TMP/cache-help" dev_cache="$TMP/cache-devices"
mkdir -p "$help_cache" "$dev_cache"
run XDG_CACHE_HOME="$help_cache" -- --help
expect_rc 0 "--help"
run XDG_CACHE_HOME="$help_cache" -- selftest --help
expect_rc 0 "selftest --help"
run XDG_CACHE_HOME="$help_cache" -- devices --help
expect_rc 0 "devices --help"
if [ -z "$(find "$help_cache" -mindepth 1)" ]; then ok; else bad "--help touched the cache: $(find "$help_cache")"; fi
run XDG_CACHE_HOME="$dev_cache" -- devices
run XDG_CACHE_HOME="$dev_cache" CLSTYLE_KERNEL_DIR=/nonexistent -- devices
expect_rc 0 "CLSTYLE_KERNEL_DIR=/nonexistent devices"
expect_in out "$pocl_name" "CLSTYLE_KERNEL_DIR=/nonexistent devices"
run XDG_CACHE_HOME="$dev_cache" CLSTYLE_KERNEL_DIR=/nonexistent -- devices --json
expect_rc 0 "CLSTYLE_KERNEL_DIR=/nonexistent devices --json"
run XDG_CACHE_HOME="$help_cache" CLSTYLE_KERNEL_DIR=/nonexistent -- --help
expect_rc 0 "CLSTYLE_KERNEL_DIR=/nonexistent --help"
if [ -z "$(find "$help_cache" -mindepth 1)" ]; then ok; else bad "--help touched the cache: $(find "$help_cache")"; fi
# PoCL itself leaves empty temp files in $XDG_CACHE_HOME/pocl; compiled kernels are never empty
if [ -e "$dev_cache/clstyle" ]; then bad "devices created $dev_cache/clstyle"; else ok; fi
if [ -z "$(find "$dev_cache" -type f -size +0)" ]; then ok; else
    bad "devices left compiled files: $(find "$dev_cache" -type f -size +0)"; fi

# ---- selftest with a missing kernel folder: a clear error naming the path
run CLSTYLE_KERNEL_DIR=/nonexistent -- selftest
if [ "$rc" -ne 0 ]; then ok; else bad "CLSTYLE_KERNEL_DIR=/nonexistent selftest passed"; fi
expect_in err "/nonexistent/" "CLSTYLE_KERNEL_DIR=/nonexistent selftest"

# ---- selftest: builds and fills the cache, then a second run only loads it
run -- selftest
expect_rc 0 "selftest"
expect_in out "selftest passed" "selftest"
if grep -qE 'cache .*: 0 hits, [1-9][0-9]* misses, [1-9][0-9]* builds' "$TMP/out"; then ok; else
    bad "first selftest: want 0 hits and some builds"; fi
nbins=$(find "$XDG_CACHE_HOME/clstyle" -name '*.bin' 2>/dev/null | wc -l)
if [ "$nbins" -gt 0 ]; then ok; else bad "selftest wrote no cache entries"; fi
run -- selftest -d "$pocl_index"
expect_rc 0 "second selftest"
if grep -qE "cache .*: $nbins hits, 0 misses, 0 builds" "$TMP/out"; then ok; else
    bad "second selftest: want $nbins hits, 0 misses, 0 builds"; fi
# every SPEC form reaches the same device, each from the cache
for spec in "$pocl_index" "cpu" "CPU" "pthread" "PTHREAD"; do
    run -- selftest -d "$spec"
    expect_rc 0 "selftest -d $spec"
    expect_in out "$pocl_name" "selftest -d $spec"
    expect_in out " 0 builds" "selftest -d $spec"
done
run CLSTYLE_DEVICE=cpu -- selftest
expect_rc 0 "CLSTYLE_DEVICE=cpu selftest"
run CLSTYLE_DEVICE=nosuch -- selftest -d cpu
expect_rc 0 "-d cpu overrides CLSTYLE_DEVICE=nosuch"
# the cache off: everything built again, nothing written
run CLSTYLE_NO_CACHE=1 -- selftest
expect_rc 0 "CLSTYLE_NO_CACHE=1 selftest"
expect_in out "cache off: 0 hits, 0 misses, $nbins builds" "CLSTYLE_NO_CACHE=1 selftest"

echo "test_devices: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
