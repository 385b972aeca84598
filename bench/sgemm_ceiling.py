#!/usr/bin/env python3
"""The machine's practical SGEMM ceiling: float32 square matrix products through the
system BLAS (PyTorch's torch.mm on Debian's python3-torch calls libblas.so.3, which the
alternatives system points at OpenBLAS when libopenblas0-pthread is installed), all
cores, best of --reps after a warm-up. Prints GFLOP/s per size and the BLAS library
actually mapped into the process.
    /usr/bin/python3 bench/sgemm_ceiling.py [--sizes 1024,2048,4096] [--reps 5] [--json FILE]
"""
import argparse
import json
import os
import time

import torch


def blas_libraries():
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if "blas" in os.path.basename(path).lower():
                libs.add(os.path.realpath(path))
    return sorted(libs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1024,2048,4096")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        a, b = torch.randn(n, n), torch.randn(n, n)
        torch.mm(a, b)
        best = min(timed(lambda: torch.mm(a, b)) for _ in range(args.reps))
        rows.append({"n": n, "seconds": best, "gflops": 2.0 * n ** 3 / best / 1e9})
        print(f"SGEMM {n}x{n}x{n}: {rows[-1]['gflops']:.1f} GFLOP/s")
    libs = blas_libraries()
    print("threads:", torch.get_num_threads(), "BLAS:", ", ".join(libs) or "(none mapped)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": torch.get_num_threads(), "blas": libs, "results": rows}, f, indent=2)


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
