"""lib.batch_size (chapter 09): noise scale, critical batch size fit, scaling rules, power iteration."""

from __future__ import annotations

import numpy as np
import pytest

from lib import batch_size as bs


def test_noise_scale_of_a_known_distribution():
    rng = np.random.default_rng(0)
    G, sigma = np.array([1.0, 2.0, 0.0]), 3.0  # tr Σ = 3 * 9 = 27, |G|^2 = 5
    g = G + sigma * rng.standard_normal((200_000, 3))
    ns = bs.gradient_noise_scale(g)
    assert ns.trace_cov == pytest.approx(27, rel=0.02) and ns.grad_norm_sq == pytest.approx(5, rel=0.02)
    assert ns.b_simple == pytest.approx(27 / 5, rel=0.03)


def test_two_batch_estimator_is_unbiased_on_exact_expectations():
    g2, tr = 4.0, 40.0
    est = bs.noise_scale_from_two_batches(g2 + tr / 8, g2 + tr / 128, 8, 128)
    assert est.grad_norm_sq == pytest.approx(g2) and est.trace_cov == pytest.approx(tr)
    assert est.b_simple == pytest.approx(10.0)
    with pytest.raises(ValueError, match="b_small < b_big"):
        bs.noise_scale_from_two_batches(1, 1, 8, 8)


def test_critical_batch_size_fit_recovers_the_model():
    b = np.array([8, 16, 32, 64, 128, 256])
    s = bs.steps_to_target_model(b, 50.0, 40.0)
    s_min, b_crit = bs.fit_critical_batch_size(b, np.where(b == 256, np.inf, s))
    assert s_min == pytest.approx(50.0) and b_crit == pytest.approx(40.0)
    with pytest.raises(ValueError, match="at least two"):
        bs.fit_critical_batch_size([8, 16], [np.nan, 3.0])


def test_scaling_rules_and_warmup():
    assert bs.linear_scaling(0.1, 256, 1024) == pytest.approx(0.4)
    assert bs.sqrt_scaling(0.1, 256, 1024) == pytest.approx(0.2)
    assert bs.warmup_steps(1000, 100, 5) == 50 and bs.warmup_steps(1000, 300, 1) == 4
    sched = bs.linear_warmup(0.4, 4)
    assert [sched(t) for t in range(6)] == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.4, 0.4])
    assert bs.linear_warmup(1.0, 2, start_factor=0.5)(0) == pytest.approx(0.75)
    for bad in (
        lambda: bs.linear_scaling(0.1, 0, 8),
        lambda: bs.warmup_steps(10, -1, 1),
        lambda: bs.linear_warmup(0.1, 0),
    ):
        with pytest.raises(ValueError):
            bad()


def test_power_iteration_finds_the_top_eigenvalue():
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.standard_normal((20, 20)))
    lam = np.linspace(0.1, 5.0, 20)
    H = (q * lam) @ q.T
    res = bs.top_hessian_eigenvalue(lambda v: H @ v, 20, iters=500, tol=1e-12)
    assert res.converged and res.eigenvalue == pytest.approx(5.0, rel=1e-8)
    assert abs(abs(res.vector @ q[:, -1]) - 1) < 1e-4
    # the finite-difference HVP of a quadratic's gradient is H v up to rounding
    grad = lambda th: H @ th + 1.0  # noqa: E731
    v = rng.standard_normal(20)
    np.testing.assert_allclose(bs.hvp_finite_difference(grad, rng.standard_normal(20), v), H @ v, atol=1e-8)
    assert not bs.hvp_finite_difference(grad, np.zeros(20), np.zeros(20)).any()
    with pytest.raises(ValueError, match="hvp returned shape"):
        bs.top_hessian_eigenvalue(lambda v: v[:3], 20)


def test_per_example_input_checks():
    with pytest.raises(ValueError, match=r"\(n, d\)"):
        bs.gradient_noise_scale(np.ones(5))
    with pytest.raises(ValueError, match="NaN"):
        bs.gradient_noise_scale(np.array([[1.0, np.nan], [0.0, 1.0]]))
