r"""Trust regions: minimise the quadratic model only where it is trusted, :math:`\lVert\delta\rVert \le \Delta`.

.. math:: \min_{\delta}\; m(\delta) = g^\top\delta + \tfrac12\delta^\top B\delta
          \quad\text{subject to}\quad \lVert\delta\rVert \le \Delta

(convention C23: the radius is :math:`\Delta`, as in :cite:t:`nocedal2006numerical`). The exact
solution is :math:`\delta(\lambda) = -(B + \lambda I)^{-1} g` with :math:`\lambda \ge 0`,
:math:`B + \lambda I \succeq 0` and :math:`\lambda(\Delta - \lVert\delta\rVert) = 0`: the radius
and the damping are two views of one knob (a smaller :math:`\Delta` is a larger
:math:`\lambda`). Cheaper approximate solutions: the **Cauchy point** (the model's minimiser
along :math:`-g`) and the **dogleg** path (Cauchy point, then towards the Newton step).
:func:`trust_region` adapts :math:`\Delta` by the reduction ratio (Algorithm 4.1 there).

>>> B = np.diag([1.0, 10.0]); g = np.array([1.0, 1.0])
>>> lam = lambda_for_radius(g, B, 0.5)
>>> round(float(np.linalg.norm(np.linalg.solve(B + lam * np.eye(2), g))), 12)
0.5
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy.optimize import brentq

from lib.second_order.newton import reduction_ratio

__all__ = [
    "cauchy_point",
    "dogleg",
    "dogleg_path",
    "step_for_lambda",
    "lambda_for_radius",
    "exact_step",
    "TrustRegionResult",
    "trust_region",
]


def _check(g, B, delta):
    g, B = np.asarray(g, dtype=float), np.asarray(B, dtype=float)
    if g.ndim != 1 or B.shape != (len(g), len(g)):
        raise ValueError(f"g must be (n,) and B (n, n); got {g.shape} and {B.shape}")
    if not delta > 0:
        raise ValueError(f"the trust-region radius delta must be > 0, got {delta}")
    return g, B


def cauchy_point(g, B, delta: float) -> np.ndarray:
    r"""The Cauchy point: the minimiser of the model along :math:`-g` inside the region.

    .. math:: \delta^C = -\tau \frac{\Delta}{\lVert g\rVert} g,\qquad
              \tau = \begin{cases} 1 & g^\top B g \le 0\\
              \min\!\big(1, \lVert g\rVert^3 / (\Delta\, g^\top B g)\big) & \text{otherwise}\end{cases}

    Equation (4.12) of :cite:t:`nocedal2006numerical`; any step that decreases the model at
    least as much as the Cauchy point gives a convergent trust-region method.

    >>> cauchy_point([2.0, 0.0], np.eye(2), 5.0)
    array([-2., -0.])
    """
    g, B = _check(g, B, delta)
    gn = float(np.linalg.norm(g))
    if gn == 0:
        return np.zeros_like(g)
    gBg = float(g @ B @ g)
    tau = 1.0 if gBg <= 0 else min(1.0, gn**3 / (delta * gBg))
    return -tau * delta / gn * g


def dogleg(g, B, delta: float) -> np.ndarray:
    r"""The dogleg step for a positive definite ``B``.

    The path runs from 0 to the unconstrained minimiser along :math:`-g`,
    :math:`p^U = -\frac{g^\top g}{g^\top B g} g`, then straight to the Newton step
    :math:`p^B = -B^{-1} g`; the step is where it leaves the ball (or :math:`p^B` if inside):
    :math:`p^B` if :math:`\lVert p^B\rVert \le \Delta`; :math:`\frac{\Delta}{\lVert p^U\rVert} p^U` if
    :math:`\lVert p^U\rVert \ge \Delta`; else :math:`p^U + \tau(p^B - p^U)` with
    :math:`\lVert\cdot\rVert = \Delta` :cite:p:`nocedal2006numerical` (Section 4.1).

    >>> dogleg([1.0, 1.0], np.eye(2), 10.0)
    array([-1., -1.])
    """
    g, B = _check(g, B, delta)
    try:
        np.linalg.cholesky(B)
    except np.linalg.LinAlgError:
        raise ValueError(
            "the dogleg step needs a positive definite B; use exact_step or cauchy_point for an indefinite model"
        ) from None
    pB = -np.linalg.solve(B, g)
    if np.linalg.norm(pB) <= delta:
        return pB
    pU = -(g @ g) / (g @ B @ g) * g
    nU = np.linalg.norm(pU)
    if nU >= delta:
        return delta / nU * pU
    dp = pB - pU  # solve ||pU + tau dp|| = delta for tau in [0, 1]
    a, b, c = dp @ dp, 2 * pU @ dp, pU @ pU - delta**2
    tau = (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)
    return pU + tau * dp


def dogleg_path(g, B, n: int = 50) -> np.ndarray:
    """Points ``(2n + 1, len(g))`` along the dogleg path 0 → p^U → p^B, for plots."""
    g, B = _check(g, B, 1.0)
    pB = -np.linalg.solve(B, g)
    pU = -(g @ g) / (g @ B @ g) * g
    s = np.linspace(0, 1, n + 1)[:, None]
    return np.vstack([s * pU, pU + s[1:] * (pB - pU)])


def step_for_lambda(g, B, lam: float) -> np.ndarray:
    r""":math:`\delta(\lambda) = -(B + \lambda I)^{-1} g`: the damped step (a damped Newton step).

    >>> step_for_lambda([1.0], [[1.0]], 1.0)
    array([-0.5])
    """
    g, B = _check(g, B, 1.0)
    return -np.linalg.solve(B + lam * np.eye(len(g)), g)


def lambda_for_radius(g, B, delta: float) -> float:
    r"""The :math:`\lambda \ge 0` with :math:`\lVert(B + \lambda I)^{-1} g\rVert = \Delta`
    (0 if the Newton step of a positive definite ``B`` is already inside).

    In the eigenbasis :math:`B = Q\Lambda Q^\top`, :math:`\lVert\delta(\lambda)\rVert^2 =
    \sum_i (q_i^\top g)^2/(\lambda_i + \lambda)^2` decreases on
    :math:`(\max(0, -\lambda_{\min}), \infty)`; the root is bracketed and found by Brent's method
    In the "hard case" (:math:`g` has no component along the lowest eigenvector and even
    :math:`\lambda \downarrow -\lambda_{\min}` gives a step shorter than :math:`\Delta`) the
    answer is :math:`\lambda = -\lambda_{\min}`; :func:`exact_step` then adds a multiple of that
    eigenvector to reach the boundary :cite:p:`nocedal2006numerical` (Section 4.3).

    >>> round(lambda_for_radius([1.0, 0.0], np.eye(2), 0.5), 12)
    1.0
    """
    g, B = _check(g, B, delta)
    lam_i, Q = np.linalg.eigh((B + B.T) / 2)
    c2 = (Q.T @ g) ** 2
    lo = max(0.0, -float(lam_i[0]))
    norm = lambda lam: math.sqrt(float(np.sum(c2 / np.maximum(lam_i + lam, 1e-300) ** 2)))
    if lo == 0.0 and lam_i[0] > 0 and norm(0.0) <= delta:
        return 0.0
    lo_eps = lo + 1e-12 * max(1.0, abs(lo))
    if norm(lo_eps) < delta:
        return lo  # the hard case
    hi = lo + math.sqrt(float(c2.sum())) / delta + 1.0  # norm(hi) < ||g|| / (hi - lo) <= delta
    return float(brentq(lambda lam: norm(lam) - delta, lo_eps, hi, xtol=1e-15, rtol=1e-15))


def exact_step(g, B, delta: float) -> np.ndarray:
    r"""The exact trust-region step :math:`-(B + \lambda I)^{-1} g` with :math:`\lambda` from
    :func:`lambda_for_radius` :cite:p:`nocedal2006numerical`.

    >>> exact_step([1.0, 0.0], np.eye(2), 0.5)
    array([-0.5, -0. ])
    """
    lam = lambda_for_radius(g, B, delta)
    g, B = np.asarray(g, dtype=float), np.asarray(B, dtype=float)
    lam_i, Q = np.linalg.eigh((B + B.T) / 2)
    shifted = lam_i + lam
    if shifted[0] > 1e-12 * max(1.0, abs(lam)):
        return step_for_lambda(g, B, lam)
    # hard case: pseudo-inverse step plus tau times the lowest eigenvector, ||p|| = delta
    coef = Q.T @ g
    keep = shifted > 1e-12 * max(1.0, abs(lam))
    p = -Q[:, keep] @ (coef[keep] / shifted[keep])
    tau = math.sqrt(max(delta**2 - float(p @ p), 0.0))
    return p + tau * Q[:, 0]


class TrustRegionResult(NamedTuple):
    """What :func:`trust_region` returns: ``path`` ``(k + 1, n)`` of accepted iterates (a
    rejected step repeats the point), ``values``, the radius before each step ``radii`` ``(k,)``
    and the reduction ratios ``rhos`` ``(k,)``."""

    path: np.ndarray
    values: np.ndarray
    radii: np.ndarray
    rhos: np.ndarray


STEPS = {"cauchy": cauchy_point, "dogleg": dogleg, "exact": exact_step}


def trust_region(
    objective,
    x0,
    *,
    steps: int = 30,
    delta0: float = 1.0,
    delta_max: float = 10.0,
    eta: float = 0.1,
    method: str = "exact",
    tolerance_grad: float = 1e-12,
) -> TrustRegionResult:
    r"""The basic trust-region method (Algorithm 4.1 of :cite:t:`nocedal2006numerical`).

    Each step solves the subproblem with ``method`` (``"cauchy"``, ``"dogleg"``, ``"exact"``;
    dogleg falls back to the exact step where :math:`H` is not positive definite), computes the
    reduction ratio :math:`\rho` and sets :math:`\Delta \leftarrow \Delta/4` if
    :math:`\rho < 1/4`, :math:`\min(2\Delta, \Delta_{\max})` if :math:`\rho > 3/4` and the step
    reached the boundary; the step is accepted if :math:`\rho > \eta`. torch: none; scipy:
    ``minimize(method='trust-exact' | 'dogleg' | 'trust-ncg')``.

    >>> from lib import functions
    >>> r = trust_region(functions.rosenbrock(), [-1.2, 1.0], steps=60)
    >>> bool(np.allclose(r.path[-1], [1, 1]))
    True
    """
    if method not in STEPS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(STEPS)}")
    if not 0 <= eta < 0.25:
        raise ValueError(f"eta must be in [0, 1/4), got {eta}")
    if not 0 < delta0 <= delta_max:
        raise ValueError(f"need 0 < delta0 <= delta_max, got delta0={delta0}, delta_max={delta_max}")
    x = np.array(x0, dtype=float)
    f = float(objective.value(x))
    delta = float(delta0)
    path, values, radii, rhos = [x.copy()], [f], [], []
    for _ in range(int(steps)):
        g, H = objective.grad(x), objective.hessian(x)
        if np.abs(g).max() <= tolerance_grad:
            break
        solve = STEPS[method]
        if method == "dogleg" and np.linalg.eigvalsh(H)[0] <= 0:
            solve = exact_step
        p = solve(g, H, delta)
        f_new = float(objective.value(x + p))
        rho = reduction_ratio(f, f_new, g, H, p)
        radii.append(delta)
        rhos.append(rho)
        if rho < 0.25:
            delta = delta / 4
        elif rho > 0.75 and abs(np.linalg.norm(p) - delta) <= 1e-8 * delta:
            delta = min(2 * delta, delta_max)
        if rho > eta:
            x, f = x + p, f_new
        path.append(x.copy())
        values.append(f)
    return TrustRegionResult(np.array(path), np.array(values), np.array(radii), np.array(rhos))
