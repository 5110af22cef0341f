r"""Gradient checking: compare a hand-written gradient with central finite differences.

Every later chapter that writes a backward pass by hand (``lib.nn``, the exercises) verifies
it with :func:`check_gradient`. For each coordinate :math:`i`,

.. math:: \frac{\partial f}{\partial \theta_i} \approx
          \frac{f(\theta + h e_i) - f(\theta - h e_i)}{2h}, \qquad \text{error } O(h^2),

(the forward difference :math:`(f(\theta+he_i)-f(\theta))/h` has error :math:`O(h)`), and the
two gradients are compared by the relative error

.. math:: \mathrm{rel}(a, b) = \max_i \frac{|a_i - b_i|}{\max(|a_i| + |b_i|,\ \text{floor})} .

Thresholds follow from the error analysis of the central quotient (chapter 2): at the best
step the error is :math:`E(h^\star) \approx \varepsilon^{2/3}` for derivatives of order 1, so a
correct gradient has a relative error near :math:`E(h^\star)/(2|g'|)`, about ``2e-11`` in float64
and ``1e-5`` in float32 (never check in float32). The default ``tol=1e-6`` leaves a wide margin
for badly scaled derivatives; an error of order 1 is a bug, values in between call for a look
at kinks (ReLU at 0) and scaling :cite:p:`nocedal2006numerical`. A definition dividing by
:math:`\max(|a_i|, |b_i|)` gives values twice as large. The cost is :math:`2n` evaluations of
:math:`f` for :math:`n` parameters (:math:`n+1` for forward differences), which is why
training uses automatic differentiation instead. torch: ``torch.autograd.gradcheck``;
JAX: ``jax.test_util.check_grads``.

Parameters can be an array or a tree of arrays (:mod:`lib.tree`), like an optimizer's.

>>> import numpy as np
>>> check_gradient(lambda x: np.sum(x ** 3), lambda x: 3 * x ** 2, np.array([1.0, -2.0])).passed
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from lib.tree import check_same_structure, tree_leaves, tree_map, tree_paths

__all__ = [
    "numerical_gradient",
    "relative_error",
    "GradientCheck",
    "check_gradient",
    "assert_gradient",
    "difference_quotient",
    "error_model",
    "optimal_step",
    "numerical_hvp",
]

EPS = np.finfo(np.float64).eps


def _flatten(tree: Any) -> tuple[np.ndarray, Callable[[np.ndarray], Any]]:
    leaves = [np.asarray(x, dtype=np.float64) for x in tree_leaves(tree)]
    sizes = [leaf.size for leaf in leaves]
    flat = np.concatenate([leaf.ravel() for leaf in leaves]) if leaves else np.zeros(0)

    def unflatten(vector: np.ndarray) -> Any:
        start, chunks = 0, []
        for leaf, size in zip(leaves, sizes):
            chunks.append(vector[start : start + size].reshape(leaf.shape))
            start += size
        parts = iter(chunks)
        return tree_map(lambda _: next(parts), tree)

    return flat, unflatten


def _scalar(f: Callable, x: Any) -> float:
    value = f(x)
    try:
        value = float(np.asarray(value).reshape(()))
    except (TypeError, ValueError):
        raise TypeError(
            f"the function must return a scalar, got {type(value).__name__} of shape {np.shape(value)}"
        ) from None
    return value


def numerical_gradient(f: Callable[[Any], float], x: Any, *, h: float | None = None, method: str = "central") -> Any:
    r"""The finite-difference gradient of a scalar function ``f`` at ``x`` (array or tree).

    ``method="central"`` (error :math:`O(h^2)`, :math:`2n` evaluations) or ``"forward"``
    (error :math:`O(h)`, :math:`n+1` evaluations). The default step is
    :math:`h_i = \varepsilon^{1/3}\max(1, |x_i|)` for central and
    :math:`\varepsilon^{1/2}\max(1, |x_i|)` for forward differences, which balance truncation
    and round-off error in float64 (:math:`\varepsilon` = machine epsilon)
    :cite:p:`nocedal2006numerical`. torch: ``torch.autograd.gradcheck`` uses the central form.
    """
    if method not in {"central", "forward"}:
        raise ValueError(f"method must be 'central' or 'forward', got {method!r}")
    flat, unflatten = _flatten(x)
    if not np.all(np.isfinite(flat)):
        raise ValueError("x contains NaN or infinity: finite differences need a finite point")
    power = 1 / 3 if method == "central" else 1 / 2
    steps = np.full(flat.shape, float(h)) if h is not None else EPS**power * np.maximum(1.0, np.abs(flat))
    if np.any(steps <= 0):
        raise ValueError(f"the step h must be positive, got {h}")
    grad = np.empty_like(flat)
    f0 = _scalar(f, unflatten(flat.copy())) if method == "forward" else None
    for i in range(flat.size):
        plus = flat.copy()
        plus[i] += steps[i]
        if method == "central":
            minus = flat.copy()
            minus[i] -= steps[i]
            grad[i] = (_scalar(f, unflatten(plus)) - _scalar(f, unflatten(minus))) / (2 * steps[i])
        else:
            grad[i] = (_scalar(f, unflatten(plus)) - f0) / steps[i]
    return unflatten(grad)


def relative_error(a: Any, b: Any, *, floor: float = 1e-12) -> float:
    r"""The largest element-wise relative error :math:`\max_i |a_i-b_i| / \max(|a_i|+|b_i|, \text{floor})`
    between two arrays or trees of the same structure (0 when they are equal). Reference:
    :cite:p:`baydin2018automatic` (why finite differences are only approximate)."""
    check_same_structure(a, b, names=("the first gradient", "the second gradient"))
    fa, _ = _flatten(a)
    fb, _ = _flatten(b)
    if fa.shape != fb.shape:
        raise ValueError(f"the gradients have {fa.size} and {fb.size} entries")
    if fa.size == 0:
        return 0.0
    return float(np.max(np.abs(fa - fb) / np.maximum(np.abs(fa) + np.abs(fb), floor)))


class GradientCheck(NamedTuple):
    """The result of :func:`check_gradient`."""

    passed: bool
    max_relative_error: float
    worst: str  # where the error is largest, e.g. "['W'][1, 0]" or "[3]"
    analytic: Any  # the gradient under test
    numerical: Any  # the central-difference gradient


def check_gradient(
    f: Callable[[Any], float], grad: Callable[[Any], Any], x: Any, *, h: float | None = None, tol: float = 1e-6
) -> GradientCheck:
    r"""Compare ``grad(x)`` with the central-difference gradient of ``f`` at ``x``.

    Passes when the largest element-wise relative error is below ``tol``. The result names
    the worst coordinate, so a wrong backward pass points at the parameter to look at. See
    the module docstring for thresholds; reference :cite:p:`baydin2018automatic`.
    """
    analytic = grad(x)
    try:
        check_same_structure(x, analytic, names=("x", "grad(x)"))
    except ValueError as exc:
        raise ValueError(f"the gradient does not have the structure of the parameters: {exc}") from None
    for path, p, g in zip(tree_paths(x), tree_leaves(x), tree_leaves(analytic)):
        if np.shape(p) != np.shape(g):
            raise ValueError(f"grad(x){path} has shape {np.shape(g)} but x{path} has shape {np.shape(p)}")
    numerical = numerical_gradient(f, x, h=h)
    fa, _ = _flatten(analytic)
    fn, _ = _flatten(numerical)
    if not np.all(np.isfinite(fa)):
        return GradientCheck(False, float("inf"), "a non-finite entry", analytic, numerical)
    errors = np.abs(fa - fn) / np.maximum(np.abs(fa) + np.abs(fn), 1e-12)
    k = int(np.argmax(errors)) if errors.size else 0
    worst = _locate(x, k) if errors.size else ""
    err = float(errors[k]) if errors.size else 0.0
    return GradientCheck(err < tol, err, worst, analytic, numerical)


def _locate(tree: Any, k: int) -> str:
    for path, leaf in zip(tree_paths(tree), tree_leaves(tree)):
        size = np.size(leaf)
        if k < size:
            index = np.unravel_index(k, np.shape(leaf)) if np.ndim(leaf) else ()
            return f"{path}[{', '.join(map(str, index))}]" if index else (path or "the scalar")
        k -= size
    raise IndexError(k)


def assert_gradient(
    f: Callable[[Any], float], grad: Callable[[Any], Any], x: Any, *, h: float | None = None, tol: float = 1e-6
) -> None:
    """Raise ``AssertionError`` naming the worst coordinate when :func:`check_gradient` fails
    (for tests; reference :cite:p:`baydin2018automatic`)."""
    result = check_gradient(f, grad, x, h=h, tol=tol)
    if not result.passed:
        a, _ = _flatten(result.analytic)
        n, _ = _flatten(result.numerical)
        k = int(np.argmax(np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), 1e-12)))
        raise AssertionError(
            f"gradient check failed: relative error {result.max_relative_error:.2e} > {tol:g} at "
            f"{result.worst}: analytic {a[k]:.6g}, central difference {n[k]:.6g}"
        )


# --------------------------------------------------------------------------------------------
# One derivative, studied: truncation against round-off (chapter 2)


def difference_quotient(
    f: Callable, x: float, h: Any, *, method: str = "central", dtype: Any = np.float64
) -> np.ndarray:
    r"""The forward :math:`(f(x+h)-f(x))/h` or central :math:`(f(x+h)-f(x-h))/(2h)` difference
    quotient, computed entirely in ``dtype`` (``np.float64`` or ``np.float32``); ``h`` may be an
    array of steps. ``f`` must be a NumPy function that keeps the dtype (``np.sin``, ``np.exp``).
    In ``float32`` a step below about :math:`10^{-7}|x|` can give :math:`x + h = x` and the
    quotient 0. :cite:p:`nocedal2006numerical`

    >>> float(difference_quotient(np.sin, 1.0, 1e-5))             # cos 1 = 0.5403023...
    0.5403023058...
    """
    if method not in {"central", "forward"}:
        raise ValueError(f"method must be 'central' or 'forward', got {method!r}")
    dtype = np.dtype(dtype).type
    if dtype not in (np.float16, np.float32, np.float64):
        raise ValueError(f"dtype must be a NumPy float type such as np.float32, got {dtype}")
    x = dtype(x)
    h = np.asarray(h, dtype=dtype)
    if np.any(h <= 0):
        raise ValueError("every step h must be positive")
    with np.errstate(all="ignore"):
        if method == "forward":
            return (f(x + h) - f(x)) / h
        return (f(x + h) - f(x - h)) / (dtype(2) * h)


def error_model(h: Any, method: str, *, eps: float, f0: float, f2: float = 0.0, f3: float = 0.0) -> np.ndarray:
    r"""The usual bound on the error of a difference quotient: truncation plus round-off,

    .. math:: E_{\text{fwd}}(h) = \frac{h}{2}|f''| + \frac{2\varepsilon|f|}{h}, \qquad
              E_{\text{ctr}}(h) = \frac{h^2}{6}|f'''| + \frac{\varepsilon|f|}{h},

    where :math:`\varepsilon` is the machine epsilon and each evaluation of :math:`f` is
    assumed correct to a relative :math:`\varepsilon` (``f0``, ``f2``, ``f3`` are
    :math:`f, f'', f'''` at the point). :cite:p:`nocedal2006numerical` §8.1

    >>> round(float(error_model(1e-8, "forward", eps=2.2e-16, f0=1.0, f2=1.0)), 12)
    4.9e-08
    """
    h = np.asarray(h, dtype=float)
    if method == "forward":
        return h * abs(f2) / 2 + 2 * eps * abs(f0) / h
    if method == "central":
        return h**2 * abs(f3) / 6 + eps * abs(f0) / h
    raise ValueError(f"method must be 'central' or 'forward', got {method!r}")


def optimal_step(method: str, *, eps: float, f0: float, f2: float = 0.0, f3: float = 0.0) -> float:
    r"""The step that minimises :func:`error_model`: :math:`h^\star = 2\sqrt{\varepsilon|f|/|f''|}`
    (forward, error :math:`O(\sqrt{\varepsilon})`) or :math:`h^\star = (3\varepsilon|f|/|f'''|)^{1/3}`
    (central, error :math:`O(\varepsilon^{2/3})`). :cite:p:`nocedal2006numerical`

    >>> round(optimal_step("central", eps=2.2e-16, f0=1.0, f3=1.0), 8)
    8.71e-06
    """
    if method == "forward":
        if f2 == 0:
            raise ValueError("f2 = f''(x) = 0: the forward-difference model has no optimum")
        return float(2 * np.sqrt(eps * abs(f0) / abs(f2)))
    if method == "central":
        if f3 == 0:
            raise ValueError("f3 = f'''(x) = 0: the central-difference model has no optimum")
        return float((3 * eps * abs(f0) / abs(f3)) ** (1 / 3))
    raise ValueError(f"method must be 'central' or 'forward', got {method!r}")


def numerical_hvp(grad: Callable[[np.ndarray], np.ndarray], x: Any, v: Any, *, h: float | None = None) -> np.ndarray:
    r"""A Hessian-vector product from two gradients, by a central difference along ``v``:

    .. math:: \nabla^2 f(x)\, v \approx \frac{\nabla f(x + h v) - \nabla f(x - h v)}{2h},

    error :math:`O(h^2)` plus round-off; default :math:`h = \varepsilon^{1/3}\max(1,\|x\|)/\|v\|`.
    Needs only a gradient function (e.g. a hand-written backward pass); the exact alternative is
    forward-over-reverse, :func:`lib.autodiff.hvp` :cite:p:`pearlmutter1994fast`. torch:
    ``torch.autograd.functional.hvp``; JAX: ``jax.jvp(jax.grad(f), (x,), (v,))``.

    >>> numerical_hvp(lambda x: np.array([2 * x[0] * x[1], x[0] ** 2]), [1.0, 2.0], [1.0, 0.0]).round(6)
    array([4., 2.])
    """
    x = np.asarray(x, dtype=float)
    v = np.asarray(v, dtype=float)
    if x.shape != v.shape:
        raise ValueError(f"x and v must have the same shape, got {x.shape} and {v.shape}")
    norm_v = float(np.linalg.norm(v))
    if norm_v == 0:
        return np.zeros_like(x)
    if h is None:
        h = EPS ** (1 / 3) * max(1.0, float(np.linalg.norm(x))) / norm_v
    if not h > 0:
        raise ValueError(f"the step h must be positive, got {h}")
    return (np.asarray(grad(x + h * v), dtype=float) - np.asarray(grad(x - h * v), dtype=float)) / (2 * h)
