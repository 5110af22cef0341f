r"""Chapter 12's widgets: the optimizer race as a frame scrubber, tuned curves with seed bands,
and the performance profile's τ slider.

Three pure computations over :mod:`lib.compare`, each drawn by a widget:

* :func:`race` runs every optimizer of :data:`RACE_ALL` (every named optimizer of :mod:`lib.optim`
  but the matrix-only ones of :data:`RACE_EXCLUDED`) on a 2-D test function of
  :mod:`lib.functions` (the long valley, the saddle, Beale), each at its own learning rate tuned
  by :func:`lib.compare.tune` with the same budget; :func:`race_widget` scrubs through the steps
  like the classic animations, which it regenerates.
* :func:`seed_bands` takes the rows of :func:`lib.compare.protocol` (``keep_curves=True``) and
  returns, per optimizer, the median validation curve and its interquartile band over seeds;
  :func:`seed_band_widget` picks the problem and a group of optimizers.
* :func:`profile_at` evaluates :func:`lib.compare.performance_profile` at one τ;
  :func:`profile_widget` slides τ.

>>> from lib.widgets import show
>>> show(race_widget())                 # doctest: +SKIP
"""

from __future__ import annotations

import functools
import math
import os
from typing import NamedTuple

import numpy as np

from lib import compare, functions
from lib.plotting import plain_log_axis
from lib.widgets import Control, Widget, clear_curves, course_style

__all__ = [
    "RACE_OPTIMIZERS",
    "RACE_LATER",
    "RACE_ALL",
    "RACE_GROUPS",
    "RACE_EXCLUDED",
    "RACE_LR_RANGES",
    "RACE_FUNCTIONS",
    "N_JOBS",
    "RACE_STEPS",
    "RACE_BUDGET",
    "RACE_SEEDS",
    "RACE_JITTER",
    "STYLES",
    "RaceResult",
    "race",
    "race_frame",
    "draw_race",
    "update_race",
    "race_widget",
    "GROUPS",
    "SeedBands",
    "seed_bands",
    "draw_seed_bands",
    "seed_band_widget",
    "ProfileAt",
    "profile_at",
    "draw_profile",
    "profile_widget",
    "default_rows",
]

#: The contestants of the race, first group: the named optimizers of chapters 01-06 (the fixed
#: list that the rest of the chapter compares on real problems).
RACE_OPTIMIZERS = (
    "sgd",
    "momentum",
    "nesterov",
    "adagrad",
    "rmsprop",
    "adam",
    "adamw",
    "adamax",
    "nadam",
    "radam",
    "adabelief",
)
#: The second group: the named optimizers that chapters 07-11 add to lib.optim.
RACE_LATER = ("schedule_free_sgd", "schedule_free_adamw", "lars", "lamb", "adadelta", "adafactor", "lion")
#: Every raced optimizer (:func:`race` runs them all; a figure draws one group at a time).
RACE_ALL = RACE_OPTIMIZERS + RACE_LATER
#: The figure's groups, so that each stays readable; SGD and Adam appear in both as references.
RACE_GROUPS = {"chapters 1-6": RACE_OPTIMIZERS, "chapters 7-11": ("sgd", "adam") + RACE_LATER}
#: Named optimizers of lib.optim that cannot race on a 2-D point, and why.
RACE_EXCLUDED = {
    "muon": "orthogonalises the update of a weight matrix; a 2-D point is a vector, which Muon refuses",
    "muon_with_adamw": "gives every vector to AdamW at its own fixed adamw_lr, so tuning lr would change nothing",
}
RACE_FUNCTIONS = ("ravine", "saddle", "beale")
#: Worker processes for the race and the default rows (the runs are independent; two cores).
N_JOBS = min(2, os.cpu_count() or 1)
RACE_STEPS = 300
#: Trials per optimizer in the race's tuning (the same for every optimizer).
RACE_BUDGET = 7
RACE_LR_RANGE = (1e-3, 3.0)
#: Optimizers whose learning rate lives on another scale get a shifted range (same number of
#: trials): LARS multiplies it by a trust ratio 0.001·‖θ‖/‖g‖, Adadelta's first steps are of
#: size lr·√ε·|g|/√(ε + g²) (its default lr is 1).
RACE_LR_RANGES = {"lars": (3e-2, 100.0), "adadelta": (3e-2, 100.0)}
RACE_TARGET = 1e-6
RACE_FRAMES = (10, 30, 100, 300)

#: One colour and line style per optimizer: the SGD family in greys and black, the rest in the
#: Okabe-Ito palette.
STYLES = {
    "sgd": {"color": "#000000", "linestyle": ":"},
    "momentum": {"color": "#000000", "linestyle": "--"},
    "nesterov": {"color": "#777777", "linestyle": "-"},
    "adagrad": {"color": "#56B4E9", "linestyle": "-"},
    "rmsprop": {"color": "#E69F00", "linestyle": "-"},
    "adam": {"color": "#0072B2", "linestyle": "-"},
    "adamw": {"color": "#0072B2", "linestyle": ":"},
    "adamax": {"color": "#009E73", "linestyle": "--"},
    "nadam": {"color": "#CC79A7", "linestyle": "-"},
    "radam": {"color": "#D55E00", "linestyle": "-"},
    "adabelief": {"color": "#009E73", "linestyle": "-"},
    "schedule_free_sgd": {"color": "#000000", "linestyle": "-."},
    "schedule_free_adamw": {"color": "#0072B2", "linestyle": "-."},
    "lars": {"color": "#E69F00", "linestyle": "--"},
    "lamb": {"color": "#D55E00", "linestyle": "--"},
    "adadelta": {"color": "#CC79A7", "linestyle": "--"},
    "adafactor": {"color": "#009E73", "linestyle": "-."},
    "lion": {"color": "#56B4E9", "linestyle": "--"},
}


def _style(name: str) -> dict:
    return STYLES.get(name, {"color": "#999999", "linestyle": "-."})


# --------------------------------------------------------------------------------------------
# 1. The race


class RaceResult(NamedTuple):
    r"""What :func:`race` returns: per optimizer, the tuned ``lrs``, the ``paths`` (``(k+1, 2)``,
    the start first) and the ``gaps`` :math:`f(\theta_t) - f^\star` (``k`` values) of the run
    from the standard start, its ``steps_to_target``, and the protocol's tidy ``rows`` (tuning
    runs, and :data:`RACE_SEEDS` final runs from jittered starts)."""

    function: str
    lrs: dict
    paths: dict
    gaps: dict
    steps_to_target: dict
    rows: tuple


#: Final runs per optimizer in the race, each from the start plus N(0, RACE_JITTER²) noise.
RACE_SEEDS = 3
RACE_JITTER = 0.05


@functools.cache
def race(function: str = "ravine", optimizers: tuple = RACE_ALL, steps: int = RACE_STEPS) -> RaceResult:
    r"""Every optimizer on ``function`` through :func:`lib.compare.protocol`: the learning rate
    chosen from :data:`RACE_BUDGET` log-spaced values in :data:`RACE_LR_RANGE` (or the
    optimizer's own range in :data:`RACE_LR_RANGES`; lowest final
    :math:`f - f^\star` from the standard start), then :data:`RACE_SEEDS` runs from jittered
    starts. The paths drawn are those from the standard start at the tuned rate. Cached.

    >>> r = race("ravine", ("sgd", "adam"), steps=50)
    >>> sorted(r.lrs), r.paths["adam"].shape
    (['adam', 'sgd'], (51, 2))
    """
    if function not in RACE_FUNCTIONS:
        raise ValueError(f"function must be one of {RACE_FUNCTIONS}, got {function!r}")
    f = functions.get(function)
    base = compare.objective_problem(f, steps=steps, target=RACE_TARGET, jitter=RACE_JITTER)
    registry = compare.named_optimizers()
    unknown = [name for name in optimizers if name not in registry]
    if unknown:
        raise ValueError(f"unknown optimizers {unknown}; lib.optim has {sorted(registry)}")

    def one(name):
        """Tune ``name`` and rerun it from jittered starts; the path drawn is the tuning run at
        the chosen rate (from the standard start: seed 0, the tuning seed), kept, not rerun."""
        tuning_runs = []  # in the order of the grid

        def run(optimizer, seed):
            out = base.run(optimizer, seed)
            if seed == 0:
                tuning_runs.append(out)
            return out

        lr_range = RACE_LR_RANGES.get(name, RACE_LR_RANGE)
        rows = compare.protocol(
            [base._replace(run=run)], {name: registry[name]}, budget=RACE_BUDGET, seeds=RACE_SEEDS, lr_range=lr_range
        )
        lr = next(r["lr"] for r in rows if r["phase"] == "final")
        chosen = tuning_runs[[r["lr"] for r in rows if r["phase"] == "tune"].index(lr)]
        return rows, lr, chosen.metrics["path"], chosen.curve, chosen.steps

    results = compare.map_tasks([functools.partial(one, name) for name in optimizers], N_JOBS)
    rows, lrs, paths, gaps, hits = [], {}, {}, {}, {}
    for name, (new, lr, path, curve, steps) in zip(optimizers, results):
        rows += new
        lrs[name], paths[name], gaps[name] = lr, path, curve
        hits[name] = compare.steps_to_target(curve, steps, RACE_TARGET)
    return RaceResult(function, lrs, paths, gaps, hits, tuple(rows))


class RaceFrame(NamedTuple):
    race: RaceResult
    t: int
    group: str = "chapters 1-6"


def race_frame(function: str = "ravine", t: int = RACE_STEPS, group: str = "chapters 1-6") -> RaceFrame:
    """The race on ``function`` up to step ``t`` (what one frame of the animation shows), for
    the optimizers of ``group`` (a key of :data:`RACE_GROUPS`)."""
    if not (isinstance(t, (int, np.integer)) and 0 <= t <= RACE_STEPS):
        raise ValueError(f"t must be an integer step in [0, {RACE_STEPS}], got {t!r}")
    if group not in RACE_GROUPS:
        raise ValueError(f"group must be one of {list(RACE_GROUPS)}, got {group!r}")
    return RaceFrame(race(function), int(t), group)


def draw_race(frame: RaceFrame, fig) -> None:
    """Left: contours, each path up to step t and its current point; right: f(θ_t) − f*."""

    from lib import plotting

    r = frame.race
    f = functions.get(r.function)
    ax_path, ax_gap = fig.subplots(1, 2, gridspec_kw={"width_ratios": (1.15, 1)})
    plotting.contour(ax_path, f, n=50, levels=16)
    lines = {}
    for name in RACE_GROUPS[frame.group]:
        if name not in r.paths:
            continue
        st = _style(name)
        p, steps, gaps = _race_upto(r, name, frame.t)
        path = ax_path.plot(p[:, 0], p[:, 1], lw=1.2, **st)[0]
        point = ax_path.plot(p[-1, 0], p[-1, 1], "o", ms=3.5, color=st["color"])[0]
        lines[name] = path, point, ax_gap.plot(steps, gaps, lw=1.2, label=name, **st)[0]
    ax_path.set_xlim(f.xlim)
    ax_path.set_ylim(f.ylim)
    ax_path.set_xlabel("θ₁")
    ax_path.set_ylabel("θ₂", labelpad=0)
    ax_gap.set_yscale("log")
    ax_gap.set_xlim(0, RACE_STEPS)
    ax_gap.set_ylim(1e-14, 1e3)
    plain_log_axis(ax_gap.yaxis, numticks=5)
    ax_gap.set_xlabel("step t")
    ax_gap.set_ylabel("f(θ_t) − f*")
    ax_gap.legend(loc="upper left", bbox_to_anchor=(1.0, 1.02), fontsize="x-small", frameon=False)
    fig.subplots_adjust(left=0.08, right=0.8, bottom=0.15, top=0.9, wspace=0.4)
    fig._descent_race = lines, fig.suptitle(_race_title(frame), fontsize="small")


def _race_upto(r: RaceResult, name: str, t: int) -> tuple:
    """``name``'s path up to step ``t`` (``(t + 1, 2)``), and its curve: steps 1..t and f − f*
    (NaN where it is 0, which a log axis cannot show)."""
    g = r.gaps[name][:t]
    return r.paths[name][: t + 1], np.arange(1, len(g) + 1), np.where(g > 0, g, np.nan)


def _race_title(frame: RaceFrame) -> str:
    return (
        f"{frame.race.function}, optimizers of {frame.group}, each at its own tuned learning rate: "
        f"step {frame.t} of {RACE_STEPS}"
    )


def update_race(frame: RaceFrame, fig) -> None:
    """Move a figure of :func:`draw_race` (same function and group) to step ``frame.t``: the
    paths, the current points, the curves and the title; the axes, contours and legend stay."""
    lines, title = fig._descent_race
    for name, (path, point, gap) in lines.items():
        p, steps, gaps = _race_upto(frame.race, name, frame.t)
        path.set_data(p[:, 0], p[:, 1])
        point.set_data(p[-1:, 0], p[-1:, 1])
        gap.set_data(steps, gaps)
    title.set_text(_race_title(frame))


def race_widget() -> Widget:
    """Function × step × group over :func:`race_frame`: the classic animations as a frame
    scrubber (24 frames). The three races run when the widget is built (once: :func:`race` is
    cached, and the chapter has run them already), so that every slider move only draws."""
    for function in RACE_FUNCTIONS:
        race(function)
    return Widget(
        compute=race_frame,
        draw=draw_race,
        controls=(
            Control("function", RACE_FUNCTIONS, "function", default="ravine", fmt="{}"),
            Control("t", RACE_FRAMES, "step t", default=30, fmt="{:d}"),
            Control("group", tuple(RACE_GROUPS), "optimizers of", default="chapters 1-6", fmt="{}"),
        ),
        figsize=(8.0, 3.3),
        title="The optimizer race, regenerated: paths and losses up to step t",
        style=course_style(),
        update=update_race,  # the frames of one function and group share their figure
        reuse_key=lambda frame: (frame.race.function, frame.group),
    )


# --------------------------------------------------------------------------------------------
# 2. Tuned curves with seed bands

#: The widget's groups of optimizers (a static page cannot offer every subset).
GROUPS = {
    "SGD family": ("sgd", "momentum", "nesterov"),
    "per-parameter": ("sgd", "adagrad", "rmsprop", "adam"),
    "Adam family": ("adam", "adamw", "nadam", "radam", "adabelief"),
}


class SeedBands(NamedTuple):
    """Per optimizer: ``steps`` (evaluation points), the ``median`` validation curve and the
    ``q25`` / ``q75`` band over seeds, the tuned ``setting`` and the number of seeds ``n``."""

    problem: str
    target: float
    steps: dict
    median: dict
    q25: dict
    q75: dict
    setting: dict
    n: dict


def seed_bands(rows, problem: str, optimizers, target: float = math.nan) -> SeedBands:
    """Median and interquartile band of the kept curves of the ``"final"`` rows of ``problem``
    (rows from :func:`lib.compare.protocol` with ``keep_curves=True``)."""
    out = {k: {} for k in ("steps", "median", "q25", "q75", "setting", "n")}
    for name in optimizers:
        rs = [r for r in rows if r["problem"] == problem and r["optimizer"] == name and r["phase"] == "final"]
        if not rs:
            continue
        if "curve" not in rs[0]:
            raise ValueError("the rows have no curves: run lib.compare.protocol(..., keep_curves=True)")
        C = np.array([r["curve"] for r in rs], dtype=float)
        q25, med, q75 = np.percentile(C, [25, 50, 75], axis=0, method="lower")
        out["steps"][name] = np.asarray(rs[0]["curve_steps"], dtype=float)
        out["median"][name], out["q25"][name], out["q75"][name] = med, q25, q75
        out["setting"][name], out["n"][name] = rs[0]["setting"], len(rs)
    if not out["median"]:
        raise ValueError(f"no final rows for problem {problem!r} and optimizers {list(optimizers)}")
    return SeedBands(problem, float(target), **out)


def draw_seed_bands(data: SeedBands, fig) -> None:
    """Median validation loss (line) and its interquartile band over seeds, per optimizer."""
    ax = fig.subplots()
    _seed_band_curves(data, ax)
    ax.set_yscale("log")
    plain_log_axis(ax.yaxis, numticks=6)  # few ticks, plain-text labels: a fast redraw
    ax.set_xlabel("update step")
    ax.set_ylabel("validation loss")
    fig._descent_title = fig.suptitle(_seed_band_title(data), fontsize="small")
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.15, top=0.9)


def _seed_band_curves(data: SeedBands, ax) -> None:
    """The bands, the median lines, the target and the legend."""
    for name, med in data.median.items():
        st = _style(name)
        s = data.steps[name]
        ax.fill_between(
            s, np.minimum(data.q25[name], 1e6), np.minimum(data.q75[name], 1e6), color=st["color"], alpha=0.18, lw=0
        )
        ax.plot(s, np.where(np.isfinite(med), med, np.nan), lw=1.5, label=f"{name} ({data.setting[name]})", **st)
    if math.isfinite(data.target):
        ax.axhline(data.target, color="0.3", lw=0.8, linestyle=(0, (1, 3)), label="target")
    ax.legend(loc="upper right", fontsize="x-small", frameon=False)


def _seed_band_title(data: SeedBands) -> str:
    n = max(data.n.values())
    return f"{data.problem}: median and interquartile band over {n} seeds, each at its tuned setting"


def update_seed_bands(data: SeedBands, fig) -> None:
    """Turn a figure of :func:`draw_seed_bands` into another group's frame (same problem): the
    bands, lines, target and legend are drawn again and the axes rescale to them; the log axis
    and its labels stay. The bands are removed first, so that ``relim`` starts from nothing."""
    ax = fig.axes[0]
    for band in list(ax.collections):
        band.remove()
    clear_curves(ax)
    _seed_band_curves(data, ax)
    fig._descent_title.set_text(_seed_band_title(data))


@functools.lru_cache(maxsize=1)
def default_rows() -> tuple:
    """Small protocol results used when a widget gets no rows: least squares (κ = 1000) and the
    ravine, every optimizer of :data:`RACE_OPTIMIZERS`, budget 6, 3 seeds (a few seconds)."""
    registry = compare.named_optimizers()
    opts = {k: registry[k] for k in RACE_OPTIMIZERS}
    problems = [
        compare.least_squares_problem(1e3, steps=150),
        compare.objective_problem(functions.get("ravine"), steps=300, jitter=RACE_JITTER),
    ]
    rows = []
    for p, lr_range in zip(problems, [(1e-4, 1.0), RACE_LR_RANGE]):
        rows += compare.protocol([p], opts, budget=6, seeds=3, lr_range=lr_range, keep_curves=True, n_jobs=N_JOBS)
    return tuple(rows), tuple((p.name, p.target) for p in problems)


def seed_band_widget(rows=None, targets: dict | None = None) -> Widget:
    """Problem × group of optimizers over :func:`seed_bands` (``rows`` from
    ``lib.compare.protocol(..., keep_curves=True)``; :func:`default_rows` if omitted)."""
    if rows is None:
        rows, pairs = default_rows()
        targets = dict(pairs)
    rows = list(rows)
    targets = targets or {}
    problems = tuple(dict.fromkeys(r["problem"] for r in rows if r["phase"] == "final"))

    def compute(problem=problems[0], group="per-parameter"):
        if group not in GROUPS:
            raise ValueError(f"group must be one of {list(GROUPS)}, got {group!r}")
        return _bands(problem, group)

    @functools.cache
    def _bands(problem, group):
        return seed_bands(rows, problem, GROUPS[group], targets.get(problem, math.nan))

    return Widget(
        compute=compute,
        draw=draw_seed_bands,
        controls=(
            Control("problem", problems, "problem", default=problems[0], fmt="{}"),
            Control("group", tuple(GROUPS), "optimizers", default="per-parameter", fmt="{}"),
        ),
        figsize=(7.0, 3.4),
        title="Tuned optimizers over several seeds",
        update=update_seed_bands,  # one figure per problem: its axes stay
        reuse_key=lambda data: data.problem,
        style=course_style(),
    )


# --------------------------------------------------------------------------------------------
# 3. The performance profile

TAUS = (1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


class ProfileAt(NamedTuple):
    """The whole profile on ``taus`` and its values ``rho`` at the chosen ``tau``."""

    taus: np.ndarray
    profile: dict
    tau: float
    rho: dict
    n_problems: int


def profile_at(costs: dict, tau: float, taus=None) -> ProfileAt:
    """:func:`lib.compare.performance_profile` of ``costs`` on a fine τ grid, and at ``tau``."""
    grid = np.geomspace(1.0, 100.0, 120) if taus is None else np.asarray(taus, dtype=float)
    prof = compare.performance_profile(costs, grid)
    at = compare.performance_profile(costs, [tau])
    return ProfileAt(grid, prof, float(tau), {m: float(v[0]) for m, v in at.items()}, len(next(iter(costs.values()))))


def draw_profile(data: ProfileAt, fig) -> None:
    """Left: the profiles with a vertical line at τ; right: ρ_s(τ) per method, sorted."""
    ax_prof, ax_bar = fig.subplots(1, 2, gridspec_kw={"width_ratios": (1.3, 1)})
    compare.plot_performance_profile(ax_prof, data.profile, data.taus, styles={m: _style(m) for m in data.profile})
    fig._descent_tau_line = ax_prof.axvline(data.tau, color="#D55E00", lw=1)
    plain_log_axis(ax_prof.xaxis)
    ax_bar.set_xlim(0, 1)
    _profile_bars(data, ax_bar)
    ax_prof.set_xlabel("τ")
    fig.suptitle(
        f"Performance profile over {data.n_problems} problems: the fraction on which each method "
        f"is within a factor τ of the best",
        fontsize="small",
    )
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.16, top=0.88, wspace=0.35)


def _profile_bars(data: ProfileAt, ax_bar) -> None:
    """ρ_s(τ) as horizontal bars, the best method on top."""
    order = sorted(data.rho, key=lambda m: (-data.rho[m], m))
    y = np.arange(len(order))[::-1]
    ax_bar.barh(y, [data.rho[m] for m in order], color=[_style(m)["color"] for m in order], alpha=0.8)
    ax_bar.set_yticks(y)
    ax_bar.set_yticklabels(order, fontsize="x-small")
    ax_bar.set_xlabel(f"ρ(τ = {data.tau:g})")


def update_profile(data: ProfileAt, fig) -> None:
    """Turn a figure of :func:`draw_profile` into another τ's frame: the profiles stay; the line
    at τ moves and the bars are drawn again (same methods, so the same axes ranges)."""
    fig._descent_tau_line.set_xdata([data.tau, data.tau])
    ax_bar = fig.axes[1]
    for bars in list(ax_bar.containers):
        bars.remove()
    _profile_bars(data, ax_bar)


def profile_widget(costs: dict | None = None) -> Widget:
    """A τ slider over :func:`profile_at` (``costs`` as for :func:`lib.compare.performance_profile`;
    from :func:`default_rows` if omitted)."""
    if costs is None:
        rows, _ = default_rows()
        costs = compare.cost_table(compare.summarize(list(rows)), "steps_to_target_median")
    costs = {m: dict(c) for m, c in costs.items()}

    @functools.cache
    def compute(tau=2.0):
        return profile_at(costs, tau)

    return Widget(
        compute=compute,
        draw=draw_profile,
        controls=(Control("tau", TAUS, "τ", default=2.0),),
        figsize=(7.5, 3.3),
        title="Performance profile: slide τ",
        update=update_profile,  # the profiles are the same in every frame
        reuse_key=lambda data: "one figure",
        style=course_style(),
    )
