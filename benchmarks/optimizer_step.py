"""Time one optimizer step on 10**6 float64 parameters: lib.optim vs torch.optim.

Usage (from the repository root; torch is optional)::

    python benchmarks/optimizer_step.py [--n 1000000] [--steps 30] [--repeats 5]

For each optimizer, one *step* is ``tx.update(grads, state, params)`` followed by
``apply_updates`` for lib, and ``opt.step()`` (which updates the parameters in place) for
torch, with the gradient already in place. Both run single-threaded (``torch.set_num_threads(1)``,
``foreach=False``: torch's per-tensor loop, the CPU default), after warm-up steps; the time
reported is the best of ``--repeats`` runs of ``--steps`` steps, divided by ``--steps``. The
ratio column is lib / torch: the goal for Adam is at most 1.5.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import lib.optim as optim  # noqa: E402

# lib name -> (lib keyword arguments, torch.optim class or None); torch's defaults otherwise
OPTIMIZERS = {
    "sgd (momentum)": ("sgd", dict(lr=1e-3, momentum=0.9), "SGD"),
    "adagrad": ("adagrad", dict(), "Adagrad"),
    "rmsprop": ("rmsprop", dict(), "RMSprop"),
    "rmsprop (centered, momentum)": ("rmsprop", dict(centered=True, momentum=0.9), "RMSprop"),
    "adam": ("adam", dict(), "Adam"),
    "adam (amsgrad)": ("adam", dict(amsgrad=True), "Adam"),
    "adamw": ("adamw", dict(), "AdamW"),
    "adamax": ("adamax", dict(), "Adamax"),
    "nadam": ("nadam", dict(), "NAdam"),
    "radam": ("radam", dict(), "RAdam"),
    "adabelief": ("adabelief", dict(lr=1e-3), None),
}


def best_time_per_step(step, steps: int, repeats: int, warmup: int = 5) -> float:
    for _ in range(warmup):
        step()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        best = min(best, (time.perf_counter() - t0) / steps)
    return best


def time_lib(fn: str, kwargs: dict, n: int, steps: int, repeats: int) -> float:
    rng = np.random.default_rng(0)
    box = {"params": rng.standard_normal(n)}
    grads = rng.standard_normal(n)
    tx = getattr(optim, fn)(**kwargs)
    box["state"] = tx.init(box["params"])

    def step():
        updates, box["state"] = tx.update(grads, box["state"], box["params"])
        box["params"] = optim.apply_updates(box["params"], updates)

    return best_time_per_step(step, steps, repeats)


def time_torch(cls: str, kwargs: dict, n: int, steps: int, repeats: int) -> float:
    import torch

    rng = np.random.default_rng(0)
    p = torch.tensor(rng.standard_normal(n), dtype=torch.float64, requires_grad=True)
    p.grad = torch.tensor(rng.standard_normal(n), dtype=torch.float64)
    opt = getattr(torch.optim, cls)([p], **kwargs, foreach=False)
    with torch.no_grad():
        return best_time_per_step(opt.step, steps, repeats)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10**6)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    try:
        import torch

        torch.set_num_threads(1)
        versions = f"torch {torch.__version__}, "
    except ImportError:
        torch = None
        versions = "torch not installed, "
    print(
        f"{args.n:,} float64 parameters; {versions}NumPy {np.__version__}; best of {args.repeats} x {args.steps} steps"
    )
    print(f"{'optimizer':30s} {'lib (ms)':>9s} {'torch (ms)':>10s} {'lib/torch':>9s}")
    for label, (fn, kwargs, cls) in OPTIMIZERS.items():
        t_lib = time_lib(fn, kwargs, args.n, args.steps, args.repeats)
        if torch is not None and cls is not None:
            t_torch = time_torch(cls, {k: v for k, v in kwargs.items()}, args.n, args.steps, args.repeats)
            print(f"{label:30s} {1e3 * t_lib:9.2f} {1e3 * t_torch:10.2f} {t_lib / t_torch:9.2f}")
        else:
            print(f"{label:30s} {1e3 * t_lib:9.2f} {'-':>10s} {'-':>9s}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
