#!/usr/bin/env bash
# The GPU check, one prepared script for a borrowed NVIDIA machine (see ci/gpu-pack.sh,
# which builds what it runs into .dev/gpu/). Registers the driver's OpenCL ICD without
# touching /etc when it cannot, then: device list, self-test, the op / conv / gradient /
# golden tests on the GPU, tuning, and clstyle bench at 256 and 512 (JSON + Markdown),
# plus the PyTorch CUDA peer when torch with CUDA is importable. Results go to $OUT
# (or ./gpu-out). Each step has its own time limit; a failed step is reported and the
# next one still runs. Exit status: the number of failed steps.
set -uo pipefail
cd "$(dirname "$0")/.."
pack="$PWD/.dev/gpu"
out="${OUT:-$PWD/gpu-out}"
mkdir -p "$out"
log="$out/gpu-bench.log"
: >"$log"
say() { echo "$*" | tee -a "$log"; }
[ -x "$pack/bin/clstyle" ] || { say "gpu-bench: $pack/bin/clstyle missing: run ci/gpu-pack.sh here and carry .dev/gpu"; exit 1; }
export LD_LIBRARY_PATH="$pack${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export XDG_CACHE_HOME="$out/cache" CLSTYLE_SOURCE_DIR="$PWD"

# The NVIDIA ICD: /etc/OpenCL/vendors/nvidia.icd must name libnvidia-opencl.so.1.
nv=$(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl\.so\.1/ {print $NF; exit}')
[ -n "$nv" ] || nv=$(find / -xdev -name 'libnvidia-opencl.so.1*' 2>/dev/null | head -n 1)
if [ -z "$nv" ]; then say "gpu-bench: libnvidia-opencl.so.1 not found"; exit 1; fi
if mkdir -p /etc/OpenCL/vendors 2>/dev/null && echo "$nv" >/etc/OpenCL/vendors/nvidia.icd 2>/dev/null; then
  say "gpu-bench: /etc/OpenCL/vendors/nvidia.icd -> $nv"
else
  mkdir -p "$out/vendors" && echo "$nv" >"$out/vendors/nvidia.icd"
  export OCL_ICD_VENDORS="$out/vendors"
  say "gpu-bench: OCL_ICD_VENDORS=$OCL_ICD_VENDORS -> $nv"
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv >>"$log" 2>&1

[ -f "$pack/gpu-kernels.md" ] && cp "$pack/gpu-kernels.md" "$out/" # the kernels' registers, spills, occupancy
failed=0
step() { # step NAME SECONDS CMD...: runs CMD with a limit, output to $out/NAME.txt
  local name=$1 limit=$2; shift 2
  local t0=$SECONDS
  timeout "$limit" "$@" >"$out/$name.txt" 2>&1
  local rc=$?
  say "step $name: exit $rc after $((SECONDS - t0)) s"
  [ "$rc" -eq 0 ] || { failed=$((failed + 1)); tail -n 15 "$out/$name.txt" | tee -a "$log"; }
}
bin="$pack/bin"
step devices 30 "$bin/clstyle" devices
step selftest 120 "$bin/clstyle" selftest -d gpu
export CLSTYLE_DEVICE=gpu CLSTYLE_NO_TUNE=1
step test_ops 120 "$bin/test_ops"
step test_conv_algos 120 "$bin/test_conv_algos"
step test_gradcheck 60 "$bin/test_gradcheck"
step test_golden 120 "$bin/test_golden"
unset CLSTYLE_NO_TUNE
step tune 150 "$bin/clstyle" tune -d gpu --size 256,512
step bench 200 "$bin/clstyle" bench -d gpu --size 256,512 --iters 10 --json "$out/bench-gpu.json" --markdown
if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  for n in 256 512; do
    step "peer_cuda_$n" 120 python3 bench/peer_pytorch.py --size "$n" --iters 10 --device cuda \
      --json "$out/peer-cuda-$n.json"
  done
else
  say "gpu-bench: no PyTorch with CUDA here; peer skipped"
fi
say "gpu-bench: $failed step(s) failed; results in $out"
exit "$failed"
