r"""Chapter 8's widgets: dropout rate × training-set size, and L1 vs L2 strength → weights.

Both computes are exact and fast, so a slider move costs milliseconds:

- :func:`dropout_fit` fits a network whose hidden layer is a fixed set of random ReLU features
  with dropout on the hidden units. For squared error the expected loss over the dropout
  masks has a closed form (chapter 8; :cite:t:`srivastava2014dropout` §9.1): with drop
  probability :math:`p`,

  .. math:: \mathbb E_r\,\Big\lVert y - \Phi\,\tfrac{r\odot w}{1-p}\Big\rVert^2
            = \lVert y - \Phi w\rVert^2 + \frac{p}{1-p}\sum_j w_j^2 \lVert\Phi_{:,j}\rVert^2,

  a ridge penalty scaled by each feature's energy, whose minimiser is solved for directly.
- :func:`l1_l2_weights` solves the Lasso by proximal gradient descent (:mod:`lib.optim.proximal`)
  and ridge regression in closed form on a regression with a few non-zero true weights, along a
  grid of strengths :math:`\lambda`, and counts the exact zeros :cite:p:`tibshirani1996regression`.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from lib.optim.proximal import soft_threshold
from lib.plotting import plain_log_axis
from lib.widgets import Control, Widget, clear_curves, course_style

__all__ = [
    "DropoutFit",
    "dropout_fit",
    "draw_dropout_fit",
    "dropout_widget",
    "expected_dropout_loss",
    "L1L2Weights",
    "l1_l2_weights",
    "draw_l1_l2_weights",
    "l1_l2_widget",
    "DROPOUT_PS",
    "DROPOUT_NS",
    "LAMBDAS",
]

DROPOUT_PS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)  # all computed for the error curve
DROPOUT_SLIDER = (0.0, 0.2, 0.5, 0.9)  # the frames of the slider
DROPOUT_NS = (10, 40, 160)
N_FEATURES = 60
NOISE = 0.3
LAMBDAS = (0.001, 0.004, 0.016, 0.063, 0.25, 1.0)
BLUE, ORANGE, GREEN, GREY = "#0072B2", "#D55E00", "#009E73", "0.45"


# --------------------------------------------------------------------------------------------
# dropout


def _target(x):
    return np.sin(3 * x) + 0.5 * x


@functools.lru_cache(maxsize=1)
def _dropout_problem():
    rng = np.random.default_rng(8)
    a = rng.normal(size=N_FEATURES) * 3
    c = rng.uniform(-1, 1, N_FEATURES)

    def features(x):
        return np.maximum(np.outer(x, a) - a * c, 0.0)  # ReLU(a (x - c)): kinks inside [-1, 1]

    x_pool = rng.uniform(-1, 1, max(DROPOUT_NS))
    y_pool = _target(x_pool) + NOISE * rng.normal(size=x_pool.size)
    x_val = rng.uniform(-1, 1, 400)
    y_val = _target(x_val) + NOISE * rng.normal(size=x_val.size)
    grid = np.linspace(-1, 1, 200)
    return features, x_pool, y_pool, x_val, y_val, grid


def expected_dropout_loss(w, Phi, y, p: float) -> float:
    r"""The mean over dropout masks of :math:`\frac1n\lVert y - \Phi(r\odot w)/(1-p)\rVert^2`,
    in closed form: :math:`\frac1n\big(\lVert y-\Phi w\rVert^2 + \frac{p}{1-p}\sum_j w_j^2\lVert\Phi_{:,j}\rVert^2\big)`
    :cite:p:`srivastava2014dropout`.

    >>> float(expected_dropout_loss(np.array([1.0]), np.array([[1.0]]), np.array([1.0]), 0.5))
    1.0
    """
    w, Phi, y = np.asarray(w, float), np.asarray(Phi, float), np.asarray(y, float)
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p!r}")
    r = y - Phi @ w
    return float((r @ r + p / (1 - p) * np.sum(w**2 * np.sum(Phi**2, axis=0))) / len(y))


def _fit(Phi, y, p):
    G = Phi.T @ Phi
    A = G + (p / (1 - p)) * np.diag(np.diag(G)) + 1e-8 * np.trace(G) / len(G) * np.eye(len(G))
    return np.linalg.solve(A, Phi.T @ y)


class DropoutFit(NamedTuple):
    """What :func:`dropout_fit` returns: the data, the fitted curve on ``grid``, and the
    training / validation mean squared errors for every dropout rate of ``ps`` (``index``
    marks the chosen one)."""

    x: np.ndarray
    y: np.ndarray
    grid: np.ndarray
    fit: np.ndarray
    truth: np.ndarray
    ps: np.ndarray
    train_mse: np.ndarray
    val_mse: np.ndarray
    index: int
    n: int


def dropout_fit(p: float = 0.5, n: int = 40) -> DropoutFit:
    r"""Fit :math:`x \mapsto \sum_j w_j\,\mathrm{ReLU}(a_j(x - c_j))` (60 fixed random features)
    to ``n`` noisy samples of :math:`\sin 3x + x/2` by minimising the expected dropout loss
    (drop probability ``p`` on the hidden units; :func:`expected_dropout_loss`), and measure the
    training and validation errors of the eval-mode network (no dropout) for every rate of
    :data:`DROPOUT_PS` :cite:p:`srivastava2014dropout`.

    >>> d = dropout_fit(0.0, 10)
    >>> bool(d.train_mse[0] < d.val_mse[0])          # no dropout, 10 points: overfits
    True
    """
    if p not in DROPOUT_PS:
        raise ValueError(f"p must be one of {DROPOUT_PS}, got {p!r}")
    if n not in DROPOUT_NS:
        raise ValueError(f"n must be one of {DROPOUT_NS}, got {n!r}")
    features, x_pool, y_pool, x_val, y_val, grid = _dropout_problem()
    x, y = x_pool[:n], y_pool[:n]
    Phi, Phi_val, Phi_grid = features(x), features(x_val), features(grid)
    tr, va, fits = [], [], []
    for q in DROPOUT_PS:
        w = _fit(Phi, y, q)
        tr.append(np.mean((Phi @ w - y) ** 2))
        va.append(np.mean((Phi_val @ w - y_val) ** 2))
        fits.append(Phi_grid @ w)
    i = DROPOUT_PS.index(p)
    return DropoutFit(x, y, grid, fits[i], _target(grid), np.array(DROPOUT_PS), np.array(tr), np.array(va), i, n)


def draw_dropout_fit(d: DropoutFit, fig) -> None:
    """Left: the data, the true function and the fit; right: training and validation error vs p."""
    ax_fit, ax_err = fig.subplots(1, 2, gridspec_kw={"width_ratios": (1.1, 1)})
    ax_err.set_yscale("log")
    _dropout_curves(d, ax_fit, ax_err)
    ax_fit.set(xlabel="x", ylabel="y")
    ax_err.set(xlabel="drop probability p", ylabel="mean squared error")
    plain_log_axis(ax_err.yaxis)  # no minor ticks: a cheaper frame
    fig._descent_title = fig.suptitle(_dropout_title(d), fontsize="small")
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.16, top=0.88, wspace=0.28)


def _dropout_curves(d: DropoutFit, ax_fit, ax_err) -> None:
    """The truth, the fit and the data (left); the errors against p and the chosen p (right)."""
    ax_fit.plot(d.grid, d.truth, color=GREY, lw=1, linestyle=":", label="true function")
    ax_fit.plot(d.grid, d.fit, color=BLUE, lw=1.6, label="fit (eval mode)")
    ax_fit.plot(d.x, d.y, "o", color="black", ms=3.5, label=f"{d.n} training points")
    ax_fit.set_ylim(-2.5, 2.5)
    ax_fit.legend(loc="lower right", fontsize="x-small", frameon=False)
    ax_err.plot(d.ps, d.train_mse, "o-", color=BLUE, ms=3, label="training")
    ax_err.plot(d.ps, d.val_mse, "s-", color=ORANGE, ms=3, label="validation")
    ax_err.axvline(d.ps[d.index], color=GREY, lw=1, linestyle="--")
    ax_err.axhline(NOISE**2, color=GREEN, lw=1, linestyle=":", label="noise variance")
    ax_err.legend(loc="upper center", fontsize="x-small", edgecolor="none", framealpha=0.9)  # above the p line


def _dropout_title(d: DropoutFit) -> str:
    gap = d.val_mse[d.index] - d.train_mse[d.index]
    return (
        f"dropout p = {d.ps[d.index]:g}, n = {d.n}: training error {d.train_mse[d.index]:.3f}, "
        f"validation {d.val_mse[d.index]:.3f} (gap {gap:.3f})"
    )


def update_dropout_fit(d: DropoutFit, fig) -> None:
    """Turn a figure of :func:`draw_dropout_fit` into another frame: the curves, the data, the
    legends, the ranges and the title change; the axes and their labels stay."""
    ax_fit, ax_err = fig.axes[:2]
    clear_curves(ax_fit)
    clear_curves(ax_err)
    _dropout_curves(d, ax_fit, ax_err)
    fig._descent_title.set_text(_dropout_title(d))


def dropout_widget() -> Widget:
    """Dropout rate × training-set size sliders over :func:`dropout_fit` (12 frames)."""
    return Widget(
        compute=dropout_fit,
        draw=draw_dropout_fit,
        controls=(
            Control("p", DROPOUT_SLIDER, "drop probability p", default=0.0),
            Control("n", DROPOUT_NS, "training points n", default=40, fmt="{:d}"),
        ),
        figsize=(7.5, 3.2),
        title="Dropout on 60 random ReLU features: training vs validation error",
        style=course_style(),
        update=update_dropout_fit,  # every frame has the same axes
        reuse_key=lambda d: "one figure",
    )


# --------------------------------------------------------------------------------------------
# L1 vs L2


@functools.lru_cache(maxsize=1)
def _regression():
    rng = np.random.default_rng(80)
    n, d = 60, 30
    X = rng.normal(size=(n, d))
    w_true = np.zeros(d)
    idx = rng.choice(d, 6, replace=False)
    w_true[idx] = rng.choice([-1, 1], 6) * rng.uniform(0.5, 1.5, 6)
    y = X @ w_true + 0.5 * rng.normal(size=n)
    Xv = rng.normal(size=(500, d))
    yv = Xv @ w_true + 0.5 * rng.normal(size=500)
    return X, y, Xv, yv, w_true


def lasso_ista(X, y, lam: float, *, w0=None, steps: int = 400) -> np.ndarray:
    r"""Minimise :math:`\frac1{2n}\lVert Xw - y\rVert^2 + \lambda\lVert w\rVert_1` by proximal
    gradient descent, :math:`w \leftarrow S_{\eta\lambda}(w - \eta\nabla f)` with
    :math:`\eta = 1/L`, :math:`L = \lVert X\rVert_2^2/n` :cite:p:`parikh2014proximal`."""
    n = X.shape[0]
    lr = n / np.linalg.norm(X, 2) ** 2
    w = np.zeros(X.shape[1]) if w0 is None else w0.copy()
    for _ in range(steps):
        w = soft_threshold(w - lr * (X.T @ (X @ w - y) / n), lr * lam)
    return w


@functools.lru_cache(maxsize=1)
def _paths():
    X, y, Xv, yv, w_true = _regression()
    n, d = X.shape
    l1, l2 = [], []
    w = None
    for lam in sorted(LAMBDAS, reverse=True):  # warm starts from strong to weak penalties
        w = lasso_ista(X, y, lam, w0=w)
        l1.append(w)
    l1 = l1[::-1]
    for lam in LAMBDAS:
        l2.append(np.linalg.solve(X.T @ X / n + lam * np.eye(d), X.T @ y / n))
    return np.array(l1), np.array(l2)


class L1L2Weights(NamedTuple):
    """What :func:`l1_l2_weights` returns: the weights of both penalties at the chosen
    strength, the true weights, and for every strength the number of exact zeros and the
    validation error of each."""

    lam: float
    w_l1: np.ndarray
    w_l2: np.ndarray
    w_true: np.ndarray
    lambdas: np.ndarray
    zeros_l1: np.ndarray
    zeros_l2: np.ndarray
    val_l1: np.ndarray
    val_l2: np.ndarray
    index: int


def l1_l2_weights(lam: float = LAMBDAS[3]) -> L1L2Weights:
    r"""The Lasso (:math:`\frac1{2n}\lVert Xw-y\rVert^2 + \lambda\lVert w\rVert_1`, by proximal
    gradient descent) and ridge (:math:`+\frac\lambda2\lVert w\rVert^2`, closed form
    :math:`(X^\top X/n + \lambda I)^{-1}X^\top y/n`) on 60 examples of 30 features, 6 of them
    relevant, for every strength of :data:`LAMBDAS` :cite:p:`tibshirani1996regression`.

    >>> r = l1_l2_weights(LAMBDAS[-1])
    >>> int(r.zeros_l1[-1]) > 20, int(r.zeros_l2[-1])
    (True, 0)
    """
    if lam not in LAMBDAS:
        raise ValueError(f"lam must be one of {LAMBDAS}, got {lam!r}")
    X, y, Xv, yv, w_true = _regression()
    l1, l2 = _paths()
    i = LAMBDAS.index(lam)
    val = lambda W: np.mean((Xv @ W.T - yv[:, None]) ** 2, axis=0)
    return L1L2Weights(
        lam,
        l1[i],
        l2[i],
        w_true,
        np.array(LAMBDAS),
        np.sum(l1 == 0, axis=1),
        np.sum(l2 == 0, axis=1),
        val(l1),
        val(l2),
        i,
    )


def draw_l1_l2_weights(r: L1L2Weights, fig) -> None:
    """Left: the 30 weights under L1 and L2 with the true ones; right: exact zeros vs λ."""
    ax_w, ax_z = fig.subplots(1, 2, gridspec_kw={"width_ratios": (1.5, 1)})
    j = np.arange(r.w_true.size)
    ax_w.vlines(j - 0.15, 0, r.w_l2, color=ORANGE, lw=2.2, label="L2 (ridge)")
    ax_w.vlines(j + 0.15, 0, r.w_l1, color=BLUE, lw=2.2, label="L1 (Lasso)")
    ax_w.plot(j, r.w_true, "_", color="black", ms=8, mew=1.5, label="true weight")
    ax_w.axhline(0, color=GREY, lw=0.8)
    ax_w.set(xlabel="feature j", ylabel="weight w_j", ylim=(-1.8, 1.8))
    ax_w.legend(loc="lower left", fontsize="x-small", frameon=False, ncol=3)
    ax_z.semilogx(r.lambdas, r.zeros_l1, "o-", color=BLUE, ms=3, label="L1: exact zeros")
    ax_z.semilogx(r.lambdas, r.zeros_l2, "s-", color=ORANGE, ms=3, label="L2: exact zeros")
    ax_z.axhline(np.sum(r.w_true == 0), color=GREY, lw=1, linestyle=":", label="true zeros")
    ax_z.axvline(r.lam, color=GREY, lw=1, linestyle="--")
    ax_z.set(xlabel="strength λ", ylabel="weights exactly 0", ylim=(-1, r.w_true.size + 1))
    plain_log_axis(ax_z.xaxis)
    ax_z.legend(loc="upper left", fontsize="x-small", frameon=False)
    fig.suptitle(
        f"λ = {r.lam:g}: L1 sets {r.zeros_l1[r.index]} of {r.w_true.size} weights to exactly 0 "
        f"(val. MSE {r.val_l1[r.index]:.2f}); L2 none (val. MSE {r.val_l2[r.index]:.2f})",
        fontsize="small",
    )
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.16, top=0.88, wspace=0.25)


def l1_l2_widget() -> Widget:
    """A strength slider over :func:`l1_l2_weights` (6 frames)."""
    return Widget(
        compute=l1_l2_weights,
        draw=draw_l1_l2_weights,
        controls=(Control("lam", LAMBDAS, "strength λ", default=LAMBDAS[3], fmt="{:.3g}"),),
        figsize=(7.5, 3.2),
        title="L1 vs L2: the weights of a sparse regression",
        style=course_style(),
    )
