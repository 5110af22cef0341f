r"""Quasi-Newton methods: BFGS and L-BFGS (the two-loop recursion), the latter equal to
``torch.optim.LBFGS`` step for step.

Both build curvature from gradient differences only. With :math:`s_k = \theta_{k+1}-\theta_k`
and :math:`y_k = g_{k+1} - g_k`, BFGS updates an inverse-Hessian approximation

.. math::
    H_{k+1} = (I - \rho_k s_k y_k^\top) H_k (I - \rho_k y_k s_k^\top) + \rho_k s_k s_k^\top,
    \qquad \rho_k = 1 / (y_k^\top s_k),

which satisfies the secant equation :math:`H_{k+1} y_k = s_k` :cite:p:`nocedal2006numerical`.
L-BFGS never forms :math:`H`: it keeps the last ``history_size`` pairs and applies
:math:`H_k` to a vector with the two-loop recursion :cite:p:`liu1989limited`.

:func:`lbfgs_step` is a NumPy transcription of ``torch.optim.LBFGS.step`` (torch 2.13), including
its stopping tests, its first step ``min(1, 1/‖g‖₁)·lr``, its skipped updates when
:math:`y^\top s \le 10^{-10}`, and its strong-Wolfe line search with cubic interpolation
(:func:`lib.second_order.line_search.strong_wolfe`); ``tests/test_second_order_lbfgs.py``
compares every evaluated point with golden torch data to ~1e-12.

>>> import numpy as np
>>> fun = lambda x: (float(x @ x), 2 * x)
>>> x, state, loss = lbfgs_step(fun, np.array([3.0, -4.0]), lbfgs_init())
>>> bool(np.allclose(x, 0)), loss
(True, 25.0)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from lib.second_order.line_search import strong_wolfe

__all__ = ["two_loop", "bfgs_update", "bfgs", "LBFGSState", "lbfgs_init", "lbfgs_step", "lbfgs"]


def two_loop(g, s_list, y_list, gamma: float = 1.0) -> np.ndarray:
    r"""The L-BFGS product :math:`H_k g` by the two-loop recursion :cite:p:`liu1989limited`.

    ``s_list``/``y_list`` hold the pairs oldest first; :math:`H_k^0 = \gamma I`.

    .. math::
        &\text{for } i = k-1, \dots, k-m:\quad \alpha_i = \rho_i s_i^\top q,\; q \leftarrow q - \alpha_i y_i \\
        &r = \gamma q \\
        &\text{for } i = k-m, \dots, k-1:\quad \beta = \rho_i y_i^\top r,\; r \leftarrow r + (\alpha_i - \beta) s_i

    The first loop runs **newest to oldest**, the second oldest to newest. torch: the body of
    ``torch.optim.LBFGS.step`` (``old_stps``, ``old_dirs``, ``H_diag``).

    >>> two_loop(np.array([2.0, 4.0]), [], [], gamma=0.5)
    array([1., 2.])
    """
    q = np.array(g, dtype=float)
    if len(s_list) != len(y_list):
        raise ValueError(f"s_list and y_list must have the same length, got {len(s_list)} and {len(y_list)}")
    rho = [1.0 / float(np.dot(y, s)) for s, y in zip(s_list, y_list)]
    alpha = [0.0] * len(s_list)
    for i in range(len(s_list) - 1, -1, -1):
        alpha[i] = float(np.dot(s_list[i], q)) * rho[i]
        q = q - alpha[i] * y_list[i]
    r = gamma * q
    for i in range(len(s_list)):
        beta = float(np.dot(y_list[i], r)) * rho[i]
        r = r + (alpha[i] - beta) * s_list[i]
    return r


def bfgs_update(H, s, y) -> np.ndarray:
    r"""One BFGS update of the inverse-Hessian approximation ``H`` with the pair ``(s, y)``.

    .. math:: H^+ = (I - \rho s y^\top) H (I - \rho y s^\top) + \rho s s^\top,\quad \rho = 1/(y^\top s)

    Requires the curvature condition :math:`y^\top s > 0` (a Wolfe line search guarantees it),
    which keeps :math:`H^+ \succ 0` :cite:p:`nocedal2006numerical`. scipy:
    ``scipy.optimize.minimize(method='BFGS')``.

    >>> H = bfgs_update(np.eye(2), np.array([1.0, 0.0]), np.array([2.0, 0.0]))
    >>> H @ np.array([2.0, 0.0])                       # the secant equation H⁺ y = s
    array([1., 0.])
    """
    H, s, y = (np.asarray(a, dtype=float) for a in (H, s, y))
    ys = float(y @ s)
    if not ys > 0:
        raise ValueError(
            f"the BFGS update needs y·s > 0 (curvature condition), got {ys:.3g}; "
            "use a Wolfe line search or skip the update"
        )
    rho = 1.0 / ys
    V = np.eye(len(s)) - rho * np.outer(s, y)
    return V @ H @ V.T + rho * np.outer(s, s)


def bfgs(fun: Callable, x0, *, max_iter: int = 100, tolerance_grad: float = 1e-7):
    r"""Minimise with BFGS and a strong-Wolfe line search; returns ``(path, n_evals)``.

    :math:`d_k = -H_k g_k`, :math:`\theta_{k+1} = \theta_k + t_k d_k` with :math:`t_k` from
    :func:`~lib.second_order.line_search.strong_wolfe` (first trial 1), then
    :func:`bfgs_update`; the first :math:`H_0` is rescaled by :math:`y^\top s / y^\top y`
    :cite:p:`nocedal2006numerical`. scipy: ``minimize(method='BFGS')``.

    >>> path, n = bfgs(lambda x: (float(x @ x), 2 * x), [1.0, 1.0])
    >>> bool(np.allclose(path[-1], 0))
    True
    """
    x = np.array(x0, dtype=float)
    f, g = fun(x)
    H = np.eye(len(x))
    path, n_evals = [x.copy()], 1
    for k in range(max_iter):
        if np.abs(g).max() <= tolerance_grad:
            break
        d = -H @ g
        gtd = float(g @ d)
        f_new, g_new, t, evals = strong_wolfe(lambda x_, t_, d_: fun(x_ + t_ * d_), x, 1.0, d, f, g, gtd)
        n_evals += evals
        s, y = t * d, g_new - g
        if float(y @ s) > 1e-10:
            if k == 0:
                H = H * float(y @ s) / float(y @ y)
            H = bfgs_update(H, s, y)
        x, f, g = x + s, f_new, g_new
        path.append(x.copy())
    return np.array(path), n_evals


# --------------------------------------------------------------------------------------------
# L-BFGS, exactly as torch.optim.LBFGS


@dataclass
class LBFGSState:
    """The state ``torch.optim.LBFGS`` keeps between ``step`` calls (``optimizer.state``)."""

    func_evals: int = 0
    n_iter: int = 0
    d: np.ndarray | None = None
    t: float | None = None
    old_dirs: list = field(default_factory=list)  # y_i, oldest first
    old_stps: list = field(default_factory=list)  # s_i
    ro: list = field(default_factory=list)  # 1 / (y_i · s_i)
    H_diag: float = 1.0
    prev_flat_grad: np.ndarray | None = None
    prev_loss: float | None = None


def lbfgs_init() -> LBFGSState:
    """A fresh :class:`LBFGSState` (torch: a new ``torch.optim.LBFGS``)."""
    return LBFGSState()


def _check(lr, max_iter, max_eval, history_size, line_search_fn):
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    for name, v in (("max_iter", max_iter), ("history_size", history_size)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if max_eval is None:
        max_eval = max_iter * 5 // 4
    if line_search_fn is not None and line_search_fn != "strong_wolfe":
        raise RuntimeError("only 'strong_wolfe' is supported")  # torch's message
    return max_eval


def lbfgs_step(
    fun: Callable,
    x,
    state: LBFGSState,
    *,
    lr: float = 1.0,
    max_iter: int = 20,
    max_eval: int | None = None,
    tolerance_grad: float = 1e-7,
    tolerance_change: float = 1e-9,
    history_size: int = 100,
    line_search_fn: str | None = None,
):
    r"""One call of ``torch.optim.LBFGS.step(closure)``: up to ``max_iter`` L-BFGS iterations.

    ``fun(x) -> (loss, grad)`` plays the closure. Each iteration: :math:`d = -H_k g` by
    :func:`two_loop` with :math:`H^0 = \frac{y^\top s}{y^\top y} I` (the newest pair),
    then :math:`\theta \leftarrow \theta + t d` with :math:`t = \text{lr}` (the very first
    iteration: :math:`\min(1, 1/\lVert g\rVert_1)\,\text{lr}`) or :math:`t` from the strong-Wolfe
    search started at that value. It stops after ``max_iter`` iterations or ``max_eval``
    evaluations, when :math:`\max|g| \le` ``tolerance_grad``, or when the step, the loss change
    or :math:`g^\top d` fall below ``tolerance_change`` :cite:p:`liu1989limited,nocedal2006numerical`.
    Returns ``(x, state, orig_loss)`` with ``orig_loss`` the loss at the input ``x``, as torch
    returns the closure's first value. torch: ``torch.optim.LBFGS(params, lr, max_iter, max_eval,
    tolerance_grad, tolerance_change, history_size, line_search_fn)``; optax: ``optax.lbfgs``.

    >>> fun = lambda x: (float((x - 1) @ (x - 1)), 2 * (x - 1))
    >>> x, s, loss = lbfgs_step(fun, np.zeros(3), lbfgs_init(), line_search_fn="strong_wolfe")
    >>> bool(np.allclose(x, 1)), s.n_iter >= 1
    (True, True)
    """
    max_eval = _check(lr, max_iter, max_eval, history_size, line_search_fn)
    state = replace(state, old_dirs=list(state.old_dirs), old_stps=list(state.old_stps), ro=list(state.ro))
    x = np.array(x, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"x must be a flat 1-D parameter vector, got shape {x.shape}")

    orig_loss, flat_grad = fun(x)
    loss = float(orig_loss)
    flat_grad = np.asarray(flat_grad, dtype=float)
    current_evals = 1
    state.func_evals += 1
    if np.abs(flat_grad).max() <= tolerance_grad:
        return x, state, orig_loss

    d, t = state.d, state.t
    old_dirs, old_stps, ro, H_diag = state.old_dirs, state.old_stps, state.ro, state.H_diag
    prev_flat_grad, prev_loss = state.prev_flat_grad, state.prev_loss
    opt_cond = False
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        state.n_iter += 1
        if state.n_iter == 1:
            d = -flat_grad
            old_dirs, old_stps, ro, H_diag = [], [], [], 1.0
        else:
            y = flat_grad - prev_flat_grad
            s = d * t
            ys = float(y @ s)
            if ys > 1e-10:
                if len(old_dirs) == history_size:
                    old_dirs.pop(0)
                    old_stps.pop(0)
                    ro.pop(0)
                old_dirs.append(y)
                old_stps.append(s)
                ro.append(1.0 / ys)
                H_diag = ys / float(y @ y)
            # the two-loop recursion, with torch's stored rho
            q = -flat_grad
            al = [0.0] * len(old_dirs)
            for i in range(len(old_dirs) - 1, -1, -1):
                al[i] = float(old_stps[i] @ q) * ro[i]
                q = q - al[i] * old_dirs[i]
            r = q * H_diag
            for i in range(len(old_dirs)):
                be_i = float(old_dirs[i] @ r) * ro[i]
                r = r + (al[i] - be_i) * old_stps[i]
            d = r
        prev_flat_grad = flat_grad.copy()
        prev_loss = loss

        if state.n_iter == 1:
            t = min(1.0, 1.0 / float(np.abs(flat_grad).sum())) * lr
        else:
            t = lr
        gtd = float(flat_grad @ d)
        if gtd > -tolerance_change:
            break

        ls_func_evals = 0
        if line_search_fn is not None:
            loss, flat_grad, t, ls_func_evals = strong_wolfe(
                lambda x_, t_, d_: _evaluate(fun, x_ + t_ * d_),
                x,
                t,
                d,
                loss,
                flat_grad,
                gtd,
                max_ls=max_eval - current_evals,
            )
            x = x + t * d
            opt_cond = np.abs(flat_grad).max() <= tolerance_grad
        else:
            x = x + t * d
            if n_iter != max_iter:
                loss, flat_grad = _evaluate(fun, x)
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                ls_func_evals = 1
        current_evals += ls_func_evals
        state.func_evals += ls_func_evals

        if n_iter == max_iter or current_evals >= max_eval or opt_cond:
            break
        if np.abs(d * t).max() <= tolerance_change:
            break
        if abs(loss - prev_loss) < tolerance_change:
            break

    state.d, state.t, state.H_diag = d, t, H_diag
    state.old_dirs, state.old_stps, state.ro = old_dirs, old_stps, ro
    state.prev_flat_grad, state.prev_loss = prev_flat_grad, prev_loss
    return x, state, orig_loss


def _evaluate(fun, x):
    loss, g = fun(x)
    return float(loss), np.asarray(g, dtype=float)


def lbfgs(fun: Callable, x0, *, steps: int = 1, **hparams):
    r"""Call :func:`lbfgs_step` ``steps`` times from ``x0``; returns ``(x, state, losses)``.

    torch: ``for _ in range(steps): optimizer.step(closure)``. See :func:`lbfgs_step` for the
    arguments and the update :cite:p:`liu1989limited`.

    >>> x, state, losses = lbfgs(lambda x: (float(x @ x), 2 * x), [1.0, 2.0], steps=2)
    >>> bool(np.allclose(x, 0))
    True
    """
    x, state, losses = np.array(x0, dtype=float), lbfgs_init(), []
    for _ in range(steps):
        x, state, loss = lbfgs_step(fun, x, state, **hparams)
        losses.append(float(loss))
    return x, state, losses
