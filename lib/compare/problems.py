r"""Benchmark problems for :mod:`lib.compare`: a :class:`Problem` runs an optimizer from a seed and
returns a :class:`Run` (a validation curve, its step counts and wall times, final metrics).

Three kinds: a :mod:`lib.nn` model on train / validation / test splits (:func:`model_problem`),
a badly conditioned linear least-squares problem (:func:`least_squares_problem`), and a 2-D test
function of :mod:`lib.functions` (:func:`objective_problem`). The protocol in
:mod:`lib.compare.tuning` sees only ``problem.run(optimizer, seed)`` and ``problem.target``, so
any other problem with that interface runs through it too :cite:p:`schmidt2021descending`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any, NamedTuple

import numpy as np

__all__ = ["Run", "Problem", "model_problem", "least_squares_problem", "objective_problem"]


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


def _positive_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _finite(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def model_problem(
    name: str, model, splits, *, epochs: int, batch_size: int, target: float, description: str = ""
) -> Problem:
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
        h = train(
            model,
            model.init(int(seed)),
            optimizer,
            splits.train,
            val=splits.val,
            epochs=epochs,
            batch_size=batch_size,
            seed=int(seed),
            progress=False,
        )
        curve = np.full(epochs, np.inf)
        curve[: h.epochs] = np.where(np.isfinite(h.val_loss), h.val_loss, np.inf)
        steps = np.full(epochs, np.iinfo(np.int64).max)
        steps[: h.epochs] = [np.searchsorted(h.grad_evals, e) + 1 for e in h.epoch_grad_evals]
        wall = np.full(epochs, np.inf)
        wall[: h.epochs] = h.epoch_wall_time
        if h.diverged or h.epochs == 0:
            metrics = dict.fromkeys(("train_loss", "val_loss", "val_acc", "test_loss", "test_acc"), math.inf)
            metrics["val_acc"] = metrics["test_acc"] = 0.0
        else:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                test_loss, test_acc = evaluate(h.params, *test)
            metrics = {
                "train_loss": float(h.train_loss[-1]),
                "val_loss": float(h.val_loss[-1]),
                "val_acc": float(h.val_acc[-1]),
                "test_loss": float(test_loss),
                "test_acc": float(test_acc),
            }
            if not math.isfinite(metrics["val_loss"]):
                metrics["val_loss"] = math.inf
        return Run(curve, steps, wall, metrics, bool(h.diverged))

    return Problem(name, run, target, description or f"{model.name}, {epochs} epochs of batch {batch_size}")


def least_squares_problem(
    kappa: float = 1e3,
    *,
    n: int = 300,
    d: int = 10,
    noise: float = 0.1,
    steps: int = 200,
    batch_size: int | None = None,
    data_seed: int = 0,
    target_excess: float = 0.05,
) -> Problem:
    r"""Badly conditioned linear least squares, :math:`L(W) = \frac1{2n}\lVert XW - y\rVert^2`.

    The columns of :math:`X` are standard normal scaled by :math:`s_j = \sqrt{\kappa}^{\,j/(d-1)}`,
    so the Hessian :math:`X^\top X/n` has condition number close to ``kappa``; :math:`W` is a
    ``(d, 1)`` matrix (a 2-D parameter, so that matrix optimizers run too). The data (train,
    validation and test, ``n`` examples each) come from ``data_seed``; a run's seed draws the
    initial :math:`W_j \sim \mathcal N(0, 1/s_j^2)`, distributed like the true weights, so that
    every seed starts at a comparable loss. Full-batch gradient descent by default
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
        # a stream of its own: default_rng(seed) would repeat the data's draws (w_true) for seed = data_seed
        init_rng = np.random.default_rng([int(seed), int(data_seed), 0x1_51])
        return {"W": init_rng.standard_normal((d, 1)) / scales[:, None]}

    model = Model(f"least_squares(kappa={kappa:g}, d={d})", init, loss_and_grad, predict)
    w_best = np.linalg.lstsq(train.X, train.y, rcond=None)[0][:, None]
    best_val = loss_and_grad({"W": w_best}, val.X, val.y)[0]
    name, target = f"least squares κ={kappa:g}", best_val * (1 + target_excess)
    if batch_size is not None:  # mini-batches: the training loop of lib.train
        return model_problem(
            name,
            model,
            splits,
            epochs=steps,
            batch_size=batch_size,
            target=target,
            description=f"linear least squares, d={d}, κ≈{kappa:g}, {steps} epochs of batch {batch_size}",
        )

    def loss(params, data):
        r = data.X @ params["W"] - data.y[:, None]
        return 0.5 * float(np.mean(r * r))

    def run(optimizer, seed: int) -> Run:
        """Full-batch steps, the validation loss after each: what ``lib.train.train`` does with
        ``batch_size=n``, without its shuffling and per-epoch training loss (3x faster)."""
        from lib.optim import apply_updates

        params = init(int(seed))
        state = optimizer.init(params)
        curve, wall = np.full(steps, np.inf), np.full(steps, np.inf)
        spent, diverged = 0.0, False
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for k in range(steps):
                t0 = time.perf_counter()
                train_loss, grads = loss_and_grad(params, train.X, train.y)
                if not math.isfinite(train_loss):
                    diverged = True
                    break
                updates, state = optimizer.update(grads, state, params)
                params = apply_updates(params, updates)
                spent += time.perf_counter() - t0
                curve[k], wall[k] = loss(params, val), spent
                if not math.isfinite(curve[k]):
                    curve[k], diverged = math.inf, True
                    break
            if diverged:
                metrics = dict.fromkeys(("train_loss", "val_loss", "test_loss"), math.inf)
            else:
                metrics = {
                    "train_loss": loss(params, train),
                    "val_loss": float(curve[-1]),
                    "test_loss": loss(params, test),
                }
        metrics.update(val_acc=math.nan, test_acc=math.nan)
        return Run(curve, np.arange(1, steps + 1), wall, metrics, diverged)

    return Problem(name, run, target, f"linear least squares, d={d}, κ≈{kappa:g}, {steps} full-batch steps")


def objective_problem(objective, *, steps: int = 300, target: float = 1e-6, jitter: float = 0.0, start=None) -> Problem:
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
        curve[: len(gaps)] = np.where(np.isfinite(gaps), np.maximum(gaps, 0.0), np.inf)
        final = math.inf if diverged else float(curve[-1])
        wall = elapsed * np.arange(1, steps + 1) / steps
        return Run(
            curve, np.arange(1, steps + 1), wall, {"val_loss": final, "test_loss": final, "path": path}, bool(diverged)
        )

    return Problem(
        objective.name,
        run,
        _finite("target", target),
        f"{objective.name}, {steps} steps from {tuple(np.round(start, 3))}",
    )
