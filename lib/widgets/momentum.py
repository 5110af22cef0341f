r"""Chapter 4's widgets: momentum on a quadratic with its iteration-matrix eigenvalues, and
momentum against Nesterov on Rosenbrock's valley.

The first follows the idea of the figures in :cite:t:`goh2017why`: beside the path, the two
eigenvalues of the :math:`2\times2` iteration matrix of each eigen-direction
(:func:`lib.theory.quadratic_rates.momentum_eigenvalues`) are drawn in the complex plane; the run
converges when all of them lie inside the unit circle, and the one farthest out sets the rate.

>>> from lib.widgets import show
>>> show(quadratic_momentum_widget())                 # doctest: +SKIP
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
from lib.widgets import Control, Widget, clear_curves, course_style
from lib.widgets.gradient_descent import CONTOUR_GRID

__all__ = [
    "MomentumQuadraticRun",
    "momentum_quadratic_run",
    "draw_momentum_quadratic_run",
    "quadratic_momentum_widget",
    "NesterovRosenbrockRun",
    "nesterov_rosenbrock_run",
    "draw_nesterov_rosenbrock_run",
    "rosenbrock_nesterov_widget",
]

# --------------------------------------------------------------------------------------------
# 1. η and μ on a quadratic, with the eigenvalues of the iteration matrices

KAPPA = 25.0
QUADRATIC_ANGLE = math.radians(30)
QUADRATIC_STEPS = 80
LR_STAR, MU_STAR = quadratic_rates.momentum_optimal_parameters([1.0, KAPPA])
#: learning rates as multiples of 1/λ_max; 2.78 is the optimal η* λ_max for κ = 25
ETA_LAMBDA_MAX = (1.0, 2.0, LR_STAR * KAPPA, 3.5)
#: momentum values; 0.444 is the optimal μ* = ((√κ − 1)/(√κ + 1))² for κ = 25
MOMENTA = (0.0, 0.2, MU_STAR, 0.7, 0.9)
LOCUS_POINTS = 60


@functools.cache
def _quadratic() -> functions.Objective:
    f = functions.quadratic((1.0, KAPPA), angle=QUADRATIC_ANGLE)
    f.grad(f.start)  # compile once, not mid-drag
    f.value(f.start)
    return f


class MomentumQuadraticRun(NamedTuple):
    """What :func:`momentum_quadratic_run` returns (``k`` = number of steps made)."""

    lr: float  # η
    momentum: float  # μ
    eigenvalues: np.ndarray  # (2,) λ_min, λ_max of the Hessian
    path: np.ndarray  # (k + 1, 2) iterates θ_0 ... θ_k
    errors: np.ndarray  # (k + 1,) ‖θ_t − θ*‖
    roots: np.ndarray  # (2, 2) complex: the iteration-matrix eigenvalues for λ_min, λ_max
    locus: np.ndarray  # (LOCUS_POINTS, 2) complex: the same for λ between λ_min and λ_max
    predicted_rate: float  # ρ = largest |root|
    measured_rate: float  # (e_k / e_{k/2})^(1/(k − k/2))
    gd_rate: float  # max |1 − ηλ|: the same η without momentum
    converges: bool  # ρ < 1 (the theory is exact here) and no overflow
    summary: str


def momentum_quadratic_run(
    eta_lambda_max: float = 1.0, mu: float = 0.7, steps: int = QUADRATIC_STEPS
) -> MomentumQuadraticRun:
    r"""``lib.optim.sgd(lr=η, momentum=μ)`` on the quadratic with eigenvalues (1, 25), rotated
    by 30°, with :math:`\eta` = ``eta_lambda_max`` :math:`/\lambda_{\max}`.

    The predicted factor per step is the largest modulus among the eigenvalues of the
    iteration matrices of :math:`\lambda_{\min}` and :math:`\lambda_{\max}`
    (:func:`lib.theory.quadratic_rates.momentum_contraction_factor`); the measured one is read off the
    second half of the run.

    >>> run = momentum_quadratic_run(eta_lambda_max=ETA_LAMBDA_MAX[2], mu=MOMENTA[2])   # the optimum
    >>> round(run.predicted_rate, 3), round(run.gd_rate, 3)        # (√κ−1)/(√κ+1) vs GD at this η
    (0.667, 1.778)
    """
    f = _quadratic()
    lam = np.array(f.eigenvalues, dtype=float)
    lr = float(eta_lambda_max) / lam[-1]
    mu = float(mu)
    path = optim.run(optim.sgd(lr=lr, momentum=mu), f.grad, np.array(f.start), steps)
    with np.errstate(over="ignore", invalid="ignore"):
        errors = np.linalg.norm(path - f.minima[0], axis=1)
    k = len(path) - 1
    roots = quadratic_rates.momentum_eigenvalues(lr, mu, lam)
    locus = quadratic_rates.momentum_eigenvalues(lr, mu, np.linspace(lam[0], lam[-1], LOCUS_POINTS))
    predicted = quadratic_rates.momentum_contraction_factor(lr, mu, lam)
    measured = quadratic_rates.empirical_rate(errors, k - k // 2) if k >= 2 else math.nan
    overflowed = k < steps or not np.all(np.isfinite(errors))
    converges = bool(not overflowed and predicted < 1 - 1e-9)
    gd_rate = quadratic_rates.contraction_factor(lr, lam)
    for a in (path, errors, roots, locus):
        a.flags.writeable = False
    if overflowed or predicted > 1 + 1e-9:
        verdict = f"diverges (predicted ×{predicted:.3f} per step)"
    elif not converges:
        verdict = "does not converge: |z| = 1"
    else:
        verdict = f"rate {measured:.3f} per step (predicted {predicted:.3f})"
    summary = f"η λ_max = {eta_lambda_max:.3g}, μ = {mu:.3g}: {verdict}"
    return MomentumQuadraticRun(
        lr, mu, lam, path, errors, roots, locus, float(predicted), float(measured), float(gd_rate), converges, summary
    )


def draw_momentum_quadratic_run(run: MomentumQuadraticRun, fig) -> None:
    """Left: contours and the path; right: the iteration-matrix eigenvalues in the complex
    plane, with the unit circle and the circle of radius √μ."""
    from lib import plotting

    f = _quadratic()
    ax_path, ax_z = fig.subplots(1, 2, gridspec_kw={"width_ratios": (1.25, 1)})
    plotting.contour(ax_path, f, n=CONTOUR_GRID)
    fig._descent_contour_lines = len(ax_path.lines)  # the minimum's mark; the path comes after
    ax_path.set_xlim(f.xlim)
    ax_path.set_ylim(f.ylim)
    ax_path.set_aspect("equal")
    ax_path.set_xlabel("θ₁")
    ax_path.set_ylabel("θ₂", labelpad=0)
    ax_z.set_aspect("equal")
    ax_z.axhline(0, color="0.85", lw=0.6, zorder=0)
    ax_z.axvline(0, color="0.85", lw=0.6, zorder=0)
    fig._descent_axis_lines = len(ax_z.lines)
    ax_z.set_xlabel("Re z")
    ax_z.set_ylabel("Im z", labelpad=0)
    for ax in (ax_path, ax_z):
        ax.xaxis.set_major_locator(ticker.MaxNLocator(3))
        ax.yaxis.set_major_locator(ticker.MaxNLocator(3))
    fig._descent_title = fig.suptitle("", fontsize="medium")
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.83, wspace=0.22)
    _momentum_quadratic_frame(run, fig)


def _momentum_quadratic_frame(run: MomentumQuadraticRun, fig) -> None:
    """What changes from frame to frame: the path and its title (left), the eigenvalues, the
    circle of radius √μ, the window, the legend and the title (right), the figure's title."""
    from lib import plotting

    ax_path, ax_z = fig.axes[:2]
    plotting.path(ax_path, run.path, markersize=1.5, color=plotting.COLORS[0])
    ax_path.set_title(
        f"‖θ_t − θ*‖ = {run.errors[-1]:.1e} after {len(run.path) - 1} steps"
        if np.isfinite(run.errors[-1])
        else "the path leaves the picture",
        fontsize="small",
    )
    angle = np.linspace(0, 2 * np.pi, 200)
    ax_z.plot(np.cos(angle), np.sin(angle), color="0.3", lw=1.0, label="|z| = 1")
    if run.momentum > 0:
        r = math.sqrt(run.momentum)
        ax_z.plot(r * np.cos(angle), r * np.sin(angle), color="0.6", lw=0.8, ls="--", label="|z| = √μ")
    ax_z.plot(run.locus.real.ravel(), run.locus.imag.ravel(), ".", color="0.7", ms=2, label="λ between")
    for i, (name, marker) in enumerate((("λ_min", "o"), ("λ_max", "s"))):
        ax_z.plot(
            run.roots[i].real, run.roots[i].imag, marker, color=plotting.COLORS[i + 1], ms=6, label=name, zorder=5
        )
    lim = max(1.25, min(3.0, float(np.abs(run.roots).max()) * 1.1))
    ax_z.set_xlim(-lim, lim)
    ax_z.set_ylim(-lim, lim)
    ax_z.set_title(f"eigenvalues z: largest |z| = {run.predicted_rate:.3f}", fontsize="small")
    ax_z.legend(
        loc="upper right",
        fontsize=6.5,
        frameon=True,
        handlelength=1.2,
        borderpad=0.3,
        labelspacing=0.25,
        bbox_to_anchor=(1.0, 1.0),
    )
    fig._descent_title.set_text(run.summary)


def update_momentum_quadratic_run(run: MomentumQuadraticRun, fig) -> None:
    """Turn a figure of :func:`draw_momentum_quadratic_run` into another frame: the parts that
    :func:`_momentum_quadratic_frame` draws are removed and drawn again; the contours stay."""
    ax_path, ax_z = fig.axes[:2]
    clear_curves(ax_path, keep=fig._descent_contour_lines, rescale=False)
    clear_curves(ax_z, keep=fig._descent_axis_lines, rescale=False)
    _momentum_quadratic_frame(run, fig)


def _optimal_label(value, optimal) -> str:
    return f"{value:.3g} (optimal)" if value == optimal else f"{value:g}"


def quadratic_momentum_widget() -> Widget:
    """η·λ_max and μ sliders over :func:`momentum_quadratic_run` (κ = 25)."""
    _quadratic()
    return Widget(
        compute=lambda eta_lambda_max, mu: momentum_quadratic_run(eta_lambda_max, mu),
        draw=draw_momentum_quadratic_run,
        controls=(
            Control(
                "eta_lambda_max",
                ETA_LAMBDA_MAX,
                "η · λ_max",
                default=1.0,
                fmt=lambda v: _optimal_label(v, ETA_LAMBDA_MAX[2]),
            ),
            Control("mu", MOMENTA, "momentum μ", default=0.7, fmt=lambda v: _optimal_label(v, MOMENTA[2])),
        ),
        figsize=(7.5, 3.4),
        title="Momentum on a quadratic (κ = 25): the path and the iteration-matrix eigenvalues",
        style=course_style(),
        update=update_momentum_quadratic_run,  # the frames share the contours
        reuse_key=lambda run: "one figure",
    )


# --------------------------------------------------------------------------------------------
# 2. Momentum against Nesterov on Rosenbrock

ROSENBROCK_LRS = (1e-4, 1e-3, 2e-3)
ROSENBROCK_MOMENTA = (0.5, 0.8, 0.9, 0.95, 0.99)
ROSENBROCK_STEPS = 500


class NesterovRosenbrockRun(NamedTuple):
    """What :func:`nesterov_rosenbrock_run` returns."""

    lr: float
    momentum: float
    paths: dict  # "momentum" / "Nesterov" -> (k + 1, 2) iterates
    losses: dict  # the same keys -> (k + 1,) f(θ_t) − f*
    final: dict  # the same keys -> final f − f* (inf if the run diverged)
    summary: str


@functools.lru_cache(maxsize=64)
def nesterov_rosenbrock_run(lr: float = 1e-3, mu: float = 0.9, steps: int = ROSENBROCK_STEPS) -> NesterovRosenbrockRun:
    r"""``sgd(lr, momentum=μ)`` and ``sgd(lr, momentum=μ, nesterov=True)`` from (−1.2, 1) on
    Rosenbrock's function, ``steps`` steps each (a run that overflows stops early).

    >>> run = nesterov_rosenbrock_run(lr=1e-3, mu=0.95)
    >>> run.final["Nesterov"] < run.final["momentum"]
    True
    """
    f = functions.rosenbrock()
    paths, losses, final = {}, {}, {}
    for name, nesterov in (("momentum", False), ("Nesterov", True)):
        path = optim.run(optim.sgd(lr=lr, momentum=mu, nesterov=nesterov), f.grad, np.array(f.start), steps)
        with np.errstate(over="ignore", invalid="ignore"):
            loss = f.value(path.T) - 0.0
        ok = len(path) == steps + 1 and np.all(np.isfinite(loss))
        for a in (path, loss):
            a.flags.writeable = False
        paths[name], losses[name] = path, loss
        final[name] = float(loss[-1]) if ok else math.inf

    def text(v):
        return "diverges" if not math.isfinite(v) else f"f = {v:.1e}"

    summary = (
        f"η = {lr:g}, μ = {mu:g}, {steps} steps: momentum {text(final['momentum'])}, Nesterov {text(final['Nesterov'])}"
    )
    return NesterovRosenbrockRun(float(lr), float(mu), paths, losses, final, summary)


def draw_nesterov_rosenbrock_run(run: NesterovRosenbrockRun, fig) -> None:
    """Left: both paths on the contours; right: both losses on a log scale."""
    from lib import plotting

    f = functions.rosenbrock()
    ax_path, ax_loss = fig.subplots(1, 2, gridspec_kw={"width_ratios": (1, 1.1)})
    plotting.contour(ax_path, f, n=CONTOUR_GRID)
    fig._descent_contour_lines = len(ax_path.lines)  # the minimum's mark; the paths come after
    _nesterov_runs(run, ax_path, ax_loss)
    ax_path.set_xlim(f.xlim)
    ax_path.set_ylim(f.ylim)
    ax_path.set_xlabel("θ₁")
    ax_path.set_ylabel("θ₂", labelpad=0)
    _nesterov_loss_axis(run, ax_loss)
    ax_path.xaxis.set_major_locator(ticker.MaxNLocator(3))
    ax_path.yaxis.set_major_locator(ticker.MaxNLocator(3))
    fig._descent_title = fig.suptitle(run.summary, fontsize="medium")
    fig.subplots_adjust(left=0.08, right=0.965, bottom=0.16, top=0.87, wspace=0.28)


def _nesterov_runs(run: NesterovRosenbrockRun, ax_path, ax_loss) -> None:
    from lib import plotting

    for (name, path), color in zip(run.paths.items(), plotting.COLORS):
        plotting.path(ax_path, path, markersize=1.0, color=color, label=name)
        plotting.loss_curve(ax_loss, np.where(run.losses[name] > 0, run.losses[name], np.nan), color=color, label=name)


def _nesterov_loss_axis(run: NesterovRosenbrockRun, ax_loss) -> None:
    """The loss axis after its curves (``loss_curve`` sets its scale and labels): labels,
    range, ticks and legend."""
    ax_loss.set_xlabel("step t")
    ax_loss.set_ylabel("f(θ_t) − f*")
    finite = np.concatenate([v[np.isfinite(v) & (v > 0)] for v in run.losses.values()])
    if finite.size:
        ax_loss.set_ylim(max(finite.min(), 1e-20) / 3, min(finite.max(), 1e6) * 3)
    ax_loss.set_xlim(0, ROSENBROCK_STEPS)
    if ax_loss.get_yscale() == "log":
        plain_log_axis(ax_loss.yaxis, numticks=5)
    ax_loss.xaxis.set_major_locator(ticker.MaxNLocator(4, integer=True))
    ax_loss.legend(loc="lower left", fontsize="small", frameon=False)


def update_nesterov_rosenbrock_run(run: NesterovRosenbrockRun, fig) -> None:
    """Turn a figure of :func:`draw_nesterov_rosenbrock_run` into another frame: the paths, the
    curves, the loss range and the title are drawn again; the contours and axes stay."""
    ax_path, ax_loss = fig.axes[:2]
    clear_curves(ax_path, keep=fig._descent_contour_lines, rescale=False)
    clear_curves(ax_loss, rescale="y")
    _nesterov_runs(run, ax_path, ax_loss)
    _nesterov_loss_axis(run, ax_loss)
    fig._descent_title.set_text(run.summary)


def rosenbrock_nesterov_widget() -> Widget:
    """Learning-rate and momentum sliders over :func:`nesterov_rosenbrock_run`; its 20 runs (cached)
    are made here, so that a slider move only draws."""
    functions.rosenbrock().grad(np.zeros(2))
    for lr in ROSENBROCK_LRS:
        for mu in ROSENBROCK_MOMENTA:
            nesterov_rosenbrock_run(lr, mu)
    return Widget(
        compute=lambda lr, mu: nesterov_rosenbrock_run(lr, mu),
        draw=draw_nesterov_rosenbrock_run,
        controls=(
            Control("lr", ROSENBROCK_LRS, "learning rate η", default=1e-3),
            Control("mu", ROSENBROCK_MOMENTA, "momentum μ", default=0.95),
        ),
        figsize=(7.5, 3.2),
        title="Momentum and Nesterov in Rosenbrock's valley",
        style=course_style(),
        update=update_nesterov_rosenbrock_run,  # the frames share the contours
        reuse_key=lambda run: tuple(run.paths),
    )
