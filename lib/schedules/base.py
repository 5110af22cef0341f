"""The :class:`Schedule` type and the argument checks shared by every schedule."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np

__all__ = ["Schedule"]


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
            raise ValueError(
                f"{self.name}: tried to use step {t}; the schedule has "
                f"{self.horizon} total steps (torch raises here too)"
            )
        return float(self.fn(t))

    def __repr__(self) -> str:
        return f"<Schedule {self.name}>"


def _real(name, value, *, low=None, high=None, low_open=False, high_open=False, what=None):
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise ValueError(f"Invalid {name}: {value!r}. {name} must be a finite real number.")
    value = float(value)
    bad = (low is not None and (value <= low if low_open else value < low)) or (
        high is not None and (value >= high if high_open else value > high)
    )
    if bad:
        raise ValueError(f"Invalid {name}: {value}. {what or name + ' is out of range'}.")
    return value


def _int(name, value, low=0):
    if isinstance(value, bool) or not isinstance(value, (Integral, np.integer)) or value < low:
        raise ValueError(f"Expected integer {name} >= {low}, but got {value!r}")
    return int(value)


def _lr(value, name="base_lr"):
    return _real(name, value, low=0.0, what=f"{name} must be >= 0")
