r"""Comparing optimizers fairly: a benchmark protocol as code (chapter 12).

The protocol, for every optimizer and every problem :cite:p:`choi2019empirical,schmidt2021descending`:

1. **The same tuning budget.** Each optimizer gets exactly ``budget`` trial runs, a log-spaced
   grid of learning rates (optionally crossed with a few values of one more hyperparameter),
   all run with the tuning seed. The setting with the lowest **validation** loss wins; the test
   split is never looked at while tuning.
2. **Several seeds at the chosen setting.** The winner is rerun with fresh seeds (new
   initialisation and mini-batch order), and the spread is reported: the median and the
   interquartile range of the final test metric, and of the number of steps and the wall time
   needed to reach a target validation loss (time-to-result, as in AlgoPerf
   :cite:p:`dahl2023benchmarking`).
3. **Tidy results.** Every run is one row (a ``dict``): problem, optimizer, phase
   (``"tune"`` / ``"final"``), hyperparameters, seed, metrics. :func:`summarize` reduces the rows,
   :func:`to_csv` writes them, :func:`plot_summary` draws medians with their spread, and
   :func:`performance_profile` summarises many problems without naming a single winner
   :cite:p:`dolan2002benchmarking`.

An optimizer enters as a factory ``make_optimizer(lr, **hyper) -> GradientTransformation``;
:func:`named_optimizers` builds one for every named optimizer exported by :mod:`lib.optim`, so
an optimizer added to the library runs through the protocol unchanged.

>>> from lib import optim
>>> problem = least_squares_problem(kappa=10.0, d=3, n=60, steps=40)
>>> rows = protocol([problem], {"sgd": lambda lr: optim.sgd(lr=lr)}, budget=3, seeds=2,
...                 lr_range=(1e-2, 1.0))
>>> [(r["phase"], r["seed"]) for r in rows][-2:]
[('final', 1), ('final', 2)]
"""

from __future__ import annotations

import contextlib
import csv
import inspect
import io
import itertools
import math
import time
from numbers import Integral, Real
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

__all__ = [
    "Run", "Problem", "model_problem", "least_squares_problem", "objective_problem",
    "named_optimizers", "VARIANTS", "lr_grid", "search_space", "steps_to_target", "tune",
    "final_runs", "protocol", "summarize", "to_csv", "cost_table", "performance_profile",
    "plot_summary", "plot_performance_profile",
]


# --------------------------------------------------------------------------------------------
# Problems and runs


class Run(NamedTuple):
    """One training run: the validation ``curve`` (one value per evaluation), the update count
    ``steps`` and the cumulative ``wall_time`` (seconds) at each evaluation, the final
    ``metrics`` (at least ``val_loss`` and ``test_loss``) and whether it ``diverged``."""

    curve: np.ndarray
    steps: np.ndarray
    wall_time: np.ndarray
    metrics: dict
    diverged: bool


class Problem(NamedTuple):
    """A benchmark problem: ``run(optimizer, seed) -> Run`` and the ``target`` validation loss
    that counts as "reached" for time-to-result. ``seed`` sets everything random in a run
    (initial parameters, mini-batch order)."""

    name: str
    run: Callable[[Any, int], Run]
    target: float
    description: str = ""


def _one_blas_thread():
    """A context in which BLAS uses one thread (threadpoolctl, installed with scikit-learn).

    The course's problems multiply matrices of a few dozen rows; on a small, shared machine a
    multi-threaded BLAS spends more time synchronising its threads than computing, and makes
    wall times noisy. With one thread runs are about twice as fast here and their times
    comparable. Without threadpoolctl nothing changes."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:              # pragma: no cover - scikit-learn brings it
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _positive_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _finite(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def model_problem(name: str, model, splits, *, epochs: int, batch_size: int, target: float,
                  description: str = "") -> Problem:
    """A :mod:`lib.nn` model trained by :func:`lib.train.train` on ``splits`` (train / val / test).

    A run with seed ``s`` starts from ``model.init(s)`` and shuffles with ``seed=s``; the curve
    is the validation loss after each epoch. Final metrics: ``train_loss``, ``val_loss``,
    ``val_acc``, ``test_loss``, ``test_acc`` (accuracies NaN for regression). torch: the usual
    ``for epoch ...: for xb, yb in loader: ...`` loop, then one evaluation per split.
    """
    from lib.nn import softmax_cross_entropy
    from lib.train import train

    def evaluate(params, X, y):
        """(loss, accuracy) on a whole split: cross-entropy and accuracy for class labels, the
        model's own loss (accuracy NaN) for real-valued targets."""
        if y.dtype.kind in "iu":
            logits = model.predict(params, X)
            loss = float(softmax_cross_entropy(logits, y)[0])
            return loss, float(np.mean(np.argmax(logits, axis=1) == y))
        return float(model.loss_and_grad(params, X, y)[0]), math.nan

    epochs = _positive_int("epochs", epochs)
    batch_size = _positive_int("batch_size", batch_size)
    target = _finite("target", target)
    test = (splits.test.X, splits.test.y)

    def run(optimizer, seed: int) -> Run:
        h = train(model, model.init(int(seed)), optimizer, splits.train, val=splits.val,
                  epochs=epochs, batch_size=batch_size, seed=int(seed), progress=False)
        curve = np.full(epochs, np.inf)
        curve[:h.epochs] = np.where(np.isfinite(h.val_loss), h.val_loss, np.inf)
        steps = np.full(epochs, np.iinfo(np.int64).max)
        steps[:h.epochs] = [np.searchsorted(h.grad_evals, e) + 1 for e in h.epoch_grad_evals]
        wall = np.full(epochs, np.inf)
        wall[:h.epochs] = h.epoch_wall_time
        if h.diverged or h.epochs == 0:
            metrics = dict.fromkeys(("train_loss", "val_loss", "val_acc", "test_loss", "test_acc"), math.inf)
            metrics["val_acc"] = metrics["test_acc"] = 0.0
        else:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                test_loss, test_acc = evaluate(h.params, *test)
            metrics = {"train_loss": float(h.train_loss[-1]), "val_loss": float(h.val_loss[-1]),
                       "val_acc": float(h.val_acc[-1]), "test_loss": float(test_loss),
                       "test_acc": float(test_acc)}
            if not math.isfinite(metrics["val_loss"]):
                metrics["val_loss"] = math.inf
        return Run(curve, steps, wall, metrics, bool(h.diverged))

    return Problem(name, run, target, description or f"{model.name}, {epochs} epochs of batch {batch_size}")


def least_squares_problem(kappa: float = 1e3, *, n: int = 300, d: int = 10, noise: float = 0.1,
                          steps: int = 200, batch_size: int | None = None, data_seed: int = 0,
                          target_excess: float = 0.05) -> Problem:
    r"""Badly conditioned linear least squares, :math:`L(W) = \frac1{2n}\lVert XW - y\rVert^2`.

    The columns of :math:`X` are standard normal scaled by :math:`\sqrt{\kappa}^{\,j/(d-1)}`,
    so the Hessian :math:`X^\top X/n` has condition number close to ``kappa``; :math:`W` is a
    ``(d, 1)`` matrix (a 2-D parameter, so that matrix optimizers run too). The data (train,
    validation and test, ``n`` examples each) come from ``data_seed``; a run's seed draws the
    initial :math:`W \sim \mathcal N(0, 1)`. Full-batch gradient descent by default
    (``batch_size=None``), one evaluation per step. The target is the validation loss of the
    exact least-squares solution times ``1 + target_excess``. torch: ``nn.Linear(d, 1,
    bias=False)`` with ``nn.MSELoss()/2``; the classic setting of :cite:t:`nocedal2006numerical`.
    """
    from lib.data import Dataset, Splits
    from lib.nn import Model

    kappa = _finite("kappa", kappa)
    if kappa < 1:
        raise ValueError(f"kappa must be >= 1 (a condition number), got {kappa}")
    n, d, steps = _positive_int("n", n), _positive_int("d", d, 2), _positive_int("steps", steps)
    rng = np.random.default_rng(data_seed)
    scales = np.sqrt(kappa) ** (np.arange(d) / (d - 1))
    w_true = rng.standard_normal((d, 1)) / scales[:, None]

    def draw():
        X = rng.standard_normal((n, d)) * scales
        return Dataset(X, (X @ w_true)[:, 0] + noise * rng.standard_normal(n), "least_squares", 0)

    train, val, test = draw(), draw(), draw()
    splits = Splits(train, val, test, np.zeros(d), np.ones(d))

    def loss_and_grad(params, X, y):
        W = params["W"]
        r = X @ W - y[:, None]
        return 0.5 * float(np.mean(r * r)), {"W": X.T @ r / X.shape[0]}

    def predict(params, X):
        return X @ params["W"]

    def init(seed: int = 0):
        return {"W": np.random.default_rng(seed).standard_normal((d, 1))}

    model = Model(f"least_squares(kappa={kappa:g}, d={d})", init, loss_and_grad, predict)
    w_best = np.linalg.lstsq(train.X, train.y, rcond=None)[0][:, None]
    best_val = loss_and_grad({"W": w_best}, val.X, val.y)[0]
    return model_problem(f"least squares κ={kappa:g}", model, splits, epochs=steps,
                         batch_size=batch_size or n, target=best_val * (1 + target_excess),
                         description=f"linear least squares, d={d}, κ≈{kappa:g}, {steps} full-batch steps")


def objective_problem(objective, *, steps: int = 300, target: float = 1e-6, jitter: float = 0.0,
                      start=None) -> Problem:
    r"""A 2-D test function of :mod:`lib.functions` as a problem: the curve is
    :math:`f(\theta_t) - f^\star` after every step, and both "validation" and "test" loss are its
    final value. A run with seed ``s`` starts at ``start`` (the function's own by default) plus
    ``jitter`` times a standard normal vector drawn from ``s`` (seed 0: no jitter). A run that
    leaves the region of norm 1e6 diverges. torch: a loop of ``opt.step(closure)`` on two scalars.
    """
    from lib.optim import run as run_steps

    steps = _positive_int("steps", steps)
    start = np.array(objective.start if start is None else start, dtype=float)
    f_min = min(float(objective.value(m)) for m in objective.minima)

    def run(optimizer, seed: int) -> Run:
        x0 = start + (jitter * np.random.default_rng(seed).standard_normal(2) if seed else 0.0)
        t0 = time.perf_counter()
        path = run_steps(optimizer, objective.grad, x0, steps, max_norm=1e6)
        elapsed = time.perf_counter() - t0
        with np.errstate(over="ignore", invalid="ignore"):
            gaps = np.asarray(objective.value(path[1:].T), dtype=float) - f_min
        diverged = len(path) < steps + 1 or not np.all(np.isfinite(gaps))
        curve = np.full(steps, np.inf)
        curve[:len(gaps)] = np.where(np.isfinite(gaps), np.maximum(gaps, 0.0), np.inf)
        final = math.inf if diverged else float(curve[-1])
        wall = elapsed * np.arange(1, steps + 1) / steps
        return Run(curve, np.arange(1, steps + 1), wall, {"val_loss": final, "test_loss": final,
                                                          "path": path}, bool(diverged))

    return Problem(objective.name, run, _finite("target", target),
                   f"{objective.name}, {steps} steps from {tuple(np.round(start, 3))}")


# --------------------------------------------------------------------------------------------
# The contestants

#: Named settings of ``lib.optim.sgd`` that the course treats as optimizers of their own.
VARIANTS: dict[str, Callable[..., Any]] = {}

#: Names in ``lib.optim.__all__`` that take ``lr`` but are building blocks, not optimizers.
_BLOCK_PREFIXES = ("scale_by_", "add_", "clip", "trace", "identity", "chain", "apply_", "run",
                   "check_", "learning_rate", "masked", "partition", "multi", "inject")


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
    ``lr`` and that is not a building block (``scale_by_*``, ``add_*``, ``clip_*``, ...). Every
    other hyperparameter keeps the library's default (torch's, or optax's where torch has none),
    so the factory tunes only what it is given. torch has no registry; optax's closest is the
    list of aliases in ``optax/_src/alias.py``.

    >>> sorted(named_optimizers())[:4]
    ['adabelief', 'adagrad', 'adam', 'adamax']
    """
    if module is None:
        from lib import optim as module
    out: dict[str, Callable[..., Any]] = {}
    for name in getattr(module, "__all__", []):
        fn = getattr(module, name, None)
        if not inspect.isfunction(fn) or name.startswith(_BLOCK_PREFIXES) or not name.islower():
            continue
        params = list(inspect.signature(fn).parameters)
        if not params or params[0] != "lr":
            continue
        out[name] = (lambda f: lambda lr, **hyper: f(lr=lr, **hyper))(fn)
    if variants:
        for name, make in VARIANTS.items():
            out.setdefault(name, make)
    return dict(sorted(out.items()))


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
        raise ValueError(f"budget={budget} must be a positive multiple of the {len(values)} values of {name!r}, "
                         "so that every optimizer gets exactly the same number of trials")
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


def _row(problem: Problem, name: str, phase: str, setting: dict, seed: int, run: Run,
         keep_curve: bool = False) -> dict:
    row = {"problem": problem.name, "optimizer": name, "phase": phase, **setting,
           "setting": ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in setting.items()),
           "seed": int(seed)}
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
        raise TypeError(f"make_optimizer for {name!r} must accept (lr, **hyper) with hyper {sorted(hyper)}: {exc}") from None


def tune(problem: Problem, make_optimizer, space: Sequence[dict], *, name: str = "optimizer",
         seed: int = 0, select: str = "val_loss") -> tuple[dict, list[dict]]:
    r"""Run every setting of ``space`` once (seed ``seed``) and return ``(best, rows)``.

    .. math:: s^\star = \arg\min_{s \in \text{space}} L_{\text{val}}(\theta_{\text{end}}(s))

    chosen by the ``select`` metric (the validation loss; never a test metric). Diverged runs
    score :math:`+\infty`; ties go to the earlier setting. Raises if every setting diverged.
    torch / optax have no tuner; the same loop by hand, or Optuna / Ray Tune.
    """
    if select.startswith("test"):
        raise ValueError(f"select={select!r}: tune on a validation metric; the test split is only for the final report")
    with _one_blas_thread():
        rows = [_row(problem, name, "tune", dict(s), seed, problem.run(_make(make_optimizer, s, name), seed))
                for s in space]
    if not rows:
        raise ValueError("space is empty: give at least one setting (see search_space)")
    scores = [r.get(select, math.inf) if not r["diverged"] else math.inf for r in rows]
    scores = [s if math.isfinite(s) else math.inf for s in scores]
    if not any(math.isfinite(s) for s in scores):
        raise ValueError(f"{name} diverged on {problem.name} at every setting of its search space: "
                         "move lr_range to smaller learning rates")
    best = dict(space[int(np.argmin(scores))])
    return best, rows


def final_runs(problem: Problem, make_optimizer, setting: dict, seeds: Sequence[int], *,
               name: str = "optimizer", keep_curves: bool = False) -> list[dict]:
    """One row per seed of ``seeds`` at the chosen ``setting`` (phase ``"final"``); with
    ``keep_curves`` each row also holds its validation ``curve`` and ``curve_steps`` arrays."""
    with _one_blas_thread():
        return [_row(problem, name, "final", dict(setting), s, problem.run(_make(make_optimizer, setting, name), s),
                     keep_curves) for s in seeds]


def protocol(problems: Sequence[Problem], optimizers: dict, *, budget: int = 6, seeds: int = 5,
             lr_range: tuple = (1e-4, 1.0), extra: dict | None = None, tune_seed: int = 0,
             keep_curves: bool = False) -> list[dict]:
    r"""The fair comparison: for every problem and optimizer, tune with ``budget`` trials on
    the validation split (:func:`tune` over :func:`search_space`), then run the chosen setting
    with ``seeds`` fresh seeds ``tune_seed + 1, ...`` (:func:`final_runs`). Returns the tidy
    rows of every run, tuning runs included.

    ``optimizers`` maps a name to ``make(lr, **hyper)``; ``lr_range`` is one range for all or
    a dict name -> range; ``extra`` maps a name to ``(hyperparameter, values)`` to tune one
    more hyperparameter inside the same budget. The protocol of :cite:t:`choi2019empirical`
    (tune every optimizer's search space with the same budget) and of
    :cite:t:`schmidt2021descending` (report the spread over seeds). ``keep_curves`` keeps the
    validation curve of every final run in its row (for plotting seed bands).
    """
    if not optimizers:
        raise ValueError("optimizers is empty: pass e.g. named_optimizers()")
    seeds = _positive_int("seeds", seeds)
    extra = extra or {}
    unknown = set(extra) - set(optimizers)
    if unknown:
        raise ValueError(f"extra names optimizers that are not compared: {sorted(unknown)}")
    rows = []
    for problem in problems:                      # (tune and final_runs use one BLAS thread)
        for name, make in optimizers.items():
            rng_ = lr_range[name] if isinstance(lr_range, dict) else lr_range
            space = search_space(budget, rng_, extra.get(name))
            best, tuning = tune(problem, make, space, name=name, seed=tune_seed)
            rows += tuning
            rows += final_runs(problem, make, best, range(tune_seed + 1, tune_seed + 1 + seeds), name=name,
                               keep_curves=keep_curves)
    return rows


# --------------------------------------------------------------------------------------------
# Reporting


def summarize(rows: Sequence[dict], metrics: Sequence[str] = ("test_loss", "steps_to_target"),
              phase: str = "final") -> list[dict]:
    """Median and interquartile range per (problem, optimizer) over the rows of ``phase``.

    Each output row has ``problem``, ``optimizer``, ``n`` (the number of seeds), the setting
    (``lr`` and any extra hyperparameter) and, per metric, ``<metric>_median``, ``<metric>_q25``
    and ``<metric>_q75`` (``inf`` counts as the largest value, so a run that never reached the
    target pushes the quantiles up instead of vanishing). The median, not the best seed: the
    best of several seeds is an optimistic, biased estimate of a typical run.
    """
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        if r["phase"] == phase:
            groups.setdefault((r["problem"], r["optimizer"]), []).append(r)
    if not groups:
        raise ValueError(f"no rows with phase={phase!r}")
    out = []
    for (p, o), rs in groups.items():
        s = {"problem": p, "optimizer": o, "n": len(rs)}
        names = [part.split("=")[0] for part in rs[0]["setting"].split(", ")] + ["setting"]
        for k in names:
            if all(r.get(k) == rs[0].get(k) for r in rs):
                s[k] = rs[0].get(k)
        for m in metrics:
            vals = np.array([r.get(m, math.nan) for r in rs], dtype=float)
            if np.all(np.isnan(vals)):          # a metric the problem does not have (accuracy of a regression)
                q25 = med = q75 = math.nan
            elif np.all(np.isfinite(vals)):
                q25, med, q75 = np.percentile(vals, [25, 50, 75])
            else:                               # inf (never reached) sorts last; 'lower' keeps it exact
                q25, med, q75 = np.percentile(np.where(np.isnan(vals), np.inf, vals), [25, 50, 75], method="lower")
            s[f"{m}_median"], s[f"{m}_q25"], s[f"{m}_q75"] = float(med), float(q25), float(q75)
        out.append(s)
    return out


def to_csv(rows: Sequence[dict], path=None) -> str:
    """The rows as CSV text (columns: the union of the scalar keys, in first-seen order; arrays
    such as kept curves are left out); also written to ``path`` if given. pandas:
    ``pd.DataFrame(rows).to_csv(path, index=False)``."""
    columns: list[str] = []
    for r in rows:
        columns += [k for k, v in r.items() if k not in columns and np.ndim(v) == 0]
    rows = [{k: r[k] for k in columns if k in r} for r in rows]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    text = buf.getvalue()
    if path is not None:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    return text


def cost_table(summary: Sequence[dict], metric: str = "steps_to_target_median") -> dict:
    """``{optimizer: {problem: cost}}`` from :func:`summarize` rows (lower is better)."""
    table: dict[str, dict] = {}
    for s in summary:
        table.setdefault(s["optimizer"], {})[s["problem"]] = float(s[metric])
    return table


def performance_profile(costs: dict, taus) -> dict:
    r"""Dolan and Moré's performance profile :cite:p:`dolan2002benchmarking`.

    With cost :math:`t_{p,s} > 0` of method :math:`s` on problem :math:`p` (lower is better;
    ``inf`` or NaN for a failure), the performance ratio is
    :math:`r_{p,s} = t_{p,s} / \min_{s'} t_{p,s'}` and the profile is

    .. math:: \rho_s(\tau) = \frac{1}{n_p}\,\bigl|\{p : r_{p,s} \le \tau\}\bigr|,

    the fraction of problems on which :math:`s` is within a factor :math:`\tau` of the best.
    :math:`\rho_s(1)` is the fraction of problems :math:`s` wins (ties count for every winner);
    :math:`\lim_{\tau\to\infty}\rho_s(\tau)` the fraction it solves at all. ``costs`` is
    ``{method: {problem: cost}}`` with the same problems for every method; returns
    ``{method: array of len(taus)}``.

    >>> performance_profile({"a": {"p": 1.0, "q": 4.0}, "b": {"p": 2.0, "q": 2.0}}, [1, 2])["a"]
    array([0.5, 1. ])
    """
    methods = list(costs)
    if not methods:
        raise ValueError("costs is empty")
    problems = list(costs[methods[0]])
    for m in methods:
        if set(costs[m]) != set(problems):
            raise ValueError(f"method {m!r} has problems {sorted(costs[m])}, expected {sorted(problems)}: "
                             "every method needs a cost on every problem (inf for a failure)")
    T = np.array([[float(costs[m][p]) for p in problems] for m in methods])
    if np.any(T <= 0):
        raise ValueError("costs must be positive (ratios to the best are taken); shift or use steps/time")
    T = np.where(np.isnan(T), np.inf, T)
    best = T.min(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        R = np.where(np.isfinite(T) & np.isfinite(best), T / best, np.inf)
    taus = np.atleast_1d(np.asarray(taus, dtype=float))
    return {m: (R[i][None, :] <= taus[:, None]).mean(axis=1) for i, m in enumerate(methods)}


def plot_summary(ax, summary: Sequence[dict], metric: str = "test_loss", *, problem: str | None = None,
                 log: bool = False, color=None):
    """Horizontal bars: per optimizer, the median of ``metric`` (a dot) and its interquartile
    range (a line), sorted from best to worst. Values of ``inf`` are drawn at the right edge
    with a ``→``."""
    rows = [s for s in summary if problem is None or s["problem"] == problem]
    if not rows:
        raise ValueError(f"no summary rows for problem {problem!r}")
    rows = sorted(rows, key=lambda s: s[f"{metric}_median"])
    med = np.array([s[f"{metric}_median"] for s in rows])
    lo = np.array([s[f"{metric}_q25"] for s in rows])
    hi = np.array([s[f"{metric}_q75"] for s in rows])
    finite = np.concatenate([v[np.isfinite(v)] for v in (med, lo, hi)])
    edge = finite.max() * (3 if log else 1.1) if finite.size else 1.0
    y = np.arange(len(rows))[::-1]
    c = color or "#0072B2"
    ax.hlines(y, np.minimum(lo, edge), np.minimum(hi, edge), color=c, lw=2.5, alpha=0.5)
    ax.plot(np.minimum(med, edge), y, "o", color=c, ms=5)
    for yi, m in zip(y, med):
        if not math.isfinite(m):
            ax.annotate("→ never", (edge, yi), fontsize="x-small", va="center", ha="right")
    ax.set_yticks(y)
    ax.set_yticklabels([s["optimizer"] for s in rows])
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(f"{metric} (median, IQR)")
    return ax


def plot_performance_profile(ax, profile: dict, taus, *, styles: dict | None = None):
    """Step plot of :func:`performance_profile`: :math:`\\rho_s(\\tau)` against :math:`\\tau`
    (log scale), one line per method."""
    taus = np.asarray(taus, dtype=float)
    for i, (m, rho) in enumerate(profile.items()):
        kw = (styles or {}).get(m, {})
        ax.step(taus, rho, where="post", label=m, **kw)
    ax.set_xscale("log")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("τ (within a factor τ of the best)")
    ax.set_ylabel("fraction of problems ρ(τ)")
    return ax
