r"""Convergence on a quadratic: gradient descent (chapter 1) and momentum (chapter 4).

On :math:`L(\theta) = \tfrac12(\theta-\theta^\star)^\top H(\theta-\theta^\star)` one step of
gradient descent multiplies the error's component along the eigenvector of eigenvalue
:math:`\lambda_i` by :math:`1-\eta\lambda_i`, so the error shrinks per step by at most

.. math:: \rho(\eta) = \max_i |1 - \eta\lambda_i|
          = \max(|1-\eta\lambda_{\min}|,\ |1-\eta\lambda_{\max}|),

stable iff :math:`0 < \eta < 2/\lambda_{\max}`, best at :math:`\eta^\star = 2/(\lambda_{\min}
+\lambda_{\max})` where :math:`\rho = (\kappa-1)/(\kappa+1)`
:cite:p:`nocedal2006numerical,goh2017why`.

With momentum (heavy ball, torch's ``SGD(momentum=μ)``) the error along each eigenvector
follows a two-term recurrence, a :math:`2\times2` iteration matrix per eigenvalue
(:func:`momentum_iteration_matrix`); the error shrinks by its spectral radius, stable iff
:math:`0 < \eta\lambda < 2 + 2\mu` (:math:`0 \le \mu < 1`), best at
:math:`\eta^\star = \big(2/(\sqrt{\lambda_{\min}}+\sqrt{\lambda_{\max}})\big)^2`,
:math:`\mu^\star = \big((\sqrt\kappa-1)/(\sqrt\kappa+1)\big)^2` with rate
:math:`(\sqrt\kappa-1)/(\sqrt\kappa+1)` :cite:p:`polyak1964some,goh2017why`. ``nesterov=True``
gives the matrix of Nesterov's method (torch's ``nesterov=True``) :cite:p:`sutskever2013importance`.

The lessons derive each formula in SymPy and check it against runs of :func:`lib.optim.sgd`;
widgets and exercises use these functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "contraction_factor",
    "critical_learning_rate",
    "optimal_learning_rate",
    "optimal_rate",
    "steps_to_tolerance",
    "empirical_rate",
    "momentum_iteration_matrix",
    "momentum_eigenvalues",
    "momentum_contraction_factor",
    "momentum_critical_learning_rate",
    "critical_momentum",
    "momentum_optimal_parameters",
    "momentum_optimal_rate",
]


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
    while rho**k > tol:
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


# --------------------------------------------------------------------------- momentum (chapter 4)


def _momentum(momentum) -> np.ndarray:
    mu = np.asarray(momentum, dtype=float)
    if not np.all(np.isfinite(mu)) or np.any(mu < 0) or np.any(mu >= 1):
        raise ValueError(f"momentum must be in [0, 1) for these formulas, got {momentum!r}")
    return mu


def _recurrence(lr, momentum, eigenvalue, nesterov: bool):
    """(trace, determinant) of the 2x2 iteration matrix: z_{t+1} = a z_t - c z_{t-1}."""
    x = np.asarray(lr, dtype=float) * np.asarray(eigenvalue, dtype=float)
    mu = _momentum(momentum)
    if nesterov:
        return (1 + mu) * (1 - x), mu * (1 - x)
    return 1 + mu - x, mu + 0 * x


def momentum_iteration_matrix(lr: float, momentum: float, eigenvalue: float, nesterov: bool = False) -> np.ndarray:
    r"""The :math:`2\times2` matrix that advances the error along one eigenvector by one step.

    On :math:`L = \tfrac12(\theta-\theta^\star)^\top H(\theta-\theta^\star)` with momentum, the
    error's component :math:`z_t` along an eigenvector of eigenvalue :math:`\lambda` obeys
    :math:`z_{t+1} = a z_t - c z_{t-1}`, that is

    .. math:: \begin{pmatrix} z_{t+1} \\ z_t \end{pmatrix} =
              \begin{pmatrix} a & -c \\ 1 & 0 \end{pmatrix}
              \begin{pmatrix} z_t \\ z_{t-1} \end{pmatrix}, \qquad
              (a, c) = \begin{cases} (1 + \mu - \eta\lambda,\ \mu) & \text{heavy ball} \\
              \big((1+\mu)(1-\eta\lambda),\ \mu(1-\eta\lambda)\big) & \text{Nesterov} \end{cases}

    torch: the iterates of ``SGD(lr=η, momentum=μ, nesterov=...)`` (any of the equivalent
    momentum forms for a constant η). References: :cite:t:`polyak1964some`,
    :cite:t:`sutskever2013importance`, :cite:t:`goh2017why`.

    >>> momentum_iteration_matrix(0.1, 0.9, 10.0)
    array([[ 0.9, -0.9],
           [ 1. ,  0. ]])
    """
    a, c = _recurrence(lr, momentum, eigenvalue, nesterov)
    return np.array([[float(a), -float(c)], [1.0, 0.0]])


def momentum_eigenvalues(lr, momentum, eigenvalue, nesterov: bool = False) -> np.ndarray:
    r"""The two eigenvalues of :func:`momentum_iteration_matrix`, the roots of
    :math:`z^2 - a z + c = 0`, as complex numbers (vectorised: shape ``(*broadcast, 2)``).

    They are complex (the mode oscillates) when :math:`a^2 < 4c`, and then both have modulus
    :math:`\sqrt{c}` (:math:`\sqrt\mu` for the heavy ball) :cite:p:`goh2017why`.

    >>> momentum_eigenvalues(0.25, 0.25, 1.0)      # critically damped: a double root
    array([0.5+0.j, 0.5+0.j])
    """
    a, c = _recurrence(lr, momentum, eigenvalue, nesterov)
    a, c = np.broadcast_arrays(a, c)
    root = np.sqrt((a * a - 4 * c).astype(complex))
    return np.stack([(a + root) / 2, (a - root) / 2], axis=-1)


def momentum_contraction_factor(lr, momentum, eigenvalues: Sequence[float], nesterov: bool = False):
    r"""The error factor per step with momentum: the largest spectral radius of the iteration
    matrices over the Hessian's eigenvalues, :math:`\rho = \max_i \max |z_\pm(\eta\lambda_i, \mu)|`.

    Vectorised over ``lr`` and ``momentum`` (broadcast together). Greater than 1 means
    divergence; with ``momentum=0`` it is :func:`contraction_factor`. The error norm behaves
    like :math:`\rho^t` up to a factor polynomial in :math:`t` (at critical damping the matrix
    is not diagonalisable) :cite:p:`polyak1964some,goh2017why`.
    """
    lam = _eigenvalues(eigenvalues)
    lr_b, mu_b = np.broadcast_arrays(np.asarray(lr, dtype=float), np.asarray(momentum, dtype=float))
    roots = momentum_eigenvalues(lr_b[..., None], mu_b[..., None], lam, nesterov)
    rho = np.abs(roots).max(axis=(-1, -2))
    return float(rho) if rho.ndim == 0 else rho


def momentum_critical_learning_rate(momentum: float, eigenvalues: Sequence[float], nesterov: bool = False) -> float:
    r"""The stability limit on :math:`\eta`: :math:`(2+2\mu)/\lambda_{\max}` for the heavy ball,
    :math:`(2+2\mu)/\big((1+2\mu)\lambda_{\max}\big)` for Nesterov (:math:`0 \le \mu < 1`)
    :cite:p:`polyak1964some,goh2017why`."""
    mu = float(_momentum(momentum))
    lam_max = float(_eigenvalues(eigenvalues).max())
    return (2 + 2 * mu) / ((1 + 2 * mu) if nesterov else 1.0) / lam_max


def critical_momentum(lr, eigenvalue):
    r"""The momentum at which the mode of eigenvalue :math:`\lambda` is critically damped,
    :math:`\mu_c = (1 - \sqrt{\eta\lambda})^2` (heavy ball, :math:`0 < \eta\lambda < 4`): for
    :math:`\mu > \mu_c` the mode oscillates (complex eigenvalues of modulus :math:`\sqrt\mu`),
    below it decays without oscillating :cite:p:`goh2017why`."""
    x = np.asarray(lr, dtype=float) * np.asarray(eigenvalue, dtype=float)
    if np.any(x <= 0) or np.any(x >= 4) or not np.all(np.isfinite(x)):
        raise ValueError(f"critical damping needs 0 < lr * eigenvalue < 4, got {x}")
    mu = (1 - np.sqrt(x)) ** 2
    return float(mu) if mu.ndim == 0 else mu


def momentum_optimal_parameters(eigenvalues: Sequence[float]) -> tuple[float, float]:
    r"""The heavy-ball pair minimising the factor :math:`\rho` on a quadratic
    :cite:p:`polyak1964some,goh2017why`:

    .. math:: \eta^\star = \Big(\frac{2}{\sqrt{\lambda_{\min}}+\sqrt{\lambda_{\max}}}\Big)^2, \qquad
              \mu^\star = \Big(\frac{\sqrt\kappa-1}{\sqrt\kappa+1}\Big)^2 .

    torch: ``SGD(lr=η*, momentum=μ*)``.

    >>> [round(v, 6) for v in momentum_optimal_parameters([1.0, 100.0])]   # 4/121, (9/11)^2
    [0.033058, 0.669421]
    """
    lam = _eigenvalues(eigenvalues)
    s_min, s_max = math.sqrt(float(lam.min())), math.sqrt(float(lam.max()))
    return (2 / (s_min + s_max)) ** 2, ((s_max - s_min) / (s_max + s_min)) ** 2


def momentum_optimal_rate(kappa: float) -> float:
    r"""The error factor per step at the optimal pair: :math:`(\sqrt\kappa-1)/(\sqrt\kappa+1)`,
    against :math:`(\kappa-1)/(\kappa+1)` for gradient descent (:func:`optimal_rate`)
    :cite:p:`polyak1964some,goh2017why`."""
    kappa = float(kappa)
    if not kappa >= 1 or not math.isfinite(kappa):
        raise ValueError(f"the condition number kappa must be a finite number >= 1, got {kappa}")
    s = math.sqrt(kappa)
    return (s - 1.0) / (s + 1.0)
