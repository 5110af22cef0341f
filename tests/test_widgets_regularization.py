"""lib.widgets.regularization: the dropout and L1/L2 widgets compute what they claim, fast."""

import doctest
import time

import numpy as np
import pytest

import lib.widgets as W
import lib.widgets.regularization as R
from lib.nn import dropout_mask


def test_doctests():
    assert doctest.testmod(R).failed == 0


def test_expected_dropout_loss_is_the_mean_over_masks():
    rng = np.random.default_rng(0)
    Phi, y, w = rng.normal(size=(15, 6)), rng.normal(size=15), rng.normal(size=6)
    p = 0.3
    masks = dropout_mask((20000, 6), p, rng)
    preds = (Phi[None] * (masks * w / (1 - p))[:, None, :]).sum(-1)  # (masks, n)
    mc = np.mean(np.mean((y - preds) ** 2, axis=1))
    assert mc == pytest.approx(R.expected_dropout_loss(w, Phi, y, p), rel=1e-2)
    assert R.expected_dropout_loss(w, Phi, y, 0.0) == pytest.approx(np.mean((y - Phi @ w) ** 2))


def test_dropout_fit_minimises_the_expected_loss():
    features, x_pool, y_pool, *_ = R._dropout_problem()
    Phi, y = features(x_pool[:20]), y_pool[:20]
    w = R._fit(Phi, y, 0.5)
    base = R.expected_dropout_loss(w, Phi, y, 0.5)
    rng = np.random.default_rng(1)
    for _ in range(5):
        assert R.expected_dropout_loss(w + 1e-3 * rng.normal(size=w.size), Phi, y, 0.5) > base


def test_dropout_closes_the_gap_on_few_points():
    d = R.dropout_fit(0.0, 10)
    gap = d.val_mse - d.train_mse
    assert gap[0] > 10 * gap[R.DROPOUT_PS.index(0.2)]  # no dropout overfits 20 points
    assert np.all(np.diff(d.train_mse) > 0)  # more dropout, worse fit of the data
    many = R.dropout_fit(0.0, 160)
    assert many.val_mse[0] - many.train_mse[0] < gap[0]  # more data, smaller gap


def test_lasso_gives_exact_zeros_and_ridge_none():
    r = R.l1_l2_weights()
    assert np.all(r.zeros_l2 == 0)
    assert np.all(np.diff(r.zeros_l1) >= 0) and r.zeros_l1[-1] > r.zeros_l1[0]
    X, y, *_ = R._regression()
    lam = r.lam
    # Lasso optimality: gradient = -lam sign(w) where w != 0, |gradient| <= lam where w == 0
    w = R.lasso_ista(X, y, lam, steps=5000)
    g = X.T @ (X @ w - y) / len(y)
    np.testing.assert_allclose(g[w != 0], -lam * np.sign(w[w != 0]), atol=1e-6)
    assert np.all(np.abs(g[w == 0]) <= lam + 1e-9)
    np.testing.assert_allclose(r.w_l1, w, atol=1e-4)
    n, d = X.shape
    np.testing.assert_allclose(X.T @ (X @ r.w_l2 - y) / n + lam * r.w_l2, 0, atol=1e-12)


def test_off_grid_values_are_refused():
    with pytest.raises(ValueError, match="p must be one of"):
        R.dropout_fit(0.4, 20)
    with pytest.raises(ValueError, match="n must be one of"):
        R.dropout_fit(0.5, 21)
    with pytest.raises(ValueError, match="not on the control's grid"):
        R.dropout_widget().values(p=0.1)  # off the slider grid
    with pytest.raises(ValueError, match="lam must be one of"):
        R.l1_l2_weights(0.5)


@pytest.mark.parametrize("make", [R.dropout_widget, R.l1_l2_widget])
def test_compute_under_50_ms_and_frames_differ(make):
    w = make()
    w.compute(**w.defaults)
    start = time.perf_counter()
    for c in w.controls:
        for v in c.values:
            w.compute(**w.values(**{c.name: v}))
    per_move = (time.perf_counter() - start) / sum(len(c.values) for c in w.controls)
    assert per_move < 0.05, f"{1e3 * per_move:.1f} ms per move"
    c = w.controls[0]
    first = W.render_png(w, **{c.name: c.values[0]})
    last = W.render_png(w, **{c.name: c.values[-1]})
    assert first != last
