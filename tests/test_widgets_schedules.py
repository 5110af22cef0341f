"""Chapter 07 widgets: pure computes, fast, and they show what the chapter says."""

import time

import numpy as np
import pytest

import lib.widgets as W
from lib.widgets import schedules as S


@pytest.mark.parametrize("name", S.SCHEDULE_NAMES)
def test_design_is_pure_and_uses_the_schedule(name):
    a, b = S.design_schedule(name, 0.5), S.design_schedule(name, 0.5)
    np.testing.assert_array_equal(a.loss, b.loss)
    assert a.lrs.max() == pytest.approx(0.5, rel=0.02)
    assert len(a.lrs) == S.DESIGN_STEPS and len(a.loss) == S.DESIGN_STEPS + 1


def test_decay_beats_constant_on_the_noise_floor():
    for name in ("cosine", "warmup + cosine", "one-cycle", "step"):
        d = S.design_schedule(name, 0.5)
        assert d.final < 0.5 * d.constant_final, name


def test_unknown_schedule():
    with pytest.raises(ValueError, match="unknown schedule"):
        S.make_schedule("sine", 0.1)


def test_rnn_gradient_matches_finite_differences():
    w, u, h = 1.02, 0.3, 1e-6
    _, g = S.rnn_loss_and_grad(w, u)
    fd_w = (S.rnn_loss_and_grad(w + h, u)[0] - S.rnn_loss_and_grad(w - h, u)[0]) / (2 * h)
    fd_u = (S.rnn_loss_and_grad(w, u + h)[0] - S.rnn_loss_and_grad(w, u - h)[0]) / (2 * h)
    np.testing.assert_allclose(g, [fd_w, fd_u], rtol=1e-6)


def test_clipping_rescues_the_exploding_run():
    assert S.clip_run("none").diverged
    r = S.clip_run("norm", 1.0)
    assert not r.diverged and r.loss[-1] < 1e-2 * r.loss[0]
    assert np.max(r.grad_norm) > 10  # the gradient really explodes


@pytest.mark.parametrize("make", [S.schedule_designer_widget, S.clipping_widget])
def test_compute_under_50_ms(make):
    w = make()
    w.compute(**w.defaults)
    times = []
    for _ in range(3):
        t = time.perf_counter()
        w.compute(**w.defaults)
        times.append(time.perf_counter() - t)
    assert min(times) < 0.05
    assert W.render_png(w)[:4] == b"\x89PNG"
