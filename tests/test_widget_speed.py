"""Every widget of the course redraws fast: compute + draw + render of its default frame.

The target is well under 100 ms (measured figures are in the issue notes); the assertion is
250 ms, best of 3 after a warm-up, so that a loaded machine does not fail the suite.
"""

import time

import pytest

import lib.widgets as W
from lib.widgets import adaptive, autodiff, gradient_descent, momentum, sgd
from lib.widgets import compare as compare_widgets

WIDGETS = [
    gradient_descent.quadratic_learning_rate_widget, gradient_descent.rosenbrock_widget,
    autodiff.step_size_widget, autodiff.graph_explorer_widget,
    sgd.batch_noise_widget, sgd.digits_widget,
    momentum.quadratic_momentum_widget, momentum.rosenbrock_nesterov_widget,
    adaptive.race_widget, adaptive.effective_step_widget,
    # chapter 12
    compare_widgets.race_widget, compare_widgets.seed_band_widget, compare_widgets.profile_widget,
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
