"""Chapter 07 widgets: a schedule designer and gradient clipping on an exploding recurrence.

Each widget is a pure ``compute`` (tested, timed) and a ``draw``; :func:`lib.widgets.show`
renders them live in a kernel and as a static frame scrubber in the book.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lib import optim, schedules
from lib.optim import clipping
from lib.plotting import plain_log_axis
from lib.widgets import Control, Widget, clear_curves, course_style, precomputed

__all__ = [
    "DESIGN_STEPS",
    "make_schedule",
    "noisy_quadratic_run",
    "ScheduleDesign",
    "design_schedule",
    "draw_design",
    "schedule_designer_widget",
    "rnn_loss_and_grad",
    "ClipRun",
    "clip_run",
    "draw_clip_run",
    "clipping_widget",
    "SCHEDULE_NAMES",
]

DESIGN_STEPS = 300
SCHEDULE_NAMES = ("constant", "step", "cosine", "warm restarts", "warmup + cosine", "one-cycle", "WSD")


def make_schedule(name: str, lr: float, steps: int = DESIGN_STEPS):
    """The chapter's standard version of each schedule, peaking at ``lr`` over ``steps``."""
    if name == "constant":
        return schedules.constant_lr(lr, factor=1.0, total_iters=0)
    if name == "step":
        return schedules.multi_step_lr(lr, [steps // 2, 3 * steps // 4])
    if name == "cosine":
        return schedules.cosine_annealing_lr(lr, steps)
    if name == "warm restarts":
        return schedules.cosine_annealing_warm_restarts(lr, T_0=max(1, steps // 7), T_mult=2)
    if name == "warmup + cosine":
        w = steps // 10
        return schedules.sequential_lr(
            [schedules.linear_lr(lr, 0.01, 1.0, w), schedules.cosine_annealing_lr(lr, steps - w)], [w]
        )
    if name == "one-cycle":
        return schedules.one_cycle_lr(lr, steps)
    if name == "WSD":
        w, d = steps // 10, steps // 5
        return schedules.warmup_stable_decay(lr, w, steps - w - d, d)
    raise ValueError(f"unknown schedule {name!r}; choose one of {SCHEDULE_NAMES}")


def noisy_quadratic_run(
    lr_schedule, steps: int = DESIGN_STEPS, sigma: float = 1.0, seed: int = 0, curvatures=(1.0, 0.05)
) -> np.ndarray:
    r"""SGD on :math:`f(\theta) = \tfrac12\sum_i h_i\theta_i^2` with gradient noise
    :math:`\sigma\xi_t`; returns :math:`f(\theta_t)` for :math:`t = 0..\texttt{steps}`."""
    h = np.asarray(curvatures, dtype=float)
    noise = sigma * np.random.default_rng(seed).standard_normal((steps, h.size))
    theta = np.full(h.size, 3.0)
    out = np.empty(steps + 1)
    out[0] = 0.5 * np.sum(h * theta**2)
    for t in range(steps):
        theta = theta - lr_schedule(t) * (h * theta + noise[t])
        out[t + 1] = 0.5 * np.sum(h * theta**2)
    return out


class ScheduleDesign(NamedTuple):
    name: str
    lr: float
    lrs: np.ndarray
    boundaries: tuple
    loss: np.ndarray
    constant_loss: np.ndarray  # the same run at a constant lr, for comparison
    final: float  # mean loss over the last 10% of steps
    constant_final: float


def design_schedule(schedule: str = "cosine", lr: float = 0.5) -> ScheduleDesign:
    r"""The schedule's values and an SGD run on a noisy quadratic with it (vs constant ``lr``).

    >>> d = design_schedule("cosine", 0.5)
    >>> d.final < d.constant_final
    True
    """
    f = make_schedule(schedule, lr)
    loss = noisy_quadratic_run(f)
    const = noisy_quadratic_run(lambda t: lr)
    k = DESIGN_STEPS // 10
    return ScheduleDesign(
        schedule,
        lr,
        schedules.schedule_values(f, DESIGN_STEPS),
        f.boundaries,
        loss,
        const,
        float(np.mean(loss[-k:])),
        float(np.mean(const[-k:])),
    )


def draw_design(d: ScheduleDesign, fig) -> None:
    """Left: the schedule with its phase boundaries; right: the loss, with constant lr in grey."""
    ax_lr, ax_loss = fig.subplots(1, 2)
    ax_loss.set_yscale("log")
    _design_curves(d, ax_lr, ax_loss)
    ax_lr.set(xlabel="update t", ylabel="learning rate η_t")
    ax_loss.set(xlabel="update t", ylabel="f(θ_t)")
    plain_log_axis(ax_loss.yaxis)  # plain-text decades, no minor ticks: a cheaper frame
    fig._descent_title = fig.suptitle(_design_title(d), fontsize=10)
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.17, top=0.86, wspace=0.35)


def _design_curves(d: ScheduleDesign, ax_lr, ax_loss) -> None:
    """The schedule, its phase boundaries and its range (left); both losses and the legend (right)."""
    ax_lr.plot(d.lrs, color="#0072B2", lw=1.6)
    for b in d.boundaries:
        if 0 < b < DESIGN_STEPS:
            ax_lr.axvline(b, color="0.5", ls=":", lw=0.9)
    ax_lr.set_ylim(0, 1.05 * max(d.lr, d.lrs.max()))
    ax_loss.plot(d.constant_loss, color="0.6", lw=1.0, label=f"constant η = {d.lr:g}")
    ax_loss.plot(d.loss, color="#D55E00", lw=1.3, label=d.name)
    ax_loss.legend(fontsize="x-small", frameon=False, loc="upper right")


def _design_title(d: ScheduleDesign) -> str:
    return f"{d.name}: final loss {d.final:.3g} (constant: {d.constant_final:.3g})"


def update_design(d: ScheduleDesign, fig) -> None:
    """Turn a figure of :func:`draw_design` into another frame: the curves, the boundaries, the
    legend, the ranges and the title change; the axes and their labels stay."""
    ax_lr, ax_loss = fig.axes[:2]
    clear_curves(ax_lr)
    clear_curves(ax_loss)
    _design_curves(d, ax_lr, ax_loss)
    fig._descent_title.set_text(_design_title(d))


def schedule_designer_widget() -> Widget:
    """Schedule and peak-lr sliders over :func:`design_schedule` (28 frames)."""
    return Widget(
        compute=design_schedule,
        draw=draw_design,
        controls=(
            Control("schedule", SCHEDULE_NAMES, "schedule", default="cosine", fmt="{}"),
            Control("lr", (0.1, 0.5, 1.0, 1.5), "peak learning rate", default=0.5),
        ),
        figsize=(8.0, 3.2),
        title="SGD on a noisy quadratic (curvatures 1 and 0.05), 300 updates",
        style=course_style(),
        update=update_design,  # every frame has the same axes
        reuse_key=lambda d: "one figure",
    )


# --------------------------------------------------------------------------------------------
# Exploding gradients: a linear recurrence h_t = w h_{t-1} + u x_t

RNN_T = 40
_RNN_X = np.random.default_rng(1).standard_normal(RNN_T)


def rnn_loss_and_grad(w, u, x=_RNN_X, target: float = 1.0):
    r"""Loss :math:`\tfrac12(h_T - y)^2` of the recurrence :math:`h_t = w h_{t-1} + u x_t`
    (:math:`h_0 = 0`) and its gradient in ``(w, u)``, by forward-mode recursion; ``w`` and ``u``
    may be arrays (a grid). :math:`\partial h_T/\partial w` grows like :math:`T w^{T-1}`:
    for :math:`|w| > 1` the gradient explodes :cite:p:`pascanu2013difficulty`."""
    if np.ndim(w) == 0 and np.ndim(u) == 0:  # one point: plain floats, the same operations, ~20x faster
        w, u = float(w), float(u)
        h = dw = du = 0.0
        for xt in np.asarray(x, dtype=float).tolist():
            dw, du = h + w * dw, xt + w * du
            h = w * h + u * xt
        r = h - target
        return 0.5 * r**2, np.array([r * dw, r * du])
    w, u = np.asarray(w, dtype=float), np.asarray(u, dtype=float)
    h = dw = du = np.zeros(np.broadcast(w, u).shape)
    for xt in x:
        dw, du = h + w * dw, xt + w * du
        h = w * h + u * xt
    r = h - target
    return 0.5 * r**2, np.stack([r * dw, r * du])


class ClipRun(NamedTuple):
    method: str
    threshold: float
    path: np.ndarray  # (steps+1, 2)
    loss: np.ndarray
    grad_norm: np.ndarray
    grid: tuple  # (W, U, L) for the contour
    diverged: bool


_GRID = None


def _grid():
    global _GRID
    if _GRID is None:
        W, U = np.meshgrid(np.linspace(0.6, 1.12, 90), np.linspace(-1.5, 1.5, 90))
        _GRID = (W, U, rnn_loss_and_grad(W, U)[0])
    return _GRID


def clip_run(
    method: str = "norm", threshold: float = 1.0, lr: float = 0.02, steps: int = 150, start=(1.05, 0.5)
) -> ClipRun:
    r"""SGD from ``start`` on the recurrence's loss, clipping each gradient by global norm
    (``optax.clip_by_global_norm``), by value (``optax.clip``) or not at all (``method="none"``).

    >>> clip_run("none").diverged, clip_run("norm", 1.0).diverged
    (True, False)
    """
    tx = {"none": optim.identity(), "norm": optim.clip_by_global_norm(threshold), "value": optim.clip(threshold)}[
        method
    ]
    theta = np.array(start, dtype=float)
    path, losses, norms = [theta], [], []
    diverged = False
    for _ in range(steps):
        loss, g = rnn_loss_and_grad(theta[0], theta[1])
        losses.append(float(loss))
        norms.append(clipping.global_norm(g))
        if not np.isfinite(loss) or not np.all(np.isfinite(g)) or abs(theta[0]) > 1.3:
            diverged = True
            break
        g, _ = tx.update(g, ())
        theta = theta - lr * g
        path.append(theta)
    return ClipRun(method, threshold, np.array(path), np.array(losses), np.array(norms), _grid(), diverged)


def draw_clip_run(r: ClipRun, fig) -> None:
    """Left: the path on the loss (log colour scale); right: loss and gradient norm."""
    ax_path, ax_loss = fig.subplots(1, 2)
    W, U, L = r.grid
    ax_path.imshow(
        np.log10(L + 1e-12),
        extent=(W.min(), W.max(), U.min(), U.max()),
        origin="lower",
        aspect="auto",
        cmap="viridis",
        interpolation="nearest",
    )
    ax_loss.set_yscale("log")
    _clip_curves(r, ax_path, ax_loss)
    ax_path.set(xlabel="w (recurrent weight)", ylabel="u (input weight)", xlim=(0.6, 1.12), ylim=(-1.5, 1.5))
    ax_loss.set(xlabel="update t")
    plain_log_axis(ax_loss.yaxis)
    fig._descent_title = fig.suptitle(_clip_title(r), fontsize=10)
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.17, top=0.86, wspace=0.25)


def _clip_curves(r: ClipRun, ax_path, ax_loss) -> None:
    """The path (left, inside the picture); the loss, the gradient norm and the legend (right)."""
    p = r.path[np.all(np.isfinite(r.path), axis=1)]
    p = p[(p[:, 0] > 0.55) & (p[:, 0] < 1.15) & (np.abs(p[:, 1]) < 1.6)]
    ax_path.plot(p[:, 0], p[:, 1], ".-", color="white", ms=2, lw=0.8)
    ax_loss.plot(r.loss, color="#D55E00", lw=1.3, label="loss")
    ax_loss.plot(r.grad_norm, color="#0072B2", lw=1.0, ls="--", label="‖g‖ before clipping")
    ax_loss.legend(fontsize="x-small", frameon=False)


def _clip_title(r: ClipRun) -> str:
    what = "no clipping" if r.method == "none" else f"clip by {r.method} at {r.threshold:g}"
    end = "diverged" if r.diverged else f"final loss {r.loss[-1]:.2g}"
    return f"{what}: {end}"


def update_clip_run(r: ClipRun, fig) -> None:
    """Turn a figure of :func:`draw_clip_run` into another frame: the path, the curves, the
    legend, the loss axis's range and the title change; the picture of the loss stays."""
    ax_path, ax_loss = fig.axes[:2]
    clear_curves(ax_path, rescale=False)  # the limits of the picture
    clear_curves(ax_loss)
    _clip_curves(r, ax_path, ax_loss)
    fig._descent_title.set_text(_clip_title(r))


def clipping_widget() -> Widget:
    """Method and threshold sliders over :func:`clip_run` (12 frames, computed when the widget is built)."""
    controls = (
        Control("method", ("none", "norm", "value"), "clipping", default="norm", fmt="{}"),
        Control("threshold", (0.1, 1.0, 10.0, 100.0), "threshold", default=1.0),
    )
    return Widget(
        compute=precomputed(clip_run, controls),
        draw=draw_clip_run,
        controls=controls,
        figsize=(8.0, 3.2),
        title="SGD (η = 0.02) on h_t = w h_{t-1} + u x_t, T = 40",
        style=course_style(),
        update=update_clip_run,  # every frame has the same picture of the loss
        reuse_key=lambda r: "one figure",
    )
