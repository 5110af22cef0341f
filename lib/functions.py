r"""Test functions for optimizers: each written once, as a SymPy expression.

The formula is the code. Each constructor writes :math:`f(\theta)` as a SymPy expression; the
gradient and the Hessian are *derived* by SymPy and compiled to NumPy with
:func:`sympy.lambdify`, so there is no hand-written derivative to get wrong. An
:class:`Objective` bundles the expression with its known minima and saddle points, a good
plotting window and a default start point.

Coordinates sit on the **first axis**: ``f(theta)`` takes an array of shape ``(n,)`` (one
point) or ``(n, *grid)`` (many points at once, e.g. ``np.stack([X, Y])`` from a mesh grid).

>>> f = rosenbrock()
>>> f(f.minima[0]), f.grad([0.0, 0.0])
(0.0, array([-2.,  0.]))
"""

from __future__ import annotations

import difflib
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

__all__ = [
    "Objective",
    "FUNCTIONS",
    "get",
    "quadratic",
    "quadratic_hessian",
    "rosenbrock",
    "beale",
    "himmelblau",
    "saddle",
    "ravine",
]

X, Y = sp.symbols("x y", real=True)


def _point(*coords: float) -> np.ndarray:
    a = np.array(coords, dtype=np.float64)
    a.flags.writeable = False  # shared by every caller of a cached constructor
    return a


def _compile(exprs: list, symbols: tuple) -> Callable[[np.ndarray], np.ndarray]:
    """Compile a list of expressions to ``theta (n, *grid) -> array (len(exprs), *grid)``.

    ``lambdify`` returns a plain number for a constant component (a quadratic's Hessian), so
    every component is written into an output array of the grid's shape (NumPy broadcasts).
    """
    fn = sp.lambdify(symbols, exprs, modules="numpy")
    # Polynomials and ratios of them need only + - * / and integer powers, which Python floats
    # compute exactly as NumPy's float64 scalars do (IEEE arithmetic, C's pow), about six times
    # faster: an optimizer's step on a 2-D test function is mostly this call.
    rational = all(sp.sympify(e).is_rational_function(*symbols) for e in exprs)

    def evaluate(theta: np.ndarray) -> np.ndarray:
        if theta.ndim == 1:  # one point (an optimizer's step): the components are scalars
            if rational and theta.dtype == np.float64:
                try:
                    return np.array(fn(*theta.tolist()), dtype=np.float64)
                except (OverflowError, ZeroDivisionError):
                    pass  # a diverging run: NumPy's inf / nan below, as before
            with np.errstate(over="ignore", invalid="ignore"):
                return np.array(fn(*theta), dtype=theta.dtype)
        out = np.empty((len(exprs),) + theta.shape[1:], dtype=theta.dtype)
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging run gives inf/nan
            for i, component in enumerate(fn(*theta)):
                out[i] = component
        return out

    return evaluate


@dataclass(frozen=True, eq=False)
class Objective:
    r"""A test function :math:`f:\mathbb{R}^n\to\mathbb{R}` with its derivatives and landmarks.

    Build one with a constructor (:func:`rosenbrock`, :func:`quadratic`, ...) or
    :func:`get`. ``value`` (also ``f(theta)``), ``grad`` and ``hessian`` evaluate
    :math:`f`, :math:`\nabla f` and :math:`\nabla^2 f`, compiled from :attr:`expr` on first
    use. Inputs of shape ``(n,)`` give a float, a vector ``(n,)`` and a matrix ``(n, n)``;
    inputs of shape ``(n, *grid)`` give arrays of shape ``grid``, ``(n, *grid)`` and
    ``(n, n, *grid)``. float32 inputs stay float32; anything else is computed in float64.
    Overflow (a diverging optimizer) gives ``inf``/``nan`` without a warning.

    In PyTorch or optax these are the loss functions of toy problems: ``loss = f(params)``
    followed by ``loss.backward()`` / ``jax.grad(f)``; here SymPy plays the role of autograd.

    >>> f = saddle()
    >>> f.dim, f.saddles[0], f.hessian(f.saddles[0])
    (2, array([0., 0.]), array([[ 1.,  0.],
           [ 0., -1.]]))
    """

    name: str
    expr: sp.Expr
    symbols: tuple[sp.Symbol, ...]
    minima: tuple[np.ndarray, ...] = ()
    saddles: tuple[np.ndarray, ...] = ()
    xlim: tuple[float, float] = (-2.0, 2.0)
    ylim: tuple[float, float] = (-2.0, 2.0)
    start: np.ndarray = field(default_factory=lambda: _point(1.0, 1.0))
    eigenvalues: np.ndarray | None = None
    """The Hessian's eigenvalues in ascending order, for quadratics; ``None`` otherwise."""

    @property
    def dim(self) -> int:
        """The number of coordinates :math:`n`."""
        return len(self.symbols)

    @property
    def latex(self) -> str:
        """The formula as LaTeX, for ``display(Math(f.latex))`` or a figure title."""
        return sp.latex(self.expr)

    # Compiled on first use (functools.cached_property writes past the frozen dataclass).
    @functools.cached_property
    def _value(self):
        return _compile([self.expr], self.symbols)

    @functools.cached_property
    def _grad(self):
        return _compile([sp.diff(self.expr, s) for s in self.symbols], self.symbols)

    @functools.cached_property
    def _hessian(self):
        return _compile(list(sp.hessian(self.expr, self.symbols)), self.symbols)

    def _check(self, theta) -> np.ndarray:
        if type(theta) is np.ndarray and theta.dtype.type is np.float64 and theta.shape[:1] == (self.dim,):
            return theta  # the common case: a float64 point or grid, nothing to convert
        try:
            if np.iscomplexobj(theta):
                raise TypeError
            theta = np.asarray(theta)
            if theta.dtype != np.float32:
                theta = theta.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{self.name} expects real numbers, got {theta!r}") from None
        if theta.ndim == 0 or theta.shape[0] != self.dim:
            raise ValueError(f"{self.name} takes {self.dim} coordinates on the first axis, got shape {theta.shape}")
        return theta

    def value(self, theta) -> float | np.ndarray:
        r""":math:`f(\theta)`: a float for one point, an array of shape ``grid`` for many."""
        out = self._value(self._check(theta))[0]
        return float(out) if out.ndim == 0 else out

    __call__ = value

    def grad(self, theta) -> np.ndarray:
        r""":math:`\nabla f(\theta)`, of shape ``(n,)`` or ``(n, *grid)``."""
        return self._grad(self._check(theta))

    def hessian(self, theta) -> np.ndarray:
        r""":math:`\nabla^2 f(\theta)`, of shape ``(n, n)`` or ``(n, n, *grid)``."""
        theta = self._check(theta)
        return self._hessian(theta).reshape((self.dim, self.dim) + theta.shape[1:])

    def grid(self, n: int = 200, xlim=None, ylim=None):
        """``(X, Y, Z)`` on an ``n`` by ``n`` mesh over the window, ready for ``ax.contour``."""
        if self.dim != 2:
            raise ValueError(f"grid() needs a 2-D function; {self.name} has {self.dim} coordinates")
        xs = np.linspace(*(xlim or self.xlim), n)
        ys = np.linspace(*(ylim or self.ylim), n)
        gx, gy = np.meshgrid(xs, ys)
        return gx, gy, self.value(np.stack([gx, gy]))

    def __repr__(self) -> str:
        return f"Objective({self.name!r}: {self.expr})"


# --------------------------------------------------------------------------- quadratics


def _exact(v: float) -> sp.Expr:
    """An integer-valued float as a SymPy Integer (so the formula reads 5 y², not 5.0 y²)."""
    return sp.Integer(int(v)) if float(v).is_integer() else sp.Float(v)


def _real_tuple(name: str, values) -> tuple[float, ...]:
    try:
        out = tuple(float(v) for v in np.ravel(np.asarray(values, dtype=np.float64)))
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be real numbers, got {values!r}") from None
    if not out or not all(math.isfinite(v) for v in out):
        raise ValueError(f"{name} must be a non-empty sequence of finite numbers, got {values!r}")
    return out


def quadratic_hessian(eigenvalues=(1.0, 10.0), *, kappa=None, angle: float = 0.0) -> np.ndarray:
    r"""The matrix :math:`H = R(\alpha)\,\mathrm{diag}(\lambda_1,\dots,\lambda_n)\,R(\alpha)^\top`.

    ``kappa=k`` stands for ``eigenvalues=(1, k)`` (condition number :math:`\kappa = k`);
    ``angle`` :math:`\alpha` (radians, 2-D only) rotates the eigenbasis.

    >>> quadratic_hessian(kappa=4)
    array([[1., 0.],
           [0., 4.]])
    """
    if kappa is not None:
        (kappa,) = _real_tuple("kappa", kappa)
        if kappa < 1:
            raise ValueError(f"kappa must be >= 1 (it is lambda_max / lambda_min), got {kappa}")
        eigenvalues = (1.0, kappa)
    lam = np.array(_real_tuple("eigenvalues", eigenvalues))
    (angle,) = _real_tuple("angle", angle)
    if angle and lam.size != 2:
        raise ValueError(f"angle rotates a 2-D quadratic only; got {lam.size} eigenvalues")
    c, s = math.cos(angle), math.sin(angle)
    r = np.array([[c, -s], [s, c]]) if angle else np.eye(lam.size)
    return r @ np.diag(lam) @ r.T


@functools.cache
def _quadratic(h: tuple[tuple[float, ...], ...]) -> Objective:
    n = len(h)
    symbols = (X, Y) if n == 2 else sp.symbols(f"theta_1:{n + 1}", real=True)
    expr = sum(sp.Rational(1, 2) * _exact(h[i][i]) * symbols[i] ** 2 for i in range(n))
    expr += sum(_exact(h[i][j]) * symbols[i] * symbols[j] for i in range(n) for j in range(i + 1, n))
    lam = np.linalg.eigvalsh(np.array(h))
    lam.flags.writeable = False
    origin = _point(*[0.0] * n)
    definite = lam.min() > 0
    indefinite = lam.min() < 0 < lam.max() and np.all(lam != 0)
    return Objective(
        "quadratic",
        sp.sympify(expr),
        tuple(symbols),
        minima=(origin,) if definite else (),
        saddles=(origin,) if indefinite else (),
        start=_point(-1.5, 1.0) if n == 2 else _point(*[1.0] * n),
        eigenvalues=lam,
    )


def quadratic(eigenvalues=(1.0, 10.0), *, kappa=None, angle: float = 0.0, hessian=None) -> Objective:
    r"""The quadratic bowl :math:`f(\theta) = \tfrac12\,\theta^\top H\,\theta`, minimum at 0.

    The model every convergence proof starts from: near a minimum any smooth loss looks like
    this, and gradient descent on it is a linear iteration whose rate is set by the condition
    number :math:`\kappa = \lambda_{\max}/\lambda_{\min}` :cite:p:`nocedal2006numerical,goh2017why`.

    :math:`H` is built by :func:`quadratic_hessian` from ``eigenvalues`` (any finite reals,
    any length :math:`n`), or ``kappa=k`` (eigenvalues ``(1, k)``, :math:`k \ge 1`) and
    ``angle`` (radians, 2-D only: rotates the eigenbasis); or given directly as ``hessian``
    (a finite symmetric matrix). ``f.eigenvalues`` holds its eigenvalues in ascending order.
    The origin is listed as a minimum when :math:`H` is positive definite and as a saddle
    when :math:`H` has eigenvalues of both signs (and none zero). The symbols are
    :math:`x, y` in 2-D and :math:`\theta_1, \dots, \theta_n` otherwise; the symbolic cost
    grows as :math:`n^2`, so keep :math:`n` small (tens, not thousands).

    >>> f = quadratic(kappa=10)
    >>> f.expr, f.grad([1.0, 1.0])
    (x**2/2 + 5*y**2, array([ 1., 10.]))
    """
    if hessian is not None:
        if kappa is not None or angle:
            raise ValueError("give either hessian= or eigenvalues/kappa/angle, not both")
        try:
            h = np.asarray(hessian, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"hessian must be a matrix of real numbers, got {hessian!r}") from None
        if h.ndim != 2 or h.shape[0] != h.shape[1] or h.size == 0:
            raise ValueError(f"hessian must be a square matrix, got shape {h.shape}")
        if not np.all(np.isfinite(h)):
            raise ValueError("hessian must be finite (no inf or nan)")
        scale = float(np.max(np.abs(h))) or 1.0
        if not np.allclose(h, h.T, rtol=0.0, atol=1e-12 * scale):
            raise ValueError(
                "hessian must be symmetric: H[i, j] == H[j, i] for all i, j "
                f"(largest difference {np.max(np.abs(h - h.T)):.3g})"
            )
        h = (h + h.T) / 2  # remove rounding-level asymmetry, e.g. from Q @ diag(λ) @ Q.T
    else:
        h = quadratic_hessian(eigenvalues, kappa=kappa, angle=angle)
        h = (h + h.T) / 2  # a rotation leaves rounding asymmetry of one ulp
    return _quadratic(tuple(map(tuple, h.tolist())))


# --------------------------------------------------------------------------- classics


@functools.cache
def rosenbrock(a: float = 1.0, b: float = 100.0) -> Objective:
    r"""Rosenbrock's banana valley :math:`f(x, y) = (a - x)^2 + b\,(y - x^2)^2`.

    A long, curved, nearly flat valley around the parabola :math:`y = x^2`; the minimum is at
    :math:`(a, a^2)` with value 0. The classic test of optimizers since Rosenbrock (1960);
    standard start :math:`(-1.2, 1)` :cite:p:`nocedal2006numerical`. Also in
    ``torch/testing`` and the optax test suite as a smoke test for every optimizer.

    >>> rosenbrock().minima[0]
    array([1., 1.])
    """
    a_, b_ = (_exact(v) for v in _real_tuple("rosenbrock parameters", (a, b)))
    if not b_ > 0:
        raise ValueError(f"rosenbrock needs b > 0, got b={b}")
    a, b = float(a_), float(b_)
    return Objective(
        "rosenbrock",
        (a_ - X) ** 2 + b_ * (Y - X**2) ** 2,
        (X, Y),
        minima=(_point(a, a * a),),
        xlim=(min(-2.0, a - 1.0), max(2.0, a + 1.0)),
        ylim=(min(-1.0, a * a - 1.0), max(3.0, a * a + 1.0)),
        start=_point(-1.2, 1.0),
    )


@functools.cache
def beale() -> Objective:
    r"""Beale's function, flat plateaus and steep walls; minimum :math:`(3, \tfrac12)`.

    .. math::
        f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2

    From Beale (1958); a favourite of the optimizer-race animations. Besides the minimum it
    has a saddle at :math:`(0, 1)` (Hessian eigenvalues :math:`\pm 27.75`), and along the
    line :math:`x = 0` the gradient points only across it.

    >>> beale()([3.0, 0.5])
    0.0
    """
    c = [sp.Rational(3, 2), sp.Rational(9, 4), sp.Rational(21, 8)]
    expr = sum((ci - X + X * Y ** (i + 1)) ** 2 for i, ci in enumerate(c))
    return Objective(
        "beale",
        expr,
        (X, Y),
        minima=(_point(3.0, 0.5),),
        saddles=(_point(0.0, 1.0),),
        xlim=(-4.5, 4.5),
        ylim=(-4.5, 4.5),
        start=_point(1.0, 1.5),
    )


# Approximate critical points of Himmelblau's function, refined with sympy.nsolve below.
_HIMMELBLAU_MINIMA = [(-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)]
_HIMMELBLAU_SADDLES = [(0.086677, 2.884254), (-3.073026, -0.081353), (3.385154, 0.073852), (-0.127961, -1.953715)]


@functools.cache
def himmelblau() -> Objective:
    r"""Himmelblau's function :math:`f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2`.

    Four global minima with value 0 (one of them :math:`(3, 2)`), four saddles and a local
    maximum near :math:`(-0.27, -0.92)`: which minimum an optimizer reaches depends on the
    start. From Himmelblau (1972). The three minima that are not integers, and the saddles,
    are computed here to float64 precision with :func:`sympy.nsolve`.

    >>> len(himmelblau().minima), len(himmelblau().saddles)
    (4, 4)
    """
    expr = (X**2 + Y - 11) ** 2 + (X + Y**2 - 7) ** 2
    grad = [sp.diff(expr, s) for s in (X, Y)]

    def solve(guess):
        root = sp.nsolve(grad, (X, Y), guess, prec=30)
        return _point(*(float(v) for v in root))

    return Objective(
        "himmelblau",
        expr,
        (X, Y),
        minima=(_point(3.0, 2.0), *map(solve, _HIMMELBLAU_MINIMA)),
        saddles=tuple(map(solve, _HIMMELBLAU_SADDLES)),
        xlim=(-5.0, 5.0),
        ylim=(-5.0, 5.0),
        start=_point(0.0, 0.0),
    )


@functools.cache
def saddle() -> Objective:
    r"""A saddle between two minima: :math:`f(x, y) = \tfrac12 x^2 + \tfrac14 y^4 - \tfrac12 y^2`.

    Saddle at :math:`(0, 0)` (Hessian :math:`\mathrm{diag}(1, -1)`), minima at
    :math:`(0, \pm 1)`. Started on or near the line :math:`y = 0`, gradient descent slows to
    a crawl at the saddle before escaping; in high dimensions saddles, not local minima, are
    the usual obstacle :cite:p:`dauphin2014identifying`.

    >>> saddle().minima
    (array([ 0., -1.]), array([0., 1.]))
    """
    expr = X**2 / 2 + Y**4 / 4 - Y**2 / 2
    return Objective(
        "saddle",
        expr,
        (X, Y),
        minima=(_point(0.0, -1.0), _point(0.0, 1.0)),
        saddles=(_point(0.0, 0.0),),
        xlim=(-2.0, 2.0),
        ylim=(-1.5, 1.5),
        start=_point(1.5, 0.01),
    )


@functools.cache
def ravine() -> Objective:
    r"""A narrow curved ravine: :math:`f(x, y) = 0.05\,x^2 + 5\,(y - \tfrac12 \sin x)^2`.

    The floor of the valley follows :math:`y = \tfrac12\sin x` and falls gently towards the
    minimum :math:`(0, 0)`; across it the curvature is much larger than along it, so plain
    gradient descent zig-zags and momentum helps :cite:p:`goh2017why`. The ratio of the
    Hessian's eigenvalues on the floor is largest at the minimum and smallest where the floor
    bends most (:math:`x = \pm\pi/2`); compute it rather than quote it:

    >>> ravine().grad([0.0, 1.0])
    array([-5., 10.])
    >>> def ratio(x):
    ...     lam = np.linalg.eigvalsh(ravine().hessian([x, np.sin(x) / 2]))
    ...     return round(float(lam[1] / lam[0]), 1)
    >>> ratio(0.0), ratio(np.pi / 2)
    (156.8, 100.0)
    """
    expr = sp.Rational(1, 20) * X**2 + 5 * (Y - sp.sin(X) / 2) ** 2
    return Objective(
        "ravine", expr, (X, Y), minima=(_point(0.0, 0.0),), xlim=(-6.0, 6.0), ylim=(-2.0, 2.0), start=_point(-5.0, 1.0)
    )


# --------------------------------------------------------------------------- registry

FUNCTIONS: dict[str, Callable[..., Objective]] = {
    "quadratic": quadratic,
    "rosenbrock": rosenbrock,
    "beale": beale,
    "himmelblau": himmelblau,
    "saddle": saddle,
    "ravine": ravine,
}


class UnknownFunctionError(KeyError, ValueError):
    """An unknown name in :func:`get` (a ``KeyError`` and a ``ValueError``)."""

    def __str__(self) -> str:  # KeyError would print the message with quotes
        return str(self.args[0])


def get(name: str, **kwargs) -> Objective:
    """The test function called ``name``, built with ``kwargs``: ``get("quadratic", kappa=50)``.

    >>> get("rosenbrock", b=10).expr
    (1 - x)**2 + 10*(-x**2 + y)**2
    """
    if name not in FUNCTIONS:
        message = f"unknown test function {name!r}; available: {', '.join(sorted(FUNCTIONS))}"
        close = difflib.get_close_matches(str(name).lower(), FUNCTIONS, n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
        raise UnknownFunctionError(message)
    return FUNCTIONS[name](**kwargs)
