"""Record golden ``torch.optim.LBFGS`` runs for the tests of :mod:`lib.second_order.quasi_newton`.

What it records
---------------
For every *case* (LBFGS hyperparameters, a problem, a number of ``step`` calls) this script
runs the real ``torch.optim.LBFGS`` (torch 2.13.0) in float64 and stores

* every point at which the closure was evaluated, in order (``case/<c>/evals``, shape
  ``(n_evals, n)``): this pins down the line search trial by trial;
* the parameters after each ``step`` call (``case/<c>/x``, ``(steps + 1, n)``, row 0 = x0),
  the loss each call returned (``case/<c>/loss``) and the state counters ``func_evals`` and
  ``n_iter`` after each call (``case/<c>/func_evals``, ``case/<c>/n_iter``).

The loss and gradient are computed with NumPy on both sides (the closure converts the torch
parameter to NumPy and writes ``p.grad``), so only the optimizer's arithmetic is compared.
Problems (their data are stored in the file under ``problem/<p>/...``):

* ``rosenbrock``: :math:`f = (1 - x)^2 + 100 (y - x^2)^2` from ``(-1.2, 1)``;
* ``rosenbrock6``: the extended (chained) Rosenbrock function in 6 dimensions;
* ``lsq``: :math:`f = \\tfrac12\\lVert A x - b\\rVert^2` with a seeded ``A`` (30 x 8), ``b``.

``meta`` is one JSON string (versions, problems, cases with their torch keyword arguments).
Runs are kept short enough that floating-point differences stay below 1e-11: torch's
``p.add_(d, alpha=t)`` is a fused multiply-add and its BLAS ``dot`` sums in its own order,
so the last bits differ from NumPy's ``x + t * d`` and ``x @ y``, and on Rosenbrock the
iteration amplifies such differences by about ten per ten evaluations.
Run with ``make golden`` or ``.venv-golden/bin/python tests/golden/record_second_order.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

TORCH_VERSION = "2.13.0"
OUT = Path(__file__).resolve().parents[1] / "data" / "second_order_torch.npz"


def rosenbrock(x: np.ndarray) -> tuple[float, np.ndarray]:
    """Extended Rosenbrock sum_i (1 - x_i)^2 + 100 (x_{i+1} - x_i^2)^2 and its gradient."""
    a, b = x[:-1], x[1:]
    f = float(np.sum((1 - a) ** 2 + 100 * (b - a**2) ** 2))
    g = np.zeros_like(x)
    g[:-1] += -2 * (1 - a) - 400 * a * (b - a**2)
    g[1:] += 200 * (b - a**2)
    return f, g


def lsq_problem(seed: int = 7, m: int = 30, n: int = 8):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n)) * np.linspace(0.2, 3.0, n)  # condition number ~ 15+
    b = rng.standard_normal(m)
    return A, b


def lsq(A, b):
    def fun(x):
        r = A @ x - b
        return 0.5 * float(r @ r), A.T @ r

    return fun


PROBLEMS = {
    "rosenbrock": {"x0": [-1.2, 1.0]},
    "rosenbrock6": {"x0": [-1.2, 1.0, -1.2, 1.0, -1.2, 1.0]},
    "lsq": {"x0": [0.0] * 8},
}

SW = "strong_wolfe"
#: (name, problem, steps, torch keyword arguments). Every argument of LBFGS appears.
CASES = [
    ("default", "rosenbrock", 1, {}),
    ("lr_half", "rosenbrock", 4, {"lr": 0.5}),
    ("max_iter4", "rosenbrock", 8, {"max_iter": 4}),
    ("max_eval7", "rosenbrock", 5, {"max_iter": 10, "max_eval": 7}),
    ("history2", "rosenbrock6", 2, {"history_size": 2, "max_iter": 14}),
    ("tolerance_grad", "lsq", 3, {"tolerance_grad": 1e-3}),
    ("tolerance_change", "lsq", 3, {"tolerance_change": 1e-4}),
    ("lsq_default", "lsq", 2, {}),
    ("lsq_lr_history", "lsq", 3, {"lr": 0.3, "history_size": 3, "max_iter": 7}),
    ("sw_default", "rosenbrock", 3, {"line_search_fn": SW}),
    ("sw_max_iter5", "rosenbrock", 6, {"line_search_fn": SW, "max_iter": 5}),
    ("sw_lr_history", "rosenbrock6", 2, {"line_search_fn": SW, "lr": 0.7, "history_size": 3}),
    ("sw_max_eval", "rosenbrock6", 3, {"line_search_fn": SW, "max_iter": 10, "max_eval": 12}),
    ("sw_tolerances", "rosenbrock", 3, {"line_search_fn": SW, "tolerance_grad": 1e-4, "tolerance_change": 1e-6}),
    ("sw_lsq", "lsq", 1, {"line_search_fn": SW, "history_size": 4}),
]


def functions():
    A, b = lsq_problem()
    return {"rosenbrock": rosenbrock, "rosenbrock6": rosenbrock, "lsq": lsq(A, b)}, {"A": A, "b": b}


def run_torch(fun, x0, steps, hparams):
    import torch

    p = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([p], **hparams)
    evals = []

    def closure():
        opt.zero_grad()
        x = p.detach().numpy().copy()
        evals.append(x)
        f, g = fun(x)
        p.grad = torch.from_numpy(np.asarray(g, dtype=np.float64).copy())
        return torch.tensor(f, dtype=torch.float64)

    xs, losses, fe, ni = [p.detach().numpy().copy()], [], [], []
    for _ in range(steps):
        losses.append(float(opt.step(closure)))
        xs.append(p.detach().numpy().copy())
        st = opt.state[p]
        fe.append(st["func_evals"])
        ni.append(st["n_iter"])
    return {
        "evals": np.array(evals),
        "x": np.array(xs),
        "loss": np.array(losses),
        "func_evals": np.array(fe),
        "n_iter": np.array(ni),
    }


def main() -> None:
    import torch

    if torch.__version__.split("+")[0] != TORCH_VERSION:
        sys.exit(f"torch {TORCH_VERSION} is required, found {torch.__version__}")
    torch.set_default_dtype(torch.float64)
    funs, data = functions()
    arrays = {"problem/lsq/A": data["A"], "problem/lsq/b": data["b"]}
    for name, problem, steps, hparams in CASES:
        out = run_torch(funs[problem], PROBLEMS[problem]["x0"], steps, hparams)
        if not np.all(np.isfinite(out["x"])):
            sys.exit(f"case {name} diverged; choose other hyperparameters")
        for k, v in out.items():
            arrays[f"case/{name}/{k}"] = v
        print(f"{name:18s} evals={len(out['evals']):3d} n_iter={out['n_iter'][-1]:3d} loss={out['loss'][-1]:.3e}")
    meta = {
        "torch": torch.__version__,
        "numpy": np.__version__,
        "problems": PROBLEMS,
        "cases": [{"name": n, "problem": p, "steps": s, "hparams": h} for n, p, s, h in CASES],
    }
    OUT.parent.mkdir(exist_ok=True)
    np.savez_compressed(OUT, meta=np.array(json.dumps(meta)), **arrays)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
