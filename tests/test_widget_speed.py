"""Every widget of the course reacts fast to a slider move, and redraws fast.

* Compute: a slider move calls ``widget.compute`` with one control changed. For every widget and
  every control (its first, last and two middle values), the *first* call at that value (the one
  a reader waits for: ``compute`` functions cache their results) takes at most
  ``COMPUTE_LIMIT`` = 50 ms of this thread's CPU time. CPU time, not wall-clock time, so that other
  processes on a loaded machine do not fail the suite; single-threaded NumPy code takes the
  same wall-clock time on an idle machine. Work shared by all frames (tuning learning rates,
  compiling a function, the frames of small widgets) happens when the widget is built. Measured
  maximum on the loaded 2-core machine (issue #20): 16 ms (weight_decay.decay_widget); the
  chapter 05 race computes its 18 frames when built.
* Draw + render of the default frame (matplotlib): measured 250-480 ms on the quiet 2-core CI machine for
  the busiest widgets (four-axes figures drawn twice for a tight bbox); asserted < 600 ms, best of 3
  after a warm-up, wall-clock. This is a regression from ~100 ms, noted in issue #20, not yet fixed.
"""

import time

import pytest

import lib.widgets as W
from lib.widgets import (
    adaptive,
    autodiff,
    beyond_adam,
    gradient_descent,
    large_batch,
    momentum,
    regularization,
    second_order,
    sgd,
    weight_decay,
)
from lib.widgets import compare as compare_widgets
from lib.widgets import schedules as schedule_widgets

WIDGETS = [
    gradient_descent.quadratic_learning_rate_widget,
    gradient_descent.rosenbrock_widget,
    autodiff.step_size_widget,
    autodiff.graph_explorer_widget,
    sgd.batch_noise_widget,
    sgd.digits_widget,
    momentum.quadratic_momentum_widget,
    momentum.rosenbrock_nesterov_widget,
    adaptive.race_widget,
    adaptive.effective_step_widget,
    regularization.dropout_widget,
    regularization.l1_l2_widget,  # chapter 08
    large_batch.steps_widget,
    large_batch.trust_ratio_widget,  # chapter 09
    weight_decay.decay_widget,
    weight_decay.heatmap_widget,
    second_order.newton_widget,
    second_order.trust_region_widget,  # chapter 10
    beyond_adam.newton_schulz_widget,
    beyond_adam.lion_adam_widget,  # chapter 11
    schedule_widgets.schedule_designer_widget,
    schedule_widgets.clipping_widget,  # chapter 07
    # chapter 12
    compare_widgets.race_widget,
    compare_widgets.seed_band_widget,
    compare_widgets.profile_widget,
]


COMPUTE_LIMIT = 0.050  # seconds of CPU time per slider move


def _moves(widget):
    """(control name, value) for the first, last and two middle values of every control."""
    for c in widget.controls:
        values = list(c.values)
        picks = sorted({0, len(values) // 3, (2 * len(values)) // 3, len(values) - 1})
        for i in picks:
            yield c.name, values[i]


def _move_time(widget, values, repeats: int = 3) -> float:
    """CPU seconds of ``widget.compute(**values)``: the best of ``repeats`` calls, or the first call
    when the later ones are served from a cache (much faster than the first)."""
    times = []
    for _ in range(repeats):
        start = time.thread_time()
        widget.compute(**values)
        times.append(time.thread_time() - start)
    return times[0] if min(times[1:]) < 0.2 * times[0] else min(times)


#: Known to be slower than COMPUTE_LIMIT (measured CPU time of the worst move, issue #20): the
#: race runs four optimizers for 300 steps on a SymPy-compiled function at every move.
SLOW_COMPUTE: dict[str, str] = {}  # widget name -> reason; none today


def _name(make) -> str:
    return f"{make.__module__.rsplit('.', 1)[-1]}.{make.__name__}"


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(m, marks=pytest.mark.xfail(reason=SLOW_COMPUTE[_name(m)], strict=True))
        if _name(m) in SLOW_COMPUTE
        else m
        for m in WIDGETS
    ],
    ids=_name,
)
def test_compute_per_slider_move_is_fast(make):
    widget = make()
    widget.compute(**widget.defaults)  # the frame the reader sees first
    worst, where = 0.0, None
    for name, value in _moves(widget):
        elapsed = _move_time(widget, widget.values(**{name: value}))
        if elapsed > worst:
            worst, where = elapsed, f"{name}={value!r}"
    assert worst <= COMPUTE_LIMIT, f"{widget.title}: moving {where} takes {1e3 * worst:.0f} ms of compute"


@pytest.mark.parametrize("make", WIDGETS, ids=lambda make: make.__name__)
def test_compute_and_draw_are_fast(make):
    widget = make()
    W.render_png(widget, quantize=False)  # warm-up: compiles functions, fills caches
    times = []
    for _ in range(3):
        start = time.perf_counter()
        W.render_png(widget, dpi=80, quantize=False)
        times.append(time.perf_counter() - start)
    assert min(times) < 0.6, f"{widget.title}: {1e3 * min(times):.0f} ms"


@pytest.mark.parametrize("make", WIDGETS, ids=lambda make: make.__name__)
def test_every_widget_has_a_working_live_form(make):
    """The book shows the static form; the live form (sliders in a kernel) is built here, since the
    lessons are no longer executed a second time by nbval with live widgets."""
    box = W.live(make())
    assert box.children, "the live form has no controls"
