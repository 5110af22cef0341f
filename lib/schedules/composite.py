"""Schedules built from others: torch's SequentialLR and warmup-stable-decay (WSD)."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence

from lib.schedules.base import Schedule, _int, _lr, _real
from lib.schedules.plateau import ReduceLROnPlateau

__all__ = ["sequential_lr", "warmup_stable_decay"]


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
            raise ValueError(
                f"sequential_lr: the schedule at index {i} must be a function of the "
                f"step (reduce_lr_on_plateau needs losses and cannot be sequenced)"
            )
    ms = [_int("milestone", m, low=1) for m in milestones]
    if len(ms) != len(schedules) - 1:
        raise ValueError(
            "sequential_lr expects number of schedules provided to be one more than the "
            f"number of milestone points, but got number of schedules {len(schedules)} "
            f"and the number of milestones to be equal to {len(ms)}"
        )
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
    return Schedule(
        fn,
        "sequential_lr(" + ", ".join(getattr(s, "name", "f") for s in schedules) + ")",
        tuple(sorted(set(ms + inner))),
    )


def warmup_stable_decay(
    base_lr: float,
    warmup_steps: int,
    stable_steps: int,
    decay_steps: int,
    start_factor: float = 1e-3,
    end_factor: float = 0.0,
    decay_shape: str = "linear",
) -> Schedule:
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
    a = _real("start_factor", start_factor, low=0.0, high=1.0, low_open=True, what="start_factor must be in (0, 1]")
    b = _real("end_factor", end_factor, low=0.0, high=1.0, what="end_factor must be in [0, 1]")
    shapes = {
        "linear": lambda x: 1 - x,
        "cosine": lambda x: (1 + math.cos(math.pi * x)) / 2,
        "1-sqrt": lambda x: 1 - math.sqrt(x),
    }
    if decay_shape not in shapes:
        raise ValueError(f"unknown decay_shape {decay_shape!r}; use one of {sorted(shapes)}")
    d = shapes[decay_shape]

    def fn(t):
        if t < W:
            return base_lr * (a + (1 - a) * t / W)
        if t < W + S:
            return base_lr
        return base_lr * (b + (1 - b) * d(min(t - W - S, D) / D))

    return Schedule(
        fn, f"warmup_stable_decay({W}, {S}, {D}, {decay_shape})", tuple(x for x in (W, W + S, W + S + D) if x > 0)
    )
