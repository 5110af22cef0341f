r"""Chapter 03's widgets: the batch size against the noise of the path, and the learning rate
against the batch size on the digits.

Each widget is a pure ``compute`` (returns a small ``NamedTuple``; tested in
``tests/test_widgets_sgd.py``), a ``draw`` and the grid of its controls; :func:`lib.widgets.show`
displays it live or as a static frame scrubber.

>>> from lib.widgets import show
>>> show(batch_noise_widget())                     # doctest: +SKIP
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
import sympy as sp
from matplotlib import ticker

from lib import data as datasets
from lib import functions
from lib.plotting import plain_log_axis
from lib.widgets import Control, Widget, clear_curves, course_style

__all__ = [
    "LeastSquares",
    "least_squares_problem",
    "noise_floor",
    "BatchNoiseRun",
    "batch_noise_run",
    "draw_batch_noise_run",
    "batch_noise_widget",
    "DigitsGrid",
    "digits_grid",
    "DigitsRun",
    "digits_run",
    "draw_digits_run",
    "digits_widget",
]

# --------------------------------------------------------------------------------------------
# 1. Batch size and the noise of the path: least squares with two parameters

NOISE_BATCH_SIZES = (1, 5, 20, 200)
NOISE_LRS = (0.05, 0.1, 0.2, 0.4)
NOISE_STEPS = 200
#: The start, relative to the minimiser θ*.
NOISE_OFFSET = (-2.4, 1.8)
CONTOUR_GRID = 100


class LeastSquares(NamedTuple):
    """The two-parameter least-squares problem of the widget (no intercept)."""

    X: np.ndarray  # (n, 2) features
    y: np.ndarray  # (n,) targets
    theta_star: np.ndarray  # (2,) the minimiser of L
    loss_star: float  # L(θ*)
    hessian: np.ndarray  # (2, 2) H = XᵀX / n
    sigma: np.ndarray  # (2, 2) covariance of the per-example gradients at θ*
    objective: functions.Objective  # L as a SymPy-backed objective, for contour plots


@functools.cache
def least_squares_problem(n: int = 200, noise: float = 1.0, seed: int = 3) -> LeastSquares:
    r"""Least squares :math:`L(\theta) = \frac{1}{2n}\lVert X\theta - y\rVert^2` on
    :func:`lib.data.linear_regression` data with two features, and what the noise analysis needs:
    the Hessian :math:`H = X^\top X/n` and the covariance :math:`\Sigma` of the per-example
    gradients :math:`\nabla\ell_i(\theta^\star) = x_i(x_i^\top\theta^\star - y_i)` at the
    minimiser :cite:p:`bottou2018optimization`. torch: ``nn.Linear(2, 1, bias=False)`` with
    ``nn.MSELoss()`` (which omits the ½).

    >>> p = least_squares_problem()
    >>> p.X.shape, bool(np.allclose(p.X.T @ (p.X @ p.theta_star - p.y), 0))
    ((200, 2), True)
    """
    dataset, _ = datasets.linear_regression(n=n, d=2, noise=noise, seed=seed)
    X, y = dataset.X, dataset.y
    theta_star = np.linalg.solve(X.T @ X, X.T @ y)
    residual = X @ theta_star - y
    loss_star = float(residual @ residual) / (2 * n)
    H = X.T @ X / n
    G = X * residual[:, None]  # per-example gradients at θ*, mean 0
    sigma = G.T @ G / n
    t1, t2 = sp.symbols("theta_1 theta_2", real=True)
    b = X.T @ y / n
    expr = (
        sp.Float(H[0, 0] / 2) * t1**2
        + sp.Float(H[0, 1]) * t1 * t2
        + sp.Float(H[1, 1] / 2) * t2**2
        - sp.Float(b[0]) * t1
        - sp.Float(b[1]) * t2
        + sp.Float(float(y @ y) / (2 * n))
    )
    center = theta_star
    objective = functions.Objective(
        "least squares",
        expr,
        (t1, t2),
        minima=(theta_star,),
        xlim=(center[0] - 3.0, center[0] + 3.0),
        ylim=(center[1] - 2.2, center[1] + 2.2),
        start=theta_star + np.array(NOISE_OFFSET),
    )
    for a in (X, y, theta_star, H, sigma):
        a.flags.writeable = False
    return LeastSquares(X, y, theta_star, loss_star, H, sigma, objective)


def noise_floor(lr: float, batch_size: int, X, residuals, *, replacement: bool = False) -> float:
    r"""The expected excess loss :math:`\mathbb E[L(\theta_t)] - L^\star` at which mini-batch SGD
    with a constant step settles on least squares :math:`L(\theta) = \frac1{2n}\lVert X\theta-y\rVert^2`.

    ``residuals`` are :math:`r_j = x_j^\top\theta^\star - y_j`. With :math:`e_t = \theta_t - \theta^\star`,
    :math:`P_j = x_j x_j^\top`, :math:`H = \frac1n\sum_j P_j` and a batch of :math:`B` examples drawn
    with replacement, the second moment :math:`C_t = \mathbb E[e_t e_t^\top]` obeys exactly

    .. math:: C_{t+1} = (I-\eta H)C_t(I-\eta H) + \frac{\eta^2}{B}\Big(\frac1n\sum_j P_j C_t P_j
              - H C_t H + \Sigma\Big), \qquad \Sigma = \frac1n\sum_j r_j^2 P_j,

    (once :math:`\mathbb E[e_t] = 0`); the floor is :math:`\tfrac12\mathrm{tr}(HC)` at its fixed
    point. It grows like :math:`\eta/B` for small :math:`\eta` (:cite:t:`bottou2018optimization`,
    §4: a constant step only reaches a neighbourhood of the minimum). ``replacement=False``
    multiplies the noise by :math:`(n-B)/(n-1)`, the variance of a batch drawn *without*
    replacement (zero for the full batch), an approximation for shuffled epochs. Returns
    ``inf`` when the recursion is unstable (a learning rate too large for this batch size).
    torch/optax: no equivalent.

    >>> X = np.ones((4, 1)); r = np.array([1.0, -1.0, 1.0, -1.0])   # h = 1, σ² = 1
    >>> round(noise_floor(0.1, 1, X, r, replacement=True), 4)      # η σ² / (2B(2 − ηh))
    0.0263
    """
    X = np.asarray(X, dtype=float)
    r = np.asarray(residuals, dtype=float)
    n, d = X.shape
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    P = X[:, :, None] * X[:, None, :]  # (n, d, d)
    H = P.mean(axis=0)
    sigma = (r[:, None, None] ** 2 * P).mean(axis=0)
    factor = lr**2 / batch_size
    if not replacement:
        factor *= max(n - batch_size, 0) / (n - 1) if n > 1 else 0.0
    A = np.eye(d) - lr * H
    K = np.einsum("nij,nkl->ikjl", P, P).reshape(d * d, d * d) / n  # vec(P C P) = K vec(C)
    M = np.kron(A, A) + factor * (K - np.kron(H, H))
    if np.max(np.abs(np.linalg.eigvals(M))) >= 1.0:
        return math.inf
    C = np.linalg.solve(np.eye(d * d) - M, factor * sigma.reshape(-1)).reshape(d, d)
    return float(0.5 * np.trace(H @ C))


class BatchNoiseRun(NamedTuple):
    """What :func:`batch_noise_run` returns."""

    batch_size: int
    lr: float
    path: np.ndarray  # (k + 1, 2) mini-batch SGD iterates
    losses: np.ndarray  # (k + 1,) L(θ_t) - L*
    gd_path: np.ndarray  # (k + 1, 2) full-batch GD with the same η, for comparison
    gd_losses: np.ndarray  # (k + 1,)
    floor: float  # predicted noise floor (:func:`noise_floor`)
    epochs: float  # updates × B / n
    summary: str


def batch_noise_run(batch_size: int = 20, lr: float = 0.1, steps: int = NOISE_STEPS, seed: int = 0) -> BatchNoiseRun:
    r"""``steps`` updates of mini-batch SGD on :func:`least_squares_problem` from
    θ* + ``NOISE_OFFSET``, batches from :func:`lib.data.minibatches` (a new permutation each epoch,
    generator seeded with ``seed``), next to full-batch gradient descent with the same
    learning rate.

    >>> run = batch_noise_run(batch_size=200, lr=0.1)       # B = n: the two paths coincide
    >>> bool(np.allclose(run.path, run.gd_path))
    True
    """
    p = least_squares_problem()
    n = len(p.y)
    rng = np.random.default_rng(seed)
    theta = np.array(p.objective.start, dtype=float)
    path = [theta]
    with np.errstate(over="ignore", invalid="ignore"):
        while len(path) <= steps:
            for Xb, yb in datasets.minibatches(p.X, p.y, batch_size, rng=rng):
                theta = theta - lr * (Xb.T @ (Xb @ theta - yb)) / len(yb)
                path.append(theta)
                if len(path) > steps:
                    break
        path = np.array(path)
        gd = [np.array(p.objective.start, dtype=float)]
        for _ in range(steps):
            gd.append(gd[-1] - lr * p.hessian @ (gd[-1] - p.theta_star))
        gd_path = np.array(gd)
        losses = _excess(p, path)
        gd_losses = _excess(p, gd_path)
    floor = noise_floor(lr, batch_size, p.X, p.X @ p.theta_star - p.y)
    epochs = steps * min(batch_size, n) / n
    tail = losses[-steps // 3 :]
    summary = (
        f"B = {batch_size}, η = {lr:g}: {steps} updates = {epochs:g} epoch{'s' * (epochs != 1)}; "
        f"L − L* over the last third ≈ {np.mean(tail):.1e}"
    )
    for a in (path, losses, gd_path, gd_losses):
        a.flags.writeable = False
    return BatchNoiseRun(int(batch_size), float(lr), path, losses, gd_path, gd_losses, floor, epochs, summary)


def _excess(p: LeastSquares, path: np.ndarray) -> np.ndarray:
    e = path - p.theta_star
    return 0.5 * np.einsum("ti,ij,tj->t", e, p.hessian, e)


def draw_batch_noise_run(run: BatchNoiseRun, fig) -> None:
    """Left: contours with the SGD path and the GD path; right: L(θ_t) − L* against t."""
    from lib import plotting

    f = least_squares_problem().objective
    ax_path, ax_loss = fig.subplots(1, 2, gridspec_kw={"width_ratios": (1, 1.15)})
    plotting.contour(ax_path, f, n=CONTOUR_GRID, log=False, levels=12)  # sets the path axes' limits
    fig._descent_contour_lines = len(ax_path.lines)  # the minimum's mark; the paths come after
    _batch_noise_runs(run, ax_path, ax_loss)
    ax_path.set_aspect("equal")
    ax_loss.set_yscale("log")
    ax_path.set_xlabel("θ₁")
    ax_path.set_ylabel("θ₂", labelpad=0)
    ax_path.xaxis.set_major_locator(ticker.MaxNLocator(3))
    ax_path.yaxis.set_major_locator(ticker.MaxNLocator(3))
    ax_loss.set_xlabel("update t")
    ax_loss.set_ylabel("L(θ_t) − L*")
    plain_log_axis(ax_loss.yaxis, numticks=5)
    ax_loss.xaxis.set_major_locator(ticker.MaxNLocator(4, integer=True))
    fig._descent_title = fig.suptitle(run.summary, fontsize="medium")
    fig.subplots_adjust(left=0.08, right=0.97, bottom=0.16, top=0.87, wspace=0.25)


def _batch_noise_runs(run: BatchNoiseRun, ax_path, ax_loss) -> None:
    """The two paths (left), the two loss curves and the predicted floor (right), the legends."""
    from lib import plotting

    plotting.path(ax_path, run.gd_path, color="0.55", markersize=0, end=False, start=False, label="full batch (GD)")
    plotting.path(
        ax_path, run.path, color=plotting.COLORS[1], markersize=1.2, label=f"mini-batch, B = {run.batch_size}"
    )
    ax_path.legend(loc="lower right", fontsize="x-small", frameon=True)
    t = np.arange(len(run.losses))
    ax_loss.plot(t, run.gd_losses, color="0.55", lw=1.2, label="full batch (GD)")
    ax_loss.plot(t, run.losses, color=plotting.COLORS[1], lw=1.0, label=f"B = {run.batch_size}")
    if math.isfinite(run.floor) and run.floor > 0:
        ax_loss.axhline(run.floor, color=plotting.COLORS[0], ls="--", lw=1.2, label="predicted noise floor")
    ax_loss.set_ylim(1e-6, 20)
    ax_loss.legend(loc="upper right", fontsize="x-small", frameon=True)


def update_batch_noise_run(run: BatchNoiseRun, fig) -> None:
    """Turn a figure of :func:`draw_batch_noise_run` into another frame: the paths, the curves,
    the legends, the loss axis's range and the title change; the contours, the path axes' limits
    (set by the contours) and the labels stay."""
    ax_path, ax_loss = fig.axes[:2]
    clear_curves(ax_path, keep=fig._descent_contour_lines, rescale=False)
    clear_curves(ax_loss)
    _batch_noise_runs(run, ax_path, ax_loss)
    fig._descent_title.set_text(run.summary)


def batch_noise_widget() -> Widget:
    """Batch-size and learning-rate sliders over :func:`batch_noise_run`."""
    f = least_squares_problem().objective
    f.value(f.start)  # compile once, not mid-drag
    return Widget(
        compute=batch_noise_run,
        draw=draw_batch_noise_run,
        controls=(
            Control("batch_size", NOISE_BATCH_SIZES, "batch size B", default=20),
            Control("lr", NOISE_LRS, "learning rate η", default=0.1),
        ),
        figsize=(7.5, 3.2),
        title="Mini-batch SGD on least squares: the batch size sets the noise",
        style=course_style(),
        update=update_batch_noise_run,  # every frame has the same contours and axes
        reuse_key=lambda run: "one figure",
    )


# --------------------------------------------------------------------------------------------
# 2. The learning rate against the batch size: softmax regression on the digits

DIGITS_BATCH_SIZES = (1, 8, 32, "full")
DIGITS_LRS = (0.01, 0.03, 0.1, 0.3, 1.0)
DIGITS_EPOCHS = 3
BIN = 0.1  # width, in epochs, of the bins that average the mini-batch losses


class DigitsGrid(NamedTuple):
    """Every run of the digits widget: ``histories[(batch_size, lr)]`` is a
    :class:`lib.train.History`; ``final_loss[i, j]`` the training loss after the last epoch for
    ``batch_sizes[i]`` and ``lrs[j]`` (``nan`` when the run diverged)."""

    batch_sizes: tuple
    lrs: tuple
    n: int
    histories: dict
    final_loss: np.ndarray
    final_val_acc: np.ndarray


@functools.cache
def digits_grid(epochs: int = DIGITS_EPOCHS, seed: int = 0) -> DigitsGrid:
    r"""``epochs`` epochs of mini-batch SGD on softmax regression of the digits
    (:func:`lib.data.load_digits`) for every batch size and learning rate of the widget, from
    zero weights, with :func:`lib.train.train` (about 2 s on a laptop, once per session).
    Reference: :cite:p:`bottou2018optimization`.

    >>> grid = digits_grid()                        # doctest: +SKIP
    >>> grid.final_loss.shape
    (4, 5)
    """
    from lib import nn, optim
    from lib.train import train

    splits = datasets.load_digits(seed=seed)
    model = nn.softmax_regression(splits.train.X.shape[1], splits.train.n_classes)
    params = model.init(seed)
    n = len(splits.train.y)
    histories = {}
    final_loss = np.full((len(DIGITS_BATCH_SIZES), len(DIGITS_LRS)), np.nan)
    final_acc = np.full_like(final_loss, np.nan)
    for i, B in enumerate(DIGITS_BATCH_SIZES):
        for j, lr in enumerate(DIGITS_LRS):
            h = train(
                model,
                params,
                optim.sgd(lr=lr),
                splits.train,
                epochs=epochs,
                batch_size=n if B == "full" else B,
                seed=seed,
                val=splits.val,
                progress=False,
            )
            histories[(B, lr)] = h
            if not h.diverged and h.epochs == epochs:
                final_loss[i, j] = h.train_loss[-1]
                final_acc[i, j] = h.val_acc[-1]
    for a in (final_loss, final_acc):
        a.flags.writeable = False
    return DigitsGrid(DIGITS_BATCH_SIZES, DIGITS_LRS, n, histories, final_loss, final_acc)


class DigitsRun(NamedTuple):
    """What :func:`digits_run` returns."""

    batch_size: object  # an int or "full"
    lr: float
    updates: int  # number of updates made
    bin_epochs: np.ndarray  # centres of the bins, in epochs
    bin_loss: np.ndarray  # mean mini-batch loss in each bin
    epoch_loss: np.ndarray  # (epochs + 1,) training loss on the whole set, from epoch 0
    val_acc: np.ndarray  # (epochs,) validation accuracy after each epoch
    diverged: bool
    grid: DigitsGrid
    summary: str


def digits_run(batch_size=32, lr: float = 0.1) -> DigitsRun:
    r"""One cell of :func:`digits_grid`, with the mini-batch losses averaged in bins of
    ``BIN`` epochs (a full-batch run has one update per epoch, so one point per bin at most).

    >>> digits_run("full", 0.1).updates                   # doctest: +SKIP
    3
    """
    grid = digits_grid()
    h = grid.histories[(batch_size, lr)]
    n = grid.n
    initial = float(np.log(10.0))  # zero weights: uniform probabilities
    x = (np.asarray(h.grad_evals, dtype=float) - 0.5 * np.minimum(h.batch_size, n)) / n
    edges = np.arange(0.0, DIGITS_EPOCHS + BIN / 2, BIN)
    which = np.clip(np.digitize(x, edges) - 1, 0, len(edges) - 2)
    with np.errstate(invalid="ignore"):
        sums = np.bincount(which, weights=h.step_loss, minlength=len(edges) - 1)
        counts = np.bincount(which, minlength=len(edges) - 1)
        bin_loss = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    centres = 0.5 * (edges[:-1] + edges[1:])
    epoch_loss = np.concatenate([[initial], h.train_loss])
    B = f"B = {batch_size}" if batch_size != "full" else f"B = n = {n}"
    if h.diverged:
        summary = f"{B}, η = {lr:g}: diverged after {h.steps} updates"
    else:
        summary = (
            f"{B}, η = {lr:g}: {h.steps} updates in {DIGITS_EPOCHS} epochs, training loss "
            f"{h.train_loss[-1]:.3f}, validation accuracy {100 * h.val_acc[-1]:.1f}%"
        )
    return DigitsRun(
        batch_size,
        float(lr),
        h.steps,
        centres,
        bin_loss,
        epoch_loss,
        np.asarray(h.val_acc),
        bool(h.diverged),
        grid,
        summary,
    )


def draw_digits_run(run: DigitsRun, fig) -> None:
    """Left: the training loss against epochs (binned mini-batch losses, and the loss on the
    whole training set after each epoch); right: the final training loss over the whole grid,
    the current cell outlined."""
    from lib import plotting

    ax_loss, ax_grid = fig.subplots(1, 2, gridspec_kw={"width_ratios": (1.15, 1)})
    ok = np.isfinite(run.bin_loss)
    (binned,) = ax_loss.plot(
        run.bin_epochs[ok],
        run.bin_loss[ok],
        color=plotting.COLORS[1],
        lw=1.2,
        marker="." if _few_bins(run) else None,
        label="mini-batch loss (binned)",
    )
    epochs = np.arange(len(run.epoch_loss))
    finite = np.isfinite(run.epoch_loss)
    (per_epoch,) = ax_loss.plot(
        epochs[finite],
        run.epoch_loss[finite],
        "o-",
        color=plotting.COLORS[0],
        lw=1.4,
        markersize=4,
        label="loss on all training data",
    )
    ax_loss.set_yscale("log")
    ax_loss.set_ylim(0.03, 5)
    ax_loss.set_xlim(0, DIGITS_EPOCHS)
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("training loss")
    plain_log_axis(ax_loss.yaxis, numticks=4)
    ax_loss.xaxis.set_major_locator(ticker.MaxNLocator(DIGITS_EPOCHS, integer=True))
    ax_loss.legend(loc="lower left", fontsize="x-small")

    g = run.grid
    values = np.log10(np.where(np.isfinite(g.final_loss), g.final_loss, np.nan))
    ax_grid.imshow(values, cmap="viridis_r", vmin=np.log10(0.05), vmax=np.log10(3.0), aspect="auto")
    for i, j in zip(*np.nonzero(~np.isfinite(g.final_loss))):  # diverged runs
        ax_grid.text(j, i, "div.", ha="center", va="center", fontsize=7)
    i, j = g.batch_sizes.index(run.batch_size), g.lrs.index(run.lr)
    cell = ax_grid.add_patch(
        __import__("matplotlib.patches", fromlist=["Rectangle"]).Rectangle(
            (j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor=plotting.COLORS[1], lw=2.5
        )
    )
    ax_grid.set_xticks(range(len(g.lrs)), [f"{v:g}" for v in g.lrs])
    ax_grid.set_yticks(range(len(g.batch_sizes)), [str(b) for b in g.batch_sizes])
    ax_grid.set_xlabel("learning rate η")
    ax_grid.set_ylabel("batch size B")
    ax_grid.set_title(f"loss after {DIGITS_EPOCHS} epochs (bright = low)", fontsize="small")
    ax_grid.grid(False)
    title = fig.suptitle(run.summary, fontsize="medium")
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.16, top=0.86, wspace=0.35)
    fig._descent_digits = binned, per_epoch, cell, title


def _few_bins(run: DigitsRun) -> bool:
    """Few binned losses (the large batches) are drawn with markers."""
    return int(np.isfinite(run.bin_loss).sum()) < 10


def update_digits_run(run: DigitsRun, fig) -> None:
    """Move a figure of :func:`draw_digits_run` (same grid, same markers) to another run: the two
    curves, the outlined cell and the title; the axes, the grid image and the legend stay."""
    binned, per_epoch, cell, title = fig._descent_digits
    ok = np.isfinite(run.bin_loss)
    binned.set_data(run.bin_epochs[ok], run.bin_loss[ok])
    finite = np.isfinite(run.epoch_loss)
    per_epoch.set_data(np.arange(len(run.epoch_loss))[finite], run.epoch_loss[finite])
    g = run.grid
    cell.set_xy((g.lrs.index(run.lr) - 0.5, g.batch_sizes.index(run.batch_size) - 0.5))
    title.set_text(run.summary)


def digits_widget() -> Widget:
    """Batch-size and learning-rate sliders over :func:`digits_run` (runs :func:`digits_grid`
    once, about 2 s, the first time)."""
    digits_grid()
    return Widget(
        compute=digits_run,
        draw=draw_digits_run,
        controls=(
            Control("batch_size", DIGITS_BATCH_SIZES, "batch size B", default=32, fmt="{}"),
            Control("lr", DIGITS_LRS, "learning rate η", default=0.1),
        ),
        figsize=(7.5, 3.2),
        title="Softmax regression on the digits: learning rate against batch size",
        style=course_style(),
        update=update_digits_run,  # one figure for all runs (two: with and without markers)
        reuse_key=lambda run: (id(run.grid), _few_bins(run)),
    )
