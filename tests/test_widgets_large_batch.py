"""Chapter 09 widgets: the steps-to-target grid and the LARS trust-ratio history."""

from __future__ import annotations

import time

import numpy as np
import pytest

import lib.widgets as W
from lib.widgets import large_batch as L


def test_steps_grid_has_the_shape_of_perfect_scaling_then_diminishing_returns():
    g = L.steps_grid()
    assert g.steps.shape == (len(L.BATCH_SIZES), len(L.LRS))
    assert np.all(np.isfinite(g.best_steps))
    assert g.best_steps[0] > 4 * g.best_steps[-1]  # big batches need fewer steps
    assert g.best_steps[-2] / g.best_steps[-1] < 1.5  # ... but the last doubling saves little
    assert L.BATCH_SIZES[0] < g.b_crit < L.BATCH_SIZES[-1] and g.s_min > 0
    assert g.best_lr[-1] >= g.best_lr[0]  # larger batches tolerate larger rates
    with pytest.raises(ValueError):
        g.steps[0, 0] = 1.0  # cached arrays are read-only


def test_lars_is_equivariant_to_layer_rescaling_and_sgd_is_not():
    h = L.trust_ratio_history()
    assert np.max(np.abs(h.loss[("LARS", 1.0)] - h.loss[("LARS", 10.0)])) < 1e-9
    assert np.max(np.abs(h.loss[("SGD", 1.0)] - h.loss[("SGD", 10.0)])) > 0.1
    k1, k2 = h.names.index("W1"), h.names.index("W2")
    np.testing.assert_allclose(h.ratio[10.0][0, k1], 100 * h.ratio[1.0][0, k1], rtol=1e-10)
    np.testing.assert_allclose(h.ratio[10.0][0, k2], h.ratio[1.0][0, k2] / 100, rtol=1e-10)


def test_rescale_keeps_the_function():
    from lib.nn import mlp

    model = mlp((4, 5, 3))
    p = model.init(0)
    p["b1"] = np.linspace(-1, 1, 5)
    X = np.random.default_rng(0).normal(size=(6, 4))
    np.testing.assert_allclose(model.predict(L.rescale(p, 7.0), X), model.predict(p, X), rtol=1e-12)


@pytest.mark.parametrize("make", [L.steps_widget, L.trust_ratio_widget])
def test_frames_differ_and_compute_is_fast(make):
    w = make()
    c = w.controls[0]
    first, last = (W.render_png(w, **{c.name: v}) for v in (c.values[0], c.values[-1]))
    assert first != last
    w.compute(**w.defaults)
    t0 = time.perf_counter()
    for v in c.values:
        w.compute(**{c.name: v})
    assert (time.perf_counter() - t0) / len(c.values) < 0.05


def test_bad_frames_raise():
    with pytest.raises(ValueError, match="lr must be one of"):
        L.steps_frame(0.2)
    with pytest.raises(ValueError, match="step must be in"):
        L.trust_frame(1000)
