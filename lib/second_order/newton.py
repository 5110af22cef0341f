r"""Newton's method and its repairs: damping (Levenberg-Marquardt), a line search, saddle-free Newton.

The second-order Taylor model of :math:`f` around :math:`\theta`,

.. math:: m(\delta) = f(\theta) + g^\top\delta + \tfrac12 \delta^\top H \delta,

has the stationary point :math:`\delta = -H^{-1} g`: Newton's step. It *minimises* the model
only if :math:`H \succ 0`; at a saddle (:math:`H` indefinite) it jumps to the saddle, and far
from a minimum the model cannot be trusted. Three repairs :cite:p:`nocedal2006numerical`:

* **damping** :math:`\delta = -(H + \lambda I)^{-1} g` (Levenberg-Marquardt), with
  :math:`\lambda` adapted by how well the model predicted the decrease
  :cite:p:`martens2010deep`;
* a **line search** along the (damped) Newton direction
  (:func:`lib.second_order.line_search.backtracking`);
* **saddle-free Newton** :math:`\delta = -|H|^{-1} g` with :math:`|H| = Q|\Lambda|Q^\top`
  :cite:p:`dauphin2014identifying`.

An ``objective`` is anything with ``value``, ``grad`` and ``hessian`` methods, e.g. a
:class:`lib.functions.Objective`.

>>> from lib import functions
>>> newton(functions.quadratic((1.0, 10.0)), [1.0, 1.0], steps=1).path[-1]
array([0., 0.])
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from lib.second_order.line_search import backtracking

__all__ = ["newton_direction", "saddle_free_direction", "reduction_ratio", "update_damping", "NewtonResult", "newton"]


def _g_H(g, H):
    g, H = np.asarray(g, dtype=float), np.asarray(H, dtype=float)
    if g.ndim != 1 or H.shape != (len(g), len(g)):
        raise ValueError(f"g must be (n,) and H (n, n); got {g.shape} and {H.shape}")
    if not (np.all(np.isfinite(g)) and np.all(np.isfinite(H))):
        raise ValueError("g or H contains NaN or infinity (the iterate probably diverged)")
    return g, H


def newton_direction(g, H, damping: float = 0.0) -> np.ndarray:
    r"""The damped Newton step :math:`\delta = -(H + \lambda I)^{-1} g` (``damping`` = :math:`\lambda`).

    ``damping=0`` is the pure Newton step, the stationary point of the quadratic model.
    :math:`\lambda \to \infty` gives :math:`-g/\lambda`, a short gradient step; any
    :math:`\lambda > -\lambda_{\min}(H)` makes :math:`H + \lambda I \succ 0` and the step a
    descent direction :cite:p:`nocedal2006numerical`. Solved with ``np.linalg.solve`` (never by
    forming the inverse). torch: ``torch.linalg.solve(H + lam * I, -g)``.

    >>> newton_direction([2.0, 2.0], np.diag([1.0, 4.0]), damping=1.0)
    array([-1. , -0.4])
    """
    g, H = _g_H(g, H)
    if not damping >= 0:
        raise ValueError(f"damping must be >= 0, got {damping}")
    try:
        return -np.linalg.solve(H + damping * np.eye(len(g)), g)
    except np.linalg.LinAlgError:
        raise np.linalg.LinAlgError("H + damping·I is singular: increase damping") from None


def saddle_free_direction(g, H, damping: float = 0.0) -> np.ndarray:
    r"""The saddle-free Newton step :math:`\delta = -(|H| + \lambda I)^{-1} g`, :math:`|H| = Q|\Lambda|Q^\top`.

    Rescaling by :math:`1/|\lambda_i|` along each eigenvector keeps Newton's step lengths but
    moves *down* along negative-curvature directions instead of towards the saddle
    :cite:p:`dauphin2014identifying`. No torch equivalent.

    >>> saddle_free_direction([1.0, 1.0], np.diag([1.0, -2.0]))
    array([-1. , -0.5])
    """
    g, H = _g_H(g, H)
    lam, Q = np.linalg.eigh((H + H.T) / 2)
    absl = np.abs(lam) + damping
    if np.any(absl == 0):
        raise np.linalg.LinAlgError("|H| + damping·I is singular (a zero eigenvalue): use damping > 0")
    return -Q @ ((Q.T @ g) / absl)


def reduction_ratio(f0: float, f1: float, g, H, delta) -> float:
    r""":math:`\rho = \dfrac{f(\theta) - f(\theta + \delta)}{m(0) - m(\delta)}`, actual over predicted
    decrease of the quadratic model :math:`m(\delta) = f + g^\top\delta + \tfrac12\delta^\top H\delta`.

    :math:`\rho \approx 1`: the model is good, trust it more; :math:`\rho` small or negative:
    trust it less :cite:p:`nocedal2006numerical`. A model that predicts no decrease (an
    indefinite :math:`H` pointing uphill) gives :math:`\rho = -1`: distrust it.

    >>> reduction_ratio(1.0, 0.5, [1.0], [[1.0]], [-1.0])
    1.0
    """
    g, H = _g_H(g, H)
    delta = np.asarray(delta, dtype=float)
    predicted = -(g @ delta + 0.5 * delta @ H @ delta)
    return float((f0 - f1) / predicted) if predicted > 0 else -1.0


def update_damping(
    damping: float, rho: float, *, decrease: float = 2 / 3, increase: float = 3 / 2, min_damping: float = 1e-8
) -> float:
    r"""Levenberg-Marquardt rule: :math:`\lambda \leftarrow \tfrac23\lambda` if :math:`\rho > \tfrac34`,
    :math:`\tfrac32\lambda` if :math:`\rho < \tfrac14`, unchanged otherwise.

    The constants are those of :cite:t:`martens2010deep`.

    >>> update_damping(1.0, 0.9), update_damping(1.0, 0.1), update_damping(1.0, 0.5)
    (0.6666666666666666, 1.5, 1.0)
    """
    if rho > 0.75:
        return max(damping * decrease, min_damping)
    if rho < 0.25:
        return damping * increase
    return damping


class NewtonResult(NamedTuple):
    """What :func:`newton` returns: ``path`` ``(k + 1, n)``, ``values`` ``(k + 1,)``, the damping
    used at each step ``(k,)``, and ``evals`` (function evaluations, line search included)."""

    path: np.ndarray
    values: np.ndarray
    dampings: np.ndarray
    evals: int


def newton(
    objective,
    x0,
    *,
    steps: int = 20,
    damping: float = 0.0,
    adaptive: bool = False,
    line_search: bool = False,
    saddle_free: bool = False,
    max_norm: float = 1e6,
    tolerance_grad: float = 1e-12,
) -> NewtonResult:
    r"""Run (damped, line-searched, saddle-free) Newton from ``x0``.

    .. math:: \theta_{k+1} = \theta_k + t_k \delta_k, \qquad
              \delta_k = -(H_k + \lambda_k I)^{-1} g_k \quad(\text{or } -(|H_k| + \lambda_k I)^{-1} g_k)

    with :math:`t_k = 1`, or from a backtracking Armijo search if ``line_search`` (a step that
    is not a descent direction falls back to :math:`-g`). ``adaptive`` updates
    :math:`\lambda_k` by :func:`update_damping` from the reduction ratio and rejects steps that
    increase :math:`f` (Levenberg-Marquardt) :cite:p:`nocedal2006numerical,martens2010deep`.
    Stops when :math:`\lVert g\rVert_\infty \le` ``tolerance_grad`` or the iterate leaves the
    ball of radius ``max_norm``. torch: no built-in; ``torch.func.hessian`` gives :math:`H`.

    >>> from lib import functions
    >>> r = newton(functions.rosenbrock(), [-1.2, 1.0], steps=30, line_search=True)
    >>> bool(np.allclose(r.path[-1], [1, 1]))
    True
    """
    x = np.array(x0, dtype=float)
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    if not damping >= 0:
        raise ValueError(f"damping must be >= 0, got {damping}")
    if adaptive and damping == 0:
        raise ValueError("adaptive damping needs a positive initial damping, e.g. damping=1.0")
    f = float(objective.value(x))
    path, values, dampings, evals = [x.copy()], [f], [], 1
    lam = float(damping)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(int(steps)):
            g, H = objective.grad(x), objective.hessian(x)
            if np.abs(g).max() <= tolerance_grad:
                break
            try:
                d = (saddle_free_direction if saddle_free else newton_direction)(g, H, lam)
            except np.linalg.LinAlgError:
                d = -g
            dampings.append(lam)
            if line_search:
                if not g @ d < 0:
                    d = -g
                t, f_new, n = backtracking(objective.value, x, d, f, g)
                evals += n
            else:
                t = 1.0
                f_new = float(objective.value(x + d))
                evals += 1
            if adaptive:
                rho = reduction_ratio(f, f_new, g, H, t * d)
                lam = update_damping(lam, rho)
                if not f_new < f:  # reject the step, retry with more damping
                    path.append(x.copy())
                    values.append(f)
                    continue
            x = x + t * d
            f = f_new
            path.append(x.copy())
            values.append(f)
            if not (math.isfinite(f) and np.linalg.norm(x) <= max_norm):
                break
    return NewtonResult(np.array(path), np.array(values), np.array(dampings), evals)
