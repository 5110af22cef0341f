"""Could a fused kernel close the gap at 10^6 parameters? One plain SGD step, four ways.

Usage (from the repository root, with a Python that has torch, e.g. the .venv-golden of `make golden`;
numexpr, scipy and numba are optional: `.venv-golden/bin/pip install numexpr scipy numba`)::

    .venv-golden/bin/python benchmarks/sgd_kernels.py [--n 1000000] [--rounds 9]

torch's SGD step is one fused, in-place ``param.add_(grad, alpha=-lr)``. lib's is two NumPy passes
that return fresh arrays (``u = -lr * g`` in ``update``, ``p + u`` in ``apply_updates``). The
candidates that would fuse them: ``numexpr`` (``p - lr * g`` in one blocked pass, into a fresh
array) and BLAS ``axpy`` (one pass, in place: on a copy of ``p``, since the functional API must
not modify the caller's parameters), and a numba loop compiled to machine code (one pass into a fresh
array). Everything single-threaded (``OMP/OPENBLAS/MKL_NUM_THREADS=1``,
``torch.set_num_threads(1)``, ``numexpr.set_num_threads(1)``), ``import lib`` first (its malloc
settings, ``lib/_memory.py``), CPU time of this thread per step, median over ``--rounds`` rounds of
50 steps, the candidates interleaved round by round. The README's Performance section quotes a run.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"  # before NumPy, torch and numexpr load

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np  # noqa: E402

import lib  # noqa: E402, F401  (lib's malloc settings, as in the chapters)
from lib import optim  # noqa: E402


def kernels(n: int, dtype) -> dict:
    import torch

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    p, g, lr = rng.random(n).astype(dtype), rng.random(n).astype(dtype), 1e-3
    tp, tg = torch.from_numpy(p.copy()), torch.from_numpy(g.copy())
    tx = optim.sgd(lr=lr)
    state = tx.init(p)

    def lib_step():
        u, _ = tx.update(g, state, p)
        return optim.apply_updates(p, u)

    out = {"torch add_ (in place)": lambda: tp.add_(tg, alpha=-lr), "lib (2 NumPy passes)": lib_step}
    try:
        import numexpr

        numexpr.set_num_threads(1)
        c = dtype(lr)
        out[f"numexpr {numexpr.__version__} (1 pass)"] = lambda: numexpr.evaluate(
            "p - c * g", local_dict={"p": p, "g": g, "c": c}
        )
    except ImportError:
        print("numexpr not installed: `pip install numexpr` to time it", file=sys.stderr)
    try:
        from scipy.linalg import blas

        axpy = blas.daxpy if dtype == np.float64 else blas.saxpy
        out["BLAS axpy on a copy of p"] = lambda: axpy(g, p.copy(), a=-lr)
    except ImportError:
        print("scipy not installed: `pip install scipy` to time BLAS axpy", file=sys.stderr)
    try:
        import numba

        @numba.njit(cache=False)
        def fused(p, g, c, out):
            for i in range(p.size):
                out[i] = p[i] + c * g[i]
            return out

        c = dtype(-lr)
        fused(p[:4], g[:4], c, np.empty(4, dtype))  # compile
        out[f"numba {numba.__version__} (1 loop, fresh)"] = lambda: fused(p, g, c, np.empty_like(p))
    except ImportError:
        print("numba not installed: `pip install numba` to time it", file=sys.stderr)
    return out


def interleaved_table(ks: dict, rounds: int, steps: int, base: str, title: str) -> None:
    """Time each callable of ``ks`` for ``steps`` calls per round, the order alternating round by
    round, and print the median CPU ms [min-max] and the ratio to ``ks[base]``."""
    times = {name: [] for name in ks}
    for r in range(rounds):
        for name in list(ks)[:: 1 if r % 2 == 0 else -1]:
            ks[name]()  # warm
            c = time.thread_time()
            for _ in range(steps):
                ks[name]()
            times[name].append((time.thread_time() - c) / steps)
    ref = np.median(times[base])
    print(f"\n{title}, median [min-max] of {rounds}")
    width = max(map(len, ks))
    for name, ts in times.items():
        ts = np.array(ts)
        print(
            f"  {name:{width}s} {1e3 * np.median(ts):7.3f} [{1e3 * ts.min():.3f}-{1e3 * ts.max():.3f}]"
            f"  x{np.median(ts) / ref:5.2f} torch"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10**6)
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args()
    for dtype in (np.float64, np.float32):
        title = f"{args.n:,} parameters, {np.dtype(dtype).name}: CPU ms per SGD step"
        interleaved_table(kernels(args.n, dtype), args.rounds, 50, "torch add_ (in place)", title)


if __name__ == "__main__":
    main()
