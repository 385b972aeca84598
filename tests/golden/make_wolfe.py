#!/usr/bin/python3
"""Writes tests/golden/wolfe.csv: what PyTorch's strong-Wolfe line search
(torch.optim.lbfgs._strong_wolfe, defaults) returns on analytic 1-D functions, in float64,
for tests/test_linesearch.c (which defines the same functions).

    /usr/bin/python3 tests/golden/make_wolfe.py     # needs python3-torch

Each row: function, first trial step t0, the step returned, its f, the evaluations made.
The search runs on x = 0, d = 1: phi(t) = f(t), phi'(t) = f'(t).
"""
import math
import os

import torch
from torch.optim.lbfgs import _strong_wolfe

HERE = os.path.dirname(os.path.abspath(__file__))

# name: (f, f'), as tests/test_linesearch.c has them
FUNCS = {
    "quadratic": (lambda t: (t - 3.0) ** 2, lambda t: 2.0 * (t - 3.0)),
    "quartic": (lambda t: t ** 4 - 3.0 * t ** 2 - t, lambda t: 4.0 * t ** 3 - 6.0 * t - 1.0),
    "exp": (lambda t: math.exp(-t) + 0.05 * t * t, lambda t: -math.exp(-t) + 0.1 * t),
    "flat": (lambda t: -math.log(1.0 + 1e-3 * t) + 1e-9 * t ** 2, lambda t: -1e-3 / (1.0 + 1e-3 * t) + 2e-9 * t),
    "wave": (lambda t: math.sin(3.0 * t) - 0.5 * t + 0.02 * t * t, lambda t: 3.0 * math.cos(3.0 * t) - 0.5 + 0.04 * t),
}
STEPS = [1e-3, 0.1, 1.0, 7.0, 100.0]


def main():
    rows = ["func,t0,t,f,evals"]
    for name, (f, g) in FUNCS.items():
        for t0 in STEPS:
            def obj(x, t, d):
                v = float(x[0] + t * d[0])
                return f(v), torch.tensor([g(v)], dtype=torch.float64)
            x = torch.zeros(1, dtype=torch.float64)
            d = torch.ones(1, dtype=torch.float64)
            g0 = torch.tensor([g(0.0)], dtype=torch.float64)
            fn, gn, t, evals = _strong_wolfe(obj, x, t0, d, f(0.0), g0, g0.dot(d))
            rows.append("%s,%.17g,%.17g,%.17g,%d" % (name, t0, float(t), float(fn), evals))
    with open(os.path.join(HERE, "wolfe.csv"), "w") as out:
        out.write("\n".join(rows) + "\n")
    print("wrote %d cases to wolfe.csv" % (len(rows) - 1))


if __name__ == "__main__":
    main()
