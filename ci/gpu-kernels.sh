#!/usr/bin/env bash
# The cross-vendor compile gate: every kernel build the library may make (the tunables
# table, listed by BUILD_DIR/kernel_builds: each kernel file with its transform lanes,
# gemm.cl with every tile setting the tuner offers, for the cpu and the gpu row) compiled
# with Debian's clang-15 for AMD gfx90a and gfx1030 (linked with Debian's
# rocm-device-libs, so builtins are real code, not external calls) and NVIDIA nvptx64
# (linked with libclc). Prints one row per kernel: VGPRs, SGPRs, spills, scratch bytes
# and occupancy (waves per SIMD) on AMD; PTX virtual registers (ptxas, which assigns the
# real ones, is not in Debian) and local-memory bytes on NVPTX. Every __kernel of a file
# must appear in each target's output, else the gate fails (nothing goes unchecked).
# Fails on any compile error, and on any spill, scratch or local memory, or an AMD
# occupancy under 4, in a build of the gpu row (the kernels offered to GPU devices); the
# cpu row's builds only have to compile. Usage: ci/gpu-kernels.sh [BUILD_DIR] (about 1 min)
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-build}"
CLSTYLE_SETUP_GPUGATE=1 bash ci/setup.sh >/dev/null
[ -x "$dir/kernel_builds" ] || { echo "gpu-kernels: no $dir/kernel_builds (build first)" >&2; exit 66; }
builds="$(mktemp)"
"$dir/kernel_builds" >"$builds" || { echo "gpu-kernels: $dir/kernel_builds failed" >&2; exit 70; }
[ "$(wc -l <"$builds")" -ge 20 ] || { echo "gpu-kernels: $dir/kernel_builds listed under 20 builds" >&2; exit 70; }
amdlib=/usr/lib/x86_64-linux-gnu/amdgcn/bitcode
clc=/usr/lib/clc/nvptx64--nvidiacl.bc
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp" "$builds"' EXIT
cc=(clang-15 -x cl -cl-std=CL1.2 -Xclang -finclude-default-header -O3 -S -Wno-linker-warnings)
report="$dir/gpu-kernels.md"
: >"$tmp/rows"
failed=0
n=0
while IFS=$'\t' read -r row file options; do
  n=$((n + 1))
  # the source as the host compiles it: cl/common.cl, then the file (host/program.c)
  { cat cl/common.cl; printf '#line 1 "%s"\n' "$file"; cat "cl/$file"; } >"$tmp/src$n.cl"
  read -r -a opts <<<"$options"
  for target in gfx90a gfx1030 nvptx64; do
    out="$tmp/$n-$target.s"
    if [ "$target" = nvptx64 ]; then
      args=(-target nvptx64-unknown-nvidiacl -Xclang -mlink-builtin-bitcode -Xclang "$clc")
    else
      args=(-target amdgcn-amd-amdhsa -mcpu="$target" --rocm-device-lib-path="$amdlib")
    fi
    if ! "${cc[@]}" "${args[@]}" ${opts[@]+"${opts[@]}"} "$tmp/src$n.cl" -o "$out" 2>"$tmp/log"; then
      echo "gpu-kernels: $file '$options' does not compile for $target:" >&2
      head -n 20 "$tmp/log" >&2
      failed=1
      continue
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$row" "$file" "$options" "$target" "$out" "$tmp/src$n.cl" >>"$tmp/rows"
  done
done <"$builds"

/usr/bin/env python3 - "$tmp/rows" "$report" <<'PY' || failed=1
import re, sys
rows, report = sys.argv[1], sys.argv[2]
lines, bad = [], []
head = "| row | file | options | kernel | target | VGPRs (AMD) / PTX vregs | SGPRs | spills | scratch / local B | occupancy |"
lines += [head, "|" + "---|" * 10]
for rec in open(rows):
    row, file, options, target, path, src = rec.rstrip("\n").split("\t")
    asm = open(path).read()
    declared = set(re.findall(r"__kernel\b(?:\s+__attribute__\(\(.*?\)\))?\s+void\s+(\w+)", open(src).read(), re.S))
    kernels = []
    if target == "nvptx64":
        for m in re.finditer(r"\.entry (\w+)\((.*?)\n}\n", asm, re.S):
            body = m.group(2)
            regs = sum(int(x) for x in re.findall(r"\.reg \.(?:f32|b32|s32|u32|pred|b64|s64|u64|f64|b16|f16)\s+%\w+<(\d+)>", body))
            local = sum(int(x) for x in re.findall(r"\.local \.align \d+ \.b8\s+\w+\[(\d+)\]", body))
            kernels.append((m.group(1), str(regs), "-", "-", local, None))
    else:
        occ = re.findall(r"; Occupancy: (\d+)", asm)
        meta = asm[asm.index("amdhsa.kernels:"):]
        for blk in re.split(r"\n  - ", meta)[1:]:
            d = dict(re.findall(r"\.(name|vgpr_count|sgpr_count|vgpr_spill_count|sgpr_spill_count|private_segment_fixed_size):\s+(\S+)", blk))
            if "name" not in d: continue
            spills = int(d.get("vgpr_spill_count", 0)) + int(d.get("sgpr_spill_count", 0))
            kernels.append((d["name"], d["vgpr_count"], d["sgpr_count"], spills, int(d["private_segment_fixed_size"]), None))
        # one "; Occupancy" per kernel, in the order of the functions; helper functions have none
        names = re.findall(r"^(\w+):\s*; @(\w+)", asm, re.M)
        kern_order = [k for k, _ in re.findall(r"\.amdhsa_kernel (\w+)()", asm)]
        occ_by = dict(zip(kern_order, occ))
        kernels = [(k, v, s, sp, sc, int(occ_by.get(k, 0))) for k, v, s, sp, sc, _ in kernels]
    found = {k[0] for k in kernels}
    if not declared or found != declared:
        bad.append(f"{file} '{options}' on {target}: kernels in the output {sorted(found)}, in the source {sorted(declared)}")
    for name, v, s, sp, sc, oc in kernels:
        gate = row == "gpu"
        why = []
        if gate and sp not in ("-", 0): why.append(f"{sp} spills")
        if gate and sc: why.append(f"{sc} B of {'scratch' if target != 'nvptx64' else 'local memory'}")
        if gate and oc is not None and oc < 4: why.append(f"occupancy {oc} < 4")
        if why: bad.append(f"{file} '{options}' {name} on {target}: " + ", ".join(why))
        lines.append(f"| {row} | {file} | {options or '-'} | {name} | {target} | {v} | {s} | {sp} | {sc} | {'-' if oc is None else oc} |")
open(report, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
for b in bad: print("gpu-kernels: FAIL:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
if [ "$failed" -ne 0 ]; then echo "gpu-kernels: FAILED (table in $report)" >&2; exit 1; fi
echo "gpu-kernels: $n builds x 3 targets compile; no spill, scratch or occupancy under 4 in the gpu row (table in $report)"
