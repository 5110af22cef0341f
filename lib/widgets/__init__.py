"""Interactive figures with two forms: live sliders in a kernel, a frame scrubber on the website.

A widget is a pure ``compute(**values) -> data`` (tested like any other maths), a
``draw(data, fig)`` that draws ``data`` on a fresh :class:`matplotlib.figure.Figure`, and the
grid of values each control takes. This module binds them two ways (COURSE.md §3):

- :func:`live`: one slider per control in a running kernel; moving a slider calls ``compute``
  then ``draw`` and swaps the rendered PNG (an ``ipywidgets.Image``; no ipympl needed).
- :func:`static_html`: every combination of the controls' values rendered once to a small PNG,
  packed with one ``<input type="range">`` per control and a few lines of inline JavaScript
  into one self-contained HTML block that works offline, without a kernel.

:func:`show` picks the form with :func:`mode`, so the reader never meets a dead slider::

    from lib.widgets import show
    from lib.widgets.gradient_descent import quadratic_learning_rate_widget
    show(quadratic_learning_rate_widget())

The book build sets ``DESCENT_WIDGETS=static``; a kernel (Jupyter, VS Code, Binder, Colab,
Thebe) gets the live form.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import io
import itertools
import json
import math
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.layout_engine import PlaceHolderLayoutEngine

__all__ = [
    "Control",
    "Widget",
    "mode",
    "show",
    "live",
    "static_html",
    "static_frames",
    "render_png",
    "new_figure",
    "precomputed",
    "clear_curves",
]

#: The environment variable that forces a form: ``static`` (the book build) or ``live``.
ENV_VAR = "DESCENT_WIDGETS"
CAPTION = (
    "Static preview: {n} precomputed frames. Run this notebook (launch button at the top, "
    "or locally) for the live version."
)


@dataclass(frozen=True)
class Control:
    """One slider: a ``name`` (the keyword passed to ``compute``), the grid of ``values`` it
    takes, a ``label`` for the reader, a ``default`` (one of ``values``) and a format for each
    value's label: a format string applied as ``fmt.format(value)`` or a callable.

    Values may be anything hashable (numbers, tuples, strings): the slider moves along the
    grid by position, never by arithmetic on the values.

    >>> Control("lr", (0.1, 0.5, 1.0), "learning rate η", default=0.5).labels
    ('0.1', '0.5', '1')
    """

    name: str
    values: tuple
    label: str
    default: Any
    fmt: str | Callable[[Any], str] = "{:g}"

    def __post_init__(self):
        if not self.name.isidentifier():
            raise ValueError(
                f"control name {self.name!r} must be a Python identifier (it is passed to compute as a keyword)"
            )
        object.__setattr__(self, "values", tuple(self.values))
        if not self.values:
            raise ValueError(f"control {self.name!r} has no values")
        if len(set(self.values)) != len(self.values):
            raise ValueError(f"control {self.name!r} has repeated values: {self.values}")
        if self.default not in self.values:
            raise ValueError(f"control {self.name!r}: default {self.default!r} is not one of its values {self.values}")

    def format(self, value: Any) -> str:
        """The label shown for ``value``."""
        return self.fmt(value) if callable(self.fmt) else self.fmt.format(value)

    @property
    def labels(self) -> tuple:
        return tuple(self.format(v) for v in self.values)

    @property
    def default_index(self) -> int:
        return self.values.index(self.default)


@dataclass(frozen=True)
class Widget:
    """A pure ``compute(**values) -> data``, a ``draw(data, fig)`` and the controls.

    ``draw`` receives an empty :class:`~matplotlib.figure.Figure` of size ``figsize`` (inches)
    and adds its own axes (``fig.subplots(1, 2)``); it must not call ``pyplot``. ``style``,
    if given, is called (inside a :func:`matplotlib.rc_context`, so it cannot leak) before
    each figure is made: pass :func:`lib.plotting.apply_style`.

    Optional, for a widget with many frames that share most of their picture (an animation's
    steps): ``reuse_key(data)`` names the frames that share a figure's fixed parts (axes,
    contours, legend), and ``update(data, fig)`` changes, in place, a figure that ``draw`` made
    for another frame with the same key. The static form then draws each key once and updates
    it for the other frames (about half a frame's cost); every frame must be pixel for pixel
    the one ``draw`` makes on a new figure (``tests/test_widgets.py`` checks each such widget).
    """

    compute: Callable[..., Any]
    draw: Callable[[Any, Figure], None]
    controls: tuple
    figsize: tuple = (7.0, 3.0)
    title: str = ""
    style: Callable[[], None] | None = field(default=None, compare=False)
    update: Callable[[Any, Figure], None] | None = field(default=None, compare=False)
    reuse_key: Callable[[Any], Any] | None = field(default=None, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "controls", tuple(self.controls))
        if (self.update is None) != (self.reuse_key is None):
            raise ValueError("update and reuse_key go together: pass both (or neither)")
        names = [c.name for c in self.controls]
        if len(set(names)) != len(names):
            raise ValueError(f"repeated control names: {names}")

    @property
    def defaults(self) -> dict:
        return {c.name: c.default for c in self.controls}

    @property
    def n_frames(self) -> int:
        return math.prod(len(c.values) for c in self.controls)

    def values(self, **values) -> dict:
        """The defaults updated with ``values``; unknown names and off-grid values raise."""
        known = {c.name: c for c in self.controls}
        for name, v in values.items():
            if name not in known:
                raise TypeError(f"unknown control {name!r}; this widget's controls are {list(known)}")
            if v not in known[name].values:
                raise ValueError(f"{name}={v!r} is not on the control's grid {known[name].values}")
        return {**self.defaults, **values}


# --------------------------------------------------------------------------------------------
# Which form to show


def _in_kernel() -> bool:
    """True inside an IPython kernel (Jupyter, VS Code, Colab, Binder), not a terminal IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _have_ipywidgets() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def mode() -> str:
    """``"live"`` or ``"static"``: which form :func:`show` displays.

    The environment variable ``DESCENT_WIDGETS`` decides when set (``static`` for the book
    build, ``live`` to force sliders); otherwise ``"live"`` inside an IPython kernel with
    ipywidgets importable, else ``"static"``.
    """
    env = os.environ.get(ENV_VAR, "").strip().lower()
    if env in ("static", "live"):
        return env
    if env:
        raise ValueError(f"{ENV_VAR}={os.environ[ENV_VAR]!r}: expected 'static', 'live' or unset")
    return "live" if _in_kernel() and _have_ipywidgets() else "static"


def show(widget: Widget) -> None:
    """Display ``widget`` in the form :func:`mode` picks."""
    from IPython.display import HTML, display

    if mode() == "live":
        display(live(widget))
    else:
        display(HTML(static_html(widget)))


# --------------------------------------------------------------------------------------------
# Rendering


def new_figure(widget: Widget) -> Figure:
    """An empty figure of the widget's size, outside pyplot (nothing is shown by itself).

    No layout engine: ``draw`` places its axes with ``fig.subplots_adjust`` (constrained
    layout costs 20-40 ms a frame); a ``draw`` that wants it may call
    ``fig.set_layout_engine("constrained")``. The placeholder engine (rather than ``None``)
    keeps ``savefig`` from switching the course style's constrained layout back on.
    """
    return Figure(
        figsize=widget.figsize, layout=PlaceHolderLayoutEngine(adjust_compatible=True, colorbar_gridspec=True)
    )


def _figure_at(widget: Widget, values: dict) -> Figure:
    """compute, then draw on a new figure (cheaper than ``fig.clear()``, which first clears
    every old axes: ~10 ms a panel)."""
    data = widget.compute(**values)
    fig = new_figure(widget)
    widget.draw(data, fig)
    return fig


def _png(fig: Figure, dpi: float, *, quantize: bool) -> bytes:
    """``fig`` as PNG bytes; ``quantize`` maps it to an adaptive 256-colour palette (about
    three times smaller for line plots and contours, indistinguishable at this size)."""
    buf = io.BytesIO()
    if not quantize:  # live: speed first (zlib level 1 is ~2x faster, ~10% larger)
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None}, pil_kwargs={"compress_level": 1})
        return buf.getvalue()
    # static: draw on an Agg canvas and quantize its pixels directly (the same pixels as
    # ``savefig(dpi=dpi)``, without encoding a full-colour PNG only to decode it again:
    # ~40% of a frame's cost)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgba = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    # fast octree: half the time of median cut, and ~15% smaller files, with no visible difference
    image = rgba.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    # zlib level 6, not PIL's optimize=True (level 9 plus a search): ~7% larger files, a tenth of
    # the time (2.7 ms a frame instead of 25 ms, on the course's 256-colour frames)
    out = io.BytesIO()
    image.save(out, format="png", compress_level=6)
    return out.getvalue()


@contextlib.contextmanager
def _rendering(widget: Widget):
    """A context in which ``widget.style`` applies; rcParams are restored afterwards."""
    with matplotlib.rc_context():
        if widget.style is not None:
            widget.style()
        yield


def precomputed(compute: Callable[..., Any], controls) -> Callable[..., Any]:
    """``compute`` with every frame of ``controls`` computed now, so that a slider move is a
    look-up (for widgets with a few dozen cheap frames: the static form computes them all anyway).
    Values off the grid are computed on demand."""
    names = [c.name for c in controls]
    table = {combo: compute(**dict(zip(names, combo))) for combo in itertools.product(*(c.values for c in controls))}

    def lookup(**values):
        key = tuple(values.get(n) for n in names)
        return table[key] if len(values) == len(names) and key in table else compute(**values)

    lookup.__wrapped__ = compute
    lookup.__doc__ = compute.__doc__
    return lookup


def clear_curves(ax, *, keep: int = 0, rescale: bool | str = True) -> None:
    """For a ``Widget.update``: remove the lines of ``ax`` after its first ``keep`` (contours'
    marks, say) and its legend, and start the colour cycle again, as on a new figure. With
    ``rescale`` (``True``, or ``"x"`` / ``"y"`` for one axis) the axes then scale to the next
    frame's lines alone (``relim``, then autoscale); leave it ``False`` where the limits are set
    (``relim`` counts lines only, not contour sets or images)."""
    for line in ax.lines[keep:]:
        line.remove()
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    if rescale:
        ax.relim()
        ax.autoscale(enable=True, axis="both" if rescale is True else rescale)
    ax.set_prop_cycle(None)


def static_frames(widget: Widget, *, dpi: float = 72):
    """The PNG of every frame, in the order of :func:`itertools.product` over the controls'
    values (what :func:`static_html` embeds). Frames with the same ``widget.reuse_key`` share
    one figure, drawn once and then changed by ``widget.update``; without them each frame is
    :func:`render_png`."""
    names = [c.name for c in widget.controls]
    figures: dict = {}
    for combo in itertools.product(*(c.values for c in widget.controls)):
        values = widget.values(**dict(zip(names, combo)))
        with _rendering(widget):
            data = widget.compute(**values)
            key = None if widget.reuse_key is None else widget.reuse_key(data)
            if key is not None and key in figures:
                fig = figures[key]
                widget.update(data, fig)
            else:
                fig = new_figure(widget)
                widget.draw(data, fig)
                if key is not None:
                    figures[key] = fig
            yield _png(fig, dpi, quantize=True)


def render_png(widget: Widget, *, dpi: float = 72, quantize: bool = True, **values) -> bytes:
    """The PNG of ``widget`` at the given control ``values`` (defaults for the others)."""
    values = widget.values(**values)
    with _rendering(widget):
        return _png(_figure_at(widget, values), dpi, quantize=quantize)


# --------------------------------------------------------------------------------------------
# Static form: a frame scrubber

_SCRIPT = """(function(){
var root=document.getElementById(%(id)s);if(!root)return;
var frames=%(frames)s,labels=%(labels)s,sizes=%(sizes)s;
var img=root.querySelector("img"),inputs=root.querySelectorAll("input[type=range]"),
outs=root.querySelectorAll("output");
frames[%(default)d]=img.getAttribute("src");
function update(){var k=0;for(var i=0;i<inputs.length;i++){var j=+inputs[i].value;
k=k*sizes[i]+j;outs[i].textContent=labels[i][j];}img.src=frames[k];}
for(var i=0;i<inputs.length;i++){inputs[i].addEventListener("input",update);}
update();})();"""


def _esc(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def static_html(widget: Widget, *, dpi: float = 72) -> str:
    """One self-contained HTML block: every frame as a base64 PNG, one range input per
    control, and an inline script that swaps the image. No external resources; element ids
    are unique per call, so several widgets can share a page.

    Frame ``k`` is the combination whose control indices ``(i_0, i_1, ...)`` give
    ``k = (i_0 * n_1 + i_1) * n_2 + ...`` (row-major, the order of :func:`itertools.product`).
    The default frame is the ``<img>``'s own ``src``; its slot in the script's array is
    ``null`` and filled from the image at load, so no frame is stored twice.
    """
    controls = widget.controls
    combos = list(itertools.product(*(c.values for c in controls)))
    default_index = combos.index(tuple(c.default for c in controls))
    start = time.perf_counter()
    announced = False
    frames = []
    for i, png in enumerate(static_frames(widget, dpi=dpi)):
        frames.append("data:image/png;base64," + base64.b64encode(png).decode("ascii"))
        elapsed = time.perf_counter() - start
        # progress for a reader waiting in a kernel; the book build (DESCENT_WIDGETS=static)
        # stays quiet, because stderr would show on the page
        if (
            not announced
            and elapsed * len(combos) / (i + 1) > 2.0
            and i + 1 < len(combos)
            and os.environ.get("DESCENT_WIDGETS") != "static"
        ):
            print(f"rendering {len(combos)} frames of {widget.title or 'a widget'}...", file=sys.stderr, flush=True)
            announced = True
    uid = "descent-w-" + uuid.uuid4().hex[:10]
    default_src = frames[default_index]
    script_frames = [None if k == default_index else f for k, f in enumerate(frames)]
    alt = _esc(widget.title or "interactive figure")
    rows = []
    for i, c in enumerate(controls):
        cid = f"{uid}-c{i}"
        rows.append(
            f'<span style="white-space:nowrap;margin-right:1.5em">'
            f'<label for="{cid}">{_esc(c.label)}</label> '
            f'<input type="range" id="{cid}" min="0" max="{len(c.values) - 1}" step="1" '
            f'value="{c.default_index}" style="vertical-align:middle"> '
            f'<output for="{cid}" style="font-family:monospace">{_esc(c.format(c.default))}</output>'
            f"</span>"
        )
    title = f'<div style="font-weight:bold;margin-bottom:.3em">{_esc(widget.title)}</div>' if widget.title else ""
    script = _SCRIPT % {
        "id": json.dumps(uid),
        "frames": json.dumps(script_frames, separators=(",", ":")),
        "labels": json.dumps([list(c.labels) for c in controls], ensure_ascii=False),
        "sizes": json.dumps([len(c.values) for c in controls]),
        "default": default_index,
    }
    return (
        f'<div id="{uid}" class="descent-widget" data-descent-widget="static" style="margin:1em 0">{title}'
        f'<img src="{default_src}" alt="{alt}" style="max-width:100%;height:auto;display:block">'
        f'<div style="margin:.4em 0">{"".join(rows)}</div>'
        f'<div style="font-size:85%;opacity:.75">{_esc(CAPTION.format(n=len(combos)))}</div>'
        f"<script>{script}</script></div>"
    )


# --------------------------------------------------------------------------------------------
# Live form: ipywidgets


def live(widget: Widget, *, dpi: float = 80, cache_size: int = 64):
    """An ``ipywidgets.VBox``: one ``SelectionSlider`` per control above the rendered figure.

    Moving a slider calls ``compute`` then ``draw`` on a new figure and swaps the PNG of
    an ``ipywidgets.Image`` (works with any matplotlib backend, no ipympl); the last
    ``cache_size`` frames are kept, so going back to a setting is instant. The box carries two
    extra attributes: ``sliders`` (a dict name -> slider) and ``update(**values)``, which moves
    sliders and redraws once (for tests and for lessons that script a tour). An error in
    compute or draw is shown under the figure instead of being lost in the kernel's log.
    """
    import ipywidgets as W

    sliders = {
        c.name: W.SelectionSlider(
            options=list(zip(c.labels, c.values)),
            value=c.default,
            description=c.label,
            continuous_update=True,
            style={"description_width": "initial"},
            layout=W.Layout(width="min(100%, 26em)"),
        )
        for c in widget.controls
    }
    image = W.Image(format="png", layout=W.Layout(max_width="100%", height="auto"))
    message = W.HTML()

    @functools.lru_cache(maxsize=cache_size)
    def frame(combo: tuple) -> bytes:
        with _rendering(widget):
            return _png(_figure_at(widget, dict(zip(sliders, combo))), dpi, quantize=False)

    holding = []  # non-empty while update() moves several sliders at once

    def redraw(change=None) -> None:
        if holding:
            return
        try:
            image.value = frame(tuple(s.value for s in sliders.values()))
            message.value = ""
        except Exception as exc:  # shown to the reader; the sliders stay usable
            message.value = f'<pre style="color:#b00">{_esc(type(exc).__name__)}: {_esc(exc)}</pre>'

    def update(**values) -> None:
        """Move the named sliders to ``values`` (on their grids) and redraw once."""
        widget.values(**values)  # raises on unknown names / off-grid values
        holding.append(True)
        try:
            for name, v in values.items():
                sliders[name].value = v
        finally:
            holding.pop()
        redraw()

    for s in sliders.values():
        s.observe(redraw, names="value")
    children = [W.HTML(f"<b>{_esc(widget.title)}</b>")] if widget.title else []
    box = W.VBox(children + [W.HBox(list(sliders.values()), layout=W.Layout(flex_flow="row wrap")), image, message])
    box.sliders = sliders
    box.update = update
    redraw()
    return box


def course_style():
    """The ``style`` argument of the course's widgets: :func:`lib.plotting.apply_style`,
    imported lazily (so that importing :mod:`lib.widgets` does not import the plotting module)."""

    def apply():
        from lib import plotting

        plotting.apply_style()

    return apply
