"""Tests of chapter 06's experiments and widgets (:mod:`lib.widgets.weight_decay`)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from lib import optim
from lib.widgets import render_png
from lib.widgets import weight_decay as wd


@pytest.mark.parametrize("lam, lr", [(0.3, 0.01), (1.0, 0.03), (0.0, 0.003)])
def test_decay_paths_match_lib_optim(lam, lr):
    """The written-out recursion is lib.optim.adam(weight_decay) / adamw on the same noise."""
    r = wd.decay_paths(lam, lr, steps=120, seed=3)
    noise = wd.NOISE * np.random.default_rng(3).standard_normal((120, 2))
    for name, tx in (
        ("Adam + L2", optim.adam(lr=lr, weight_decay=lam)),
        ("AdamW", optim.adamw(lr=lr, weight_decay=lam)),
    ):
        theta, state = np.ones(2), None
        state = tx.init(theta)
        for t in range(120):
            u, state = tx.update(wd.GRAD_SCALE * (theta - 1 + noise[t]), state, theta)
            theta = optim.apply_updates(theta, u)
            np.testing.assert_allclose(r.paths[name][t + 1], theta, rtol=1e-12, atol=1e-14)


def test_l2_decays_the_large_gradient_coordinate_less():
    r = wd.decay_paths(1.0, 0.01)
    l2, w = r.decay["Adam + L2"][-100:].mean(axis=0), r.decay["AdamW"][-1]
    assert l2[0] > 3 * l2[1]  # the coordinate with 10x gradients: less decay
    assert w[0] == w[1] == pytest.approx(0.01)
    end_l2, end_w = r.paths["Adam + L2"][-100:].mean(axis=0), r.paths["AdamW"][-100:].mean(axis=0)
    assert end_l2[1] - end_l2[0] > 0.3  # L2: theta_2 kept near 1, theta_1 pulled in
    assert abs(end_w[1] - end_w[0]) < 0.1  # AdamW: both shrunk alike
    np.testing.assert_allclose(r.l2_minimum, wd.GRAD_SCALE / (wd.GRAD_SCALE + 1.0))


def test_decay_paths_rejects_bad_values():
    with pytest.raises(ValueError, match="weight_decay"):
        wd.decay_paths(-1.0, 0.01)
    with pytest.raises(ValueError, match="lr"):
        wd.decay_paths(0.1, 0.0)


def test_decay_widget_is_fast_and_draws():
    w = wd.decay_widget()
    wd.decay_paths()
    t = time.perf_counter()
    for lam in wd.DECAY_LAMBDAS:
        w.compute(weight_decay=lam, lr=0.01)
    assert (time.perf_counter() - t) / len(wd.DECAY_LAMBDAS) < 0.05
    assert render_png(w, weight_decay=0.3, lr=0.01) != render_png(w, weight_decay=1.0, lr=0.01)
    assert len(render_png(w, weight_decay=0.0, lr=0.03)) > 1000


@pytest.fixture(scope="module")
def small_grid():
    return wd.digits_grid((1e-2, 3e-2), (0.0, 1e-1), (0.0, 1e-2), seeds=(0, 1), epochs=3)


def test_digits_grid_shapes_and_seeds(small_grid):
    g = small_grid
    for name in ("Adam + L2", "AdamW"):
        assert g.val_acc[name].shape == (2, 2, 2, 3)
        assert np.all((g.val_acc[name] > 0.5) & (g.val_acc[name] <= 1))
    # λ = 0: both methods are plain Adam, the same runs
    np.testing.assert_array_equal(g.val_acc["Adam + L2"][:, :, 0], g.val_acc["AdamW"][:, :, 0])
    # seeds differ
    assert not np.array_equal(g.val_acc["AdamW"][0], g.val_acc["AdamW"][1])


def test_heatmap_widget_frames(small_grid):
    w = wd.heatmap_widget(small_grid)
    mean = w.compute(statistic="mean over seeds", epoch=3)["tables"]["AdamW"]
    np.testing.assert_allclose(mean, small_grid.val_acc["AdamW"][..., 2].mean(axis=0))
    spread = w.compute(statistic="spread over seeds", epoch=3)["tables"]["Adam + L2"]
    assert np.all(spread >= 0)
    one = w.compute(statistic="seed 1", epoch=1)["tables"]["AdamW"]
    np.testing.assert_array_equal(one, small_grid.val_acc["AdamW"][1, :, :, 0])
    t = time.perf_counter()
    w.compute(statistic="seed 0", epoch=3)
    assert time.perf_counter() - t < 0.05
    assert render_png(w, statistic="mean over seeds", epoch=3) != render_png(w, statistic="seed 0", epoch=1)


def test_adam_l2_decay_factors():
    d = wd.adam_l2_decay_factors(weight_decay=1e-3, epochs=1)
    assert d["rms"].size == 64 * 32 + 32 * 10
    np.testing.assert_allclose(d["factor"], 1e-3 / (d["rms"] + 1e-8))
    assert set(d["layer"]) == {"W1", "W2"}
