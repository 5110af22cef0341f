"""Record golden optimizer trajectories from PyTorch for the tests of :mod:`lib.optim`.

What it records
---------------
For every *case* (an optimizer with its hyperparameters, run on a *problem*) this script runs
the real ``torch.optim`` optimizer in float64 and stores the parameters after every step in a
compressed ``.npz`` under ``tests/data/``. ``tests/test_optim.py`` then runs ``lib.optim`` on
the same problem, from the stored data only (the tests never import torch), and requires the
two trajectories to agree to ~1e-12 at every step.

A problem is a few parameter tensors of different shapes (one of them a scalar) with a
deterministic gradient that depends on the parameters *and* on time::

    g_t[name] = reshape(A[name] @ ravel(θ_t[name]) + b[name] + noise[name][t])

``A`` (symmetric positive definite), ``b`` and the noise sequence are drawn once from a seeded
NumPy RNG and stored in the file, so the test recomputes exactly the same gradients. The
gradient is computed with NumPy on both sides (the script converts the torch parameter to a
NumPy array), so only the optimizer arithmetic is compared.

Layout of ``tests/data/<file>.npz`` (numeric arrays plus ONE JSON string; load it with
``np.load(path, allow_pickle=False)``)::

    meta                         0-d str array: JSON with versions, problems and cases
    problem/<p>/init/<name>      θ_0 of parameter <name>
    problem/<p>/A/<name>         (n, n) with n = θ.size
    problem/<p>/b/<name>         (n,)
    problem/<p>/noise/<name>     (steps, n)
    case/<c>/traj/<name>         (steps + 1, *shape): θ_0, θ_1, ..., θ_steps
    case/<c>/lr                  (steps,) learning rate of each step, only if the case has a
                                 schedule (set as param_group["lr"] before step t = 0, 1, ...;
                                 the lib side uses ``lr=lambda t: values[t]``)
    case/<c>/state/<key>/<name>  optimizer state after the last step (e.g. momentum_buffer)

``meta["cases"][i]`` holds ``name``, ``problem``, ``optimizer`` (the ``torch.optim`` class),
``lib`` (the ``lib.optim`` function), ``hparams`` (keyword arguments valid for BOTH, in
torch's names), ``schedule`` (bool) and ``state`` (the recorded state keys).

How to run
----------
Torch is deliberately not a dependency of the course; use a separate virtual environment::

    python3 -m venv .venv-golden && .venv-golden/bin/pip install torch==2.13.0 numpy jax==0.10.2 optax==0.2.8
    make golden            # (installs torch==2.13.0, optax into .venv-golden and runs this and
                           #  record_optax.py) or:
    .venv-golden/bin/python tests/golden/record_torch.py            # all files
    .venv-golden/bin/python tests/golden/record_torch.py sgd_torch  # one file

The script refuses to run with any torch other than 2.13.0, so the goldens are reproducible.

Adding a chapter's optimizer
----------------------------
Append :class:`Case` entries to a new list in :data:`FILES` (e.g. ``"adam_torch": [...]``
with ``optimizer="Adam"``); add a :class:`Problem` to :data:`PROBLEMS` if needed. Optimizers
from other libraries (optax for AdaBelief / LARS / LAMB) get their own runner next to
:func:`run_torch` with the same signature and their own recording script or ``backend``.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

TORCH_VERSION = "2.13.0"
DATA_DIR = Path(__file__).resolve().parents[1] / "data"


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """Parameters of the given shapes and the gradient g_t = A θ_t + b + noise_t per tensor."""

    name: str
    shapes: dict[str, tuple[int, ...]]
    steps: int
    seed: int
    eig: tuple[float, float] = (0.5, 2.0)  # eigenvalue range of each A
    noise: float = 0.1  # noise standard deviation
    scale: float = 1.0  # standard deviation of θ_0 and b

    def arrays(self) -> dict[str, dict[str, np.ndarray]]:
        """``{"init": {name: θ_0}, "A": {...}, "b": {...}, "noise": {...}}``, deterministic."""
        rng = np.random.default_rng(self.seed)
        out: dict[str, dict[str, np.ndarray]] = {"init": {}, "A": {}, "b": {}, "noise": {}}
        for name, shape in self.shapes.items():
            n = math.prod(shape)
            q, _ = np.linalg.qr(rng.standard_normal((n, n)))
            lam = rng.uniform(*self.eig, size=n)
            a = (q * lam) @ q.T
            out["A"][name] = (a + a.T) / 2
            out["b"][name] = self.scale * rng.standard_normal(n)
            out["noise"][name] = self.noise * rng.standard_normal((self.steps, n))
            out["init"][name] = self.scale * rng.standard_normal(shape)
        return out


def gradient(arrays: dict[str, dict[str, np.ndarray]], params: dict[str, np.ndarray], t: int) -> dict[str, np.ndarray]:
    """The gradient at step ``t`` (0-based). ``tests/test_optim.py`` uses the same formula."""
    return {
        name: (arrays["A"][name] @ np.ravel(p) + arrays["b"][name] + arrays["noise"][name][t]).reshape(np.shape(p))
        for name, p in params.items()
    }


PROBLEMS = {
    p.name: p
    for p in [
        Problem("quad3", shapes={"w": (3,), "W": (2, 2), "s": ()}, steps=120, seed=20250101),
    ]
}


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    name: str
    optimizer: str  # class in torch.optim
    lib: str  # function in lib.optim
    hparams: dict  # keyword arguments, valid for both
    problem: str = "quad3"
    schedule: Callable[[int], float] | None = None  # step -> lr, overrides hparams["lr"]
    state: tuple[str, ...] = field(default=())  # optimizer state keys to record at the end


def warmup_cosine(base: float, warmup: int, steps: int) -> Callable[[int], float]:
    """Linear warm-up for ``warmup`` steps, then cosine decay to 0 at ``steps``."""

    def lr(t: int) -> float:
        if t < warmup:
            return base * (t + 1) / warmup
        return base * 0.5 * (1 + math.cos(math.pi * (t - warmup) / (steps - warmup)))

    return lr


MB = ("momentum_buffer",)
SGD_CASES = [
    Case("plain", "SGD", "sgd", dict(lr=0.1)),
    Case("momentum", "SGD", "sgd", dict(lr=0.05, momentum=0.9), state=MB),
    Case("momentum_dampening", "SGD", "sgd", dict(lr=0.05, momentum=0.9, dampening=0.3), state=MB),
    Case("nesterov", "SGD", "sgd", dict(lr=0.05, momentum=0.9, nesterov=True), state=MB),
    Case("weight_decay", "SGD", "sgd", dict(lr=0.1, weight_decay=0.05)),
    Case(
        "momentum_weight_decay_nesterov",
        "SGD",
        "sgd",
        dict(lr=0.04, momentum=0.8, weight_decay=0.1, nesterov=True),
        state=MB,
    ),
    Case(
        "dampening_weight_decay", "SGD", "sgd", dict(lr=0.05, momentum=0.7, dampening=0.5, weight_decay=0.02), state=MB
    ),
    # dampening without momentum does nothing in torch (no buffer is used)
    Case("dampening_no_momentum", "SGD", "sgd", dict(lr=0.1, dampening=0.5)),
    Case(
        "schedule_momentum",
        "SGD",
        "sgd",
        dict(lr=0.0, momentum=0.9),
        state=MB,
        schedule=warmup_cosine(0.08, warmup=10, steps=120),
    ),
    Case("schedule_plain", "SGD", "sgd", dict(lr=0.0), schedule=lambda t: 0.15 * 0.97**t),
]

# chapter 05: every flag of every adaptive optimizer in torch.optim. Learning rates are far
# above torch's defaults so that 120 steps travel a long way (and the rectified / unrectified
# phases of RAdam, the warm-up of NAdam's mu_t, Adagrad's decay all show).
ADAM_STATE = ("exp_avg", "exp_avg_sq")
ADAPTIVE_CASES = [
    # Adagrad
    Case("adagrad", "Adagrad", "adagrad", dict(lr=0.3), state=("sum",)),
    Case("adagrad_lr_decay", "Adagrad", "adagrad", dict(lr=0.5, lr_decay=0.05)),
    Case(
        "adagrad_weight_decay_initial_accumulator",
        "Adagrad",
        "adagrad",
        dict(lr=0.3, weight_decay=0.1, initial_accumulator_value=0.5, eps=1e-6),
        state=("sum",),
    ),
    Case(
        "adagrad_schedule_lr_decay",
        "Adagrad",
        "adagrad",
        dict(lr=0.0, lr_decay=0.01),
        schedule=warmup_cosine(0.5, warmup=10, steps=120),
    ),
    # RMSprop
    Case("rmsprop", "RMSprop", "rmsprop", dict(lr=0.01), state=("square_avg",)),
    Case("rmsprop_centered", "RMSprop", "rmsprop", dict(lr=0.01, centered=True), state=("square_avg", "grad_avg")),
    Case("rmsprop_momentum", "RMSprop", "rmsprop", dict(lr=0.005, momentum=0.9), state=MB),
    Case(
        "rmsprop_all_flags",
        "RMSprop",
        "rmsprop",
        dict(lr=0.005, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.8, centered=True),
        state=("square_avg", "grad_avg", "momentum_buffer"),
    ),
    Case(
        "rmsprop_schedule_momentum", "RMSprop", "rmsprop", dict(lr=0.0, momentum=0.5), schedule=lambda t: 0.01 * 0.98**t
    ),
    # Adam / AMSGrad / decoupled (AdamW)
    Case("adam", "Adam", "adam", dict(lr=0.05), state=ADAM_STATE),
    Case("adam_betas_eps", "Adam", "adam", dict(lr=0.05, betas=(0.5, 0.9), eps=1e-3)),
    Case("adam_amsgrad", "Adam", "adam", dict(lr=0.05, amsgrad=True), state=ADAM_STATE + ("max_exp_avg_sq",)),
    Case("adam_weight_decay", "Adam", "adam", dict(lr=0.05, weight_decay=0.1)),
    Case("adam_decoupled_weight_decay", "Adam", "adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    Case("adam_amsgrad_weight_decay", "Adam", "adam", dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
    Case(
        "adam_schedule_weight_decay",
        "Adam",
        "adam",
        dict(lr=0.0, weight_decay=0.05),
        schedule=warmup_cosine(0.1, warmup=10, steps=120),
    ),
    Case("adamw", "AdamW", "adamw", dict(lr=0.05)),  # torch's default weight_decay=1e-2
    Case(
        "adamw_amsgrad_schedule",
        "AdamW",
        "adamw",
        dict(lr=0.0, weight_decay=0.2, amsgrad=True),
        schedule=warmup_cosine(0.1, warmup=10, steps=120),
    ),
    # AdaMax
    Case("adamax", "Adamax", "adamax", dict(lr=0.05), state=("exp_avg", "exp_inf")),
    Case("adamax_weight_decay_betas", "Adamax", "adamax", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-4, weight_decay=0.1)),
    Case("adamax_schedule", "Adamax", "adamax", dict(lr=0.0), schedule=lambda t: 0.08 * 0.98**t),
    # NAdam
    Case("nadam", "NAdam", "nadam", dict(lr=0.05), state=ADAM_STATE + ("mu_product",)),
    Case("nadam_weight_decay", "NAdam", "nadam", dict(lr=0.05, weight_decay=0.1)),
    Case(
        "nadam_decoupled_weight_decay", "NAdam", "nadam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)
    ),
    Case(
        "nadam_momentum_decay_betas",
        "NAdam",
        "nadam",
        dict(lr=0.05, betas=(0.8, 0.99), momentum_decay=0.02),
        state=("mu_product",),
    ),
    Case("nadam_no_momentum_decay", "NAdam", "nadam", dict(lr=0.05, momentum_decay=0.0)),
    Case(
        "nadam_schedule_decoupled",
        "NAdam",
        "nadam",
        dict(lr=0.0, weight_decay=0.1, decoupled_weight_decay=True),
        schedule=warmup_cosine(0.1, warmup=10, steps=120),
    ),
    # RAdam
    Case("radam", "RAdam", "radam", dict(lr=0.05), state=ADAM_STATE),
    Case("radam_weight_decay", "RAdam", "radam", dict(lr=0.05, weight_decay=0.1)),
    Case(
        "radam_decoupled_weight_decay", "RAdam", "radam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)
    ),
    Case("radam_betas_eps", "RAdam", "radam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-3)),
    # rho_inf = 2/(1-0.6) - 1 = 4 <= 5: never rectified, momentum SGD throughout
    Case("radam_never_rectified", "RAdam", "radam", dict(lr=0.05, betas=(0.9, 0.6))),
    Case("radam_schedule", "RAdam", "radam", dict(lr=0.0), schedule=lambda t: 0.08 * 0.98**t),
]

# output file (tests/data/<key>.npz) -> cases
FILES: dict[str, list[Case]] = {
    "sgd_torch": SGD_CASES,
    "adaptive_torch": ADAPTIVE_CASES,
}


# --------------------------------------------------------------------------- running


def run_torch(case: Case, problem: Problem, arrays: dict) -> tuple[dict, np.ndarray | None, dict]:
    """Run ``torch.optim.<case.optimizer>`` for ``problem.steps`` steps.

    Returns ``(trajectory, lr_values, state)``: ``trajectory[name]`` has shape
    ``(steps + 1, *shape)`` (θ_0 first), ``lr_values`` the learning rate of each step
    (``None`` without a schedule), ``state[key][name]`` the optimizer state at the end.
    """
    import torch

    names = list(problem.shapes)
    params = {n: torch.tensor(arrays["init"][n], dtype=torch.float64, requires_grad=True) for n in names}
    # foreach=False: the single-tensor code path (the CPU default, made explicit)
    opt = getattr(torch.optim, case.optimizer)([params[n] for n in names], **case.hparams, foreach=False)
    traj = {n: [params[n].detach().numpy().copy()] for n in names}
    lrs = []
    for t in range(problem.steps):
        if case.schedule is not None:
            lr = float(case.schedule(t))
            for group in opt.param_groups:
                group["lr"] = lr
            lrs.append(lr)
        current = {n: params[n].detach().numpy().copy() for n in names}
        grads = gradient(arrays, current, t)
        for n in names:
            params[n].grad = torch.from_numpy(grads[n].copy())
        opt.step()
        for n in names:
            traj[n].append(params[n].detach().numpy().copy())
    state = {key: {n: opt.state[params[n]][key].detach().numpy().copy() for n in names} for key in case.state}
    return ({n: np.stack(v) for n, v in traj.items()}, None if case.schedule is None else np.array(lrs), state)


def record(
    file_key: str,
    cases: list[Case],
    runner: Callable | None = None,
    versions: dict | None = None,
    source: str = "tests/golden/record_torch.py",
) -> Path:
    """Run every case with ``runner`` (default :func:`run_torch`) and write ``tests/data/<file_key>.npz``.

    ``versions`` goes into the metadata (default: torch's and NumPy's versions).
    """
    if runner is None:
        import torch

        runner, versions = run_torch, {"torch": torch.__version__}

    out: dict[str, np.ndarray] = {}
    meta: dict = {
        "format": 1,
        "source": source,
        **versions,
        "numpy": np.__version__,
        "dtype": "float64",
        "gradient": "g_t[name] = reshape(A[name] @ ravel(theta_t[name]) + b[name] + noise[name][t])",
        "problems": {},
        "cases": [],
    }
    arrays_by_problem = {}
    for case in cases:
        problem = PROBLEMS[case.problem]
        if problem.name not in arrays_by_problem:
            arrays = arrays_by_problem[problem.name] = problem.arrays()
            for kind, per_param in arrays.items():
                for n, a in per_param.items():
                    out[f"problem/{problem.name}/{kind}/{n}"] = a
            meta["problems"][problem.name] = {
                "params": list(problem.shapes),
                "shapes": {n: list(s) for n, s in problem.shapes.items()},
                "steps": problem.steps,
                "seed": problem.seed,
            }
        traj, lrs, state = runner(case, problem, arrays_by_problem[problem.name])
        for n, a in traj.items():
            out[f"case/{case.name}/traj/{n}"] = a
        if lrs is not None:
            out[f"case/{case.name}/lr"] = lrs
        for key, per_param in state.items():
            for n, a in per_param.items():
                out[f"case/{case.name}/state/{key}/{n}"] = a
        if not all(np.all(np.isfinite(a)) for a in traj.values()):
            raise RuntimeError(f"case {case.name} diverged; choose a smaller learning rate")
        meta["cases"].append(
            {
                "name": case.name,
                "problem": problem.name,
                "optimizer": case.optimizer,
                "lib": case.lib,
                "hparams": case.hparams,
                "schedule": case.schedule is not None,
                "state": list(case.state),
                "steps": problem.steps,
            }
        )
    if len({c["name"] for c in meta["cases"]}) != len(cases):
        raise ValueError("case names must be unique within a file")
    out["meta"] = np.array(json.dumps(meta, sort_keys=True))
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"{file_key}.npz"
    np.savez_compressed(path, **out)
    with np.load(path, allow_pickle=False) as check:  # must load without pickle
        assert set(check.files) == set(out)
    return path


def main(argv: list[str]) -> int:
    try:
        import torch
    except ImportError:
        sys.exit(
            "record_torch.py needs torch==2.13.0; run it with a venv that has it "
            "(see the docstring), never the course's .venv"
        )
    if not torch.__version__.startswith(TORCH_VERSION):
        sys.exit(
            f"record_torch.py needs torch {TORCH_VERSION}, found {torch.__version__}: "
            "goldens are recorded with one pinned version"
        )
    torch.set_default_dtype(torch.float64)
    keys = argv or list(FILES)
    unknown = [k for k in keys if k not in FILES]
    if unknown:
        sys.exit(f"unknown golden file(s) {unknown}; known: {list(FILES)}")
    for key in keys:
        path = record(key, FILES[key])
        print(f"wrote {path} ({path.stat().st_size / 1024:.1f} kB, {len(FILES[key])} cases)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
