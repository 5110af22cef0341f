r"""Chapter 05's experiments and widgets: the optimizer race, and per-coordinate step sizes.

Two pure computations, each tested in ``tests/test_widgets_adaptive.py`` and drawn by a widget:

* :func:`race` runs several optimizers from :mod:`lib.optim` on a 2-D test function, each at
  its own learning rate tuned by :func:`race_learning_rate` (a small grid search, cached)
  times a common scale; :func:`race_widget` lets the reader pick the function, a group of
  optimizers and the scale.
* :func:`effective_steps` records, per coordinate, the step size
  :math:`\eta/(\sqrt{\cdot}+\varepsilon)` that Adagrad, RMSprop and Adam apply on a badly
  scaled quadratic; :func:`effective_step_widget` varies the scaling and :math:`\beta_2`.

>>> from lib.widgets import show
>>> show(race_widget())                 # doctest: +SKIP
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from matplotlib import ticker

from lib import functions, optim
from lib.optim import adaptive as transforms
from lib.plotting import plain_log_axis
from lib.widgets import Control, Widget, clear_curves, course_style, precomputed

__all__ = [
    "METHODS",
    "METHOD_STYLES",
    "RACE_FUNCTIONS",
    "RACE_WIDGET_FUNCTIONS",
    "LR_GRID",
    "make_optimizer",
    "race_learning_rate",
    "RaceResult",
    "race",
    "draw_race",
    "update_race",
    "race_widget",
    "EffectiveSteps",
    "effective_steps",
    "draw_effective_steps",
    "effective_step_widget",
]

# --------------------------------------------------------------------------------------------
# The contestants

#: name -> ``lr -> GradientTransformation``; every other hyperparameter at torch's default
#: (AdaBelief: optax's), so that the only thing tuned is the learning rate.
METHODS: dict[str, Callable[[float], optim.GradientTransformation]] = {
    "SGD": lambda lr: optim.sgd(lr=lr),
    "Adagrad": lambda lr: optim.adagrad(lr=lr),
    "RMSprop": lambda lr: optim.rmsprop(lr=lr),
    "Adam": lambda lr: optim.adam(lr=lr),
    "AMSGrad": lambda lr: optim.adam(lr=lr, amsgrad=True),
    "AdaMax": lambda lr: optim.adamax(lr=lr),
    "NAdam": lambda lr: optim.nadam(lr=lr),
    "RAdam": lambda lr: optim.radam(lr=lr),
    "AdaBelief": lambda lr: optim.adabelief(lr=lr),
}

#: One colour and line style per method, shared by the lesson's figures and the widget.
METHOD_STYLES: dict[str, dict] = {
    "SGD": {"color": "#000000", "linestyle": ":"},
    "Adagrad": {"color": "#56B4E9", "linestyle": "-"},
    "RMSprop": {"color": "#E69F00", "linestyle": "-"},
    "Adam": {"color": "#0072B2", "linestyle": "-"},
    "AMSGrad": {"color": "#D55E00", "linestyle": "--"},
    "AdaMax": {"color": "#009E73", "linestyle": "--"},
    "NAdam": {"color": "#CC79A7", "linestyle": "-"},
    "RAdam": {"color": "#D55E00", "linestyle": "-"},
    "AdaBelief": {"color": "#009E73", "linestyle": "-"},
}

#: The race's courses (names in :mod:`lib.functions`), each from the function's own start.
RACE_FUNCTIONS = ("beale", "ravine", "saddle")
RACE_STEPS = 300
#: Contour grid points a side in the widget (the lesson's figures use plotting's default).
CONTOUR_GRID = 80
#: Learning rates tried by :func:`race_learning_rate`: 10^-3 ... 10^0.5, half a decade apart.
LR_GRID = tuple(float(v) for v in 10.0 ** np.arange(-3.0, 0.51, 0.5))
#: f - f* below this counts as "arrived" (the score stops rewarding further digits).
ARRIVED = 1e-8


def make_optimizer(method: str, lr: float) -> optim.GradientTransformation:
    """The optimizer called ``method`` (a key of :data:`METHODS`) with learning rate ``lr``."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    return METHODS[method](lr)


@functools.cache
def _objective(name: str) -> functions.Objective:
    f = functions.get(name)
    f.grad(f.start)  # compile once
    f.value(f.start)
    return f


def _f_min(f: functions.Objective) -> float:
    return min(float(f.value(m)) for m in f.minima)


def _run(f: functions.Objective, method: str, lr: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The path and the gaps f(θ_t) − f* (inf after a divergence) of one run, read-only.

    Cached per (function, method, lr, steps): the tuning grid search has already made every
    run at a tuned rate, and the widget's groups share methods."""
    for name in RACE_FUNCTIONS:
        if f is _objective(name):
            return _cached_run(name, method, float(lr), int(steps))
    return _fresh_run(f, method, lr, steps)


@functools.lru_cache(maxsize=1024)
def _cached_run(function: str, method: str, lr: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    return _fresh_run(_objective(function), method, lr, steps)


def _fresh_run(f: functions.Objective, method: str, lr: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    path = optim.run(make_optimizer(method, lr), f.grad, np.array(f.start, dtype=float), steps, max_norm=1e6)
    with np.errstate(over="ignore", invalid="ignore"):
        gaps = np.asarray(f.value(path.T), dtype=float) - _f_min(f)
    for a in (path, gaps):
        a.flags.writeable = False
    return path, gaps


def _score(gaps: np.ndarray, steps: int) -> float:
    """Mean of log10(max(f − f*, ARRIVED)) over the steps: low is fast. A run that stopped
    early (diverged) or ends higher than it started scores +inf."""
    if len(gaps) < steps + 1 or not np.all(np.isfinite(gaps)) or gaps[-1] > gaps[0]:
        return math.inf
    return float(np.mean(np.log10(np.maximum(gaps, ARRIVED))))


@functools.cache
def race_learning_rate(function: str, method: str, steps: int = RACE_STEPS, grid: tuple = LR_GRID) -> float:
    r"""The learning rate from ``grid`` with the best score for ``method`` on ``function``.

    The score is the mean over the ``steps`` + 1 iterates of
    :math:`\log_{10}\max(f(\theta_t) - f^\star, 10^{-8})`: it rewards reaching a low loss
    *early*, and counts every point below :math:`10^{-8}` as arrived. Divergent runs are
    excluded. A grid search over one hyperparameter is the simplest honest tuning protocol;
    how much the ranking of optimizers depends on the protocol is the subject of
    :cite:t:`choi2019empirical` and :cite:t:`schmidt2021descending`. Cached: the lesson and
    the widget share the results.

    >>> race_learning_rate("ravine", "Adam") in LR_GRID
    True
    """
    f = _objective(function)
    scores = [_score(_run(f, method, lr, steps)[1], steps) for lr in grid]
    best = int(np.argmin(scores))
    if not math.isfinite(scores[best]):
        raise RuntimeError(f"{method} diverged on {function} at every learning rate of the grid")
    return float(grid[best])


class RaceResult(NamedTuple):
    """What :func:`race` returns; ``paths[i]`` has ``k_i + 1 <= steps + 1`` rows."""

    function: str
    methods: tuple  # names, keys of METHODS
    lrs: tuple  # the learning rate each method ran with
    lr_scale: float  # lrs = tuned learning rates × lr_scale
    paths: tuple  # (k_i + 1, 2) arrays
    gaps: tuple  # (k_i + 1,) arrays f(θ_t) − f*
    diverged: tuple  # bool per method
    summary: str


def race(
    function: str = "beale",
    methods: tuple = ("SGD", "Adagrad", "RMSprop", "Adam"),
    lr_scale: float = 1.0,
    steps: int = RACE_STEPS,
) -> RaceResult:
    r"""Run ``methods`` on the test function ``function`` for ``steps`` steps, each at its tuned
    learning rate (:func:`race_learning_rate`) times ``lr_scale``.

    >>> r = race("ravine", ("SGD", "Adam"))
    >>> [len(p) for p in r.paths]
    [301, 301]
    """
    if function not in RACE_FUNCTIONS:
        raise ValueError(f"function must be one of {RACE_FUNCTIONS}, got {function!r}")
    if not (isinstance(lr_scale, (int, float)) and lr_scale > 0):
        raise ValueError(f"lr_scale must be a positive number, got {lr_scale!r}")
    methods = tuple(methods)
    for m in methods:
        make_optimizer(m, 1.0)  # validates the name
    f = _objective(function)
    lrs, paths, gaps, diverged = [], [], [], []
    for m in methods:
        lr = race_learning_rate(function, m, steps) * lr_scale
        path, gap = _run(f, m, lr, steps)  # read-only arrays
        lrs.append(lr)
        paths.append(path)
        gaps.append(gap)
        diverged.append(bool(len(path) < steps + 1 or not np.all(np.isfinite(gap))))
    finals = {m: g[-1] for m, g, d in zip(methods, gaps, diverged) if not d}
    if finals:
        best = min(finals, key=finals.get)
        summary = (
            f"{function}, learning rates ×{lr_scale:g} the tuned ones: lowest final loss "
            f"{best} (f − f* = {max(finals[best], 0.0):.1e})"
        )
    else:
        summary = f"{function}, learning rates ×{lr_scale:g} the tuned ones: every method diverged"
    return RaceResult(
        function, methods, tuple(lrs), float(lr_scale), tuple(paths), tuple(gaps), tuple(diverged), summary
    )


def draw_race(result: RaceResult, fig) -> None:
    """Left: contours and the paths; right: f(θ_t) − f* on a log scale."""
    from lib import plotting

    f = _objective(result.function)
    ax_path, ax_loss = fig.subplots(1, 2, gridspec_kw={"width_ratios": (1, 1.1)})
    plotting.contour(ax_path, f, n=CONTOUR_GRID, levels=18)
    fig._descent_contour_lines = len(ax_path.lines)  # the minima's marks; the paths come after
    _race_runs(result, ax_path, ax_loss)
    ax_path.set_xlim(f.xlim)
    ax_path.set_ylim(f.ylim)
    ax_loss.set_yscale("log")
    _race_loss_limits(result, ax_loss)
    fig._descent_title = _finish(fig, ax_path, ax_loss, result.summary, "f(θ_t) − f*")


def _race_runs(result: RaceResult, ax_path, ax_loss) -> None:
    """The paths (left), the curves f(θ_t) − f* (right) and the legend of a race frame."""
    from lib import plotting

    for m, lr, path, gap, div in zip(result.methods, result.lrs, result.paths, result.gaps, result.diverged):
        style = METHOD_STYLES[m]
        line = plotting.path(ax_path, path, color=style["color"], marker="", markersize=1.5)
        if line is not None:
            line.set_linestyle(style["linestyle"])
        label = f"{m} η={lr:.2g}" + (" (diverged)" if div else "")
        ax_loss.plot(np.where(gap > 0, gap, np.nan), label=label, lw=1.4, **style)
    ax_loss.legend(loc="lower left", fontsize="x-small", frameon=False)


def _race_loss_limits(result: RaceResult, ax_loss) -> None:
    finite = np.concatenate([g[np.isfinite(g) & (g > 0)] for g in result.gaps])
    if finite.size:
        ax_loss.set_ylim(max(finite.min(), 1e-14) / 3, min(finite.max(), 1e6) * 3)


def update_race(result: RaceResult, fig) -> None:
    """Turn a figure of :func:`draw_race` (same function and group) into another frame: the
    runs, their legend, the loss axis's range and the title are drawn again; the contours,
    the axes and their labels stay."""
    ax_path, ax_loss = fig.axes[:2]
    clear_curves(ax_path, keep=fig._descent_contour_lines, rescale=False)
    clear_curves(ax_loss)
    _race_runs(result, ax_path, ax_loss)
    _race_loss_limits(result, ax_loss)
    fig._descent_title.set_text(result.summary)


#: The widget's groups of optimizers (a static page cannot offer every subset).
RACE_GROUPS = {
    "SGD, Adagrad, RMSprop, Adam": ("SGD", "Adagrad", "RMSprop", "Adam"),
    "Adam, AMSGrad, AdaMax, NAdam": ("Adam", "AMSGrad", "AdaMax", "NAdam"),
    "Adam, RAdam, AdaBelief, SGD": ("Adam", "RAdam", "AdaBelief", "SGD"),
}
RACE_SCALES = (0.3, 1.0, 3.0)
#: The widget's functions: the lesson's figures show all of RACE_FUNCTIONS; two are enough to see
#: the order change, and each function costs nine frames of the page's build time.
RACE_WIDGET_FUNCTIONS = ("beale", "ravine")


def _race_frame(
    function: str = "beale", group: str = "SGD, Adagrad, RMSprop, Adam", lr_scale: float = 1.0
) -> RaceResult:
    if group not in RACE_GROUPS:
        raise ValueError(f"group must be one of {list(RACE_GROUPS)}, got {group!r}")
    return race(function, RACE_GROUPS[group], lr_scale)


def race_widget() -> Widget:
    """Function × group of optimizers × learning-rate scale over :func:`race` (18 frames).

    Every frame is computed when the widget is built (the learning-rate search is cached and the
    static form computes them all anyway), so that a slider move is a look-up: one frame runs
    4 optimizers × 300 steps, about half a second."""
    controls = (
        Control("function", RACE_WIDGET_FUNCTIONS, "function", default="beale", fmt="{}"),
        Control("group", tuple(RACE_GROUPS), "optimizers", default="SGD, Adagrad, RMSprop, Adam", fmt="{}"),
        Control("lr_scale", RACE_SCALES, "η / tuned η", default=1.0),
    )
    return Widget(
        compute=precomputed(_race_frame, controls),
        draw=draw_race,
        controls=controls,
        figsize=(7.5, 3.3),
        title="The optimizer race: each method at its own tuned learning rate, times a common factor",
        style=course_style(),
        update=update_race,  # the frames of one function and group share the contours
        reuse_key=lambda r: (r.function, r.methods, "\n" in r.summary),
    )


# --------------------------------------------------------------------------------------------
# 2. Per-coordinate effective step sizes

STEP_KAPPAS = (1, 100, 1000)
STEP_BETA2S = (0.9, 0.99, 0.999)
STEP_LR = 0.01
STEP_STEPS = 300
STEP_METHODS = ("Adagrad", "RMSprop", "Adam")


class EffectiveSteps(NamedTuple):
    r"""What :func:`effective_steps` returns; ``steps[name]`` has shape ``(T, 2)``: the step
    size :math:`\eta/(\sqrt{\cdot}+\varepsilon)` that multiplies coordinate ``i`` at update
    ``t`` (row ``t - 1``)."""

    kappa: float
    beta2: float
    lr: float
    steps: dict  # method -> (T, 2) effective step sizes
    gaps: dict  # method -> (T + 1,) f(θ_t) − f*
    gd_limit: float  # 2 / λ_max: the largest stable step of plain GD
    summary: str


def effective_steps(
    kappa: float = 100, beta2: float = 0.999, lr: float = STEP_LR, steps: int = STEP_STEPS
) -> EffectiveSteps:
    r"""Effective per-coordinate step sizes on :math:`f(\theta) = \tfrac12(\theta_1^2 + \kappa\,\theta_2^2)`
    from :math:`\theta_0 = (1, 1)`, all three methods at the same ``lr``.

    * Adagrad: :math:`\eta/(\sqrt{G_t} + \varepsilon)` with :math:`G_t = \sum_{s\le t} g_s^2`
      (``eps=1e-10``);
    * RMSprop: :math:`\eta/(\sqrt{v_t} + \varepsilon)` with ``alpha`` :math:`=\beta_2`;
    * Adam: :math:`\eta/(\sqrt{\hat v_t} + \varepsilon)`, :math:`\hat v_t = v_t/(1-\beta_2^t)`,
      the factor multiplying :math:`\hat m_t`.

    The states are read from the transforms of :mod:`lib.optim.adaptive` (torch's
    arithmetic), and the iterates are those of ``optim.adagrad/rmsprop/adam``.

    >>> e = effective_steps(kappa=100)
    >>> e.steps["Adam"].shape
    (300, 2)
    """
    if not kappa >= 1:
        raise ValueError(f"kappa must be >= 1, got {kappa!r}")
    curv = np.array([1.0, float(kappa)])
    specs = {
        "Adagrad": (transforms.scale_by_adagrad(eps=1e-10), 1e-10),
        "RMSprop": (transforms.scale_by_rms(alpha=beta2, eps=1e-8), 1e-8),
        "Adam": (transforms.scale_by_adam(b1=0.9, b2=beta2, eps=1e-8), 1e-8),
    }
    out_steps, out_gaps = {}, {}
    for name, (tx, eps) in specs.items():
        theta = np.ones(2)
        state = tx.init(theta)
        eff = np.empty((steps, 2))
        gaps = np.empty(steps + 1)
        gaps[0] = 0.5 * float(curv @ theta**2)
        for t in range(1, steps + 1):
            u, state = tx.update(curv * theta, state, theta)
            if name == "Adagrad":
                denom = np.sqrt(state.sum_of_squares) + eps
            elif name == "RMSprop":
                denom = np.sqrt(state.square_avg) + eps
            else:
                denom = np.sqrt(state.nu / (1.0 - beta2**t)) + eps
            eff[t - 1] = lr / denom
            theta = theta - lr * u
            gaps[t] = 0.5 * float(curv @ theta**2)
        eff.flags.writeable = False
        gaps.flags.writeable = False
        out_steps[name], out_gaps[name] = eff, gaps
    ratio = {m: float(np.median(out_steps[m][-50:, 0] / out_steps[m][-50:, 1])) for m in out_steps}
    summary = f"κ = {kappa:g}, β₂ = {beta2:g}: step(θ₁)/step(θ₂) over the last 50 steps ≈ " + ", ".join(
        f"{m} {r:.3g}" for m, r in ratio.items()
    )
    return EffectiveSteps(float(kappa), float(beta2), float(lr), out_steps, out_gaps, 2.0 / float(kappa), summary)


def draw_effective_steps(data: EffectiveSteps, fig) -> None:
    """Left: effective step per coordinate (solid θ₁, dashed θ₂) on a log scale, with GD's
    stability limit 2/λ_max; right: f(θ_t) − f*."""
    ax_step, ax_loss = fig.subplots(1, 2, gridspec_kw={"width_ratios": (1.2, 1)})
    _effective_step_curves(data, ax_step, ax_loss)
    ax_step.set_yscale("log")
    ax_loss.set_yscale("log")
    _effective_step_limits(data, ax_loss)
    ax_step.set_ylabel("effective step η/(√v+ε)")
    fig._descent_title = _finish(
        fig, ax_step, ax_loss, _effective_step_title(data), "f(θ_t) − f*", xlabel_left="update t"
    )


def _effective_step_curves(data: EffectiveSteps, ax_step, ax_loss) -> None:
    t = np.arange(1, len(next(iter(data.steps.values()))) + 1)
    for name in STEP_METHODS:
        color = METHOD_STYLES[name]["color"]
        ax_step.plot(t, data.steps[name][:, 0], color=color, lw=1.5, label=name)
        ax_step.plot(t, data.steps[name][:, 1], color=color, lw=1.5, linestyle="--")
        ax_loss.plot(np.where(data.gaps[name] > 0, data.gaps[name], np.nan), color=color, lw=1.5)
    ax_step.axhline(data.gd_limit, color="0.4", lw=1, linestyle=":", label="GD limit 2/λ_max")
    ax_step.legend(loc="upper right", fontsize="x-small", frameon=False)


def _effective_step_limits(data: EffectiveSteps, ax_loss) -> None:
    top = max(float(g[0]) for g in data.gaps.values())
    ax_loss.set_ylim(1e-16, top * 10)  # below 1e-16 the differences are rounding


def _effective_step_title(data: EffectiveSteps) -> str:
    return data.summary + "\nsolid: θ₁ (curvature 1), dashed: θ₂ (curvature κ)"


def update_effective_steps(data: EffectiveSteps, fig) -> None:
    """Turn a figure of :func:`draw_effective_steps` into another frame: the curves, the legend,
    both axes' ranges and the title change; the axes, their scales and labels stay."""
    ax_step, ax_loss = fig.axes[:2]
    clear_curves(ax_step)
    clear_curves(ax_loss)
    _effective_step_curves(data, ax_step, ax_loss)
    _effective_step_limits(data, ax_loss)
    fig._descent_title.set_text(_effective_step_title(data))


def effective_step_widget() -> Widget:
    """κ and β₂ sliders over :func:`effective_steps` (9 frames, computed when the widget is built)."""
    controls = (
        Control("kappa", STEP_KAPPAS, "curvature ratio κ", default=100),
        Control("beta2", STEP_BETA2S, "β₂ (RMSprop: alpha)", default=0.999),
    )
    return Widget(
        compute=precomputed(effective_steps, controls),
        draw=draw_effective_steps,
        controls=controls,
        figsize=(7.5, 3.3),
        title="Per-coordinate step sizes on ½(θ₁² + κθ₂²), η = 0.01 for all three",
        style=course_style(),
        update=update_effective_steps,  # every frame has the same axes
        reuse_key=lambda data: "one figure",
    )


# --------------------------------------------------------------------------------------------
# Shared layout


def _log_axis(ax) -> None:
    plain_log_axis(ax.yaxis, numticks=4)


def _finish(fig, ax_left, ax_right, title: str, right_ylabel: str, xlabel_left: str = ""):
    """Plain-text labels, few ticks, the title (the same layout as chapter 01's widgets); returns the title."""
    if xlabel_left:
        ax_left.set_xlabel(xlabel_left)
        _log_axis(ax_left)
        ax_left.xaxis.set_major_locator(ticker.MaxNLocator(3, integer=True))
    else:
        ax_left.set_xlabel("θ₁")
        ax_left.set_ylabel("θ₂", labelpad=0)
        ax_left.xaxis.set_major_locator(ticker.MaxNLocator(3))
        ax_left.yaxis.set_major_locator(ticker.MaxNLocator(3))
    ax_right.set_xlabel("step t")
    ax_right.set_ylabel(right_ylabel)
    _log_axis(ax_right)
    ax_right.xaxis.set_major_locator(ticker.MaxNLocator(3, integer=True))
    text = fig.suptitle(title, fontsize="small")
    fig.subplots_adjust(left=0.09, right=0.975, bottom=0.15, top=0.86 if "\n" in title else 0.88, wspace=0.3)
    return text
