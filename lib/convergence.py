r"""Convergence of gradient descent on a quadratic: the formulas chapter 01 derives in SymPy.

On :math:`L(\theta) = \tfrac12(\theta-\theta^\star)^\top H(\theta-\theta^\star)` one step of
gradient descent multiplies the error's component along the eigenvector of eigenvalue
:math:`\lambda_i` by :math:`1-\eta\lambda_i`, so the error shrinks per step by at most

.. math:: \rho(\eta) = \max_i |1 - \eta\lambda_i|
          = \max(|1-\eta\lambda_{\min}|,\ |1-\eta\lambda_{\max}|),

stable iff :math:`0 < \eta < 2/\lambda_{\max}`, best at :math:`\eta^\star = 2/(\lambda_{\min}
+\lambda_{\max})` where :math:`\rho = (\kappa-1)/(\kappa+1)`
:cite:p:`nocedal2006numerical,goh2017why`. The lesson derives each formula in SymPy and
checks it against runs of :func:`lib.optim.sgd`; widgets and exercises use these functions.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

__all__ = ["contraction_factor", "critical_learning_rate", "optimal_learning_rate",
           "optimal_rate", "steps_to_tolerance", "empirical_rate"]


def _eigenvalues(eigenvalues: Sequence[float]) -> np.ndarray:
    lam = np.asarray(eigenvalues, dtype=float).ravel()
    if lam.size == 0 or not np.all(np.isfinite(lam)):
        raise ValueError(f"eigenvalues must be a non-empty sequence of finite numbers, got {eigenvalues!r}")
    if np.any(lam <= 0):
        raise ValueError(f"these formulas need a positive definite Hessian; got eigenvalues {lam}")
    return lam


def contraction_factor(lr, eigenvalues: Sequence[float]):
    r"""The error factor per step :math:`\rho(\eta) = \max_i |1 - \eta\lambda_i|` (vectorised over ``lr``).

    Greater than 1 means divergence. torch / optax: no equivalent (a property of the problem,
    not of the optimizer); reference :cite:p:`nocedal2006numerical`.
    """
    lam = _eigenvalues(eigenvalues)
    lr = np.asarray(lr, dtype=float)
    rho = np.maximum(np.abs(1 - lr * lam.min()), np.abs(1 - lr * lam.max()))
    return float(rho) if rho.ndim == 0 else rho


def critical_learning_rate(eigenvalues: Sequence[float]) -> float:
    r"""The stability limit :math:`2/\lambda_{\max}`: GD converges from every start iff
    :math:`0 < \eta < 2/\lambda_{\max}` :cite:p:`nocedal2006numerical`."""
    return 2.0 / float(_eigenvalues(eigenvalues).max())


def optimal_learning_rate(eigenvalues: Sequence[float]) -> float:
    r"""The constant learning rate minimising :math:`\rho`: :math:`\eta^\star = 2/(\lambda_{\min}+\lambda_{\max})`
    :cite:p:`nocedal2006numerical`."""
    lam = _eigenvalues(eigenvalues)
    return 2.0 / float(lam.min() + lam.max())


def optimal_rate(kappa: float) -> float:
    r"""The error factor per step at :math:`\eta^\star`: :math:`(\kappa-1)/(\kappa+1)`, with
    :math:`\kappa = \lambda_{\max}/\lambda_{\min} \ge 1` :cite:p:`nocedal2006numerical`."""
    kappa = float(kappa)
    if not kappa >= 1 or not math.isfinite(kappa):
        raise ValueError(f"the condition number kappa must be a finite number >= 1, got {kappa}")
    return (kappa - 1.0) / (kappa + 1.0)


def steps_to_tolerance(kappa: float, tol: float) -> int:
    r"""The smallest integer :math:`k` with :math:`\big(\tfrac{\kappa-1}{\kappa+1}\big)^k \le \mathrm{tol}`:
    steps of GD at :math:`\eta^\star` that guarantee an error reduction by ``tol``
    (about :math:`\tfrac{\kappa}{2}\ln\tfrac{1}{\mathrm{tol}}` for large :math:`\kappa`)
    :cite:p:`nocedal2006numerical`."""
    tol = float(tol)
    if not 0 < tol <= 1:
        raise ValueError(f"tol is a reduction factor in (0, 1], got {tol}")
    rho = optimal_rate(kappa)
    if tol == 1.0:
        return 0
    if rho == 0.0:
        return 1
    k = math.ceil(math.log(tol) / math.log(rho))
    # guard against rounding in the logarithms: k must be the *smallest* integer that works
    while k > 0 and rho ** (k - 1) <= tol:
        k -= 1
    while rho ** k > tol:
        k += 1
    return k


def empirical_rate(errors: Sequence[float], window: int) -> float:
    r"""The measured error factor per step over the last ``window`` steps,
    :math:`(e_k / e_{k-w})^{1/w}`, from a sequence of error norms :math:`e_0, \dots, e_k`
    (compare with :func:`contraction_factor`)."""
    e = np.asarray(errors, dtype=float)
    if not 1 <= window < len(e):
        raise ValueError(f"window must be between 1 and len(errors) - 1 = {len(e) - 1}, got {window}")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return float((e[-1] / e[-1 - window]) ** (1.0 / window))
