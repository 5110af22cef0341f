"""Elementary functions on real numbers with the domain checks automatic differentiation needs.

Both modes of :mod:`lib.autodiff` call these on plain floats. Each raises a
:class:`DomainError` (a ``ValueError``) that names the function, the point and the condition,
instead of returning ``nan`` with a NumPy warning. The generic versions in
:mod:`lib.autodiff.forward` (``log``, ``sin``, ...) dispatch to a ``.log()`` / ``.sin()``
method when the argument has one (a ``Dual`` or a ``Var``), and to these functions otherwise.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["DomainError", "real", "log", "exp", "sin", "cos", "tanh", "sqrt", "power", "divide"]


class DomainError(ValueError, ZeroDivisionError):
    """A function (or its derivative) is evaluated outside its domain, e.g. ``log(-1)`` or
    ``1 / 0``. A ``ValueError``, and also a ``ZeroDivisionError`` so that code catching
    either keeps working."""


def real(x, name: str = "value") -> float:
    """``x`` as a float if it is a real number (bool excluded), else a ``TypeError``."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__} {x!r:.60}")
    return float(x)


def log(x: float) -> float:
    """ln x for x > 0."""
    if not x > 0:
        raise DomainError(f"log is undefined at x = {x!r} (the derivative needs x > 0)")
    return math.log(x)


def exp(x: float) -> float:
    """e^x; an ``OverflowError`` that says so above x ≈ 709.78."""
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(
            f"exp overflows at x = {x!r}: e^x exceeds the largest float (about 1.8e308) for x > 709.78"
        ) from None


def sin(x: float) -> float:
    """sin x."""
    return math.sin(x)


def cos(x: float) -> float:
    """cos x."""
    return math.cos(x)


def tanh(x: float) -> float:
    """tanh x."""
    return math.tanh(x)


def sqrt(x: float) -> float:
    """√x for x > 0 (at 0 the derivative 1/(2√x) is infinite, so AD refuses it too)."""
    if x < 0:
        raise DomainError(f"sqrt is undefined at x = {x!r} (it needs x >= 0)")
    if x == 0:
        raise DomainError(f"sqrt is not differentiable at x = {x!r} (the derivative 1/(2 sqrt(x)) needs x > 0)")
    return math.sqrt(x)


def divide(a: float, b: float) -> float:
    """a / b for b ≠ 0."""
    if b == 0:
        raise DomainError(f"division by zero: {a!r} / {b!r} (a / b and its derivative need b != 0)")
    return a / b


def power(x: float, p: float) -> float:
    """x ** p where it is real and differentiable in x: a negative x needs an integer p, and
    x = 0 needs p = 0 or p >= 1 (otherwise p x^(p-1) is infinite)."""
    if x < 0 and p != int(p):
        raise DomainError(f"x ** {p!r} is undefined at x = {x!r} (a negative base needs an integer exponent)")
    if x == 0 and p != 0 and p < 1:
        raise DomainError(
            f"x ** {p!r} is not differentiable at x = 0 (the derivative {p!r} x ** {p - 1!r} is infinite there)"
        )
    try:
        return x**p
    except OverflowError:
        raise OverflowError(f"{x!r} ** {p!r} overflows (larger than about 1.8e308)") from None
