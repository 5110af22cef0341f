"""Would in-place state or a compiled kernel bring Adam to torch's speed at 10^6 parameters?

Usage (from the repository root, with a Python that has torch, e.g. the .venv-golden of `make golden`;
numba is optional: `.venv-golden/bin/pip install numba`)::

    .venv-golden/bin/python benchmarks/adam_kernels.py [--n 1000000] [--rounds 9]

Issue #20 allows a fast path that updates "the transform's own state arrays" in place. This script
times one Adam step (lr 1e-3, default betas) four ways:

* ``torch.optim.Adam(foreach=False).step()``: in place, fused ``lerp_``/``addcmul_``/``addcdiv_``;
* lib's ``adam``: ``update`` + ``apply_updates``, fresh state and parameters (the functional API);
* the same NumPy passes with the moments updated *in place* and one scratch array kept between
  steps (the permitted fast path), returning fresh parameters, and with the parameters in place too
  (torch's model, which the functional API rules out);
* a numba kernel, one fused loop writing fresh ``m``, ``v`` and parameters (a compiled dependency).

Each candidate runs the same 20 steps first and must reproduce lib's parameters: bitwise for the NumPy
variants (same operations in the same order), to 1e-12 of max |p| for numba and torch in float64
(different operation orders). Single-threaded, ``import lib`` first (its malloc settings), CPU time of this thread,
median over ``--rounds`` interleaved rounds of 20 steps. The README's Performance section quotes a run.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"  # before NumPy, torch and numba load

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np  # noqa: E402

import lib  # noqa: E402, F401  (lib's malloc settings, as in the chapters)
from benchmarks.sgd_kernels import interleaved_table  # noqa: E402  (the same timing loop and table)
from lib import optim  # noqa: E402

LR, B1, B2, EPS = 1e-3, 0.9, 0.999, 1e-8


def lib_adam(p0, g):
    tx = optim.adam(LR)
    s = {"p": p0.copy(), "state": tx.init(p0)}

    def step():
        u, s["state"] = tx.update(g, s["state"], s["p"])
        s["p"] = optim.apply_updates(s["p"], u)

    return step, s


def in_place_state(p0, g, params_in_place=False):
    """lib's passes (adaptive.scale_by_adam, scale_by_learning_rate, apply_updates) on owned arrays."""
    s = {"p": p0.copy(), "m": np.zeros_like(p0), "v": np.zeros_like(p0), "t": 0}
    s["tmp"], s["denom"] = np.empty_like(p0), np.empty_like(p0)  # scratch kept between steps

    def step():
        s["t"] += 1
        bc1, bc2 = 1.0 - B1 ** s["t"], 1.0 - B2 ** s["t"]
        m, v, tmp, denom = s["m"], s["v"], s["tmp"], s["denom"]
        np.subtract(g, m, out=tmp)  # m + (1-b1)(g - m), torch's lerp_
        tmp *= 1.0 - B1
        m += tmp
        np.multiply(g, g, out=tmp)  # (1-b2) g² + b2 v
        tmp *= 1.0 - B2
        v *= B2
        v += tmp
        np.sqrt(v, out=denom)
        denom *= bc1 / math.sqrt(bc2)
        denom += bc1 * EPS
        np.divide(m, denom, out=denom)
        denom *= -LR
        if params_in_place:
            s["p"] += denom
        else:
            s["p"] = s["p"] + denom

    return step, s


def numba_fused(p0, g):
    import numba

    @numba.njit(cache=False)
    def kernel(p, g, m, v, p_new, m_new, v_new, w1, b2, c, step_size, eps):
        for i in range(p.size):
            mi = m[i] + w1 * (g[i] - m[i])
            vi = (1.0 - b2) * (g[i] * g[i]) + v[i] * b2
            m_new[i], v_new[i] = mi, vi
            p_new[i] = p[i] + -step_size * (mi / ((math.sqrt(vi) * c) + eps))

    s = {"p": p0.copy(), "m": np.zeros_like(p0), "v": np.zeros_like(p0), "t": 0}
    dt = p0.dtype.type

    def step():
        s["t"] += 1
        bc1, bc2 = 1.0 - B1 ** s["t"], 1.0 - B2 ** s["t"]
        new = [np.empty_like(p0) for _ in range(3)]
        # the same scalars as the NumPy passes: u = m / (bc1 (sqrt(v)/sqrt(bc2) + eps)), times -lr
        kernel(s["p"], g, s["m"], s["v"], *new, dt(1 - B1), dt(B2), dt(bc1 / math.sqrt(bc2)), dt(LR), dt(bc1 * EPS))
        s["p"], s["m"], s["v"] = new

    c = time.perf_counter()
    step()  # compiles
    print(f"numba {numba.__version__}: compiled in {time.perf_counter() - c:.2f} s", file=sys.stderr)
    s.update(p=p0.copy(), m=np.zeros_like(p0), v=np.zeros_like(p0), t=0)
    return step, s


def torch_adam(p0, g):
    import torch

    torch.set_num_threads(1)
    p = torch.nn.Parameter(torch.from_numpy(p0.copy()))
    p.grad = torch.from_numpy(g.copy())
    opt = torch.optim.Adam([p], lr=LR, foreach=False)
    return opt.step, {"p": p}


def candidates(n: int, dtype) -> dict:
    rng = np.random.default_rng(0)
    p0, g = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
    out = {
        "torch Adam.step (in place)": torch_adam(p0, g),
        "lib adam (functional)": lib_adam(p0, g),
        "NumPy, state in place": in_place_state(p0, g),
        "NumPy, state and params in place": in_place_state(p0, g, params_in_place=True),
    }
    try:
        out["numba, one fused loop, fresh arrays"] = numba_fused(p0, g)
    except ImportError:
        print("numba not installed: `pip install numba` to time it", file=sys.stderr)
    for _ in range(20):  # the same 20 steps for all: they must agree with lib
        for step, _s in out.values():
            step()
    ref = out["lib adam (functional)"][1]["p"]
    for name, (_step, s) in out.items():
        p = s["p"].detach().numpy() if hasattr(s["p"], "detach") else s["p"]
        if name.startswith("NumPy"):
            assert np.array_equal(p, ref), f"{name} does not reproduce lib's parameters bitwise"
        else:
            err = np.max(np.abs(p - ref)) / np.max(np.abs(ref))
            tol = 1e-12 if dtype == np.float64 else 1e-5
            assert err < tol, f"{name} differs from lib by {err:.1e} (relative to max |p|)"
    return {name: step for name, (step, _s) in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10**6)
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args()
    for dtype in (np.float64, np.float32):
        title = f"{args.n:,} parameters, {np.dtype(dtype).name}: CPU ms per Adam step"
        interleaved_table(candidates(args.n, dtype), args.rounds, 20, "torch Adam.step (in place)", title)


if __name__ == "__main__":
    main()
