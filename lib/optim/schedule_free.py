r"""Schedule-free SGD and AdamW (chapter 07), reproducing ``optax.contrib.schedule_free_*``.

Three sequences :cite:p:`defazio2024road`: the base optimizer steps ``z`` with gradients taken
at ``y``; ``x`` is a weighted running average of the ``z``'s; the parameters the optimizer
hands back (where the next gradient is taken) are the interpolation ``y``:

.. math::
    z_{t+1} = z_t + \Delta_t(\nabla f(y_t)), \qquad
    x_{t+1} = (1 - c_{t+1})\, x_t + c_{t+1}\, z_{t+1}, \qquad
    y_{t+1} = \beta_1 x_{t+1} + (1 - \beta_1)\, z_{t+1},

with :math:`c_{t+1} = w_{t+1} / \sum_{i \le t+1} w_i` and the weight
:math:`w = (\max_{i \le t+1} \eta_i)^{p}` (``weight_lr_power`` :math:`p`). Evaluate the model at
``x`` (:func:`schedule_free_eval_params`), not at the training parameters ``y``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from lib.optim._leaves import as_like, float_zeros
from lib.optim.base import GradientTransformation, check_grads
from lib.tree import tree_map

__all__ = ["ScheduleFreeState", "schedule_free_sgd", "schedule_free_adamw", "schedule_free_eval_params"]


class ScheduleFreeState(NamedTuple):
    b1: float  # the interpolation weight beta_1
    weight_sum: float  # sum of the averaging weights so far
    step_count: int  # starts at 1 (optax's convention; the weight uses lr(step_count))
    max_lr: float  # largest learning rate seen so far
    count: int  # base optimizer updates so far (the base step uses lr(count))
    nu: Any  # AdamW's second moment (None for SGD)
    z: Any  # the base optimizer's iterate


def _check(name, value, low=0.0, high=None):
    value = float(value)
    if not math.isfinite(value) or value < low or (high is not None and value >= high):
        rng = f"in [{low}, {high})" if high is not None else f">= {low}"
        raise ValueError(f"Invalid {name} value: {value}; it must be {rng}")
    return value


def _lr_fn(lr, warmup_steps):
    if warmup_steps is not None:
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 1:
            raise ValueError(f"warmup_steps must be a positive integer or None, got {warmup_steps!r}")
        peak = np.float32(_check("learning rate", lr))
        W = np.float32(warmup_steps)

        def warm(c):  # optax.warmup_constant_schedule, which computes in float32 even under x64
            frac = np.float32(1) - np.float32(min(c, warmup_steps)) / W
            return float(-peak * frac + peak)

        return warm
    if callable(lr):
        return lambda c: float(lr(c))
    lr = _check("learning rate", lr)
    return lambda c: lr


def _schedule_free(lr_fn, b1, weight_lr_power, base_update, adam):
    def init(params):
        z = tree_map(lambda p: np.array(p, dtype=float_zeros(p).dtype, copy=True), params)
        nu = tree_map(float_zeros, params) if adam else None  # the state keeps the parameters' dtype
        return ScheduleFreeState(b1, 0.0, 1, 0.0, 0, nu, z)

    def update(grads, state, params=None):
        if params is None:
            raise ValueError("schedule-free needs the parameters: call update(grads, state, params)")
        check_grads(grads, params)
        lr = lr_fn(state.step_count)
        max_lr = max(state.max_lr, lr)
        weight = max_lr**weight_lr_power
        total = state.weight_sum + weight
        ck = weight / total if total > 0 else 0.0
        base, nu, count = base_update(grads, state, params, lr_fn(state.count))
        z = tree_map(np.add, state.z, base)  # z_{t+1} = z_t + Δ_t

        def new_y(y, z_old, step):
            # x_t = (y_t - (1-b1) z_t)/b1, x_{t+1} = (1-ck) x_t + ck z_{t+1}, y_{t+1} = b1 x_{t+1} + (1-b1) z_{t+1}
            # collapse to y_{t+1} - y_t = ck (z_t - y_t) + (1 - b1 (1-ck)) Δ_t (chapter 07 checks it in SymPy)
            u = np.subtract(z_old, y, dtype=z_old.dtype)
            u *= ck
            step *= 1.0 - b1 * (1.0 - ck)  # the base step is this update's own fresh array
            u += step
            return u

        updates = tree_map(new_y, params, state.z, base)
        return updates, ScheduleFreeState(b1, total, state.step_count + 1, max_lr, count, nu, z)

    return GradientTransformation(init, update)


def schedule_free_sgd(
    lr: float = 1.0,
    warmup_steps: int | None = None,
    momentum: float = 0.9,
    weight_decay: float | None = None,
    weight_lr_power: float = 2.0,
) -> GradientTransformation:
    r"""Schedule-free SGD: SGD on ``z``, averaging into ``x``, gradients at the interpolation ``y``.

    .. math:: z_{t+1} = z_t - \eta_t\,(\nabla f(y_t) + \lambda y_t), \quad
              y_{t+1} = \beta x_{t+1} + (1-\beta) z_{t+1}

    (``momentum`` is :math:`\beta`). With ``warmup_steps`` the rate rises linearly from 0 (the
    very first base step uses :math:`\eta_0 = 0`; the warmup rate is rounded to float32, as
    optax computes it). optax:
    ``optax.contrib.schedule_free_sgd(learning_rate, warmup_steps, b1, weight_decay,
    weight_lr_power)``; torch: ``schedulefree.SGDScheduleFree`` (a separate package).
    Reference: :cite:t:`defazio2024road`.
    """
    lr_fn = _lr_fn(lr, warmup_steps)
    b1 = _check("momentum", momentum, 0.0, 1.0)
    if b1 == 0.0:
        raise ValueError("momentum must be > 0: the evaluation point divides by it")
    wd = None if weight_decay is None else _check("weight_decay", weight_decay)

    def base_update(grads, state, params, eta):
        if wd is None:
            u = tree_map(lambda g, z: np.multiply(as_like(g, z), -eta), grads, state.z)
        else:
            u = tree_map(lambda g, p, z: (as_like(g, z) + wd * np.asarray(p)) * -eta, grads, params, state.z)
        return u, None, state.count + 1

    return _schedule_free(lr_fn, b1, float(weight_lr_power), base_update, adam=False)


def schedule_free_adamw(
    lr: float = 0.0025,
    warmup_steps: int | None = None,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    weight_lr_power: float = 2.0,
) -> GradientTransformation:
    r"""Schedule-free AdamW: an RMS-scaled step (Adam with :math:`\beta_1 = 0`) on ``z``.

    .. math:: v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \quad
              z_{t+1} = z_t - \eta_t \Bigl(\frac{g_t}{\sqrt{v_t/(1-\beta_2^t)} + \varepsilon}
              + \lambda y_t\Bigr)

    and :math:`\beta_1` interpolates :math:`y` between the average :math:`x` and :math:`z`.
    optax: ``optax.contrib.schedule_free_adamw(learning_rate, warmup_steps, b1, b2, eps,
    weight_decay, weight_lr_power)``; torch: ``schedulefree.AdamWScheduleFree``.
    Reference: :cite:t:`defazio2024road`.
    """
    lr_fn = _lr_fn(lr, warmup_steps)
    if len(tuple(betas)) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    b1 = _check("beta parameter at index 0", betas[0], 0.0, 1.0)
    b2 = _check("beta parameter at index 1", betas[1], 0.0, 1.0)
    if b1 == 0.0:
        raise ValueError("betas[0] must be > 0: the evaluation point divides by it")
    eps, wd = _check("epsilon", eps), _check("weight_decay", weight_decay)

    def base_update(grads, state, params, eta):
        count = state.count + 1
        corr = 1 - b2**count

        def leaf(g, v_old, p):
            g = as_like(g, v_old)
            v = _fresh(np.square(g))  # b2 v + (1 - b2) g², then the step in the spare array
            v *= 1 - b2
            step = _fresh(b2 * v_old)
            v += step
            np.divide(v, corr, out=step)
            np.sqrt(step, out=step)
            step += eps
            np.divide(g, step, out=step)
            if wd:
                step += wd * np.asarray(p, dtype=step.dtype)
            step *= -eta
            return _Pair(step, v)

        pairs = tree_map(leaf, grads, state.nu, params)
        return tree_map(lambda r: r.step, pairs), tree_map(lambda r: r.v, pairs), count

    return _schedule_free(lr_fn, b1, float(weight_lr_power), base_update, adam=True)


class _Pair:
    """A leaf holding a step and a second moment (not a tuple, so that tree_map keeps it a leaf)."""

    __slots__ = ("step", "v")

    def __init__(self, step, v):
        self.step, self.v = step, v


def _fresh(x: Any) -> np.ndarray:
    return x if isinstance(x, np.ndarray) else np.asarray(x)


def schedule_free_eval_params(state: ScheduleFreeState, params):
    r"""The averaged point ``x`` where a schedule-free model should be evaluated.

    .. math:: x_t = \frac{y_t - (1-\beta_1)\, z_t}{\beta_1}

    optax: ``optax.contrib.schedule_free_eval_params(state, params)``; torch:
    ``optimizer.eval()`` in the ``schedulefree`` package. Reference: :cite:t:`defazio2024road`.
    """
    if not isinstance(state, ScheduleFreeState):
        raise ValueError(
            "schedule_free_eval_params requires a ScheduleFreeState as input "
            f"(the state of schedule_free_sgd/adamw), got {type(state).__name__}"
        )
    b1 = state.b1
    return tree_map(lambda y, z: (np.asarray(y) - (1.0 - b1) * z) / b1, params, state.z)
