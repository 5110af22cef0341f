r"""Shampoo's matrix preconditioner, in its simplest (lesson) form.

For a matrix parameter, Shampoo :cite:p:`gupta2018shampoo` accumulates a left and a right
statistic of the gradients and preconditions on both sides:

.. math::
    L_t = \epsilon I + \sum_{s \le t} G_s G_s^\top, \qquad R_t = \epsilon I + \sum_{s \le t} G_s^\top G_s,
    \qquad \Delta_t = L_t^{-1/4}\, G_t\, R_t^{-1/4}.

With one gradient and :math:`\epsilon \to 0`, :math:`L^{-1/4} G R^{-1/4} = U V^\top`: Shampoo
without accumulation is the spectral-norm steepest descent that Muon approximates
:cite:p:`bernstein2024old`. This module is for the lesson (no grafting, no blocking, no
amortised roots, which practical Shampoo needs); it is not a ``torch.optim`` optimizer.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["matrix_power_psd", "shampoo_precondition", "ShampooStats", "shampoo_accumulate"]


def matrix_power_psd(A, power: float, eps: float = 0.0) -> np.ndarray:
    r""":math:`(A + \epsilon I)^{p}` of a symmetric positive semi-definite matrix by its eigendecomposition.

    .. math:: A + \epsilon I = Q \Lambda Q^\top \;\Rightarrow\; (A + \epsilon I)^p = Q \Lambda^p Q^\top

    Eigenvalues below :math:`10^{-12}\lambda_{\max}` are treated as 0 and their inverse powers
    as 0 (a pseudo-inverse root). torch / optax: none in the core libraries (``scipy.linalg.
    fractional_matrix_power`` for a general matrix); :cite:t:`gupta2018shampoo`.
    """
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"A must be a square matrix, got shape {A.shape}")
    if not np.allclose(A, A.T, atol=1e-10 * max(1.0, np.abs(A).max())):
        raise ValueError("A must be symmetric (a sum of G G^T terms)")
    lam, Q = np.linalg.eigh((A + A.T) / 2 + eps * np.eye(len(A)))
    keep = lam > 1e-12 * max(lam.max(), 0.0)
    lam_p = np.zeros_like(lam)
    lam_p[keep] = lam[keep] ** power
    return (Q * lam_p) @ Q.T


def shampoo_precondition(G, L, R, eps: float = 0.0) -> np.ndarray:
    r"""The Shampoo direction :math:`(L + \epsilon I)^{-1/4}\, G\, (R + \epsilon I)^{-1/4}`.

    .. math:: \Delta = L^{-1/4} G R^{-1/4}

    :cite:p:`gupta2018shampoo` (Algorithm 1, the matrix case). torch / optax: none in
    ``torch.optim`` or optax's core (``optax.contrib`` and external packages have distributed
    Shampoo variants).

    >>> import numpy as np
    >>> G = np.random.default_rng(0).standard_normal((3, 5))
    >>> D = shampoo_precondition(G, G @ G.T, G.T @ G)           # one gradient: the polar factor
    >>> bool(np.allclose(D @ D.T, np.eye(3)))
    True
    """
    G = np.asarray(G, dtype=float)
    if G.ndim != 2:
        raise ValueError(f"G must be a matrix, got shape {G.shape}")
    if np.shape(L) != (G.shape[0],) * 2 or np.shape(R) != (G.shape[1],) * 2:
        raise ValueError(
            f"for G of shape {G.shape}, L must be {(G.shape[0],) * 2} and R {(G.shape[1],) * 2}; "
            f"got {np.shape(L)} and {np.shape(R)}"
        )
    return matrix_power_psd(L, -0.25, eps) @ G @ matrix_power_psd(R, -0.25, eps)


class ShampooStats(NamedTuple):
    L: np.ndarray  # sum of G G^T
    R: np.ndarray  # sum of G^T G


def shampoo_accumulate(stats: ShampooStats | None, G) -> ShampooStats:
    r"""Add one gradient to Shampoo's statistics: :math:`L \mathrel{+}= GG^\top,\ R \mathrel{+}= G^\top G`.

    .. math:: L_t = L_{t-1} + G_t G_t^\top, \qquad R_t = R_{t-1} + G_t^\top G_t

    ``stats=None`` starts from zeros. torch / optax: none in the core libraries;
    :cite:t:`gupta2018shampoo`.
    """
    G = np.asarray(G, dtype=float)
    if G.ndim != 2:
        raise ValueError(f"G must be a matrix, got shape {G.shape}")
    if stats is None:
        stats = ShampooStats(np.zeros((G.shape[0],) * 2), np.zeros((G.shape[1],) * 2))
    return ShampooStats(stats.L + G @ G.T, stats.R + G.T @ G)
