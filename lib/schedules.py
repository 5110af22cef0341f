r"""Learning-rate schedules as pure functions of the update index (chapter 07).

Every schedule is a :class:`Schedule`: a callable ``f(t) -> lr`` of the 0-based update index
``t`` (the first update uses ``f(0)``), with no hidden counter, so ``f(37)`` is the same number
however often and in whatever order it is asked. It can be passed as any ``lr`` argument in
:mod:`lib.optim`. Names and arguments are ``torch.optim.lr_scheduler``'s in snake case, with the
optimizer's learning rate (``base_lr`` or ``max_lr``) first; the values equal what torch 2.13
writes into ``param_group["lr"]`` before update ``t`` when ``scheduler.step()`` follows every
``optimizer.step()`` (checked against recorded golden data).

:func:`reduce_lr_on_plateau` is the exception: its learning rate depends on the losses seen so
far, not on ``t``, so it is a small object fed the validation loss.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Callable, Sequence

import numpy as np

__all__ = [
    "Schedule", "constant_lr", "step_lr", "multi_step_lr", "exponential_lr", "cosine_annealing_lr",
    "cosine_annealing_warm_restarts", "sgdr_position", "linear_lr", "polynomial_lr", "one_cycle_lr", "cyclic_lr",
    "sequential_lr", "lambda_lr", "warmup_stable_decay", "ReduceLROnPlateau", "reduce_lr_on_plateau",
    "schedule_values", "plot_schedule",
]


@dataclass(frozen=True)
class Schedule:
    """A learning-rate schedule: ``schedule(t)`` is the rate of update ``t`` (0-based).

    ``boundaries`` are the steps where a phase starts (drawn by :func:`plot_schedule`).
    """

    fn: Callable[[int], float]
    name: str
    boundaries: tuple = field(default=())
    horizon: int | None = None  # steps the schedule is defined for (None: any t >= 0)

    def __call__(self, t) -> float:
        if isinstance(t, (bool, np.bool_)) or not isinstance(t, (Integral, np.integer)):
            raise TypeError(f"{self.name}: the step must be an integer, got {type(t).__name__} {t!r}")
        t = int(t)
        if t < 0:
            raise ValueError(f"{self.name}: the step must be >= 0 (0 is the first update), got {t}")
        if self.horizon is not None and t > self.horizon:
            raise ValueError(f"{self.name}: tried to use step {t}; the schedule has "
                             f"{self.horizon} total steps (torch raises here too)")
        return float(self.fn(t))

    def __repr__(self) -> str:
        return f"<Schedule {self.name}>"


def _real(name, value, *, low=None, high=None, low_open=False, high_open=False, what=None):
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise ValueError(f"Invalid {name}: {value!r}. {name} must be a finite real number.")
    value = float(value)
    bad = ((low is not None and (value <= low if low_open else value < low))
           or (high is not None and (value >= high if high_open else value > high)))
    if bad:
        raise ValueError(f"Invalid {name}: {value}. {what or name + ' is out of range'}.")
    return value


def _int(name, value, low=0):
    if isinstance(value, bool) or not isinstance(value, (Integral, np.integer)) or value < low:
        raise ValueError(f"Expected integer {name} >= {low}, but got {value!r}")
    return int(value)


def _lr(value, name="base_lr"):
    return _real(name, value, low=0.0, what=f"{name} must be >= 0")


def constant_lr(base_lr: float, factor: float = 1.0 / 3, total_iters: int = 5) -> Schedule:
    r"""``base_lr * factor`` for the first ``total_iters`` steps, then ``base_lr``.

    .. math:: \eta_t = \eta_0\,(\phi + (1-\phi)\,[t \ge T])

    torch: ``ConstantLR(opt, factor, total_iters)``; optax: ``join_schedules`` of two constants.
    Reference: :cite:t:`goyal2017accurate` (constant warmup).
    """
    base_lr = _lr(base_lr)
    factor = _real("factor", factor, low=0.0, high=1.0,
                   what="Constant multiplicative factor expected to be between 0 and 1")
    total_iters = _int("total_iters", total_iters)
    return Schedule(lambda t: base_lr * (factor + (t >= total_iters) * (1 - factor)),
                    f"constant_lr(factor={factor:g}, total_iters={total_iters})", (total_iters,))


def step_lr(base_lr: float, step_size: int, gamma: float = 0.1) -> Schedule:
    r"""Multiply by ``gamma`` every ``step_size`` steps.

    .. math:: \eta_t = \eta_0\,\gamma^{\lfloor t / s \rfloor}

    torch: ``StepLR(opt, step_size, gamma)``; optax: ``exponential_decay(..., staircase=True)``.
    Reference: :cite:t:`bottou2018optimization`.
    """
    base_lr, step_size = _lr(base_lr), _int("step_size", step_size, low=1)
    gamma = _real("gamma", gamma, low=0.0, what="gamma must be >= 0")
    return Schedule(lambda t: base_lr * gamma ** (t // step_size),
                    f"step_lr(step_size={step_size}, gamma={gamma:g})")


def multi_step_lr(base_lr: float, milestones: Sequence[int], gamma: float = 0.1) -> Schedule:
    r"""Multiply by ``gamma`` at each milestone (a repeated milestone multiplies again).

    .. math:: \eta_t = \eta_0\,\gamma^{\#\{i:\ m_i \le t\}}

    torch: ``MultiStepLR(opt, milestones, gamma)``; optax: ``piecewise_constant_schedule``.
    Reference: :cite:t:`bottou2018optimization`.
    """
    base_lr = _lr(base_lr)
    gamma = _real("gamma", gamma, low=0.0, what="gamma must be >= 0")
    ms = sorted(Counter(_int("milestone", m) for m in milestones).elements())
    return Schedule(lambda t: base_lr * gamma ** bisect_right(ms, t),
                    f"multi_step_lr(milestones={ms}, gamma={gamma:g})", tuple(sorted(set(ms))))


def exponential_lr(base_lr: float, gamma: float) -> Schedule:
    r"""Multiply by ``gamma`` every step.

    .. math:: \eta_t = \eta_0\,\gamma^{t} = \eta_0\, e^{-k t}, \quad k = -\ln\gamma

    torch: ``ExponentialLR(opt, gamma)``; optax: ``exponential_decay(lr, 1, gamma)``.
    Reference: :cite:t:`bottou2018optimization`.
    """
    base_lr = _lr(base_lr)
    gamma = _real("gamma", gamma, low=0.0, what="gamma must be >= 0")
    return Schedule(lambda t: base_lr * gamma ** t, f"exponential_lr(gamma={gamma:g})")


def cosine_annealing_lr(base_lr: float, T_max: int, eta_min: float = 0.0) -> Schedule:
    r"""Half a cosine from ``base_lr`` down to ``eta_min`` over ``T_max`` steps.

    .. math:: \eta_t = \eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})\,(1 + \cos(\pi t / T_{\max}))

    Past ``T_max`` the formula keeps going (the rate rises again, period ``2 T_max``), exactly
    as torch's. torch: ``CosineAnnealingLR(opt, T_max, eta_min)``; optax:
    ``cosine_decay_schedule`` (which stays at the floor after the horizon).
    Reference: :cite:t:`loshchilov2017sgdr`.
    """
    base_lr, T_max = _lr(base_lr), _int("T_max", T_max, low=1)
    eta_min = _real("eta_min", eta_min)
    return Schedule(lambda t: eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2,
                    f"cosine_annealing_lr(T_max={T_max}, eta_min={eta_min:g})", (T_max,))


def sgdr_position(t: int, T_0: int, T_mult: int = 1) -> tuple[int, int]:
    r"""``(T_cur, T_i)``: steps since the last restart and the current period at step ``t``.

    Periods are :math:`T_0, T_0 m, T_0 m^2, \dots`; found by subtraction (no logarithm, so no
    rounding at restarts). torch: ``CosineAnnealingWarmRestarts.T_cur`` / ``.T_i``.
    Reference: :cite:t:`loshchilov2017sgdr`.
    """
    T_cur, T_i = int(t), T_0
    if T_mult == 1:
        return T_cur % T_0, T_0
    while T_cur >= T_i:
        T_cur -= T_i
        T_i *= T_mult
    return T_cur, T_i


def cosine_annealing_warm_restarts(base_lr: float, T_0: int, T_mult: int = 1,
                                   eta_min: float = 0.0) -> Schedule:
    r"""Cosine annealing restarted at ``base_lr`` after periods :math:`T_0, T_0 m, T_0 m^2, \dots`.

    .. math:: \eta_t = \eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})(1 + \cos(\pi T_{cur} / T_i))

    torch: ``CosineAnnealingWarmRestarts(opt, T_0, T_mult, eta_min)``; optax:
    ``sgdr_schedule``. Reference: :cite:t:`loshchilov2017sgdr`.
    """
    base_lr = _lr(base_lr)
    if isinstance(T_0, bool) or not isinstance(T_0, int) or T_0 <= 0:
        raise ValueError(f"Expected positive integer T_0, but got {T_0}")
    if isinstance(T_mult, bool) or not isinstance(T_mult, int) or T_mult < 1:
        raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
    eta_min = _real("eta_min", eta_min)

    def fn(t):
        T_cur, T_i = sgdr_position(t, T_0, T_mult)
        return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2

    starts, s, T_i = [], T_0, T_0
    while s < 100_000 and len(starts) < 64:
        starts.append(s)
        T_i *= T_mult
        s += T_i
    return Schedule(fn, f"cosine_annealing_warm_restarts(T_0={T_0}, T_mult={T_mult})", tuple(starts))


def linear_lr(base_lr: float, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
              total_iters: int = 5) -> Schedule:
    r"""Linear change of the factor from ``start_factor`` to ``end_factor`` over ``total_iters``
    steps, then constant (linear warmup when ``start_factor < end_factor``).

    .. math:: \eta_t = \eta_0\,\bigl(a + (b - a)\,\min(t, T)/T\bigr)

    torch: ``LinearLR(opt, start_factor, end_factor, total_iters)``; optax:
    ``linear_schedule``. Reference: :cite:t:`goyal2017accurate`.
    """
    base_lr = _lr(base_lr)
    a = _real("start_factor", start_factor, low=0.0, high=1.0, low_open=True,
              what="Starting multiplicative factor expected to be greater than 0 and less or equal to 1")
    b = _real("end_factor", end_factor, low=0.0, high=1.0,
              what="Ending multiplicative factor expected to be between 0 and 1")
    T = _int("total_iters", total_iters, low=1)
    return Schedule(lambda t: base_lr * (a + (b - a) * min(T, t) / T),
                    f"linear_lr(start_factor={a:.3g}, end_factor={b:.3g}, total_iters={T})", (T,))


def polynomial_lr(base_lr: float, total_iters: int = 5, power: float = 1.0) -> Schedule:
    r"""Polynomial decay to zero at ``total_iters``, then zero.

    .. math:: \eta_t = \eta_0\,(1 - \min(t, T)/T)^{p}

    torch: ``PolynomialLR(opt, total_iters, power)``; optax: ``polynomial_schedule``.
    Reference: :cite:t:`bottou2018optimization`.
    """
    base_lr, T = _lr(base_lr), _int("total_iters", total_iters, low=1)
    power = _real("power", power, low=0.0, what="power must be >= 0")
    return Schedule(lambda t: base_lr * (1.0 - min(T, t) / T) ** power,
                    f"polynomial_lr(total_iters={T}, power={power:g})", (T,))


def lambda_lr(base_lr: float, lr_lambda: Callable[[int], float]) -> Schedule:
    r"""``base_lr`` times a user factor :math:`\lambda(t)`.

    .. math:: \eta_t = \eta_0\,\lambda(t)

    torch: ``LambdaLR(opt, lr_lambda)``; optax: any callable schedule.
    Reference: :cite:t:`smith2017cyclical`.
    """
    base_lr = _lr(base_lr)
    if not callable(lr_lambda):
        raise TypeError(f"lr_lambda must be a function step -> factor, got {type(lr_lambda).__name__}")
    return Schedule(lambda t: base_lr * lr_lambda(t), "lambda_lr")


def _anneal(start, end, pct, strategy):
    if strategy == "cos":
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
    return (end - start) * pct + start


def one_cycle_lr(max_lr: float, total_steps: int, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False) -> Schedule:
    r"""One cycle: up from ``max_lr/div_factor`` to ``max_lr``, then down to
    ``max_lr/(div_factor·final_div_factor)`` (three phases: down to the start first).

    Phase ends (torch's, in steps): :math:`p T - 1` (and :math:`2pT - 2`), then :math:`T-1`;
    inside a phase from :math:`s_0` to :math:`s_1`, :math:`\eta_t` anneals (cosine or linear)
    with :math:`\text{pct} = (t - s_0)/(s_1 - s_0)`. Defined for ``t <= total_steps``.

    torch: ``OneCycleLR(opt, max_lr, total_steps, ...)`` (momentum cycling not included);
    optax: ``cosine_onecycle_schedule``. Reference: :cite:t:`smith2019super`.
    """
    max_lr = _lr(max_lr, "max_lr")
    if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps <= 0:
        raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
    if not isinstance(pct_start, float) or pct_start < 0 or pct_start > 1:
        raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
    if anneal_strategy not in ("cos", "linear"):
        raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
    div_factor = _real("div_factor", div_factor, low=0.0, low_open=True, what="div_factor must be > 0")
    final_div_factor = _real("final_div_factor", final_div_factor, low=0.0, low_open=True,
                             what="final_div_factor must be > 0")
    initial = max_lr / div_factor
    lrs = {"initial_lr": initial, "max_lr": max_lr, "min_lr": initial / final_div_factor}
    if three_phase:
        phases = [(float(pct_start * total_steps) - 1, "initial_lr", "max_lr"),
                  (float(2 * pct_start * total_steps) - 2, "max_lr", "initial_lr"),
                  (total_steps - 1, "initial_lr", "min_lr")]
    else:
        phases = [(float(pct_start * total_steps) - 1, "initial_lr", "max_lr"),
                  (total_steps - 1, "max_lr", "min_lr")]

    def fn(t):
        start_step = 0.0
        for i, (end_step, a, b) in enumerate(phases):
            if t <= end_step or i == len(phases) - 1:
                pct = (t - start_step) / (end_step - start_step)
                return _anneal(lrs[a], lrs[b], pct, anneal_strategy)
            start_step = end_step

    bounds = tuple(max(0, math.floor(e) + 1) for e, _, _ in phases[:-1])
    return Schedule(fn, f"one_cycle_lr(total_steps={total_steps}, pct_start={pct_start:g})",
                    bounds, horizon=total_steps)


def cyclic_lr(base_lr: float, max_lr: float, step_size_up: int = 2000,
              step_size_down: int | None = None, mode: str = "triangular",
              gamma: float = 1.0) -> Schedule:
    r"""Cyclical learning rate: triangles between ``base_lr`` and ``max_lr``.

    .. math:: c = \lfloor 1 + t/L \rfloor,\ x = 1 + t/L - c,\
              \eta_t = \eta_{lo} + (\eta_{hi} - \eta_{lo})\,h(x)\,s

    with :math:`L` the cycle length, :math:`h` the triangle (up for ``step_size_up`` steps), and
    :math:`s = 1` (triangular), :math:`2^{1-c}` (triangular2) or :math:`\gamma^t` (exp_range).
    torch: ``CyclicLR(opt, base_lr, max_lr, step_size_up, ...)`` (momentum cycling not
    included). Reference: :cite:t:`smith2017cyclical`.
    """
    lo, hi = _lr(base_lr), _lr(max_lr, "max_lr")
    up = float(_int("step_size_up", step_size_up, low=1))
    down = float(_int("step_size_down", step_size_down, low=1)) if step_size_down is not None else up
    if mode not in ("triangular", "triangular2", "exp_range"):
        raise ValueError(f"mode is invalid: {mode!r}; use 'triangular', 'triangular2' or 'exp_range'")
    gamma = _real("gamma", gamma, low=0.0, what="gamma must be >= 0")
    total, ratio = up + down, up / (up + down)

    def fn(t):
        cycle = math.floor(1 + t / total)
        x = 1.0 + t / total - cycle
        scale = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
        s = 1.0 if mode == "triangular" else (1 / 2.0 ** (cycle - 1) if mode == "triangular2" else gamma ** t)
        return lo + (hi - lo) * scale * s

    return Schedule(fn, f"cyclic_lr(step_size_up={int(up)}, mode={mode})")


def sequential_lr(schedules: Sequence[Schedule], milestones: Sequence[int]) -> Schedule:
    r"""Run ``schedules[i]`` from milestone ``i-1`` on, each restarted at its own step 0.

    .. math:: \eta_t = f_i(t - m_{i-1}), \quad i = \#\{j: m_j \le t\}, \ m_{-1} = 0

    torch: ``SequentialLR(opt, schedulers, milestones)`` (at a milestone the next scheduler
    starts from its step 0); optax: ``join_schedules``. Reference: :cite:t:`goyal2017accurate`.
    """
    schedules = list(schedules)
    if len(schedules) < 1:
        raise ValueError("sequential_lr expects at least one schedule, but got no schedule.")
    for i, s in enumerate(schedules):
        if isinstance(s, ReduceLROnPlateau) or not callable(s):
            raise ValueError(f"sequential_lr: the schedule at index {i} must be a function of the "
                             f"step (reduce_lr_on_plateau needs losses and cannot be sequenced)")
    ms = [_int("milestone", m, low=1) for m in milestones]
    if len(ms) != len(schedules) - 1:
        raise ValueError("sequential_lr expects number of schedules provided to be one more than the "
                         f"number of milestone points, but got number of schedules {len(schedules)} "
                         f"and the number of milestones to be equal to {len(ms)}")
    if ms != sorted(ms):
        raise ValueError(f"milestones must be increasing, got {ms}")

    def fn(t):
        i = bisect_right(ms, t)
        return schedules[i](t - (ms[i - 1] if i else 0))

    inner = []
    for i, s in enumerate(schedules):
        off = ms[i - 1] if i else 0
        end = ms[i] if i < len(ms) else math.inf
        inner += [off + b for b in getattr(s, "boundaries", ()) if off + b < end]
    return Schedule(fn, "sequential_lr(" + ", ".join(getattr(s, "name", "f") for s in schedules) + ")",
                    tuple(sorted(set(ms + inner))))


def warmup_stable_decay(base_lr: float, warmup_steps: int, stable_steps: int, decay_steps: int,
                        start_factor: float = 1e-3, end_factor: float = 0.0,
                        decay_shape: str = "linear") -> Schedule:
    r"""Warmup-stable-decay (WSD): linear warmup, a long constant phase, a short decay.

    .. math::
        \eta_t = \eta_0 \begin{cases} a + (1-a)\,t/W & t < W \\ 1 & W \le t < W + S \\
        b + (1-b)\,d\bigl((t - W - S)/D\bigr) & t \ge W + S \end{cases}

    with the decay shape :math:`d(x) = 1-x` (linear), :math:`\tfrac12(1+\cos\pi x)` (cosine) or
    :math:`1-\sqrt{x}` ("1-sqrt"), :math:`x` capped at 1. torch: ``SequentialLR`` of
    ``LinearLR``, ``ConstantLR(factor=1)`` and ``LinearLR`` (or ``LambdaLR``); optax:
    ``join_schedules``. References: :cite:t:`hagele2024scaling`, :cite:t:`hoffmann2022training`.
    """
    base_lr = _lr(base_lr)
    W = _int("warmup_steps", warmup_steps)
    S, D = _int("stable_steps", stable_steps), _int("decay_steps", decay_steps, low=1)
    a = _real("start_factor", start_factor, low=0.0, high=1.0, low_open=True,
              what="start_factor must be in (0, 1]")
    b = _real("end_factor", end_factor, low=0.0, high=1.0, what="end_factor must be in [0, 1]")
    shapes = {"linear": lambda x: 1 - x, "cosine": lambda x: (1 + math.cos(math.pi * x)) / 2,
              "1-sqrt": lambda x: 1 - math.sqrt(x)}
    if decay_shape not in shapes:
        raise ValueError(f"unknown decay_shape {decay_shape!r}; use one of {sorted(shapes)}")
    d = shapes[decay_shape]

    def fn(t):
        if t < W:
            return base_lr * (a + (1 - a) * t / W)
        if t < W + S:
            return base_lr
        return base_lr * (b + (1 - b) * d(min(t - W - S, D) / D))

    return Schedule(fn, f"warmup_stable_decay({W}, {S}, {D}, {decay_shape})",
                    tuple(x for x in (W, W + S, W + S + D) if x > 0))


class ReduceLROnPlateau:
    r"""Divide the learning rate by ``1/factor`` when the monitored loss stops improving.

    Not a function of the step: the rate after ``t`` epochs depends on the losses seen so far,
    so it keeps state (``best``, ``num_bad_epochs``, ``cooldown_counter``, ``lr``) and is fed
    ``step(loss)`` once per evaluation. ``plateau(t)`` answers the current rate for any ``t``
    so it can be passed as an ``lr`` argument.

    .. math:: \eta \leftarrow \max(\phi\,\eta, \eta_{\min}) \text{ after more than
              \texttt{patience} evaluations without improvement}

    torch: ``ReduceLROnPlateau(opt, mode, factor, patience, threshold, threshold_mode,
    cooldown, min_lr, eps)``; optax: ``contrib.reduce_on_plateau``.
    Reference: :cite:t:`bottou2018optimization`.
    """

    def __init__(self, lr: float, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float = 0.0, eps: float = 1e-8):
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        if mode not in ("min", "max"):
            raise ValueError(f"mode {mode} is unknown!")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold mode {threshold_mode} is unknown!")
        self.lr, self.mode, self.factor = _lr(lr, "lr"), mode, float(factor)
        self.patience, self.cooldown = _int("patience", patience), _int("cooldown", cooldown)
        self.threshold, self.threshold_mode = float(threshold), threshold_mode
        self.min_lr, self.eps = float(min_lr), float(eps)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = self.last_epoch = 0

    def _is_better(self, a: float) -> bool:
        best, th = self.best, self.threshold
        if self.mode == "min":
            return a < best * (1.0 - th) if self.threshold_mode == "rel" else a < best - th
        return a > best * (th + 1.0) if self.threshold_mode == "rel" else a > best + th

    def step(self, metrics: float) -> float:
        """Feed one validation loss; returns the learning rate to use next."""
        current = float(metrics)
        if math.isnan(current):
            raise ValueError("reduce_lr_on_plateau.step got a NaN loss; check the training run")
        self.last_epoch += 1
        if self._is_better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            new_lr = max(self.lr * self.factor, self.min_lr)
            if self.lr - new_lr > self.eps:
                self.lr = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        return self.lr

    def __call__(self, t: int = 0) -> float:
        return self.lr


def reduce_lr_on_plateau(lr: float, **kwargs) -> ReduceLROnPlateau:
    """A :class:`ReduceLROnPlateau` (torch: ``ReduceLROnPlateau``; optax:
    ``contrib.reduce_on_plateau``). Reference: :cite:t:`bottou2018optimization`.

    .. math:: \\eta \\leftarrow \\max(\\phi\\,\\eta, \\eta_{\\min}) \\text{ on a plateau}
    """
    return ReduceLROnPlateau(lr, **kwargs)


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
    line, = ax.plot(t, schedule_values(schedule, steps), label=label or getattr(schedule, "name", None),
                    color=color, lw=1.6)
    if marks:
        for b in getattr(schedule, "boundaries", ()):
            if 0 < b < steps:
                ax.axvline(b, color=line.get_color(), ls=":", lw=0.9, alpha=0.8)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("update t")
    ax.set_ylabel(r"learning rate $\eta_t$")
    return ax
