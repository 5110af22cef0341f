r"""Chapter 01 (gradient descent): the graded exercises and their reference solutions.

Notebook: ``exercises/source/01-gradient-descent.ipynb``. Conventions: parameters θ, learning
rate η = ``lr``, and the loss L(θ) is a *mean* over the examples.

==========================  ======  ==========================================================
id                          points  the student writes
==========================  ======  ==========================================================
``mse_loss_and_grad``       2       L(θ) = ‖Xθ − y‖² / (2n) and ∇L(θ) = Xᵀ(Xθ − y) / n
``gd_step``                 2       θ − η g on a tree of parameters, without modifying θ
``gradient_descent``        3       the loop, stopping on ‖∇L‖ ≤ tol or after ``max_steps``
``learning_rates``          2       (2/λ_max, 2/(λ_min + λ_max)) of a Hessian
``steps_to_tolerance``      1       the smallest k with ((κ−1)/(κ+1))^k ≤ tol
==========================  ======  ==========================================================
"""

from __future__ import annotations

import numpy as np

from lib.exercises import Case, Exercise, Lazy
from lib.theory import quadratic_rates
from lib.tree import tree_map

__all__ = [
    "EXERCISES",
    "mse_loss_and_grad",
    "gd_step",
    "gradient_descent",
    "learning_rates",
    "steps_to_tolerance",
    "quadratic_grad",
]

CHAPTER = "01-gradient-descent"


# --- reference solutions ---------------------------------------------------------------------


def mse_loss_and_grad(X, y, theta):
    r"""Mean squared error of a linear model and its gradient.

    .. math:: L(\theta) = \frac{1}{2n}\lVert X\theta - y\rVert^2, \qquad
              \nabla L(\theta) = \frac{1}{n} X^\top (X\theta - y)
    """
    n = X.shape[0]
    residual = X @ theta - y
    return float(residual @ residual) / (2 * n), X.T @ residual / n


def gd_step(params, grads, lr):
    r"""One gradient-descent update :math:`\theta - \eta g`, leaf by leaf; returns a new tree."""
    return tree_map(lambda p, g: p - lr * g, params, grads)


def gradient_descent(grad_fn, theta0, lr, tol, max_steps):
    r"""Gradient descent from ``theta0`` until :math:`\lVert\nabla L(\theta)\rVert \le` ``tol``
    (tested before each update) or ``max_steps`` updates; returns ``(theta, steps)``."""
    theta = np.array(theta0, dtype=float)  # a copy: theta0 is left alone
    steps = 0
    while steps < max_steps:
        g = grad_fn(theta)
        if np.linalg.norm(g) <= tol:
            break
        theta = theta - lr * g
        steps += 1
    return theta, steps


def learning_rates(H):
    r"""The critical and the optimal learning rate of gradient descent on a quadratic with
    Hessian ``H``: :math:`(2/\lambda_{max},\; 2/(\lambda_{min}+\lambda_{max}))`."""
    eigenvalues = np.linalg.eigvalsh(H)
    return quadratic_rates.critical_learning_rate(eigenvalues), quadratic_rates.optimal_learning_rate(eigenvalues)


def steps_to_tolerance(kappa, tol):
    r"""The smallest integer :math:`k \ge 0` with :math:`q^k \le` ``tol``, where
    :math:`q = (\kappa-1)/(\kappa+1)` is the rate of gradient descent with the optimal
    learning rate on a quadratic of condition number κ > 1."""
    return quadratic_rates.steps_to_tolerance(kappa, tol)


# --- case inputs -----------------------------------------------------------------------------


def _quadratic_grad_fn(H):
    try:
        from lib.functions import quadratic
    except ImportError:  # pragma: no cover - lib.functions not written yet
        return lambda theta: H @ theta
    return quadratic(hessian=H).grad


def quadratic_grad(H) -> Lazy:
    """The gradient θ ↦ Hθ of L(θ) = ½ θᵀHθ, as a case input (built when the case runs)."""
    H = np.array(H, dtype=float)
    rows = "; ".join(" ".join(f"{v:g}" for v in row) for row in H)
    return Lazy(lambda: _quadratic_grad_fn(H.copy()), f"∇L for L(θ) = ½θᵀHθ, H=[{rows}]")


def _rotation(angle):
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


def _rotated(eigenvalues, angle):
    R = _rotation(angle)
    return R @ np.diag(eigenvalues) @ R.T


def _spd(rng, n, kappa):
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    eigenvalues = np.geomspace(1.0, kappa, n) * rng.uniform(0.5, 2.0)
    H = Q @ np.diag(eigenvalues) @ Q.T
    return (H + H.T) / 2


# --- cases -----------------------------------------------------------------------------------


def _mse_cases(rng):
    X = rng.normal(size=(6, 2))
    y = rng.normal(size=6)
    X3 = rng.normal(size=(40, 3))
    y3 = X3 @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=40)
    theta_ls = np.linalg.lstsq(X3, y3, rcond=None)[0]
    return [
        Case((X, y, rng.normal(size=2)), note="a small data set"),
        Case((X3, y3, np.zeros(3)), note="θ = 0"),
        Case((X3, y3, theta_ls), note="θ at the least-squares solution: the gradient is 0"),
        Case((np.array([[2.0]]), np.array([3.0]), np.array([0.5])), note="one example, one feature"),
        Case((np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0]), np.array([1.0, -1.0])), note="two examples"),
    ]


def _gd_step_cases(rng):
    return [
        Case((np.array([1.0, -2.0]), np.array([0.5, 4.0]), 0.1), note="one array"),
        Case((rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), 0.01), note="a matrix"),
        Case(
            (
                {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2)},
                {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2)},
                0.5,
            ),
            note="a dict of arrays",
        ),
        Case(
            ([rng.normal(size=2), rng.normal(size=(2, 2))], [rng.normal(size=2), rng.normal(size=(2, 2))], 0.2),
            note="a list of arrays",
        ),
        Case((np.array([3.0, 4.0]), np.array([1.0, 1.0]), 0.0), note="lr = 0 changes nothing"),
    ]


def _tol_between(H, theta0, lr, k):
    """A tolerance half-way (geometrically) between ‖∇L‖ before update k−1 and before update k,
    so that the reference stops after exactly k updates, far from any rounding question."""
    theta, norms = np.array(theta0, dtype=float), []
    for _ in range(k + 1):
        g = H @ theta
        norms.append(np.linalg.norm(g))
        theta = theta - lr * g
    return float(np.sqrt(norms[k - 1] * norms[k]))


def _gradient_descent_cases(rng):
    H1 = np.diag([1.0, 10.0])
    H2 = _rotated([1.0, 4.0], 0.6)
    H3 = _spd(rng, 3, 20.0)
    lr3 = 1.0 / np.linalg.eigvalsh(H3)[-1]
    theta3 = rng.normal(size=3)
    H4 = _rotated(rng.uniform(0.5, 5.0, size=2), rng.uniform(0, np.pi))
    lr4 = float(rng.uniform(0.5, 1.5) / np.linalg.eigvalsh(H4)[-1])
    theta4 = rng.normal(size=2)
    k4 = int(rng.integers(3, 15))
    return [
        Case(
            (quadratic_grad(H1), np.array([1.0, 1.0]), 0.1, _tol_between(H1, [1.0, 1.0], 0.1, 25), 1000),
            note="stops when the gradient is small",
        ),
        Case((quadratic_grad(H2), np.array([2.0, -1.0]), 0.2, 1e-6, 7), note="max_steps is reached first"),
        Case((quadratic_grad(H1), np.zeros(2), 0.1, 1e-8, 100), note="start at the minimum: 0 steps"),
        Case((quadratic_grad(H2), np.array([1.0, 1.0]), 0.2, 1e-8, 0), note="max_steps = 0"),
        Case(
            (quadratic_grad(H3), theta3, lr3, _tol_between(H3, theta3, lr3, 12), 500),
            note="three parameters, a non-diagonal Hessian",
        ),
        Case((quadratic_grad(H4), theta4, lr4, _tol_between(H4, theta4, lr4, k4), 1000), note="a rotated quadratic"),
    ]


def _learning_rates_cases(rng):
    return [
        Case((np.diag([1.0, 10.0]),), note="a diagonal Hessian"),
        Case((np.diag([8.0, 2.0]),), note="the largest eigenvalue first"),
        Case((_rotated([1.0, 9.0], 0.7),), note="a non-diagonal Hessian"),
        Case((_spd(rng, 4, 50.0),), note="four parameters"),
        Case((_rotated(rng.uniform(0.1, 20.0, size=2), rng.uniform(0, np.pi)),), note="a rotated 2x2 Hessian"),
        Case((np.array([[4.0]]),), note="one parameter"),
        Case((np.eye(3),), note="κ = 1"),
    ]


def _steps_cases(rng):
    return [
        Case((10.0, 1e-3), note="κ = 10"),
        Case((100.0, 1e-6), note="κ = 100"),
        Case((1.5, 0.01), note="κ close to 1"),
        Case((1e4, 1e-8), note="a badly conditioned problem"),
        Case((3.0, 0.3), note="a loose tolerance"),
        Case((7.0, 1.0), note="tol = 1: no step is needed"),
        Case(
            (float(np.round(10 ** rng.uniform(0.2, 3.0), 3)), float(10.0 ** -rng.integers(2, 10))),
            note="another condition number",
        ),
        Case(
            (float(np.round(rng.uniform(2.0, 50.0), 2)), float(np.round(rng.uniform(0.05, 0.5), 3))),
            note="a loose tolerance",
        ),
    ]


# --- the exercises ---------------------------------------------------------------------------

EXERCISES = (
    Exercise(
        id="mse_loss_and_grad",
        chapter=CHAPTER,
        points=2,
        function="mse_loss_and_grad",
        cases=_mse_cases,
        reference=mse_loss_and_grad,
        hint="L is a mean: divide by n = X.shape[0], and keep the 1/2 so that the gradient is "
        "X.T @ (X @ theta - y) / n with no factor 2. The residual is prediction minus target.",
    ),
    Exercise(
        id="gd_step",
        chapter=CHAPTER,
        points=2,
        function="gd_step",
        cases=_gd_step_cases,
        reference=gd_step,
        hint="Return NEW params: p - lr * g for every leaf (array) of the tree, with the same dict "
        "keys / list order. Never write params[k] -= ...; lib.tree.tree_map does the walking.",
    ),
    Exercise(
        id="gradient_descent",
        chapter=CHAPTER,
        points=3,
        function="gradient_descent",
        cases=_gradient_descent_cases,
        reference=gradient_descent,
        hint="Before each update test np.linalg.norm(grad_fn(theta)) <= tol; stop also after "
        "max_steps updates; steps counts updates made (0 if theta0 is already a minimum). "
        "Start from a copy of theta0.",
    ),
    Exercise(
        id="learning_rates",
        chapter=CHAPTER,
        points=2,
        function="learning_rates",
        cases=_learning_rates_cases,
        reference=learning_rates,
        hint="Use the eigenvalues of H (np.linalg.eigvalsh), not its diagonal: "
        "eta_critical = 2 / lambda_max and eta_optimal = 2 / (lambda_min + lambda_max).",
    ),
    Exercise(
        id="steps_to_tolerance",
        chapter=CHAPTER,
        points=1,
        function="steps_to_tolerance",
        cases=_steps_cases,
        reference=steps_to_tolerance,
        hint="The rate is q = (kappa - 1) / (kappa + 1); solve q**k <= tol for k, round UP "
        "(math.ceil), and return a Python int.",
    ),
)
