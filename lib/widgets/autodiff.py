r"""Chapter 2's widgets: the step size of a finite difference, and a computational-graph explorer.

Each widget is a pure ``compute`` (returns a ``NamedTuple``; tested in
``tests/test_widgets_autodiff.py``), a ``draw`` and its controls; :func:`lib.widgets.show`
displays it live or as a static frame scrubber. :func:`draw_graph` draws the computational
graph of a :class:`lib.autodiff.Trace` with matplotlib alone (no Graphviz); the lesson uses it
too.

>>> from lib.widgets import show
>>> show(step_size_widget())          # doctest: +SKIP
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np

from lib import autodiff as AD
from lib import gradcheck
from lib.plotting import plain_log_axis
from lib.widgets import Control, Widget, course_style

__all__ = [
    "StepSizeStudy",
    "step_size_study",
    "draw_step_size_study",
    "step_size_widget",
    "worked_example",
    "worked_example_trace",
    "graph_layout",
    "draw_graph",
    "GraphStep",
    "graph_step",
    "draw_graph_step",
    "graph_explorer_widget",
]

COLORS = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000")

# --------------------------------------------------------------------------------------------
# 1. Step size h against the error of a difference quotient

#: f = sin at x = 1: f' = cos 1, |f| = |f''| = sin 1, |f'''| = cos 1.
X0 = 1.0
STEPS = tuple(10.0**-k for k in range(1, 11))
H_GRID = np.logspace(-15, 0, 61)
PRECISIONS = ("float64", "float32")
METHODS = ("forward", "central")


class StepSizeStudy(NamedTuple):
    """What :func:`step_size_study` returns."""

    method: str  # "forward" or "central"
    precision: str  # "float64" or "float32"
    eps: float  # machine epsilon of the precision
    h: float  # the chosen step
    estimate: float  # the difference quotient at h
    exact: float  # f'(x) = cos 1
    error: float  # |estimate - exact|
    truncation: float  # the model's truncation term at h
    roundoff: float  # the model's round-off term at h
    h_star: float  # the step that minimises the model
    grid: np.ndarray  # steps of the sweep
    errors: np.ndarray  # measured |error| over the sweep
    model: np.ndarray  # truncation + round-off over the sweep
    summary: str


def _model_terms(h, method, eps):
    s, c = math.sin(X0), math.cos(X0)
    if method == "forward":
        return h * s / 2, 2 * eps * s / h
    return h * h * c / 6, eps * s / h


def step_size_study(h: float = 1e-5, method: str = "central", precision: str = "float64") -> StepSizeStudy:
    r"""The error of the forward or central difference of :math:`\sin` at :math:`x = 1` with step
    ``h`` in ``float64`` or ``float32``, over a sweep of steps, with the model
    :func:`lib.gradcheck.error_model` and its optimum :func:`lib.gradcheck.optimal_step`.

    >>> s = step_size_study(1e-5, "central", "float64")
    >>> s.error < 1e-10, f"{s.h_star:.1e}"
    (True, '1.0e-05')
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    dtype = np.float64 if precision == "float64" else np.float32
    eps = float(np.finfo(dtype).eps)
    exact = math.cos(X0)
    estimate = float(gradcheck.difference_quotient(np.sin, X0, h, method=method, dtype=dtype))
    errors = np.abs(gradcheck.difference_quotient(np.sin, X0, H_GRID, method=method, dtype=dtype).astype(float) - exact)
    f = dict(eps=eps, f0=math.sin(X0), f2=math.sin(X0), f3=math.cos(X0))
    model = gradcheck.error_model(H_GRID, method, **f)
    h_star = gradcheck.optimal_step(method, **f)
    truncation, roundoff = _model_terms(h, method, eps)
    error = abs(estimate - exact)
    dominant = "truncation" if truncation > roundoff else "round-off"
    summary = (
        f"{method} difference in {precision}, h = {h:.0e}: error {error:.1e} "
        f"({dominant} dominates; best h ≈ {h_star:.0e})"
    )
    for a in (errors, model):
        a.flags.writeable = False
    return StepSizeStudy(
        method,
        precision,
        eps,
        float(h),
        estimate,
        exact,
        error,
        truncation,
        roundoff,
        h_star,
        H_GRID,
        errors,
        model,
        summary,
    )


def draw_step_size_study(s: StepSizeStudy, fig) -> None:
    """Measured error against h (log-log) with the model's two terms and their sum, the
    predicted best step h* and the chosen h."""
    ax = fig.subplots()
    trunc, round_off = _model_terms(s.grid, s.method, s.eps)
    ax.loglog(
        s.grid,
        np.where(s.errors > 0, s.errors, np.nan),
        "o-",
        ms=2.5,
        lw=1,
        color=COLORS[0],
        label="measured error",
        zorder=3,
    )
    ax.loglog(s.grid, s.model, "-", lw=2.5, alpha=0.35, color=COLORS[1], label="model = truncation + round-off")
    ax.loglog(
        s.grid,
        trunc,
        "--",
        lw=1,
        color=COLORS[3],
        label="truncation " + ("h|f″|/2" if s.method == "forward" else "h²|f‴|/6"),
    )
    ax.loglog(
        s.grid,
        round_off,
        ":",
        lw=1.2,
        color=COLORS[4],
        label="round-off " + ("2ε|f|/h" if s.method == "forward" else "ε|f|/h"),
    )
    ax.axvline(s.h_star, color="0.3", ls="-.", lw=1, label=f"predicted best h* = {s.h_star:.0e}")
    (chosen,) = ax.plot(
        [s.h],
        [max(s.error, 1e-17)],
        "o",
        ms=10,
        mfc="none",
        mec=COLORS[2],
        mew=2,
        label=f"chosen h = {s.h:.0e}",
        zorder=4,
    )
    ax.set_ylim(1e-14, 1e6)
    ax.set_xlim(1e-15, 1)
    plain_log_axis(ax.xaxis, numticks=6)
    plain_log_axis(ax.yaxis, numticks=6)
    ax.set_xlabel("step h")
    ax.set_ylabel("|error| of the derivative")
    legend = ax.legend(loc="upper center", fontsize=7.5, frameon=False, ncol=2, handlelength=1.8, columnspacing=1.0)
    title = fig.suptitle(s.summary, fontsize="medium")
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.14, top=0.9)
    fig._descent_chosen = chosen, legend.get_texts()[-1], title


def update_step_size_study(s: StepSizeStudy, fig) -> None:
    """Move a figure of :func:`draw_step_size_study` (same method and precision) to the step
    ``s.h``: the chosen point, its legend entry and the title; the curves stay."""
    chosen, label, title = fig._descent_chosen
    chosen.set_data([s.h], [max(s.error, 1e-17)])
    label.set_text(f"chosen h = {s.h:.0e}")
    title.set_text(s.summary)


def step_size_widget() -> Widget:
    """Step, method and precision sliders over :func:`step_size_study`: the U-shaped error."""
    return Widget(
        compute=step_size_study,
        draw=draw_step_size_study,
        controls=(
            Control("h", STEPS, "step h", default=1e-5, fmt="{:.0e}"),
            Control("method", METHODS, "difference", default="central", fmt="{}"),
            Control("precision", PRECISIONS, "precision", default="float64", fmt="{}"),
        ),
        figsize=(7.5, 3.4),
        title="Finite differences: truncation error against round-off error",
        style=course_style(),
        update=update_step_size_study,  # the frames of one method and precision share their curves
        reuse_key=lambda s: (s.method, s.precision),
    )


# --------------------------------------------------------------------------------------------
# 2. The computational graph of the worked example, forward then backward


def worked_example(x1, x2):
    r"""The running example of :cite:t:`baydin2018automatic`:
    :math:`f(x_1, x_2) = \ln x_1 + x_1 x_2 - \sin x_2`, written as its evaluation trace."""
    v1 = AD.log(x1)
    v2 = x1 * x2
    v3 = AD.sin(x2)
    v4 = v1 + v2
    v5 = v4 - v3
    return v5


@functools.lru_cache(maxsize=4)
def worked_example_trace(x1: float = 2.0, x2: float = 5.0) -> AD.Trace:
    """The :class:`lib.autodiff.Trace` of :func:`worked_example` at (x1, x2) (cached)."""
    return AD.trace(worked_example, x1, x2)


def graph_layout(t: AD.Trace) -> dict:
    """Positions ``{id(node): (x, y)}``: x = depth (longest path from an input), y spread
    within a depth; a node alone at its depth sits at the mean height of its parents."""
    depth, pos = {}, {}
    for v in t.nodes:
        parents = [p for p in v.parents if p.op != "const"]
        depth[id(v)] = 0 if not parents else 1 + max(depth[id(p)] for p in parents)
    levels: dict = {}
    for v in t.nodes:
        levels.setdefault(depth[id(v)], []).append(v)
    for d in sorted(levels):
        nodes = levels[d]
        if len(nodes) == 1 and d > 0:
            parents = [p for p in nodes[0].parents if p.op != "const"]
            pos[id(nodes[0])] = (float(d), float(np.mean([pos[id(p)][1] for p in parents])))
        else:
            for i, v in enumerate(nodes):
                pos[id(v)] = (float(d), (len(nodes) - 1) / 2 - i)
    return pos


def draw_graph(
    ax,
    t: AD.Trace,
    *,
    values=True,
    adjoints: dict | None = None,
    highlight: tuple = (),
    highlight_edge: tuple | None = None,
    edge_text: str = "",
) -> None:
    r"""Draw the computational graph of trace ``t`` on ``ax`` with matplotlib.

    Each node shows its label and operation, its value when ``values`` is true (or a set of
    node ids whose values are known), and its adjoint :math:`\bar v` when ``adjoints`` (a dict
    id -> value) has it. ``highlight`` (node ids) and ``highlight_edge`` ((parent id, child id))
    are drawn in colour, the edge pointing backwards (child to parent, the way the adjoint
    flows) with ``edge_text`` beside it.
    """
    pos = graph_layout(t)
    adjoints = adjoints or {}
    known = set(id(v) for v in t.nodes) if values is True else set(values or ())
    boxes = {}
    for row, v in zip(t.forward_rows, t.nodes):
        x, y = pos[id(v)]
        lines = [f"{row.label} = {row.expression}"]
        if id(v) in known:
            lines.append(f"{row.value:.4g}")
        if id(v) in adjoints:
            lines.append(f"{row.label[0]}\u0304{row.label[1:]} = {adjoints[id(v)]:.4g}")
        hot = id(v) in highlight
        edge = COLORS[2] if hot else ("0.35" if id(v) in known else "0.7")
        face = "#e8f4ee" if hot else ("#fff4e0" if id(v) in adjoints else "white")
        boxes[id(v)] = ax.text(
            x,
            y,
            "\n".join(lines),
            ha="center",
            va="center",
            fontsize=8.5,
            zorder=3,
            bbox=dict(boxstyle="round,pad=0.35", fc=face, ec=edge, lw=2 if hot else 1),
        )
    for v in t.nodes:
        for p in v.parents:
            if p.op == "const":
                continue
            hot = highlight_edge == (id(p), id(v))
            head, tail = (p, v) if hot else (v, p)  # the adjoint flows child -> parent
            ax.annotate(
                "",
                xy=pos[id(head)],
                xytext=pos[id(tail)],
                zorder=1,
                arrowprops=dict(
                    arrowstyle="-|>",
                    mutation_scale=11,
                    lw=2.2 if hot else 1.0,
                    color=COLORS[1] if hot else "0.55",
                    shrinkA=1,
                    shrinkB=1,
                    patchA=boxes[id(tail)].get_bbox_patch(),
                    patchB=boxes[id(head)].get_bbox_patch(),
                ),
            )
            if hot and edge_text:
                (x0, y0), (x1, y1) = pos[id(p)], pos[id(v)]
                ax.text(
                    (x0 + x1) / 2,
                    (y0 + y1) / 2 + 0.12,
                    edge_text,
                    ha="center",
                    va="bottom",
                    fontsize=8,
                    color=COLORS[1],
                    zorder=4,
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85),
                )
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.5, max(xs) + 0.5)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    ax.set_axis_off()


class GraphStep(NamedTuple):
    """What :func:`graph_step` returns: the state of the two passes after ``step`` steps."""

    step: int
    phase: str  # "start", "forward" or "backward"
    known: frozenset  # ids of nodes whose values are computed
    adjoints: dict  # id -> adjoint accumulated so far
    highlight: tuple  # ids of the node(s) just computed or updated
    edge: tuple | None  # (parent id, child id) of the backward update just made
    edge_text: str  # the local derivative on that edge
    equation: str  # the line of the trace or the adjoint table just executed
    n_steps: int  # the last step index
    trace: AD.Trace  # the trace the ids refer to


def graph_step(step: int = 0, x1: float = 2.0, x2: float = 5.0) -> GraphStep:
    r"""The forward pass (one node per step), then the backward pass (one adjoint update per
    step) on :func:`worked_example`; step 0 is the empty graph.

    >>> s = graph_step(graph_step().n_steps)
    >>> s.trace.gradient.round(4).tolist()                 # (1/x1 + x2, x1 - cos x2)
    [5.5, 1.7163]
    """
    t = worked_example_trace(x1, x2)
    nodes = t.nodes
    n_forward, n_backward = len(nodes), len(t.adjoint_rows)
    n_steps = n_forward + n_backward
    if not 0 <= step <= n_steps:
        raise ValueError(f"step must be between 0 and {n_steps}, got {step}")
    by_label = {t.labels[id(v)]: v for v in nodes}
    if step == 0:
        return GraphStep(
            0,
            "start",
            frozenset(),
            {},
            (),
            None,
            "",
            "step 0: the graph of the program, nothing evaluated yet",
            n_steps,
            t,
        )
    if step <= n_forward:
        known = frozenset(id(v) for v in nodes[:step])
        row = t.forward_rows[step - 1]
        return GraphStep(
            step,
            "forward",
            known,
            {},
            (id(nodes[step - 1]),),
            None,
            "",
            f"forward {step}/{n_forward}:  {row.label} = {row.expression} = {row.value:.4f}",
            n_steps,
            t,
        )
    known = frozenset(id(v) for v in nodes)
    adjoints: dict = {}
    k = step - n_forward
    for r in t.adjoint_rows[:k]:
        adjoints[id(by_label[r.target])] = r.total
    r = t.adjoint_rows[k - 1]
    target = by_label[r.target]
    bar = f"{r.target[0]}\u0304{r.target[1:]}"
    if r.source == "y":
        return GraphStep(
            step,
            "backward",
            known,
            adjoints,
            (id(target),),
            None,
            "",
            f"backward 1/{n_backward}:  seed {bar} = ∂y/∂y = 1",
            n_steps,
            t,
        )
    source = by_label[r.source]
    sbar = f"{r.source[0]}\u0304{r.source[1:]}"
    plus = "" if r.first else f"{bar} + "
    equation = (
        f"backward {k}/{n_backward}:  {bar} = {plus}{sbar} × ∂{r.source}/∂{r.target}"
        f" = {plus}{sbar} × {r.partial_text} = {r.total:.4f}"
    )
    return GraphStep(
        step,
        "backward",
        known,
        adjoints,
        (id(target),),
        (id(target), id(source)),
        f"∂{r.source}/∂{r.target} = {r.partial:.3g}",
        equation,
        n_steps,
        t,
    )


def draw_graph_step(s: GraphStep, fig) -> None:
    """The graph with the values and adjoints known at this step; the step's equation above."""
    ax = fig.subplots()
    draw_graph(
        ax,
        s.trace,
        values=s.known,
        adjoints=s.adjoints,
        highlight=s.highlight,
        highlight_edge=s.edge,
        edge_text=s.edge_text,
    )
    title = {
        "start": "f(x₁, x₂) = ln x₁ + x₁x₂ − sin x₂ at (2, 5)",
        "forward": "forward pass: compute and store every value",
        "backward": "backward pass: adjoints v̄ = ∂y/∂v, from the output back",
    }[s.phase]
    fig.suptitle(title, fontsize="medium")
    fig.text(0.5, 0.03, s.equation, ha="center", fontsize=9.5, family="DejaVu Sans")
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.12, top=0.9)


def graph_explorer_widget() -> Widget:
    """A step slider over :func:`graph_step`: the forward pass, then the backward pass."""
    n = graph_step().n_steps
    return Widget(
        compute=graph_step,
        draw=draw_graph_step,
        controls=(Control("step", tuple(range(n + 1)), "step", default=0, fmt="{}"),),
        figsize=(7.5, 3.6),
        title="Reverse mode on the worked example, step by step",
        style=course_style(),
    )
