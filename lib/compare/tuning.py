r"""The protocol of :mod:`lib.compare`: a registry of the named optimizers of :mod:`lib.optim`, the
shared search space, tuning on the validation split, final runs with fresh seeds, time to target.

Every optimizer gets the same number of trials (:func:`search_space`); :func:`tune` picks the
setting with the lowest validation loss; :func:`final_runs` reruns it with new seeds; each run is
one tidy row (a ``dict``) :cite:p:`choi2019empirical,dahl2023benchmarking`.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import itertools
import math
import multiprocessing
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from lib.compare.problems import Problem, Run, _finite, _positive_int

__all__ = [
    "VARIANTS",
    "named_optimizers",
    "lr_grid",
    "search_space",
    "steps_to_target",
    "tune",
    "final_runs",
    "protocol",
    "map_tasks",
]


def _one_blas_thread():
    """A context in which BLAS uses one thread (threadpoolctl, installed with scikit-learn).

    The course's problems multiply matrices of a few dozen rows; on a small, shared machine a
    multi-threaded BLAS spends more time synchronising its threads than computing, and makes
    wall times noisy. With one thread runs are about twice as fast here and their times
    comparable. Without threadpoolctl nothing changes."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings it
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


# --------------------------------------------------------------------------------------------
# The contestants

#: Named settings of ``lib.optim.sgd`` that the course treats as optimizers of their own.
VARIANTS: dict[str, Callable[..., Any]] = {}

#: Names in ``lib.optim.__all__`` that take ``lr`` but are building blocks, not optimizers.
_BLOCK_PREFIXES = (
    "scale_by_",
    "add_",
    "clip",
    "trace",
    "identity",
    "chain",
    "apply_",
    "run",
    "check_",
    "learning_rate",
    "masked",
    "partition",
    "multi",
    "inject",
)


def _sgd_variant(**fixed):
    def make(lr, **hyper):
        from lib import optim

        return optim.sgd(lr=lr, **{**fixed, **hyper})

    return make


VARIANTS["momentum"] = _sgd_variant(momentum=0.9)
VARIANTS["nesterov"] = _sgd_variant(momentum=0.9, nesterov=True)


def named_optimizers(module=None, *, variants: bool = True) -> dict[str, Callable[..., Any]]:
    """Every named optimizer exported by ``module`` (default :mod:`lib.optim`) as a factory
    ``make(lr, **hyper) -> GradientTransformation``, plus :data:`VARIANTS` (momentum and
    Nesterov SGD, at torch's usual 0.9).

    A named optimizer is a public function of ``module.__all__`` whose first parameter is
    ``lr`` (or optax's ``learning_rate``), whose other parameters all have defaults (so it
    can be built from a learning rate alone: ``proximal_sgd(lr, l1)`` is a regularised
    method, not a drop-in optimizer) and that is not a building block (``scale_by_*``,
    ``add_*``, ``clip_*``, ...). Every
    other hyperparameter keeps the library's default (torch's, or optax's where torch has none),
    so the factory tunes only what it is given. torch has no registry; optax's closest is the
    list of aliases in ``optax/_src/alias.py``.

    >>> {'adam', 'sgd', 'nesterov'} <= set(named_optimizers())
    True
    >>> 'proximal_sgd' in named_optimizers()   # needs an l1 strength: not a drop-in optimizer
    False
    """
    if module is None:
        from lib import optim as module
    out: dict[str, Callable[..., Any]] = {}
    for name in getattr(module, "__all__", []):
        fn = getattr(module, name, None)
        if not inspect.isfunction(fn) or name.startswith(_BLOCK_PREFIXES) or not name.islower():
            continue
        if not _builds_from_lr_alone(fn):
            continue
        params = list(inspect.signature(fn).parameters)
        out[name] = (lambda f, key: lambda lr, **hyper: f(**{key: lr}, **hyper))(fn, params[0])
    if variants:
        for name, make in VARIANTS.items():
            out.setdefault(name, make)
    return dict(sorted(out.items()))


def _builds_from_lr_alone(fn) -> bool:
    """True when ``fn``'s first parameter is ``lr``/``learning_rate`` and every other one has a default."""
    params = list(inspect.signature(fn).parameters.values())
    if not params or params[0].name not in ("lr", "learning_rate"):
        return False
    return all(
        p.default is not inspect.Parameter.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params[1:]
    )


# --------------------------------------------------------------------------------------------
# Tuning under a fixed budget


def lr_grid(budget: int, low: float = 1e-4, high: float = 1.0) -> np.ndarray:
    """``budget`` learning rates spaced evenly on a log scale from ``low`` to ``high``.

    >>> lr_grid(3, 1e-3, 1e-1)
    array([0.001, 0.01 , 0.1  ])
    """
    budget = _positive_int("budget", budget)
    low, high = _finite("low", low), _finite("high", high)
    if not 0 < low <= high:
        raise ValueError(f"need 0 < low <= high for a learning-rate grid, got low={low}, high={high}")
    return np.array([low]) if budget == 1 else np.geomspace(low, high, budget)


def search_space(budget: int, lr_range: tuple = (1e-4, 1.0), extra: tuple | None = None) -> list[dict]:
    """The ``budget`` settings one optimizer may try: a learning-rate grid, crossed with the
    values of one more hyperparameter when ``extra = (name, values)`` is given.

    ``budget`` must be a multiple of ``len(values)``: with ``extra = ("momentum", (0.9, 0.99))``
    and ``budget=8`` the grid has 4 learning rates for each momentum. Every optimizer thus
    gets the same number of trials, whatever it tunes.

    >>> [sorted(s) for s in search_space(4, (1e-3, 1e-1), ("momentum", (0.0, 0.9)))][:1]
    [['lr', 'momentum']]
    """
    budget = _positive_int("budget", budget)
    if extra is None:
        return [{"lr": float(lr)} for lr in lr_grid(budget, *lr_range)]
    try:
        name, values = extra
    except (TypeError, ValueError):
        raise TypeError(f"extra must be a pair (name, values), e.g. ('momentum', (0.9, 0.99)); got {extra!r}") from None
    values = tuple(values)
    if not values or budget % len(values):
        raise ValueError(
            f"budget={budget} must be a positive multiple of the {len(values)} values of {name!r}, "
            "so that every optimizer gets exactly the same number of trials"
        )
    lrs = lr_grid(budget // len(values), *lr_range)
    return [{"lr": float(lr), name: v} for lr, v in itertools.product(lrs, values)]


def steps_to_target(curve, steps, target: float) -> float:
    """The first ``steps`` value at which ``curve`` is at or below ``target`` (``inf`` if never).

    Counted at the *first* evaluation that reaches the target, never after it; a curve that
    reaches it and rises again still counts (time-to-result measures when, not whether it stays).

    >>> steps_to_target([3.0, 1.0, 0.5, 0.7], [10, 20, 30, 40], target=0.6)
    30.0
    """
    curve, steps = np.asarray(curve, dtype=float), np.asarray(steps, dtype=float)
    if curve.shape != steps.shape or curve.ndim != 1:
        raise ValueError(f"curve and steps must be 1-D of the same length, got {curve.shape} and {steps.shape}")
    hit = np.flatnonzero(curve <= target)
    return float(steps[hit[0]]) if hit.size else math.inf


def _row(problem: Problem, name: str, phase: str, setting: dict, seed: int, run: Run, keep_curve: bool = False) -> dict:
    row = {
        "problem": problem.name,
        "optimizer": name,
        "phase": phase,
        **setting,
        "setting": ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in setting.items()),
        "seed": int(seed),
    }
    for k, v in run.metrics.items():
        if np.isscalar(v):
            row[k] = float(v)
    row["steps_to_target"] = steps_to_target(run.curve, run.steps, problem.target)
    row["time_to_target"] = steps_to_target(run.curve, run.wall_time, problem.target)
    row["diverged"] = bool(run.diverged)
    if keep_curve:
        row["curve"], row["curve_steps"] = run.curve, run.steps
    return row


def _make(make_optimizer, setting: dict, name: str):
    hyper = {k: v for k, v in setting.items() if k != "lr"}
    try:
        return make_optimizer(setting["lr"], **hyper)
    except TypeError as exc:
        raise TypeError(
            f"make_optimizer for {name!r} must accept (lr, **hyper) with hyper {sorted(hyper)}: {exc}"
        ) from None


def tune(
    problem: Problem,
    make_optimizer,
    space: Sequence[dict],
    *,
    name: str = "optimizer",
    seed: int = 0,
    select: str = "val_loss",
) -> tuple[dict, list[dict]]:
    r"""Run every setting of ``space`` once (seed ``seed``) and return ``(best, rows)``.

    .. math:: s^\star = \arg\min_{s \in \text{space}} L_{\text{val}}(\theta_{\text{end}}(s))

    chosen by the ``select`` metric (the validation loss; never a test metric). Diverged runs
    score :math:`+\infty`; ties go to the earlier setting. Raises if every setting diverged.
    torch / optax have no tuner; the same loop by hand, or Optuna / Ray Tune.
    """
    if select.startswith("test"):
        raise ValueError(f"select={select!r}: tune on a validation metric; the test split is only for the final report")
    with _one_blas_thread():
        rows = [
            _row(problem, name, "tune", dict(s), seed, problem.run(_make(make_optimizer, s, name), seed)) for s in space
        ]
    if not rows:
        raise ValueError("space is empty: give at least one setting (see search_space)")
    scores = [r.get(select, math.inf) if not r["diverged"] else math.inf for r in rows]
    scores = [s if math.isfinite(s) else math.inf for s in scores]
    if not any(math.isfinite(s) for s in scores):
        raise ValueError(
            f"{name} diverged on {problem.name} at every setting of its search space: "
            "move lr_range to smaller learning rates"
        )
    best = dict(space[int(np.argmin(scores))])
    return best, rows


def final_runs(
    problem: Problem,
    make_optimizer,
    setting: dict,
    seeds: Sequence[int],
    *,
    name: str = "optimizer",
    keep_curves: bool = False,
) -> list[dict]:
    """One row per seed of ``seeds`` at the chosen ``setting`` (phase ``"final"``); with
    ``keep_curves`` each row also holds its validation ``curve`` and ``curve_steps`` arrays."""
    with _one_blas_thread():
        return [
            _row(
                problem,
                name,
                "final",
                dict(setting),
                s,
                problem.run(_make(make_optimizer, setting, name), s),
                keep_curves,
            )
            for s in seeds
        ]


# --------------------------------------------------------------------------------------------
# Independent runs in parallel

_TASKS: list = []  # set just before the worker processes fork, so that they inherit the closures


def _run_task(i: int):
    return _TASKS[i]()


def map_tasks(tasks: Sequence[Callable[[], Any]], n_jobs: int = 1) -> list:
    """``[task() for task in tasks]``, in ``n_jobs`` worker processes when ``n_jobs > 1``.

    The runs of a comparison are independent, so they may run side by side; the results come
    back in the order of ``tasks`` and are the same as in one process (every run is seeded).
    The workers are forked, so a task may be any closure (a problem built in a notebook
    included); its result must be picklable. Where fork is unavailable (Windows) the tasks run
    one after the other. torch / optax users reach for ``joblib.Parallel`` or Ray for this.

    >>> map_tasks([lambda: 1, lambda: 2], n_jobs=2)
    [1, 2]
    """
    global _TASKS
    tasks = list(tasks)
    n_jobs = min(_positive_int("n_jobs", n_jobs), len(tasks))
    if n_jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [task() for task in tasks]
    _TASKS = tasks
    try:
        with multiprocessing.get_context("fork").Pool(n_jobs) as pool:
            return pool.map(_run_task, range(len(tasks)), chunksize=1)
    finally:
        _TASKS = []


def _tune_and_rerun(problem, name, make, space, seeds, tune_seed, keep_curves) -> list[dict]:
    best, tuning = tune(problem, make, space, name=name, seed=tune_seed)
    return tuning + final_runs(problem, make, best, seeds, name=name, keep_curves=keep_curves)


def protocol(
    problems: Sequence[Problem],
    optimizers: dict,
    *,
    budget: int = 6,
    seeds: int = 5,
    lr_range: tuple = (1e-4, 1.0),
    extra: dict | None = None,
    tune_seed: int = 0,
    keep_curves: bool = False,
    n_jobs: int = 1,
) -> list[dict]:
    r"""The fair comparison: for every problem and optimizer, tune with ``budget`` trials on
    the validation split (:func:`tune` over :func:`search_space`), then run the chosen setting
    with ``seeds`` fresh seeds ``tune_seed + 1, ...`` (:func:`final_runs`). Returns the tidy
    rows of every run, tuning runs included.

    ``optimizers`` maps a name to ``make(lr, **hyper)``; ``lr_range`` is one range for all or
    a dict name -> range; ``extra`` maps a name to ``(hyperparameter, values)`` to tune one
    more hyperparameter inside the same budget. The protocol of :cite:t:`choi2019empirical`
    (tune every optimizer's search space with the same budget) and of
    :cite:t:`schmidt2021descending` (report the spread over seeds). ``keep_curves`` keeps the
    validation curve of every final run in its row (for plotting seed bands). ``n_jobs``
    worker processes share the (problem, optimizer) pairs (:func:`map_tasks`); the rows are
    the same, in the same order, as with one.
    """
    if not optimizers:
        raise ValueError("optimizers is empty: pass e.g. named_optimizers()")
    seeds = _positive_int("seeds", seeds)
    extra = extra or {}
    unknown = set(extra) - set(optimizers)
    if unknown:
        raise ValueError(f"extra names optimizers that are not compared: {sorted(unknown)}")
    final_seeds = range(tune_seed + 1, tune_seed + 1 + seeds)
    tasks = []
    for problem in problems:  # (tune and final_runs use one BLAS thread)
        for name, make in optimizers.items():
            rng_ = lr_range[name] if isinstance(lr_range, dict) else lr_range
            space = search_space(budget, rng_, extra.get(name))  # checked here, before any run
            tasks.append(
                functools.partial(_tune_and_rerun, problem, name, make, space, final_seeds, tune_seed, keep_curves)
            )
    return [row for rows in map_tasks(tasks, n_jobs) for row in rows]
