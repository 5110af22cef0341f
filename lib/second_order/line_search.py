r"""Line searches: how far to go along a descent direction :math:`d`.

Along :math:`\phi(t) = f(\theta + t d)`, with :math:`\phi'(0) = g^\top d < 0`:

* the **Armijo** (sufficient decrease) condition :math:`\phi(t) \le \phi(0) + c_1 t \phi'(0)`;
* the **strong Wolfe** conditions add :math:`|\phi'(t)| \le c_2 |\phi'(0)|` (the slope has
  flattened), which for quasi-Newton methods guarantees :math:`y^\top s > 0`
  :cite:p:`nocedal2006numerical`.

:func:`backtracking` (Armijo, halving) is the simplest; :func:`strong_wolfe` is a NumPy
transcription of ``torch.optim.lbfgs._strong_wolfe`` (a bracketing phase and a zoom phase with
safeguarded cubic interpolation, :func:`cubic_interpolate`), itself a port of minFunc.

>>> phi = lambda x, t, d: (float((x + t * d) @ (x + t * d)), 2 * (x + t * d))
>>> x = np.array([1.0]); g = 2 * x; d = -g
>>> f, g_new, t, evals = strong_wolfe(phi, x, 1.0, d, 1.0, g, float(g @ d))
>>> t
0.5
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = ["armijo", "strong_wolfe_conditions", "backtracking", "cubic_interpolate", "strong_wolfe"]


def armijo(f0: float, f_t: float, t: float, gtd: float, c1: float = 1e-4) -> bool:
    r"""The Armijo condition :math:`f(\theta + t d) \le f(\theta) + c_1\, t\, g^\top d`.

    torch: the first test in ``torch.optim.lbfgs._strong_wolfe`` :cite:p:`nocedal2006numerical`.

    >>> armijo(1.0, 0.5, 1.0, -1.0), armijo(1.0, 1.0, 1.0, -1.0)
    (True, False)
    """
    return bool(f_t <= f0 + c1 * t * gtd)


def strong_wolfe_conditions(f0, f_t, t, gtd, gtd_t, c1: float = 1e-4, c2: float = 0.9) -> bool:
    r"""Both strong Wolfe conditions: Armijo and :math:`|\phi'(t)| \le c_2 |\phi'(0)|`.

    :math:`0 < c_1 < c_2 < 1`; torch's defaults :math:`c_1 = 10^{-4}`, :math:`c_2 = 0.9`
    :cite:p:`nocedal2006numerical`.

    >>> strong_wolfe_conditions(1.0, 0.0, 0.5, -2.0, 0.0)
    True
    """
    if not 0 < c1 < c2 < 1:
        raise ValueError(f"the Wolfe constants need 0 < c1 < c2 < 1, got c1={c1}, c2={c2}")
    return armijo(f0, f_t, t, gtd, c1) and bool(abs(gtd_t) <= -c2 * gtd)


def backtracking(
    f: Callable, x, d, f0: float, g, *, t0: float = 1.0, rho: float = 0.5, c1: float = 1e-4, max_evals: int = 50
):
    r"""Backtracking Armijo line search: :math:`t = t_0, \rho t_0, \rho^2 t_0, \dots` until
    :math:`f(\theta + t d) \le f(\theta) + c_1 t\, g^\top d`. Returns ``(t, f_t, evals)``.

    ``f(x) -> float``. If :math:`d` is not a descent direction (:math:`g^\top d \ge 0`) no
    step size can satisfy the condition and a ``ValueError`` says so. Algorithm 3.1 of
    :cite:t:`nocedal2006numerical`. torch has none built in (``LBFGS`` uses strong Wolfe);
    optax: ``optax.scale_by_backtracking_linesearch``.

    >>> t, f_t, n = backtracking(lambda x: float(x @ x), np.array([1.0]), np.array([-4.0]), 1.0, np.array([2.0]))
    >>> t, f_t, n
    (0.25, 0.0, 3)
    """
    if not 0 < rho < 1:
        raise ValueError(f"rho must be in (0, 1), got {rho}")
    if not 0 < c1 < 1:
        raise ValueError(f"c1 must be in (0, 1), got {c1}")
    x, d, g = (np.asarray(a, dtype=float) for a in (x, d, g))
    gtd = float(g @ d)
    if not gtd < 0:
        raise ValueError(
            f"d is not a descent direction (g·d = {gtd:.3g} >= 0): backtracking cannot "
            "satisfy the Armijo condition; use -g or make the Hessian positive definite"
        )
    t = float(t0)
    for evals in range(1, max_evals + 1):
        f_t = float(f(x + t * d))
        if armijo(f0, f_t, t, gtd, c1):
            return t, f_t, evals
        t *= rho
    return t / rho, f_t, max_evals


def cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None) -> float:
    r"""The minimiser of the cubic through :math:`(x_1, f_1, g_1)` and :math:`(x_2, f_2, g_2)`,
    clipped to ``bounds`` (default: the interval between the points).

    .. math::
        d_1 = g_1 + g_2 - 3\frac{f_1 - f_2}{x_1 - x_2},\quad d_2 = \sqrt{d_1^2 - g_1 g_2},\quad
        t = x_2 - (x_2 - x_1)\frac{g_2 + d_2 - d_1}{g_2 - g_1 + 2 d_2}

    (for :math:`x_1 \le x_2`); the midpoint of the bounds if :math:`d_1^2 < g_1 g_2`.
    torch: ``torch.optim.lbfgs._cubic_interpolate`` :cite:p:`nocedal2006numerical`.

    >>> cubic_interpolate(0.0, 0.0, -1.0, 1.0, 0.0, 1.0)       # f = t² - t on [0, 1]
    0.5
    """
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def strong_wolfe(
    obj_func: Callable,
    x,
    t: float,
    d,
    f: float,
    g,
    gtd: float,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
):
    r"""A step size satisfying the strong Wolfe conditions, exactly as torch's L-BFGS finds it.

    ``obj_func(x, t, d) -> (f(x + t d), ∇f(x + t d))``. Bracketing: try :math:`t`; if Armijo
    fails (or :math:`f` rose) or the slope turned positive, the last two trials bracket a
    solution; if the strong Wolfe conditions hold, stop; otherwise extrapolate by cubic
    interpolation within :math:`[t + 0.01 (t - t_{prev}), 10 t]`. Zoom: shrink the bracket by
    cubic interpolation, moved 10 % of the bracket away from its ends when progress is
    insufficient, until the conditions hold, the bracket is shorter than
    ``tolerance_change`` (times :math:`\max|d|`), or ``max_ls`` evaluations are spent.
    Returns ``(f_new, g_new, t, evals)``. Algorithms 3.5-3.6 of :cite:t:`nocedal2006numerical`;
    torch: ``torch.optim.lbfgs._strong_wolfe``.

    >>> phi = lambda x, t, d: (float((x + t * d) ** 2 @ np.ones(1)), 2 * (x + t * d))
    >>> strong_wolfe(phi, np.array([2.0]), 1.0, np.array([-1.0]), 4.0, np.array([4.0]), -4.0)[2]
    1.0
    """
    d = np.asarray(d, dtype=float)
    d_norm = float(np.abs(d).max())
    g = np.array(g, dtype=float)
    f_new, g_new = obj_func(x, t, d)
    f_new, g_new = float(f_new), np.asarray(g_new, dtype=float)
    ls_func_evals = 1
    gtd_new = float(g_new @ d)

    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        f_new, g_new = float(f_new), np.asarray(g_new, dtype=float)
        ls_func_evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1

    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        f_new, g_new = obj_func(x, t, d)
        f_new, g_new = float(f_new), np.asarray(g_new, dtype=float)
        ls_func_evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos], bracket_gtd[high_pos] = bracket_g[low_pos], bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new

    t = bracket[low_pos]
    return bracket_f[low_pos], bracket_g[low_pos], t, ls_func_evals
