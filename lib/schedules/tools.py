"""Tabulating and drawing schedules, and the learning-rate range test."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from lib.schedules.base import Schedule, _int, _real

__all__ = ["schedule_values", "plot_schedule", "lr_range_test"]


def schedule_values(schedule: Callable[[int], float], steps: int) -> np.ndarray:
    r"""``[f(0), ..., f(steps-1)]`` as a float64 array.

    .. math:: v_t = f(t), \quad 0 \le t < \texttt{steps}

    torch: the ``param_group["lr"]`` recorded before each ``optimizer.step()``; optax:
    ``jax.vmap(schedule)(jnp.arange(steps))``. Reference: :cite:t:`loshchilov2017sgdr`.
    """
    return np.array([schedule(t) for t in range(int(steps))], dtype=np.float64)


def plot_schedule(schedule, steps: int, ax=None, label=None, color=None, log=False, marks=True):
    r"""Draw ``schedule`` over ``steps`` updates, with its phase boundaries as dotted lines.

    .. math:: t \mapsto f(t), \quad 0 \le t < \texttt{steps}

    torch/optax have no plotting helper. Reference: :cite:t:`smith2017cyclical`.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    t = np.arange(int(steps))
    (line,) = ax.plot(
        t, schedule_values(schedule, steps), label=label or getattr(schedule, "name", None), color=color, lw=1.6
    )
    if marks:
        for b in getattr(schedule, "boundaries", ()):
            if 0 < b < steps:
                ax.axvline(b, color=line.get_color(), ls=":", lw=0.9, alpha=0.8)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("update t")
    ax.set_ylabel(r"learning rate $\eta_t$")
    return ax


def lr_range_test(
    loss_and_grad,
    params,
    make_optimizer,
    batches,
    lr_min: float = 1e-4,
    lr_max: float = 10.0,
    steps: int = 100,
    smoothing: float = 0.9,
    stop_factor: float = 4.0,
):
    r"""Smith's learning-rate range test: train once while the rate grows geometrically.

    .. math:: \eta_t = \eta_{\min}\,(\eta_{\max}/\eta_{\min})^{t/(N-1)}, \qquad
              \bar L_t = \frac{(1-\beta)\sum_{s\le t}\beta^{t-s} L_s}{1-\beta^{t+1}}

    ``loss_and_grad(params, X, y) -> (loss, grads)``; ``make_optimizer(schedule)`` builds the
    optimizer from the schedule; ``batches`` yields ``(X, y)`` (at least ``steps`` of them). The
    run stops once the smoothed loss exceeds ``stop_factor`` times its minimum. Returns
    ``(lrs, smoothed_losses)``. torch/optax: none built in (fastai's ``lr_find``).
    Reference: :cite:t:`smith2017cyclical`.
    """
    lr_min = _real("lr_min", lr_min, low=0.0, low_open=True, what="lr_min must be > 0")
    lr_max = _real("lr_max", lr_max, low=lr_min, low_open=True, what="lr_max must be > lr_min")
    steps = _int("steps", steps, low=2)
    ratio = lr_max / lr_min
    sched = Schedule(lambda t: lr_min * ratio ** (t / (steps - 1)), "lr_range")
    tx = make_optimizer(sched)
    state = tx.init(params)
    from lib.optim import apply_updates

    lrs, out, avg, best = [], [], 0.0, math.inf
    for t, (X, y) in zip(range(steps), batches):
        loss, grads = loss_and_grad(params, X, y)
        if not math.isfinite(loss):
            break
        avg = smoothing * avg + (1 - smoothing) * loss
        smooth = avg / (1 - smoothing ** (t + 1))
        lrs.append(sched(t))
        out.append(smooth)
        best = min(best, smooth)
        if smooth > stop_factor * best:
            break
        updates, state = tx.update(grads, state, params)
        params = apply_updates(params, updates)
    return np.array(lrs), np.array(out)
