r"""Chapter 01's widgets: the learning rate on a quadratic, and gradient descent on Rosenbrock.

Each widget is a pure ``compute`` (returns a small ``NamedTuple``; tested in
``tests/test_widgets.py``), a ``draw`` and the grid of its controls; :func:`lib.widgets.show`
displays it live or as a static frame scrubber.

>>> from lib.widgets import show
>>> show(quadratic_learning_rate_widget())          # doctest: +SKIP
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
from matplotlib import ticker

from lib import functions, optim
from lib.plotting import plain_log_axis
from lib.theory import quadratic_rates
from lib.widgets import Control, Widget, clear_curves, course_style, precomputed

__all__ = [
    "QuadraticRun",
    "quadratic_run",
    "draw_quadratic_run",
    "quadratic_learning_rate_widget",
    "RosenbrockRun",
    "rosenbrock_run",
    "draw_rosenbrock_run",
    "rosenbrock_widget",
]

# --------------------------------------------------------------------------------------------
# 1. The learning rate on a quadratic

KAPPAS = (2, 10, 50)  # three frames per η cost 40% less to render than five
#: Learning rates as multiples of 1/λ_max; "optimal" is η = 2/(λ_min + λ_max).
ETA_LAMBDA_MAX = (0.1, 0.5, 1.0, 1.5, "optimal", 1.9, 2.05)
QUADRATIC_ANGLE = math.radians(30)
QUADRATIC_STEPS = 50
#: Contour grid points a side: 120 looks the same as 200 at widget size and is 3x cheaper.
CONTOUR_GRID = 120


@functools.cache
def _quadratic(kappa: float) -> functions.Objective:
    """The quadratic with eigenvalues (1, κ), its eigenbasis rotated by 30°, compiled."""
    f = functions.quadratic((1.0, float(kappa)), angle=QUADRATIC_ANGLE)
    f.grad(f.start)  # compile value and gradient once, not per slider move
    f.value(f.start)
    return f


class QuadraticRun(NamedTuple):
    """What :func:`quadratic_run` returns (``k`` = number of steps made, ``k <= steps``)."""

    kappa: float  # condition number λ_max / λ_min
    lr: float  # η
    eta_lambda_max: float  # η λ_max
    optimal: bool  # η = 2 / (λ_min + λ_max)
    eigenvalues: np.ndarray  # (2,) λ_min, λ_max
    path: np.ndarray  # (k + 1, 2) iterates θ_0 ... θ_k
    losses: np.ndarray  # (k + 1,) f(θ_t) - f* (f* = 0)
    predicted_rate: float  # ρ = max_i |1 - η λ_i|: ‖θ_t - θ*‖ shrinks (or grows) by ρ per step
    measured_rate: float  # (‖θ_k - θ*‖ / ‖θ_{k/2} - θ*‖)^(1 / (k - k/2)), over the second half
    diverged: bool  # the error grew (measured rate > 1) or the run overflowed
    summary: str  # the sentence the figure's title shows


def _rate_text(rate: float) -> str:
    return f"{rate:.3f}" if rate < 0.9995 else f"{rate:.4f}"


def quadratic_run(kappa: float = 10, eta_lambda_max: float | str = 1.0, steps: int = QUADRATIC_STEPS) -> QuadraticRun:
    r"""Gradient descent on :math:`f(\theta) = \tfrac12\theta^\top H\theta`, eigenvalues
    :math:`(1, \kappa)`, with :math:`\eta = ` ``eta_lambda_max`` :math:`/\lambda_{\max}`.

    ``eta_lambda_max="optimal"`` picks :math:`\eta = 2/(\lambda_{\min}+\lambda_{\max})`. Each
    eigen-direction's error is multiplied by :math:`1-\eta\lambda_i` per step, so the error
    shrinks like :math:`\rho^t`, :math:`\rho = \max_i|1-\eta\lambda_i|` (stable iff
    :math:`0 < \eta < 2/\lambda_{\max}`); the measured rate is read off the path's second half.

    >>> run = quadratic_run(kappa=10, eta_lambda_max="optimal")
    >>> round(run.predicted_rate, 4), round(run.measured_rate, 4)     # (κ-1)/(κ+1) = 9/11
    (0.8182, 0.8182)
    """
    f = _quadratic(kappa)
    lam_min, lam_max = (float(v) for v in f.eigenvalues)
    optimal = isinstance(eta_lambda_max, str)
    if optimal and eta_lambda_max != "optimal":
        raise ValueError(f"eta_lambda_max must be a number or 'optimal', got {eta_lambda_max!r}")
    lr = quadratic_rates.optimal_learning_rate(f.eigenvalues) if optimal else float(eta_lambda_max) / lam_max
    path = optim.run(optim.sgd(lr=lr), f.grad, np.array(f.start), steps)
    minimum = f.minima[0]
    with np.errstate(over="ignore", invalid="ignore"):
        losses = f.value(path.T) - f.value(minimum)
        errors = np.linalg.norm(path - minimum, axis=1)
    k = len(path) - 1
    predicted = quadratic_rates.contraction_factor(lr, f.eigenvalues)
    measured = quadratic_rates.empirical_rate(errors, k - k // 2) if k >= 2 else math.nan
    overflowed = k < steps or not np.all(np.isfinite(path))
    diverged = bool(overflowed or not measured <= 1.0)
    for a in (path, losses):
        a.flags.writeable = False
    eta_text = (
        f"optimal η = 2/(λ_min+λ_max), η λ_max = {lr * lam_max:.2f}" if optimal else f"η λ_max = {lr * lam_max:g}"
    )
    if diverged:
        verdict = (
            f"diverges: the error grows ×{_rate_text(measured)} per step"
            if math.isfinite(measured) and not overflowed
            else f"diverges (overflow at step {k})"
        )
    else:
        how = "oscillates, converges" if lr * lam_max > 1.0 + 1e-12 else "converges"
        if predicted > 0.95:
            how += " slowly"
        verdict = f"{how} at rate {_rate_text(measured)} per step"
    summary = f"κ = {kappa:g}, {eta_text}: {verdict}"
    return QuadraticRun(
        float(kappa),
        lr,
        lr * lam_max,
        optimal,
        np.array(f.eigenvalues),
        path,
        losses,
        predicted,
        measured,
        diverged,
        summary,
    )


def draw_quadratic_run(run: QuadraticRun, fig) -> None:
    """Left: contours and the path; right: f(θ_t) - f* on a log scale with the predicted
    envelope f(θ_0) ρ^{2t} (the loss is quadratic in the error, so it shrinks by ρ² a step)."""
    from lib import plotting

    f = _quadratic(run.kappa)
    ax_path, ax_loss = fig.subplots(1, 2, gridspec_kw={"width_ratios": (1, 1.25)})
    plotting.contour(ax_path, f, n=CONTOUR_GRID)
    fig._descent_contour_lines = len(ax_path.lines)  # the minimum's mark; the path comes after
    ax_path.set_xlim(f.xlim)
    ax_path.set_ylim(f.ylim)
    ax_path.set_aspect("equal")
    _quadratic_frame(run, fig)


def _quadratic_frame(run: QuadraticRun, fig) -> None:
    """What changes from frame to frame (same κ): the path, the curves, the loss range, the
    legend and the layout of :func:`_finish` (``loss_curve`` resets the loss axis)."""
    from lib import plotting

    ax_path, ax_loss = fig.axes[:2]
    plotting.path(ax_path, run.path, label="GD", markersize=1.5)
    steps = np.arange(len(run.losses))
    positive = run.losses > 0
    plotting.loss_curve(ax_loss, np.where(positive, run.losses, np.nan), label="f(θ_t) − f*")
    with np.errstate(over="ignore", under="ignore"):
        envelope = run.losses[0] * run.predicted_rate ** (2.0 * steps)
    ax_loss.plot(
        steps,
        envelope,
        "--",
        color=plotting.COLORS[1],
        lw=1.4,
        zorder=3,
        label=f"predicted f(θ₀)ρ²ᵗ, ρ = {_rate_text(run.predicted_rate)}",
    )
    finite = run.losses[np.isfinite(run.losses) & positive]
    if finite.size:
        ax_loss.set_ylim(max(finite.min(), 1e-12) / 3, finite.max() * 3)
    ax_loss.legend(loc="upper left" if run.diverged else "upper right", fontsize="small", frameon=False)
    _finish(fig, ax_path, ax_loss, run.summary)


def update_quadratic_run(run: QuadraticRun, fig) -> None:
    """Turn a figure of :func:`draw_quadratic_run` (same κ) into another frame: what
    :func:`_quadratic_frame` draws is removed and drawn again; the contours stay."""
    _clear_runs(fig)
    _quadratic_frame(run, fig)


def _clear_runs(fig) -> None:
    """Remove the runs of a frame (every line after the contours' marks, the loss curves, the
    legend) and let the loss axis scale to the next frame's curves alone."""
    ax_path, ax_loss = fig.axes[:2]
    clear_curves(ax_path, keep=fig._descent_contour_lines, rescale=False)
    clear_curves(ax_loss)


def quadratic_learning_rate_widget() -> Widget:
    """κ and η λ_max sliders over :func:`quadratic_run`: slow, optimal, oscillating, divergent."""
    for kappa in KAPPAS:  # compile every objective now (about 30 ms each), not mid-drag
        _quadratic(kappa)
    return Widget(
        compute=quadratic_run,
        draw=draw_quadratic_run,
        controls=(
            Control("kappa", KAPPAS, "condition number κ", default=10),
            Control(
                "eta_lambda_max",
                ETA_LAMBDA_MAX,
                "η · λ_max",
                default=1.0,
                fmt=lambda v: v if isinstance(v, str) else f"{v:g}",
            ),
        ),
        figsize=(7.5, 3.2),
        title="Gradient descent on a quadratic: the learning rate against the curvature",
        style=course_style(),
        update=update_quadratic_run,  # the frames of one κ share the contours
        reuse_key=lambda run: run.kappa,
    )


# --------------------------------------------------------------------------------------------
# 2. Gradient descent on Rosenbrock's valley

ROSENBROCK_LRS = (1e-4, 1e-3, 1.9e-3, 3e-3)
ROSENBROCK_STARTS = ((-1.5, 2.0), (-1.0, 0.5), (0.0, -0.5), (1.5, 1.5))
#: 1000 steps keep one run near 20 ms (lib.optim.run costs ~20 µs a step in 2-D).
ROSENBROCK_STEPS = 1000
CONVERGED_WITHIN = 1e-2


class RosenbrockRun(NamedTuple):
    """What :func:`rosenbrock_run` returns (``k`` = number of steps made, ``k <= steps``)."""

    lr: float  # η
    start: np.ndarray  # (2,) θ_0
    path: np.ndarray  # (k + 1, 2) iterates θ_0 ... θ_k
    losses: np.ndarray  # (k + 1,) f(θ_t) - f* (f* = 0)
    outcome: str  # "converged", "crawling", "bouncing" or "diverged"
    diverged_at: int | None  # the step at which the run overflowed, else None
    distance: float  # ‖θ_k - (1, 1)‖ (inf if diverged)
    summary: str  # the sentence the figure's title shows


def rosenbrock_run(lr: float = 1e-3, start: tuple = (-1.0, 0.5), steps: int = ROSENBROCK_STEPS) -> RosenbrockRun:
    r"""Gradient descent on Rosenbrock's :math:`f(x, y) = (1-x)^2 + 100(y-x^2)^2` from ``start``.

    Outcomes: *converged* (within 0.01 of the minimum (1, 1)), *crawling* (f still decreasing
    over the last tenth of the run, along the valley floor), *bouncing* (f not monotone at the
    end: η is too large for the curvature across the valley, :math:`\eta\lambda_{\max} > 2`;
    at the minimum :math:`\lambda_{\max}\approx 1002`, so :math:`2/\lambda_{\max}\approx 0.002`)
    or *diverged* (overflow).

    >>> rosenbrock_run(lr=3e-3, start=(-1.5, 2.0)).outcome
    'diverged'
    """
    f = functions.rosenbrock()
    path = optim.run(optim.sgd(lr=lr), f.grad, np.array(start, dtype=float), steps)
    minimum = f.minima[0]
    with np.errstate(over="ignore", invalid="ignore"):
        losses = f.value(path.T) - f.value(minimum)
    k = len(path) - 1
    x, y = path[-1]
    if k < steps or not np.all(np.isfinite(losses)):
        outcome, diverged_at, distance = "diverged", k, math.inf
        summary = f"η = {lr:g}: diverged at step {k}"
    else:
        diverged_at = None
        distance = float(np.linalg.norm(path[-1] - minimum))
        if distance < CONVERGED_WITHIN:
            outcome = "converged"
            summary = f"η = {lr:g}: converged to within {distance:.1g} of (1, 1) in {k} steps"
        elif np.all(np.diff(losses[-max(k // 10, 2) :]) <= 0):
            outcome = "crawling"
            summary = f"η = {lr:g}: still crawling along the valley after {k} steps, at ({x:.2f}, {y:.2f})"
        else:
            outcome = "bouncing"
            summary = (
                f"η = {lr:g}: bouncing across the valley, not converging "
                f"(f = {losses[-1]:.2g} at the end, {losses.min():.2g} at best)"
            )
    for a in (path, losses):
        a.flags.writeable = False
    return RosenbrockRun(float(lr), np.array(start, dtype=float), path, losses, outcome, diverged_at, distance, summary)


def draw_rosenbrock_run(run: RosenbrockRun, fig) -> None:
    """Left: contours, the path and the minimum; right: f(θ_t) - f* on a log scale."""
    from lib import plotting

    f = functions.rosenbrock()
    ax_path, ax_loss = fig.subplots(1, 2, gridspec_kw={"width_ratios": (1, 1.1)})
    plotting.contour(ax_path, f, n=CONTOUR_GRID)
    fig._descent_contour_lines = len(ax_path.lines)
    ax_path.set_xlim(f.xlim)
    ax_path.set_ylim(f.ylim)
    _rosenbrock_frame(run, fig)


def update_rosenbrock_run(run: RosenbrockRun, fig) -> None:
    """Turn a figure of :func:`draw_rosenbrock_run` into another frame (the contours stay)."""
    _clear_runs(fig)
    _rosenbrock_frame(run, fig)


def _rosenbrock_frame(run: RosenbrockRun, fig) -> None:
    from lib import plotting

    ax_path, ax_loss = fig.axes[:2]
    plotting.path(ax_path, run.path, label="GD", markersize=1.5)
    plotting.loss_curve(ax_loss, np.where(run.losses > 0, run.losses, np.nan))
    if run.diverged_at is not None:  # the last finite losses reach 1e100 and beyond
        ax_loss.set_ylim(np.nanmin(run.losses[run.losses > 0]) / 10, 1e6)
    ax_loss.set_xlim(0, max(len(run.losses) - 1, 1))
    _finish(fig, ax_path, ax_loss, run.summary)


def rosenbrock_widget() -> Widget:
    """Learning-rate and start-point sliders over :func:`rosenbrock_run` (20 frames, computed when
    the widget is built)."""
    functions.rosenbrock().grad(np.zeros(2))  # compile once, not mid-drag
    controls = (
        Control("lr", ROSENBROCK_LRS, "learning rate η", default=1e-3),
        Control("start", ROSENBROCK_STARTS, "start θ₀", default=(-1.0, 0.5), fmt="({0[0]:g}, {0[1]:g})"),
    )
    return Widget(
        compute=precomputed(rosenbrock_run, controls),
        draw=draw_rosenbrock_run,
        controls=controls,
        figsize=(7.5, 3.2),
        title="Gradient descent in Rosenbrock's valley",
        style=course_style(),
        update=update_rosenbrock_run,  # the frames share the contours
        reuse_key=lambda run: "one figure",
    )


def _finish(fig, ax_path, ax_loss, title: str) -> None:
    """Shared layout: plain-text labels (mathtext parsing costs ~20 ms a frame), few ticks
    (each tick costs ~1.5 ms to create; a log axis over 15 decades would otherwise make ~100),
    the title."""
    ax_path.set_xlabel("θ₁")
    ax_path.set_ylabel("θ₂", labelpad=0)
    ax_path.xaxis.set_major_locator(ticker.MaxNLocator(3))
    ax_path.yaxis.set_major_locator(ticker.MaxNLocator(3))
    ax_loss.set_xlabel("step t")
    ax_loss.set_ylabel("f(θ_t) − f*")
    if ax_loss.get_yscale() == "log":
        plain_log_axis(ax_loss.yaxis, numticks=5)
    ax_loss.xaxis.set_major_locator(ticker.MaxNLocator(4, integer=True))
    fig.suptitle(title, fontsize="medium")
    fig.subplots_adjust(left=0.08, right=0.965, bottom=0.16, top=0.87, wspace=0.28)
