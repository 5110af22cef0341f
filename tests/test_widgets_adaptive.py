"""lib.widgets.adaptive: the optimizer race and the per-coordinate step sizes (chapter 05)."""

import math

import numpy as np
import pytest

import lib.widgets as W
from lib import functions, optim
from lib.widgets import adaptive as A

# ---------------------------------------------------------------------------- the race


def test_every_method_builds_the_named_optimizer():
    params = np.array([1.0, -2.0])
    grads = np.array([0.5, 3.0])
    for name in A.METHODS:
        tx = A.make_optimizer(name, 0.01)
        updates, _ = tx.update(grads, tx.init(params), params)
        assert np.all(np.isfinite(updates)) and updates.shape == (2,)
    # AMSGrad is torch's Adam(amsgrad=True), the others their namesakes at torch's defaults
    reference = optim.adam(lr=0.01, amsgrad=True)
    mine = A.make_optimizer("AMSGrad", 0.01)
    f = functions.beale()
    assert np.array_equal(optim.run(mine, f.grad, f.start, 20), optim.run(reference, f.grad, f.start, 20))


def test_unknown_method_and_function_are_explained():
    with pytest.raises(ValueError, match="unknown method"):
        A.make_optimizer("Adan", 0.1)
    with pytest.raises(ValueError, match="function must be one of"):
        A.race("rosenbrock", ("Adam",))
    with pytest.raises(ValueError, match="lr_scale"):
        A.race("beale", ("Adam",), lr_scale=0)


@pytest.mark.parametrize("function", A.RACE_FUNCTIONS)
def test_tuned_learning_rate_is_the_best_of_the_grid(function):
    for method in ("SGD", "Adam"):
        lr = A.race_learning_rate(function, method)
        assert lr in A.LR_GRID
        f = A._objective(function)
        scores = {g: A._score(A._run(f, method, g, A.RACE_STEPS)[1], A.RACE_STEPS) for g in A.LR_GRID}
        assert scores[lr] == min(scores.values())
        assert math.isfinite(scores[lr])


def test_race_runs_each_method_at_its_tuned_rate_times_the_scale():
    r = A.race("ravine", ("SGD", "Adam", "AdaBelief"), lr_scale=0.3)
    assert r.methods == ("SGD", "Adam", "AdaBelief")
    for m, lr, path, gap in zip(r.methods, r.lrs, r.paths, r.gaps):
        assert lr == pytest.approx(0.3 * A.race_learning_rate("ravine", m))
        assert path.shape == (A.RACE_STEPS + 1, 2) and gap.shape == (A.RACE_STEPS + 1,)
        assert np.array_equal(path[0], functions.ravine().start)
        assert not path.flags.writeable
    # the path is exactly lib.optim's run
    f = functions.ravine()
    assert np.array_equal(r.paths[1], optim.run(optim.adam(lr=r.lrs[1]), f.grad, f.start, A.RACE_STEPS))
    assert "ravine" in r.summary


def test_tuned_adaptive_methods_reach_the_minimum_of_the_ravine():
    r = A.race("ravine", ("Adam", "AMSGrad", "AdaBelief"))
    assert all(g[-1] < 1e-6 for g in r.gaps)
    assert not any(r.diverged)


def test_a_too_large_scale_is_reported_as_diverged():
    r = A.race("beale", ("SGD",), lr_scale=30.0)
    assert r.diverged == (True,)
    assert "diverged" in r.summary


# ---------------------------------------------------------------------------- effective steps


def test_effective_steps_match_the_formulas_on_the_first_update():
    e = A.effective_steps(kappa=100, beta2=0.99, lr=0.01, steps=5)
    g1 = np.array([1.0, 100.0])  # the gradient at θ0 = (1, 1)
    assert np.allclose(e.steps["Adagrad"][0], 0.01 / (np.abs(g1) + 1e-10))
    assert np.allclose(e.steps["RMSprop"][0], 0.01 / (np.sqrt(0.01) * np.abs(g1) + 1e-8))
    assert np.allclose(e.steps["Adam"][0], 0.01 / (np.abs(g1) + 1e-8))  # v̂_1 = g_1²
    assert e.gd_limit == pytest.approx(0.02)


def test_adagrad_steps_only_shrink_and_adaptive_steps_equalise_the_coordinates():
    e = A.effective_steps(kappa=100)
    assert np.all(np.diff(e.steps["Adagrad"], axis=0) <= 0)
    for name in A.STEP_METHODS:  # the steep coordinate gets the smaller step
        assert np.all(e.steps[name][:, 1] < e.steps[name][:, 0])
    # Adam's first step moves both coordinates by η: the ratio of step sizes is κ at t = 1
    ratio = e.steps["Adam"][0, 0] / e.steps["Adam"][0, 1]
    assert ratio == pytest.approx(100, rel=1e-6)


def test_effective_steps_iterates_are_lib_optims():
    e = A.effective_steps(kappa=10, beta2=0.999, steps=50)
    curv = np.array([1.0, 10.0])
    path = optim.run(optim.adam(lr=0.01), lambda p: curv * p, np.ones(2), 50)
    assert np.allclose(e.gaps["Adam"], 0.5 * (path**2 @ curv), rtol=1e-12)


def test_effective_steps_rejects_bad_kappa():
    with pytest.raises(ValueError, match="kappa"):
        A.effective_steps(kappa=0.5)


# ---------------------------------------------------------------------------- widgets


@pytest.mark.parametrize("make, frames", [(A.race_widget, 18), (A.effective_step_widget, 9)])
def test_frame_counts_and_budget(make, frames):
    w = make()
    assert w.n_frames == frames
    values = {c.name: c.values[-1] for c in w.controls}
    sizes = [len(W.render_png(w, **values)), len(W.render_png(w))]
    assert max(sizes) < 36_000
    assert w.n_frames * max(sizes) * 1.1 * 4 / 3 < 1_300_000


def test_static_html_has_every_frame():
    html = W.static_html(A.effective_step_widget())
    assert html.count("data:image/png;base64,") == 9
    assert 'data-descent-widget="static"' in html
