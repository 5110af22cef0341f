"""lib.widgets.sgd: chapter 03's widgets (batch size vs noise; learning rate x batch size on the
digits), the least-squares noise floor and the L2 wrapper."""

import math
import re

import numpy as np
import pytest

import lib.widgets as W
from lib.widgets import sgd as S

DATA_URI = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")


# ---------------------------------------------------------------------------- least squares


def test_least_squares_problem_is_consistent():
    p = S.least_squares_problem()
    assert p.X.shape == (200, 2)
    assert np.allclose(p.X.T @ (p.X @ p.theta_star - p.y), 0, atol=1e-10)  # normal equations
    assert np.allclose(p.hessian, p.X.T @ p.X / 200)
    assert np.isclose(p.objective(p.theta_star), p.loss_star)
    assert np.allclose(p.objective.grad(p.theta_star), 0, atol=1e-10)
    assert np.all(np.linalg.eigvalsh(p.sigma) > 0)


def test_noise_floor_one_dimension_matches_closed_form():
    # h = 1, σ² = 1: the floor is η σ² / (2B(2 − ηh)) when the data have no multiplicative noise
    X, r = np.ones((4, 1)), np.array([1.0, -1.0, 1.0, -1.0])
    for lr in (0.05, 0.1, 0.5):
        for B in (1, 3):
            assert np.isclose(S.noise_floor(lr, B, X, r, replacement=True), lr / (2 * B * (2 - lr)))


def test_noise_floor_matches_a_simulation():
    p = S.least_squares_problem()
    r = p.X @ p.theta_star - p.y
    rng = np.random.default_rng(0)
    lr, B, chains = 0.2, 5, 400
    e, acc = np.zeros((chains, 2)), []
    for t in range(1500):
        idx = rng.integers(0, len(r), size=(chains, B))
        Xb, rb = p.X[idx], r[idx]
        g = (np.einsum("cbi,cbj,cj->ci", Xb, Xb, e) + np.einsum("cbi,cb->ci", Xb, rb)) / B
        e = e - lr * g
        if t >= 500:
            acc.append(np.mean(0.5 * np.einsum("ci,ij,cj->c", e, p.hessian, e)))
    predicted = S.noise_floor(lr, B, p.X, r, replacement=True)
    assert abs(np.mean(acc) / predicted - 1) < 0.1


def test_noise_floor_scaling_and_edge_cases():
    p = S.least_squares_problem()
    r = p.X @ p.theta_star - p.y
    small = S.noise_floor(0.01, 1, p.X, r, replacement=True)
    assert np.isclose(S.noise_floor(0.01, 4, p.X, r, replacement=True), small / 4, rtol=0.05)  # ∝ 1/B
    assert np.isclose(S.noise_floor(0.02, 1, p.X, r, replacement=True), 2 * small, rtol=0.05)  # ∝ η
    assert S.noise_floor(0.1, 200, p.X, r) == 0.0  # full batch without replacement
    assert S.noise_floor(3.0, 1, p.X, r) == math.inf  # unstable
    with pytest.raises(ValueError, match="batch_size"):
        S.noise_floor(0.1, 0, p.X, r)


def test_batch_noise_run_shapes_and_full_batch_equals_gd():
    run = S.batch_noise_run(batch_size=5, lr=0.1)
    assert run.path.shape == (S.NOISE_STEPS + 1, 2) and run.losses.shape == (S.NOISE_STEPS + 1,)
    assert np.isclose(run.epochs, S.NOISE_STEPS * 5 / 200)
    full = S.batch_noise_run(batch_size=200, lr=0.1)
    assert np.allclose(full.path, full.gd_path) and full.floor == 0.0
    assert np.all(run.losses >= 0)


def test_batch_noise_is_smaller_for_larger_batches():
    tails = [np.mean(S.batch_noise_run(batch_size=B, lr=0.2).losses[-100:]) for B in (1, 20)]
    assert tails[1] < tails[0] / 3


def test_batch_noise_run_is_deterministic():
    a, b = S.batch_noise_run(5, 0.1), S.batch_noise_run(5, 0.1)
    assert np.array_equal(a.path, b.path)


# ---------------------------------------------------------------------------- digits


def test_digits_grid_and_run():
    grid = S.digits_grid()
    assert grid.final_loss.shape == (len(S.DIGITS_BATCH_SIZES), len(S.DIGITS_LRS))
    assert grid.n == 1079
    # at a moderate learning rate, small batches make more progress per epoch than the full batch
    j = S.DIGITS_LRS.index(0.1)
    assert grid.final_loss[S.DIGITS_BATCH_SIZES.index(8), j] < grid.final_loss[-1, j]
    run = S.digits_run(32, 0.1)
    assert run.updates == S.DIGITS_EPOCHS * math.ceil(1079 / 32)
    assert run.epoch_loss.shape == (S.DIGITS_EPOCHS + 1,) and np.isclose(run.epoch_loss[0], np.log(10))
    assert np.isfinite(run.bin_loss).sum() == len(run.bin_loss)
    full = S.digits_run("full", 0.1)
    assert full.updates == S.DIGITS_EPOCHS and np.isfinite(full.bin_loss).sum() == S.DIGITS_EPOCHS


# ---------------------------------------------------------------------------- rendering


@pytest.mark.parametrize("make", [S.batch_noise_widget, S.digits_widget])
def test_frames_fit_the_budget(make):
    w = make()
    assert w.n_frames <= 25
    values = {c.name: c.values[0] for c in w.controls}  # the noisiest frame
    sizes = [len(W.render_png(w, **values)), len(W.render_png(w))]
    assert max(sizes) < 30_000
    assert w.n_frames * max(sizes) * 1.1 * 4 / 3 < 1_200_000


def test_static_html_has_one_frame_per_combination():
    w = S.batch_noise_widget()
    html = W.static_html(w)
    assert len(DATA_URI.findall(html)) == w.n_frames == 16
