"""Chapter 10's widgets (:mod:`lib.widgets.second_order`): pure computations and both bindings."""

import time

import numpy as np
import pytest

import lib.widgets as W
from lib.widgets import second_order as so


def test_newton_paths_show_the_chapter_s_claims():
    d = so.newton_paths("saddle", "near the saddle (0.5, 0.05)")
    assert "Newton: saddle" in d.summary  # plain Newton is attracted to the saddle
    assert "damped Newton (LM): minimum" in d.summary
    assert "trust region (dogleg): minimum" in d.summary
    d = so.newton_paths("rosenbrock", "far (-1.2, 1)")
    assert d.gaps["Newton"][-1] < 1e-12 and d.gaps["gradient descent"][-1] > 1e-2
    assert np.all(np.diff(d.gaps["damped Newton (LM)"]) <= 1e-15)  # LM never goes uphill
    d = so._newton_frame("himmelblau: near the maximum (-0.3, -0.9)")
    assert "Newton: a maximum" in d.summary


def test_trust_region_step_lambda_tied_to_radius():
    a, b = so.trust_region_step(0.02), so.trust_region_step(0.05)
    assert a.lam > b.lam > 0
    for d in (a, b):
        assert np.linalg.norm(d.exact) == pytest.approx(d.delta, rel=1e-9)
        assert np.linalg.norm(d.dogleg) <= d.delta * (1 + 1e-12)
    assert so.trust_region_step(0.8).lam == 0.0  # the Newton step fits


def test_bad_arguments():
    with pytest.raises(ValueError, match="function must be"):
        so.newton_paths("beale")
    with pytest.raises(ValueError, match="start must be"):
        so.newton_paths("saddle", "elsewhere")


@pytest.mark.parametrize("make", [so.newton_widget, so.trust_region_widget])
def test_every_frame_computes_within_50_ms(make):
    w = make()
    import itertools

    for values in itertools.product(*(c.values for c in w.controls)):
        kw = dict(zip((c.name for c in w.controls), values))
        so.newton_paths.cache_clear()
        so.trust_region_step.cache_clear()
        w.compute(**kw)  # compile on first use
        so.newton_paths.cache_clear()
        so.trust_region_step.cache_clear()
        t = time.perf_counter()
        w.compute(**kw)
        assert time.perf_counter() - t < 0.1, kw  # target 50 ms; margin for a loaded machine


@pytest.mark.parametrize("make", [so.newton_widget, so.trust_region_widget])
def test_static_binding_has_every_frame(make):
    html = W.static_html(make())
    assert "<input" in html and html.count("data:image/png") >= 1
