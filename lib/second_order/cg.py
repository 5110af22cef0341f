r"""Conjugate gradient on curvature-vector products, and Hessian-free optimisation.

CG solves :math:`A x = b` for a symmetric positive definite :math:`A` that it only touches
through products :math:`v \mapsto Av`, in at most :math:`N` iterations (exactly, in exact
arithmetic) and often far fewer when the eigenvalues cluster :cite:p:`nocedal2006numerical`.
With :math:`A = G + \lambda I` (damped Gauss-Newton, products by
:func:`lib.second_order.curvature.ggn_vp`) and :math:`b = -g`, a truncated CG run is the
inner loop of Hessian-free optimisation :cite:p:`martens2010deep`: an approximate Newton step
for the price of a few dozen gradient-like passes, without ever forming an :math:`N\times N`
matrix. CG on the *Hessian* (products by :func:`lib.autodiff.hvp` or
:func:`lib.second_order.curvature.hvp`) is Newton-CG, which needs :math:`H \succ 0`.

>>> A = np.array([[4.0, 1.0], [1.0, 3.0]])
>>> cg(lambda v: A @ v, np.array([1.0, 2.0])).x.round(6)
array([0.090909, 0.636364])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from lib.second_order import curvature
from lib.second_order.newton import update_damping

__all__ = ["CGResult", "cg", "HFResult", "hessian_free"]


class CGResult(NamedTuple):
    """``x`` the solution, ``iterations`` made, ``residuals`` :math:`\\lVert b - Ax_k\\rVert` for
    k = 0..iterations, ``iterates`` the list of x_k (x_0 first)."""

    x: np.ndarray
    iterations: int
    residuals: np.ndarray
    iterates: list


def cg(matvec: Callable, b, x0=None, *, max_iter: int | None = None, tol: float = 1e-10) -> CGResult:
    r"""Conjugate gradient for :math:`Ax = b`, :math:`A \succ 0` given by ``matvec``.

    .. math::
        r_0 = b - Ax_0,\ p_0 = r_0;\quad \alpha_k = \frac{r_k^\top r_k}{p_k^\top A p_k},\
        x_{k+1} = x_k + \alpha_k p_k,\ r_{k+1} = r_k - \alpha_k A p_k,\
        p_{k+1} = r_{k+1} + \frac{r_{k+1}^\top r_{k+1}}{r_k^\top r_k} p_k

    Stops when :math:`\lVert r_k\rVert \le` ``tol`` :math:`\cdot\lVert b\rVert` or after
    ``max_iter`` (default :math:`N`) iterations. A direction with :math:`p^\top A p \le 0`
    means :math:`A` is not positive definite: CG stops there (as Newton-CG does)
    :cite:p:`nocedal2006numerical`. scipy: ``scipy.sparse.linalg.cg`` with a ``LinearOperator``.

    >>> cg(lambda v: 2 * v, np.ones(3)).iterations
    1
    """
    b = np.asarray(b, dtype=float)
    x = np.zeros_like(b) if x0 is None else np.array(x0, dtype=float)
    if x.shape != b.shape:
        raise ValueError(f"x0 must have the shape of b, {b.shape}, got {x.shape}")
    max_iter = b.size if max_iter is None else int(max_iter)
    r = b - matvec(x)
    p = r.copy()
    rr = float(r @ r)
    bnorm = float(np.linalg.norm(b)) or 1.0
    residuals, iterates = [math.sqrt(rr)], [x.copy()]
    k = 0
    while k < max_iter and math.sqrt(rr) > tol * bnorm:
        Ap = matvec(p)
        pAp = float(p @ Ap)
        if pAp <= 0:
            break
        alpha = rr / pAp
        x = x + alpha * p
        r = r - alpha * Ap
        rr_new = float(r @ r)
        p = r + (rr_new / rr) * p
        rr = rr_new
        k += 1
        residuals.append(math.sqrt(rr))
        iterates.append(x.copy())
    return CGResult(x, k, np.array(residuals), iterates)


class HFResult(NamedTuple):
    """What :func:`hessian_free` returns: final ``params``, ``losses`` per outer step (k + 1),
    ``dampings`` (k), ``cg_iterations`` (k) and ``matvecs`` (total curvature products)."""

    params: dict
    losses: np.ndarray
    dampings: np.ndarray
    cg_iterations: np.ndarray
    matvecs: int


def hessian_free(
    model, params: dict, X, y, *, steps: int = 10, damping: float = 1.0, cg_iters: int = 50, decay: float = 0.95
) -> HFResult:
    r"""Hessian-free optimisation of ``model`` (an MLP of :mod:`lib.nn`) on the full batch ``(X, y)``.

    Each step runs truncated :func:`cg` on :math:`(G + \lambda I)\delta = -g`, warm-started
    from ``decay`` times the previous :math:`\delta`; the step is accepted if it lowers the
    loss; :math:`\lambda` follows the Levenberg-Marquardt rule
    (:func:`lib.second_order.newton.update_damping`) with the reduction ratio of the
    Gauss-Newton model. A simplified version of :cite:t:`martens2010deep` (no CG backtracking,
    no preconditioner, full batch). torch / optax: none built in.
    """
    if not damping > 0:
        raise ValueError(f"damping must be > 0, got {damping}")
    w = curvature.flatten(params)
    loss, grads = model.loss_and_grad(params, X, y)
    losses, dampings, iters = [loss], [], []
    delta = np.zeros_like(w)
    lam, matvecs = float(damping), 0
    for _ in range(int(steps)):
        g = curvature.flatten(grads)
        p = curvature.unflatten(w, params)
        A = lambda v, p=p, lam=lam: curvature.ggn_vp(p, X, y, v) + lam * v
        res = cg(A, -g, decay * delta, max_iter=cg_iters, tol=1e-8)
        matvecs += res.iterations + 1
        delta = res.x
        Gd = A(delta) - lam * delta
        predicted = float(g @ delta + 0.5 * delta @ Gd)
        new = curvature.unflatten(w + delta, params)
        new_loss, new_grads = model.loss_and_grad(new, X, y)
        rho = (new_loss - loss) / predicted if predicted < 0 else -1.0
        dampings.append(lam)
        iters.append(res.iterations)
        lam = update_damping(lam, rho)
        if new_loss < loss:
            w, loss, grads = w + delta, new_loss, new_grads
        else:
            delta = np.zeros_like(w)
        losses.append(loss)
    return HFResult(curvature.unflatten(w, params), np.array(losses), np.array(dampings), np.array(iters), matvecs)
