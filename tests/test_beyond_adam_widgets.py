"""lib.widgets.beyond_adam: Newton–Schulz on singular values, Lion vs Adam update sizes (chapter 11)."""

import time

import numpy as np
import pytest

import lib.widgets as W
from lib.widgets import beyond_adam as B


@pytest.mark.parametrize("coefficients", list(B.NS_COEFFICIENT_SETS.values()))
@pytest.mark.parametrize("steps", [0, 1, 3, 5])
def test_newton_schulz_acts_on_each_singular_value_by_the_polynomial(coefficients, steps):
    d = B.newton_schulz_spectrum(coefficients, steps)
    a, b, c = coefficients
    expected = d.sigma_in.copy()
    for _ in range(steps):
        expected = a * expected + b * expected**3 + c * expected**5
    np.testing.assert_allclose(d.sigma_out, expected, rtol=1e-9, atol=1e-12)
    assert d.distance == pytest.approx(np.max(np.abs(expected - 1)))


def test_muon_coefficients_push_small_singular_values_fastest():
    muon = B.newton_schulz_spectrum((3.4445, -4.775, 2.0315), 5)
    classic = B.newton_schulz_spectrum((1.875, -1.25, 0.375), 5)
    assert muon.sigma_out.min() > 0.5 > classic.sigma_out.min()
    assert muon.distance < classic.distance
    with pytest.raises(ValueError, match=r"\(a, b, c\)"):
        B.newton_schulz_spectrum((1.0, 2.0), 3)


def test_lion_update_is_always_the_learning_rate_and_adam_shrinks_with_noise():
    for noise in B.NOISES:
        d = B.update_magnitudes(noise=noise, step=100)
        np.testing.assert_allclose(d.lion[d.lion > 0], 1.0)
        assert d.lion_rms == pytest.approx(1.0, abs=0.05)
    quiet, loud = B.update_magnitudes(0.0, 100), B.update_magnitudes(4.0, 100)
    assert quiet.adam_rms > 0.99 and loud.adam_rms < 0.5
    # Adam's size does not depend on the gradient's scale (only on its signal-to-noise ratio)
    assert np.ptp(quiet.adam) < 1e-3
    with pytest.raises(ValueError, match="noise"):
        B.update_magnitudes(noise=-1)
    with pytest.raises(ValueError, match="step"):
        B.update_magnitudes(step=0)


@pytest.mark.parametrize("make", [B.newton_schulz_widget, B.lion_adam_widget])
def test_widget_frames_differ_and_compute_is_fast(make):
    w = make()
    first = {c.name: c.values[0] for c in w.controls}
    last = {c.name: c.values[-1] for c in w.controls}
    assert W.render_png(w, **first) != W.render_png(w, **last)
    w.compute(**w.defaults)
    start = time.perf_counter()
    w.compute(**w.defaults)
    assert time.perf_counter() - start < 0.05
    assert w.n_frames <= 30
