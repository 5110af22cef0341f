"""Every widget of the course redraws fast: compute + draw + render of its default frame.

The target is well under 100 ms (measured figures are in the issue notes); the assertion is
250 ms, best of 3 after a warm-up, so that a loaded machine does not fail the suite.
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


@pytest.mark.parametrize("make", WIDGETS, ids=lambda make: make.__name__)
def test_compute_and_draw_are_fast(make):
    widget = make()
    W.render_png(widget, quantize=False)  # warm-up: compiles functions, fills caches
    times = []
    for _ in range(3):
        start = time.perf_counter()
        W.render_png(widget, dpi=80, quantize=False)
        times.append(time.perf_counter() - start)
    assert min(times) < 0.25, f"{widget.title}: {1e3 * min(times):.0f} ms"


@pytest.mark.parametrize("make", WIDGETS, ids=lambda make: make.__name__)
def test_every_widget_has_a_working_live_form(make):
    """The book shows the static form; the live form (sliders in a kernel) is built here, since the
    lessons are no longer executed a second time by nbval with live widgets."""
    box = W.live(make())
    assert box.children, "the live form has no controls"
