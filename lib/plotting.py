r"""The course's plotting style and the few helpers every lesson uses.

Call :func:`apply_style` once at the top of a lesson; nothing changes at import. The helpers
draw on an ``Axes`` you pass in and never touch ``rcParams``.

>>> import lib.functions as F
>>> apply_style()
>>> fig, ax = figure()
>>> f = F.rosenbrock()
>>> cs = contour(ax, f)
>>> line = path(ax, [f.start, [0.0, 0.0], f.minima[0]], label="a path")
"""

from __future__ import annotations

import math

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import ticker

__all__ = ["COLORS", "apply_style", "figure", "contour", "path", "loss_curve", "power_of_ten_label", "plain_log_axis"]

#: The Okabe–Ito palette, safe for colour-blind readers, in the order lines are drawn:
#: blue, vermillion, bluish green, orange, reddish purple, sky blue, black, yellow.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")

STYLE = {
    "figure.dpi": 100,
    "figure.figsize": (5.5, 3.8),
    "figure.constrained_layout.use": True,
    "font.size": 10.5,
    "axes.titlesize": 11,
    "axes.labelsize": 10.5,
    "legend.fontsize": 9.5,
    "legend.frameon": False,
    "axes.prop_cycle": mpl.cycler(color=COLORS),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e5e5e5",
    "grid.linewidth": 0.6,
    "lines.linewidth": 1.6,
    "image.cmap": "viridis",
}


def apply_style() -> None:
    """Set the course's matplotlib style (:data:`STYLE`): call once at the top of a lesson.

    In a Jupyter kernel it also tells the inline backend to save each figure at the size it was
    made (``bbox_inches=None``) instead of trimming it to its contents (``"tight"``, the
    backend's default): with constrained layout (part of the style) the contents already fill
    the figure, and trimming draws every figure one more time, about a quarter of its cost.
    """
    mpl.rcParams.update(STYLE)
    _inline_untrimmed()


def _inline_untrimmed() -> None:
    """``%config InlineBackend.print_figure_kwargs = {"bbox_inches": None}`` when in a kernel."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.config import InlineBackend
    except ImportError:  # no Jupyter here: nothing to configure
        return
    if getattr(get_ipython(), "kernel", None) is None:  # a script or a terminal IPython
        return

    config = InlineBackend.instance()
    if config.print_figure_kwargs.get("bbox_inches", "tight") is not None:
        config.print_figure_kwargs = {**config.print_figure_kwargs, "bbox_inches": None}  # re-registers the formatter


def figure(ncols: int = 1, nrows: int = 1, *, width: float | None = None, height: float | None = None):
    """``(fig, axes)`` as from ``plt.subplots``, sized to fit the book's text column.

    One panel is 5.5 by 3.8 inches; several panels get 3.4 by 3.2 inches each, up to a total
    width of 10 inches. ``axes`` is one ``Axes`` for a single panel, else an array.
    """
    if width is None:
        width = 5.5 if ncols == 1 else min(3.4 * ncols, 10.0)
    if height is None:
        height = 3.8 if nrows == ncols == 1 else 3.2 * nrows
    return plt.subplots(nrows, ncols, figsize=(width, height), layout="constrained")


def _log_levels(z: np.ndarray, fmin: float, count: int) -> np.ndarray:
    """``count`` levels from just above ``fmin`` to ``z.max()``, evenly spaced in log(f - fmin)."""
    gap = z[np.isfinite(z)] - fmin
    top = gap.max()
    low = max(np.quantile(gap, 0.005), top * 1e-8)  # the lowest ring encloses ~0.5% of the plot
    return fmin + np.geomspace(low, top, count)


def contour(
    ax,
    fn,
    *,
    xlim=None,
    ylim=None,
    levels=25,
    log: bool = True,
    n: int = 200,
    minima: bool = True,
    cmap: str = "viridis",
    filled: bool = False,
):
    r"""Contours of a 2-D :class:`~lib.functions.Objective`, with its minima and saddles.

    With ``log=True`` (and an integer ``levels``) the levels are spaced evenly in
    :math:`\log(f - f_{\min})`, so valleys that span orders of magnitude (Rosenbrock, Beale)
    show detail both near the minimum and on the walls. Minima are marked with a star,
    saddles with an x. ``filled=True`` draws filled contours. Returns the contour set.
    """
    xlim, ylim = xlim or fn.xlim, ylim or fn.ylim
    X, Y, Z = fn.grid(n, xlim, ylim)
    if np.ndim(levels) == 0:
        fmin = min([np.nanmin(Z)] + [fn(m) for m in fn.minima])
        if log and np.nanmax(Z) > fmin:
            levels = _log_levels(Z, fmin, int(levels))
        else:
            levels = np.linspace(fmin, np.nanmax(Z), int(levels))
        levels = np.unique(levels)  # a constant function has a single level
    colors = plt.get_cmap(cmap)(np.linspace(0, 0.95, len(levels)))  # one colour per level
    if filled:
        levels = np.concatenate([[min(np.nanmin(Z), levels[0]) - 1.0], levels])
        cs = ax.contourf(X, Y, Z, levels=levels, colors=colors)
    else:
        cs = ax.contour(X, Y, Z, levels=levels, colors=colors, linewidths=0.8)
    if minima:
        marks = [(p, "*", 13) for p in fn.minima] + [(p, "X", 9) for p in fn.saddles]
        for p, marker, size in marks:
            if xlim[0] <= p[0] <= xlim[1] and ylim[0] <= p[1] <= ylim[1]:
                ax.plot(
                    p[0],
                    p[1],
                    marker=marker,
                    markersize=size,
                    color=COLORS[-1],
                    markeredgecolor="black",
                    linestyle="none",
                    zorder=3,
                )
    ax.set(xlim=xlim, ylim=ylim, xlabel=r"$\theta_1$", ylabel=r"$\theta_2$")
    ax.grid(False)  # the contours are the grid
    return cs


def path(
    ax,
    points,
    *,
    label=None,
    color=None,
    marker: str = "o",
    markersize: float = 3,
    start: bool = True,
    end: bool = True,
):
    """Draw a trajectory ``points`` of shape ``(k, 2)``: hollow circle at the start, filled end.

    A diverging run is drawn up to its last finite point (the line stops at the first row
    holding ``inf`` or ``nan``). Returns the line (``None`` when no point is finite).
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    bad = ~np.isfinite(points).all(axis=1)
    if bad.any():
        points = points[: np.argmax(bad)]
    if len(points) == 0:
        return None
    (line,) = ax.plot(
        points[:, 0],
        points[:, 1],
        color=color,
        marker=marker,
        markersize=markersize,
        linewidth=1.3,
        label=label,
        zorder=4,
    )
    color = line.get_color()
    if start:
        ax.plot(
            *points[0],
            marker="o",
            markersize=3 * markersize,
            markerfacecolor="none",
            markeredgecolor=color,
            markeredgewidth=1.5,
            linestyle="none",
            zorder=4,
        )
    if end:
        ax.plot(
            *points[-1],
            marker=marker,
            markersize=2.5 * markersize,
            color=color,
            markeredgecolor="white",
            linestyle="none",
            zorder=5,
        )
    return line


def loss_curve(
    ax,
    values,
    *,
    label=None,
    logy: bool = True,
    color=None,
    xlabel: str = "step $t$",
    ylabel: str = r"$L(\theta_t)$",
    steps=None,
):
    r"""Plot ``values[t]`` against ``steps`` (default ``0, 1, 2, ...``); returns the line.

    On a log axis (``logy=True``) values that are not positive and finite are left out (the
    line has a gap there), so a loss that reaches exactly 0 or diverges draws no warning.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    steps = np.arange(len(values)) if steps is None else np.asarray(steps)
    if logy:
        values = np.where(np.isfinite(values) & (values > 0), values, np.nan)
    (line,) = ax.plot(steps, values, label=label, color=color)
    if logy and np.isfinite(values).any():
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel)
    return line


_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def power_of_ten_label(value: float, pos=None) -> str:
    """A log-axis tick label such as "10⁻⁶" in plain text, for ``ticker.FuncFormatter``.

    Matplotlib's default "$10^{-6}$" goes through mathtext, about 8 ms a label, which matters
    for a widget that redraws on every slider move. Ticks that are not powers of ten get
    "1e-06"-style labels; non-positive values get none.

    >>> power_of_ten_label(1e-6), power_of_ten_label(3e-2)
    ('10⁻⁶', '3e-02')
    """
    if not value > 0:
        return ""
    exponent = math.log10(value)
    if abs(exponent - round(exponent)) > 1e-9:
        return f"{value:.0e}"
    return "10" + str(int(round(exponent))).translate(_SUPERSCRIPTS)


def plain_log_axis(axis, numticks: int | None = None) -> None:
    """Make a log-scale ``axis`` (``ax.xaxis`` or ``ax.yaxis``) cheap to draw: no minor ticks,
    plain-text labels, at most ``numticks`` ticks. An axis that spans more than two decades is
    labelled at the powers of ten (:func:`power_of_ten_label`: "10⁻³"); a shorter one at 1, 2 and
    5 times each power of ten ("0.05", "0.1", "0.2"), so that it always shows a few labels.

    For widgets, which draw a figure per frame: a log axis's default minor ticks (eight per decade,
    each a tick object to create and draw) and its "$10^{-2}$" labels (mathtext) were more than
    half of the Newton–Schulz widget's rasterizing time (190 -> 80 ms a frame, measured 2026-12-07).
    """
    axis.set_major_locator(_PlainLogLocator(base=10, numticks=numticks))  # None: as many as fit
    axis.set_minor_locator(ticker.NullLocator())
    axis.set_major_formatter(_PlainLogFormatter())


def _short(lo: float, hi: float) -> bool:
    """True for a log axis of at most two decades (labelled at 1, 2, 5 × 10^k)."""
    lo, hi = sorted((lo, hi))
    return lo > 0 and hi / lo <= 100.0


class _PlainLogLocator(ticker.LogLocator):
    """Decades, or 1, 2, 5 × each decade on a short axis (see :func:`plain_log_axis`)."""

    def tick_values(self, vmin, vmax):
        self.set_params(subs=(1.0, 2.0, 5.0) if _short(vmin, vmax) else (1.0,))
        return super().tick_values(vmin, vmax)


class _PlainLogFormatter(ticker.Formatter):
    """ "10⁻³" on a long log axis, "0.05" on a short one (see :func:`plain_log_axis`)."""

    def __call__(self, x, pos=None):
        if self.axis is not None and _short(*self.axis.get_view_interval()):
            return f"{x:g}" if x > 0 else ""
        return power_of_ten_label(x)
