"""Time one step of every raced optimizer on a 2-D test function: the chapters' common case.

Usage (from the repository root; no torch needed)::

    .venv/bin/python benchmarks/small_steps.py                 # every optimizer the race uses
    .venv/bin/python benchmarks/small_steps.py --only adam,sgd --function beale

A step is what :func:`lib.optim.run` does once: the gradient of the test function at one point,
``update``, ``apply_updates`` and the divergence check. On a 2-vector the arithmetic is a few
microseconds; the rest is Python overhead, which is what this measures. Each optimizer runs
``--steps`` steps ``--repeats`` times at learning rate 1e-3; the table gives the fastest repeat (CPU time of the thread), in
microseconds per step, and the sum over the optimizers.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lib import compare, functions, optim  # noqa: E402
from lib.widgets.compare import RACE_ALL  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="", help="comma-separated optimizer names (default: the race's)")
    ap.add_argument("--function", default="ravine", help="a test function of lib.functions")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args(argv)
    registry = compare.named_optimizers()
    names = [n for n in args.only.split(",") if n] or list(RACE_ALL)
    unknown = [n for n in names if n not in registry]
    if unknown:
        ap.error(f"unknown optimizers {unknown}; choose from {sorted(registry)}")
    f = functions.get(args.function)
    x0 = np.array(f.start, dtype=float)
    total = 0.0
    print(f"{args.function}, {args.steps} steps, fastest of {args.repeats}: microseconds per step")
    for name in names:
        tx = registry[name](1e-3)
        optim.run(tx, f.grad, x0, 20)  # warm-up (compiles the gradient)
        best = float("inf")
        for _ in range(args.repeats):
            t = time.thread_time()
            optim.run(tx, f.grad, x0, args.steps)
            best = min(best, time.thread_time() - t)
        us = best / args.steps * 1e6
        total += us
        print(f"  {name:22s} {us:6.1f}")
    print(f"  {'sum':22s} {total:6.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
