r"""Chapter 2 (computing gradients): the graded exercises and their reference solutions.

Notebook: ``exercises/source/02-computing-gradients.ipynb``.

===============================  ======  =====================================================
id                               points  the student writes
===============================  ======  =====================================================
``central_difference_jacobian``  2       the m × n Jacobian of f: Rⁿ → Rᵐ by central differences
``dual_mul``                     1       (u, u̇)(w, ẇ) = (uw, u̇w + uẇ) on (value, derivative) pairs
``dual_sin``                     1       sin(u, u̇) = (sin u, u̇ cos u)
``div_backward``                 2       the backward rule of c = a / b: (ḡ/b, −ḡa/b²)
``gradient_check``               3       (largest relative error, index of the worst coordinate)
===============================  ======  =====================================================
"""

from __future__ import annotations

import math

import numpy as np

from lib.exercises import Case, Exercise, Lazy

__all__ = [
    "EXERCISES",
    "central_difference_jacobian",
    "dual_mul",
    "dual_sin",
    "div_backward",
    "gradient_check",
    "vector_function",
    "loss_and_gradient",
]

CHAPTER = "02-computing-gradients"


# --- reference solutions ---------------------------------------------------------------------


def central_difference_jacobian(f, x, h):
    r"""The Jacobian :math:`J_{ij} = \partial f_i/\partial x_j` of shape ``(m, n)``, column j
    being :math:`(f(x + h e_j) - f(x - h e_j)) / (2h)`."""
    x = np.asarray(x, dtype=float)
    columns = []
    for j in range(x.size):
        step = np.zeros_like(x)
        step[j] = h
        columns.append((np.asarray(f(x + step), dtype=float) - np.asarray(f(x - step), dtype=float)) / (2 * h))
    return np.stack(columns, axis=1)


def dual_mul(u, w):
    r"""The product of dual numbers given as pairs: :math:`(u, \dot u)(w, \dot w) = (uw,\ \dot u w + u\dot w)`."""
    return (u[0] * w[0], u[1] * w[0] + u[0] * w[1])


def dual_sin(u):
    r"""The sine of a dual number given as a pair: :math:`\sin(u, \dot u) = (\sin u,\ \dot u\cos u)`."""
    return (math.sin(u[0]), u[1] * math.cos(u[0]))


def div_backward(grad_out, a, b):
    r"""The backward rule of :math:`c = a/b`: :math:`(\bar a, \bar b) = (\bar c / b,\ -\bar c\, a / b^2)`."""
    return grad_out / b, -grad_out * a / (b * b)


def gradient_check(f, grad, x, h):
    r"""Compare ``grad(x)`` with central differences of ``f``: return the largest relative error
    :math:`|a_i - n_i| / \max(|a_i| + |n_i|, 10^{-12})` and the index ``i`` where it occurs."""
    x = np.asarray(x, dtype=float)
    analytic = np.asarray(grad(x), dtype=float)
    numerical = np.empty_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = h
        numerical[i] = (f(x + step) - f(x - step)) / (2 * h)
    errors = np.abs(analytic - numerical) / np.maximum(np.abs(analytic) + np.abs(numerical), 1e-12)
    worst = int(np.argmax(errors))
    return float(errors[worst]), worst


# --- case inputs -----------------------------------------------------------------------------

_VECTOR_FUNCTIONS = {
    "polar": (lambda x: np.array([x[0] * np.cos(x[1]), x[0] * np.sin(x[1])]), "f(x) = (x0 cos x1, x0 sin x1)"),
    "mixed": (
        lambda x: np.array([x[0] * x[1] * x[2], np.exp(x[0]) - x[2] ** 2, np.sin(x[1] + x[2])]),
        "f(x) = (x0 x1 x2, exp(x0) - x2², sin(x1 + x2))",
    ),
    "wide": (lambda x: np.array([np.sum(x**2), np.prod(np.cos(x))]), "f(x) = (Σ xi², Π cos xi)"),
    "scalar_in": (lambda x: np.array([x[0] ** 3, np.log(x[0]), 1.0 / x[0]]), "f(x) = (x0³, ln x0, 1/x0)"),
}


def vector_function(name: str) -> Lazy:
    """A vector function by name, as a case input."""
    fn, description = _VECTOR_FUNCTIONS[name]
    return Lazy(lambda: fn, description)


def _logistic_data():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(15, 4))
    y = np.where(rng.normal(size=15) > 0, 1.0, -1.0)
    return X, y


def _logistic_loss(theta):
    X, y = _logistic_data()
    return float(np.mean(np.log1p(np.exp(-y * (X @ theta)))))


def _logistic_grad(theta):
    X, y = _logistic_data()
    return X.T @ (-y / (1 + np.exp(y * (X @ theta)))) / len(y)


def _quartic_loss(theta):
    return float(np.sum(theta**4) / 4 + theta[0] * theta[-1])


def _quartic_grad(theta):
    g = theta**3
    g[0] += theta[-1]
    g[-1] += theta[0]
    return g


_LOSSES = {
    "logistic, correct": (_logistic_loss, _logistic_grad),
    "logistic, the mean forgotten in coordinate 1": (
        _logistic_loss,
        lambda t: _logistic_grad(t) * np.array([1.0, 15.0, 1.0, 1.0]),
    ),
    "logistic, the sign of coordinate 3 flipped": (
        _logistic_loss,
        lambda t: _logistic_grad(t) * np.array([1.0, 1.0, 1.0, -1.0]),
    ),
    "quartic, the coupling term forgotten": (_quartic_loss, lambda t: t**3),
    "quartic, a 1% error in a small coordinate and 0.5% in a large one": (
        _quartic_loss,
        lambda t: _quartic_grad(t) * np.array([1.01, 1.0, 1.005, 1.0, 1.0]),
    ),
    "one parameter, correct": (
        lambda t: float(np.sin(t[0]) * t[0]),
        lambda t: np.array([np.cos(t[0]) * t[0] + np.sin(t[0])]),
    ),
}


def loss_and_gradient(name: str) -> tuple:
    """``(Lazy loss, Lazy gradient)`` of a named test case (some gradients have a bug)."""
    f, g = _LOSSES[name]
    return Lazy(lambda: f, f"the loss of '{name}'"), Lazy(lambda: g, f"the gradient of '{name}'")


# --- cases -----------------------------------------------------------------------------------


def _jacobian_cases(rng):
    return [
        Case((vector_function("polar"), np.array([2.0, 0.5]), 1e-3), note="R² → R²"),
        Case((vector_function("mixed"), rng.normal(size=3), 1e-3), note="R³ → R³"),
        Case((vector_function("wide"), rng.normal(size=5), 1e-3), note="R⁵ → R²: the result is 2 × 5"),
        Case((vector_function("scalar_in"), np.array([1.5]), 1e-3), note="R¹ → R³: the result is 3 × 1"),
        Case((vector_function("polar"), np.array([1.0, -2.0]), 0.1), note="a large step h = 0.1"),
    ]


def _dual_pairs(rng, k):
    return [(float(rng.normal()), float(rng.normal())) for _ in range(k)]


def _dual_mul_cases(rng):
    p = _dual_pairs(rng, 4)
    return [
        Case(((3.0, 1.0), (3.0, 1.0)), note="x · x at x = 3 with ẋ = 1: (9, 6)"),
        Case(((2.0, 1.0), (5.0, 0.0)), note="x₁ x₂ seeded along x₁: ∂/∂x₁ = x₂"),
        Case(((2.0, 0.0), (5.0, 1.0)), note="x₁ x₂ seeded along x₂: ∂/∂x₂ = x₁"),
        Case((p[0], p[1]), note="random pairs"),
        Case((p[2], p[3]), note="random pairs"),
    ]


def _dual_sin_cases(rng):
    return [
        Case(((0.0, 1.0),), note="sin at 0: derivative cos 0 = 1"),
        Case(((5.0, 0.0),), note="a zero tangent gives a zero tangent"),
        Case(((1.0, 2.0),), note="tangent 2: the chain rule multiplies by it"),
        Case(((math.pi / 2, 1.0),), note="at π/2 the derivative is 0"),
        Case(((float(rng.normal()), float(rng.normal())),), note="a random pair"),
        Case(((float(rng.uniform(-4.0, 4.0)), float(rng.uniform(0.5, 3.0))),), note="another random pair"),
    ]


def _div_cases(rng):
    return [
        Case((1.0, 6.0, 3.0), note="c = 6 / 3 with c̄ = 1: (1/3, -6/9)"),
        Case((2.0, 1.0, 4.0), note="c̄ = 2 scales both adjoints"),
        Case((1.0, -2.0, 0.5), note="a negative numerator"),
        Case((float(rng.normal()), float(rng.normal()), float(rng.uniform(0.5, 2.0))), note="random values"),
        Case((-0.5, 3.0, -1.5), note="a negative denominator"),
        Case(
            (float(rng.uniform(0.5, 2.0)), float(rng.normal()), float(-rng.uniform(0.5, 2.0))),
            note="random values, a negative denominator",
        ),
    ]


def _gradient_check_cases(rng):
    theta4 = rng.normal(size=4)
    theta5 = np.array([0.3, 1.2, 2.0, 0.5, -0.8])
    out = []
    for name, theta in (
        ("logistic, the mean forgotten in coordinate 1", theta4),
        ("logistic, the sign of coordinate 3 flipped", theta4),
        ("quartic, the coupling term forgotten", theta5),
        ("quartic, a 1% error in a small coordinate and 0.5% in a large one", theta5),
        ("one parameter, correct", np.array([0.7])),
    ):
        f, g = loss_and_gradient(name)
        out.append(Case((f, g, theta, 1e-5), note=name))
    return out


# --- the exercises ---------------------------------------------------------------------------

EXERCISES = (
    Exercise(
        id="central_difference_jacobian",
        chapter=CHAPTER,
        points=2,
        function="central_difference_jacobian",
        cases=_jacobian_cases,
        reference=central_difference_jacobian,
        rtol=1e-6,
        atol=1e-9,
        hint="Column j is (f(x + h e_j) - f(x - h e_j)) / (2h), where e_j is the j-th basis vector; "
        "the result has one ROW per output and one COLUMN per input: shape (m, n). "
        "Use a copy of x for each step; do not modify x.",
    ),
    Exercise(
        id="dual_mul",
        chapter=CHAPTER,
        points=1,
        function="dual_mul",
        cases=_dual_mul_cases,
        reference=dual_mul,
        hint="The value is u[0] * w[0]; the derivative follows the product rule, with TWO terms: "
        "u[1] * w[0] + u[0] * w[1]. Return a pair (value, derivative).",
    ),
    Exercise(
        id="dual_sin",
        chapter=CHAPTER,
        points=1,
        function="dual_sin",
        cases=_dual_sin_cases,
        reference=dual_sin,
        hint="sin(a + b ε) = sin a + b cos a ε: the derivative part is the tangent u[1] TIMES cos(u[0]) "
        "(the chain rule), with a plus sign. Use math.sin and math.cos.",
    ),
    Exercise(
        id="div_backward",
        chapter=CHAPTER,
        points=2,
        function="div_backward",
        cases=_div_cases,
        reference=div_backward,
        hint="∂c/∂a = 1/b and ∂c/∂b = -a/b²; each adjoint is grad_out times the local derivative. "
        "Return (grad_a, grad_b).",
    ),
    Exercise(
        id="gradient_check",
        chapter=CHAPTER,
        points=3,
        function="gradient_check",
        cases=_gradient_check_cases,
        reference=gradient_check,
        rtol=1e-4,
        atol=1e-8,
        hint="For each i: numerical_i = (f(x + h e_i) - f(x - h e_i)) / (2h); relative error "
        "|a_i - n_i| / max(|a_i| + |n_i|, 1e-12) with a = grad(x); return (the largest error as a "
        "float, its index as an int, counted from 0). Relative, not absolute, error.",
    ),
)
