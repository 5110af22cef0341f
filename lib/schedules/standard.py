"""torch.optim.lr_scheduler's schedules as pure functions of the update index."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Sequence

from lib.schedules.base import Schedule, _int, _lr, _real

__all__ = [
    "constant_lr",
    "step_lr",
    "multi_step_lr",
    "exponential_lr",
    "cosine_annealing_lr",
    "sgdr_position",
    "cosine_annealing_warm_restarts",
    "linear_lr",
    "polynomial_lr",
    "lambda_lr",
    "one_cycle_lr",
    "cyclic_lr",
]


def constant_lr(base_lr: float, factor: float = 1.0 / 3, total_iters: int = 5) -> Schedule:
    r"""``base_lr * factor`` for the first ``total_iters`` steps, then ``base_lr``.

    .. math:: \eta_t = \eta_0\,(\phi + (1-\phi)\,[t \ge T])

    torch: ``ConstantLR(opt, factor, total_iters)``; optax: ``join_schedules`` of two constants.
    Reference: :cite:t:`goyal2017accurate` (constant warmup).
    """
    base_lr = _lr(base_lr)
    factor = _real(
        "factor", factor, low=0.0, high=1.0, what="Constant multiplicative factor expected to be between 0 and 1"
    )
    total_iters = _int("total_iters", total_iters)
    return Schedule(
        lambda t: base_lr * (factor + (t >= total_iters) * (1 - factor)),
        f"constant_lr(factor={factor:g}, total_iters={total_iters})",
        (total_iters,),
    )


def step_lr(base_lr: float, step_size: int, gamma: float = 0.1) -> Schedule:
    r"""Multiply by ``gamma`` every ``step_size`` steps.

    .. math:: \eta_t = \eta_0\,\gamma^{\lfloor t / s \rfloor}

    torch: ``StepLR(opt, step_size, gamma)``; optax: ``exponential_decay(..., staircase=True)``.
    Reference: :cite:t:`bottou2018optimization`.
    """
    base_lr, step_size = _lr(base_lr), _int("step_size", step_size, low=1)
    gamma = _real("gamma", gamma, low=0.0, what="gamma must be >= 0")
    return Schedule(lambda t: base_lr * gamma ** (t // step_size), f"step_lr(step_size={step_size}, gamma={gamma:g})")


def multi_step_lr(base_lr: float, milestones: Sequence[int], gamma: float = 0.1) -> Schedule:
    r"""Multiply by ``gamma`` at each milestone (a repeated milestone multiplies again).

    .. math:: \eta_t = \eta_0\,\gamma^{\#\{i:\ m_i \le t\}}

    torch: ``MultiStepLR(opt, milestones, gamma)``; optax: ``piecewise_constant_schedule``.
    Reference: :cite:t:`bottou2018optimization`.
    """
    base_lr = _lr(base_lr)
    gamma = _real("gamma", gamma, low=0.0, what="gamma must be >= 0")
    ms = sorted(Counter(_int("milestone", m) for m in milestones).elements())
    return Schedule(
        lambda t: base_lr * gamma ** bisect_right(ms, t),
        f"multi_step_lr(milestones={ms}, gamma={gamma:g})",
        tuple(sorted(set(ms))),
    )


def exponential_lr(base_lr: float, gamma: float) -> Schedule:
    r"""Multiply by ``gamma`` every step.

    .. math:: \eta_t = \eta_0\,\gamma^{t} = \eta_0\, e^{-k t}, \quad k = -\ln\gamma

    torch: ``ExponentialLR(opt, gamma)``; optax: ``exponential_decay(lr, 1, gamma)``.
    Reference: :cite:t:`bottou2018optimization`.
    """
    base_lr = _lr(base_lr)
    gamma = _real("gamma", gamma, low=0.0, what="gamma must be >= 0")
    return Schedule(lambda t: base_lr * gamma**t, f"exponential_lr(gamma={gamma:g})")


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
    return Schedule(
        lambda t: eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2,
        f"cosine_annealing_lr(T_max={T_max}, eta_min={eta_min:g})",
        (T_max,),
    )


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


def cosine_annealing_warm_restarts(base_lr: float, T_0: int, T_mult: int = 1, eta_min: float = 0.0) -> Schedule:
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


def linear_lr(base_lr: float, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5) -> Schedule:
    r"""Linear change of the factor from ``start_factor`` to ``end_factor`` over ``total_iters``
    steps, then constant (linear warmup when ``start_factor < end_factor``).

    .. math:: \eta_t = \eta_0\,\bigl(a + (b - a)\,\min(t, T)/T\bigr)

    torch: ``LinearLR(opt, start_factor, end_factor, total_iters)``; optax:
    ``linear_schedule``. Reference: :cite:t:`goyal2017accurate`.
    """
    base_lr = _lr(base_lr)
    a = _real(
        "start_factor",
        start_factor,
        low=0.0,
        high=1.0,
        low_open=True,
        what="Starting multiplicative factor expected to be greater than 0 and less or equal to 1",
    )
    b = _real(
        "end_factor", end_factor, low=0.0, high=1.0, what="Ending multiplicative factor expected to be between 0 and 1"
    )
    T = _int("total_iters", total_iters, low=1)
    return Schedule(
        lambda t: base_lr * (a + (b - a) * min(T, t) / T),
        f"linear_lr(start_factor={a:.3g}, end_factor={b:.3g}, total_iters={T})",
        (T,),
    )


def polynomial_lr(base_lr: float, total_iters: int = 5, power: float = 1.0) -> Schedule:
    r"""Polynomial decay to zero at ``total_iters``, then zero.

    .. math:: \eta_t = \eta_0\,(1 - \min(t, T)/T)^{p}

    torch: ``PolynomialLR(opt, total_iters, power)``; optax: ``polynomial_schedule``.
    Reference: :cite:t:`bottou2018optimization`.
    """
    base_lr, T = _lr(base_lr), _int("total_iters", total_iters, low=1)
    power = _real("power", power, low=0.0, what="power must be >= 0")
    return Schedule(
        lambda t: base_lr * (1.0 - min(T, t) / T) ** power, f"polynomial_lr(total_iters={T}, power={power:g})", (T,)
    )


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


def one_cycle_lr(
    max_lr: float,
    total_steps: int,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> Schedule:
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
    final_div_factor = _real(
        "final_div_factor", final_div_factor, low=0.0, low_open=True, what="final_div_factor must be > 0"
    )
    initial = max_lr / div_factor
    lrs = {"initial_lr": initial, "max_lr": max_lr, "min_lr": initial / final_div_factor}
    if three_phase:
        phases = [
            (float(pct_start * total_steps) - 1, "initial_lr", "max_lr"),
            (float(2 * pct_start * total_steps) - 2, "max_lr", "initial_lr"),
            (total_steps - 1, "initial_lr", "min_lr"),
        ]
    else:
        phases = [(float(pct_start * total_steps) - 1, "initial_lr", "max_lr"), (total_steps - 1, "max_lr", "min_lr")]

    def fn(t):
        start_step = 0.0
        for i, (end_step, a, b) in enumerate(phases):
            if t <= end_step or i == len(phases) - 1:
                pct = (t - start_step) / (end_step - start_step)
                return _anneal(lrs[a], lrs[b], pct, anneal_strategy)
            start_step = end_step

    bounds = tuple(max(0, math.floor(e) + 1) for e, _, _ in phases[:-1])
    return Schedule(
        fn, f"one_cycle_lr(total_steps={total_steps}, pct_start={pct_start:g})", bounds, horizon=total_steps
    )


def cyclic_lr(
    base_lr: float,
    max_lr: float,
    step_size_up: int = 2000,
    step_size_down: int | None = None,
    mode: str = "triangular",
    gamma: float = 1.0,
) -> Schedule:
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
        s = 1.0 if mode == "triangular" else (1 / 2.0 ** (cycle - 1) if mode == "triangular2" else gamma**t)
        return lo + (hi - lo) * scale * s

    return Schedule(fn, f"cyclic_lr(step_size_up={int(up)}, mode={mode})")
