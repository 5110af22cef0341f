r"""Forward-mode automatic differentiation with dual numbers.

A dual number :math:`a + b\varepsilon` with :math:`\varepsilon^2 = 0` carries a value
:math:`a` and a tangent :math:`b`. Taylor's theorem gives
:math:`f(a + b\varepsilon) = f(a) + f'(a)\,b\,\varepsilon` (every higher power of
:math:`\varepsilon` vanishes), so evaluating a program on duals computes, alongside each
value, its derivative in one chosen direction :cite:p:`baydin2018automatic,griewank2008evaluating`:

.. math:: (u + \dot u\varepsilon)(w + \dot w\varepsilon) = uw + (\dot u w + u \dot w)\varepsilon,
          \qquad \sin(u + \dot u\varepsilon) = \sin u + \dot u \cos u\,\varepsilon .

One pass seeded with :math:`\dot x = v` gives the Jacobian-vector product :math:`J_f(x)\,v`
(:func:`jvp`); a full gradient of :math:`f:\mathbb{R}^n\to\mathbb{R}` takes :math:`n` passes.
torch: ``torch.func.jvp``; JAX: ``jax.jvp``.

Functions outside their domain raise :class:`DomainError` (a ``ValueError``) with a sentence,
not a NumPy warning and a ``nan``:

>>> x = Dual(2.0, 1.0)                  # the value 2, seeded with dx/dx = 1
>>> x * x + sin(x)
Dual(4.909297426825682, 3.5838531634528574)
>>> log(Dual(-1.0, 1.0))
Traceback (most recent call last):
...
lib.autodiff._scalar.DomainError: log is undefined at x = -1.0 (the derivative needs x > 0)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from lib.autodiff import _scalar as S
from lib.autodiff._scalar import DomainError

__all__ = [
    "Dual",
    "DomainError",
    "jvp",
    "derivative",
    "forward_gradient",
    "forward_jacobian",
    "exp",
    "log",
    "sin",
    "cos",
    "tanh",
    "sqrt",
    "relu",
    "sigmoid",
]


class Dual:
    r"""A dual number ``value + dot·ε`` (ε² = 0): a value and its derivative in one direction.

    Arithmetic works with other duals and with plain numbers (``2 * x``, ``x ** 3``,
    ``1 / x``, ``2 ** x``); the elementary functions are methods (``x.sin()``) and module
    functions (:func:`sin`), and NumPy calls the methods on object arrays, so ``np.sin`` and
    ``np.sum`` work on arrays of duals. Comparisons compare values, so programs with branches
    can be differentiated. :cite:p:`baydin2018automatic` §3.1.

    >>> Dual(3.0, 1.0) ** 2
    Dual(9.0, 6.0)
    """

    __slots__ = ("value", "dot")

    def __init__(self, value: float, dot: float = 0.0):
        self.value = S.real(value, "the value of a Dual")
        self.dot = S.real(dot, "the tangent (dot) of a Dual")

    def __repr__(self) -> str:
        return f"Dual({self.value!r}, {self.dot!r})"

    # -- arithmetic -----------------------------------------------------------------------------
    @staticmethod
    def _lift(other: Any):
        if isinstance(other, Dual):
            return other
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            return Dual(other, 0.0)
        return NotImplemented

    def __add__(self, other):
        o = self._lift(other)
        if o is NotImplemented:
            return o
        return Dual(self.value + o.value, self.dot + o.dot)

    __radd__ = __add__

    def __sub__(self, other):
        o = self._lift(other)
        if o is NotImplemented:
            return o
        return Dual(self.value - o.value, self.dot - o.dot)

    def __rsub__(self, other):
        o = self._lift(other)
        return o if o is NotImplemented else o - self

    def __mul__(self, other):
        o = self._lift(other)
        if o is NotImplemented:
            return o
        # product rule: (u w)' = u' w + u w'
        return Dual(self.value * o.value, self.dot * o.value + self.value * o.dot)

    __rmul__ = __mul__

    def __truediv__(self, other):
        o = self._lift(other)
        if o is NotImplemented:
            return o
        q = S.divide(self.value, o.value)
        # quotient rule: (u / w)' = (u' - (u / w) w') / w
        return Dual(q, (self.dot - q * o.dot) / o.value)

    def __rtruediv__(self, other):
        o = self._lift(other)
        return o if o is NotImplemented else o / self

    def __neg__(self):
        return Dual(-self.value, -self.dot)

    def __pos__(self):
        return self

    def __pow__(self, other):
        if isinstance(other, Dual):
            if other.dot == 0:
                return self**other.value
            return exp(other * log(self))  # u^w = e^(w ln u), needs u > 0
        p = S.real(other, "the exponent")
        if p == 0:
            return Dual(1.0, 0.0)
        value = S.power(self.value, p)
        return Dual(value, p * S.power(self.value, p - 1) * self.dot)

    def __rpow__(self, other):
        base = S.real(other, "the base")
        if not base > 0:
            raise DomainError(f"{base!r} ** x with a variable exponent needs a base > 0")
        value = S.exp(self.value * math.log(base))
        return Dual(value, value * math.log(base) * self.dot)

    # -- comparisons (on values: lets programs branch) --------------------------------------------
    def __lt__(self, other):
        return self.value < _value(other)

    def __le__(self, other):
        return self.value <= _value(other)

    def __gt__(self, other):
        return self.value > _value(other)

    def __ge__(self, other):
        return self.value >= _value(other)

    # -- elementary functions: value f(u), tangent f'(u) u' ---------------------------------------
    def exp(self):
        e = S.exp(self.value)
        return Dual(e, e * self.dot)

    def log(self):
        return Dual(S.log(self.value), self.dot / self.value)

    def sin(self):
        return Dual(math.sin(self.value), math.cos(self.value) * self.dot)

    def cos(self):
        return Dual(math.cos(self.value), -math.sin(self.value) * self.dot)

    def tanh(self):
        t = math.tanh(self.value)
        return Dual(t, (1.0 - t * t) * self.dot)

    def sqrt(self):
        r = S.sqrt(self.value)
        return Dual(r, self.dot / (2.0 * r))

    def relu(self):
        # derivative 0 at 0, as in PyTorch
        return Dual(self.value, self.dot) if self.value > 0 else Dual(0.0, 0.0)

    def sigmoid(self):
        s = _sigmoid(self.value)
        return Dual(s, s * (1.0 - s) * self.dot)


def _value(x: Any) -> float:
    return x.value if isinstance(x, Dual) else x


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


# -- generic elementary functions: numbers, Duals and lib.autodiff.reverse.Var --------------------


def _generic(name: str, real_fn: Callable[[float], float], math_text: str) -> Callable:
    def fn(x):
        if not isinstance(x, numbers.Real) and hasattr(x, name):
            return getattr(x, name)()
        return real_fn(S.real(x, "x"))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"{math_text} of a number, a :class:`Dual` or a ``Var`` (calls its ``.{name}()``); "
        f"see :cite:p:`baydin2018automatic`."
    )
    return fn


exp = _generic("exp", S.exp, "e^x")
log = _generic("log", S.log, "ln x (x > 0)")
sin = _generic("sin", S.sin, "sin x")
cos = _generic("cos", S.cos, "cos x")
tanh = _generic("tanh", S.tanh, "tanh x")
sqrt = _generic("sqrt", S.sqrt, "√x (x > 0)")
relu = _generic("relu", lambda x: max(x, 0.0), "max(x, 0)")
sigmoid = _generic("sigmoid", _sigmoid, "1/(1 + e^(-x))")


# -- derivatives with dual numbers ----------------------------------------------------------------


def _split(out: Any, where: str = "f(x)"):
    """(value, tangent) of a function's output: a Dual, a number, or an array/list of them."""
    if isinstance(out, Dual):
        return out.value, out.dot
    if isinstance(out, numbers.Real):
        return float(out), 0.0  # a constant: derivative 0
    if isinstance(out, (list, tuple, np.ndarray)):
        parts = [_split(o, where) for o in np.asarray(out, dtype=object).ravel()]
        shape = np.shape(out)
        return (np.array([p[0] for p in parts]).reshape(shape), np.array([p[1] for p in parts]).reshape(shape))
    raise TypeError(
        f"{where} returned {type(out).__name__}; expected a number, a Dual or an "
        "array of them (use lib.autodiff.sin etc. or np.sin, not math.sin)"
    )


def _duals(x: Any, v: Any):
    if np.ndim(x) == 0:
        return Dual(S.real(x, "x"), S.real(v, "v"))
    x = np.asarray(x, dtype=float)
    v = np.asarray(v, dtype=float)
    if x.ndim != 1 or v.shape != x.shape:
        raise ValueError(f"x and v must be 1-D of the same length, got shapes {x.shape} and {v.shape}")
    return np.array([Dual(a, b) for a, b in zip(x, v)], dtype=object)


def jvp(f: Callable, x: Any, v: Any):
    r"""``(f(x), J_f(x) v)`` from one forward pass on dual numbers :math:`x + v\varepsilon`.

    ``x`` and ``v`` are numbers or 1-D arrays of the same length; ``f`` takes what ``x`` is
    (an array arrives as an object array of :class:`Dual`) and returns a number or an array.
    Cost: a small constant times one evaluation of ``f``, whatever the dimensions.
    torch: ``torch.func.jvp(f, (x,), (v,))``; JAX: ``jax.jvp(f, (x,), (v,))``.
    :cite:p:`baydin2018automatic`

    >>> jvp(lambda x: x[0] * x[1], [2.0, 3.0], [1.0, 0.0])     # ∂(x₁x₂)/∂x₁ = x₂
    (6.0, 3.0)
    """
    return _split(f(_duals(x, v)))


def derivative(f: Callable[[Any], Any], x: float) -> float:
    """f'(x) of a function of one variable, one forward pass seeded with 1.
    :cite:p:`baydin2018automatic`

    >>> derivative(lambda t: t ** 3, 2.0)
    12.0
    """
    return jvp(f, x, 1.0)[1]


def forward_gradient(f: Callable, x: Any):
    r"""``(f(x), ∇f(x))`` of :math:`f:\mathbb{R}^n\to\mathbb{R}` by forward mode: :math:`n`
    passes, one per basis direction :math:`e_i`. (Reverse mode needs one; that is the point of
    chapter 2's cost comparison.) JAX: ``jax.jacfwd``. :cite:p:`baydin2018automatic`

    >>> forward_gradient(lambda x: x[0] ** 2 + 3 * x[1], [1.0, 5.0])[1]
    array([2., 3.])
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D array, got shape {x.shape}")
    value, grad = 0.0, np.zeros(x.size)
    for i in range(x.size):
        value, tangent = jvp(f, x, np.eye(x.size)[i])
        if np.ndim(tangent):
            raise ValueError("f must return a scalar; use forward_jacobian for vector outputs")
        grad[i] = tangent
    return float(value), grad


def forward_jacobian(f: Callable, x: Any) -> np.ndarray:
    r"""The Jacobian :math:`J_f(x)` of shape ``(m, n)`` by forward mode, one column per pass
    (:math:`n` passes). torch: ``torch.func.jacfwd``; JAX: ``jax.jacfwd``.
    :cite:p:`baydin2018automatic`

    >>> forward_jacobian(lambda x: [x[0] * x[1], x[0]], [2.0, 3.0])
    array([[3., 2.],
           [1., 0.]])
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D array, got shape {x.shape}")
    columns = [np.atleast_1d(jvp(f, x, np.eye(x.size)[i])[1]) for i in range(x.size)]
    return np.stack(columns, axis=-1)
