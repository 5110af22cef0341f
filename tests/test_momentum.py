"""Chapter 4: the momentum conventions of lib.theory.momentum_forms agree with the torch-exact lib.optim.sgd
where they should and differ where they should; momentum's quadratic theory in lib.theory.quadratic_rates
agrees with runs."""

import doctest
import math

import numpy as np
import pytest
import sympy as sp

import lib.theory.momentum_forms as M
from lib import functions, optim
from lib.theory import quadratic_rates

STEPS = 60


def tilted_quadratic():
    return functions.quadratic((1.0, 12.0), angle=0.4)


def sgd_path(f, start, steps=STEPS, **hparams):
    return optim.run(optim.sgd(**hparams), f.grad, np.array(start, dtype=float), steps)


def drop_schedule(lr, at=20, factor=0.1):
    return lambda t: lr if t < at else lr * factor


# --------------------------------------------------------------------------- doctests


@pytest.mark.parametrize("module", [M, quadratic_rates])
def test_doctests(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


# --------------------------------------------------------------------------- equivalences


@pytest.mark.parametrize(
    "f, start, lr, mu",
    [
        (tilted_quadratic(), (-1.5, 1.0), 0.05, 0.9),
        (functions.rosenbrock(), (-1.2, 1.0), 5e-4, 0.9),
        (functions.saddle(), (1.5, 0.01), 0.1, 0.5),
    ],
)
def test_all_forms_equal_torch_for_a_constant_learning_rate(f, start, lr, mu):
    ref = sgd_path(f, start, lr=lr, momentum=mu)
    assert np.allclose(M.run("torch", f.grad, start, lr, mu, STEPS), ref, rtol=1e-12, atol=1e-12)
    assert np.allclose(M.run("ema", f.grad, start, lr / (1 - mu), mu, STEPS), ref, rtol=1e-10, atol=1e-12)
    for form in ("sign_flipped", "lr_inside", "heavy_ball", "classical_momentum", "corrected_lr_inside"):
        assert np.allclose(M.run(form, f.grad, start, lr, mu, STEPS), ref, rtol=1e-10, atol=1e-12), form


def test_lr_inside_differs_after_a_learning_rate_drop_and_the_correction_fixes_it():
    f = tilted_quadratic()
    start, mu, lr = (-1.5, 1.0), 0.9, 0.05
    schedule = drop_schedule(lr)
    ref = sgd_path(f, start, lr=schedule, momentum=mu)
    assert np.allclose(M.run("torch", f.grad, start, schedule, mu, STEPS), ref, rtol=1e-12)
    # the lr-outside forms follow the schedule exactly (EMA with α_t = η_t / (1 − β))
    assert np.allclose(
        M.run("ema", f.grad, start, lambda t: schedule(t) / (1 - mu), mu, STEPS), ref, rtol=1e-10, atol=1e-14
    )
    assert np.allclose(M.run("sign_flipped", f.grad, start, schedule, mu, STEPS), ref, rtol=1e-12)
    assert np.allclose(M.run("corrected_lr_inside", f.grad, start, schedule, mu, STEPS), ref, rtol=1e-10, atol=1e-14)
    # the lr-inside forms agree before the drop and not after
    for form in ("lr_inside", "heavy_ball"):
        path = M.run(form, f.grad, start, schedule, mu, STEPS)
        assert np.allclose(path[:21], ref[:21], rtol=1e-12)
        assert np.max(np.abs(path[21:] - ref[21:])) > 1e-2, form
    # lr-inside keeps the old, large velocity: its first step after the drop is about 10x torch's
    inside = M.run("lr_inside", f.grad, start, schedule, mu, STEPS)
    step_inside = np.linalg.norm(inside[21] - inside[20])
    step_torch = np.linalg.norm(ref[21] - ref[20])
    assert step_inside > 5 * step_torch


def test_heavy_ball_equals_lr_inside_under_any_schedule():
    f = functions.rosenbrock()
    schedule = lambda t: 1e-3 * (0.5 if t % 7 == 0 else 1.0)  # noqa: E731
    a = M.run("heavy_ball", f.grad, (-1.2, 1.0), schedule, 0.8, STEPS)
    b = M.run("lr_inside", f.grad, (-1.2, 1.0), schedule, 0.8, STEPS)
    assert np.allclose(a, b, rtol=1e-12, atol=1e-12)


def test_torch_dampening_is_not_ema_at_the_first_step():
    """SGD(lr=α, momentum=β, dampening=β) does not dampen b_1 = g_1; the EMA form does."""
    g = np.array([1.0, -2.0])
    beta, alpha = 0.9, 0.1
    tx = optim.sgd(lr=alpha, momentum=beta, dampening=beta)
    state = tx.init(np.zeros(2))
    v = np.zeros(2)
    for t in range(1, 30):
        _, state = tx.update(g, state, np.zeros(2))
        v = beta * v + (1 - beta) * g
        buf = state[0].momentum_buffer
        assert np.allclose(buf - v, beta**t * g)  # the gap decays like β^t


def test_nesterov_lookahead_points_are_torch_iterates():
    for f, start, lr, mu in [
        (functions.rosenbrock(), (-1.2, 1.0), 5e-4, 0.9),
        (tilted_quadratic(), (-1.5, 1.0), 0.05, 0.95),
    ]:
        ref = sgd_path(f, start, lr=lr, momentum=mu, nesterov=True)
        theta = np.array(start, dtype=float)
        v = np.zeros(2)
        for t in range(STEPS):
            assert np.allclose(theta + mu * v, ref[t], rtol=1e-10, atol=1e-12), t
            theta, v = M.nesterov_lookahead_step(theta, v, f.grad, lr, mu)


def test_the_sources_nag_code_is_classical_momentum():
    f = functions.rosenbrock()
    start, lr, mu = (-1.2, 1.0), 5e-4, 0.9
    cm = M.run("classical_momentum", f.grad, start, lr, mu, STEPS)
    assert np.allclose(cm, sgd_path(f, start, lr=lr, momentum=mu), rtol=1e-10)
    assert np.max(np.abs(cm - sgd_path(f, start, lr=lr, momentum=mu, nesterov=True))) > 1e-3


def test_forms_work_on_sympy_symbols():
    theta, g, lr, mu, b = sp.symbols("theta g eta mu b")
    new, buf = M.torch_step(theta, b, lambda p: g, lr, mu)
    assert sp.simplify(new - (theta - lr * (mu * b + g))) == 0 and sp.simplify(buf - (mu * b + g)) == 0
    new_la, _ = M.nesterov_lookahead_step(theta, b, lambda p: 3 * p, lr, mu)
    assert sp.expand(new_la - (theta + mu * b - 3 * lr * (theta + mu * b))) == 0


def test_bad_input():
    with pytest.raises(ValueError, match="unknown momentum form"):
        M.run("nag", lambda p: p, [1.0], 0.1, 0.9, 3)
    with pytest.raises(ValueError, match="unknown momentum form"):
        M.initial_state("adam", np.zeros(2))
    with pytest.raises(ValueError, match="steps"):
        M.run("torch", lambda p: p, [1.0], 0.1, 0.9, -1)
    with pytest.raises(ValueError, match="momentum"):
        M.run("torch", lambda p: p, [1.0], 0.1, -0.5, 3)


def test_run_stops_when_diverging():
    path = M.run("torch", lambda p: 1e200 * p, np.array([1e200]), 1.0, 0.9, 10)
    assert len(path) < 11 and not np.all(np.isfinite(path[-1]))


# --------------------------------------------------------------------------- quadratic theory


@pytest.mark.parametrize("nesterov", [False, True])
def test_iteration_matrix_reproduces_sgd_in_one_dimension(nesterov):
    lam, lr, mu = 3.0, 0.2, 0.7
    path = optim.run(optim.sgd(lr=lr, momentum=mu, nesterov=nesterov), lambda p: lam * p, np.array([1.0]), 30)[:, 0]
    A = quadratic_rates.momentum_iteration_matrix(lr, mu, lam, nesterov=nesterov)
    for t in range(1, 30):
        assert A[0] @ [path[t], path[t - 1]] == pytest.approx(path[t + 1], rel=1e-12, abs=1e-15)
    assert np.allclose(
        np.sort_complex(np.linalg.eigvals(A)),
        np.sort_complex(quadratic_rates.momentum_eigenvalues(lr, mu, lam, nesterov)),
    )


def _measured(f, lr, mu, nesterov, rho):
    nesterov = nesterov and mu > 0  # torch: Nesterov needs a momentum
    steps = int(min(3000, max(200, 150 / max(abs(math.log(rho)), 1e-3))))
    path = optim.run(optim.sgd(lr=lr, momentum=mu, nesterov=nesterov), f.grad, np.ones(f.dim), steps, max_norm=math.inf)
    errors = np.linalg.norm(path, axis=1)
    k = len(errors) - 1
    return quadratic_rates.empirical_rate(errors, k // 3)


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("mu", [0.0, 0.5, 0.9])
@pytest.mark.parametrize("x", [0.05, 0.5, 1.0, 1.6, 3.0])
def test_contraction_factor_matches_runs(nesterov, mu, x):
    f = functions.quadratic((1.0, 4.0, 20.0))
    lr = x / 20.0
    rho = quadratic_rates.momentum_contraction_factor(lr, mu, f.eigenvalues, nesterov=nesterov)
    limit = quadratic_rates.momentum_critical_learning_rate(mu, f.eigenvalues, nesterov=nesterov)
    assert (rho < 1) == (lr < limit)
    if abs(rho - 1) < 1e-3:
        return
    # a polynomial factor at (near-)critical damping: allow 2 %
    assert _measured(f, lr, mu, nesterov, rho) == pytest.approx(rho, rel=2e-2)


def test_momentum_zero_is_gradient_descent():
    lrs = np.linspace(0.01, 0.25, 9)
    assert np.allclose(
        quadratic_rates.momentum_contraction_factor(lrs, 0.0, [1.0, 9.0]),
        quadratic_rates.contraction_factor(lrs, [1.0, 9.0]),
    )
    assert quadratic_rates.momentum_critical_learning_rate(0.0, [1.0, 9.0]) == pytest.approx(
        quadratic_rates.critical_learning_rate([1.0, 9.0])
    )


@pytest.mark.parametrize("mu", [0.0, 0.3, 0.8, 0.95])
def test_stability_limits(mu):
    lam = [0.5, 8.0]
    for nesterov in (False, True):
        limit = quadratic_rates.momentum_critical_learning_rate(mu, lam, nesterov=nesterov)
        assert quadratic_rates.momentum_contraction_factor(limit * 0.999, mu, lam, nesterov) < 1
        assert quadratic_rates.momentum_contraction_factor(limit * 1.001, mu, lam, nesterov) > 1
        assert quadratic_rates.momentum_contraction_factor(limit, mu, lam, nesterov) == pytest.approx(1.0)
    assert quadratic_rates.momentum_critical_learning_rate(mu, lam) == pytest.approx((2 + 2 * mu) / 8.0)


@pytest.mark.parametrize("x", [0.01, 0.3, 1.0, 2.0, 3.5])
def test_critical_momentum_gives_a_double_root(x):
    mu = quadratic_rates.critical_momentum(x, 1.0)
    z = quadratic_rates.momentum_eigenvalues(x, mu, 1.0)
    assert abs(z[0] - z[1]) < 1e-6
    above = quadratic_rates.momentum_eigenvalues(x, min(mu + 0.01, 0.999), 1.0)
    assert np.all(np.abs(above.imag) > 0) and np.allclose(np.abs(above), math.sqrt(min(mu + 0.01, 0.999)))
    if mu > 0.01:
        assert np.all(quadratic_rates.momentum_eigenvalues(x, mu - 0.01, 1.0).imag == 0)


@pytest.mark.parametrize("kappa", [4.0, 25.0, 100.0])
def test_optimal_pair_is_the_grid_minimum_and_matches_a_run(kappa):
    lam = [1.0, kappa]
    lr_star, mu_star = quadratic_rates.momentum_optimal_parameters(lam)
    rate = quadratic_rates.momentum_optimal_rate(kappa)
    assert quadratic_rates.momentum_contraction_factor(lr_star, mu_star, lam) == pytest.approx(rate, rel=1e-6)
    lrs, mus = np.meshgrid(np.linspace(0.5, 1.5, 81) * lr_star, np.linspace(0.5, 1.2, 81) * mu_star)
    mus = np.minimum(mus, 0.999)
    assert quadratic_rates.momentum_contraction_factor(lrs, mus, lam).min() >= rate - 1e-6
    assert rate < quadratic_rates.optimal_rate(kappa)
    f = functions.quadratic(lam)
    steps = int(min(400, 250 / -math.log(rate)))  # stay far above underflow
    path = optim.run(optim.sgd(lr=lr_star, momentum=mu_star), f.grad, np.ones(2), steps)
    errors = np.linalg.norm(path, axis=1)
    # at the optimum both extreme modes are critically damped: error ~ t ρ^t
    t = np.arange(1, steps + 1)
    assert np.all(errors[1:] <= 4 * (1 + t) * rate**t * errors[0])
    assert quadratic_rates.empirical_rate(errors, steps // 3) == pytest.approx(rate, rel=0.01)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: quadratic_rates.momentum_contraction_factor(0.1, 1.0, [1.0]), r"\[0, 1\)"),
        (lambda: quadratic_rates.momentum_contraction_factor(0.1, 0.5, [-1.0]), "positive definite"),
        (lambda: quadratic_rates.critical_momentum(5.0, 1.0), "0 < lr"),
        (lambda: quadratic_rates.momentum_optimal_rate(0.5), ">= 1"),
        (lambda: quadratic_rates.momentum_critical_learning_rate(-0.1, [1.0]), "momentum"),
    ],
)
def test_bad_input_is_explained(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_exercise_references_chain_into_the_reference_forms():
    """The graded step exercises (checked against lib.optim.sgd) agree with lib.theory.momentum_forms."""
    from lib.exercises import momentum as E

    f = functions.rosenbrock()
    lr, mu = 5e-4, 0.9
    theta, buf = np.array(f.start), None
    theta_nag, buf_nag = np.array(f.start), None
    cm = M.run("torch", f.grad, f.start, lr, mu, 20)
    look, v = np.array(f.start), np.zeros(2)
    for t in range(20):
        theta, buf = E.sgd_momentum_step(theta, buf, f.grad(theta), lr, mu, 0.0)
        theta_nag, buf_nag = E.nesterov_step(theta_nag, buf_nag, f.grad(theta_nag), lr, mu)
        look, v = M.nesterov_lookahead_step(look, v, f.grad, lr, mu)
        assert np.allclose(theta, cm[t + 1], rtol=1e-12)
        assert np.allclose(theta_nag, look + mu * v, rtol=1e-10)
    for form in ("ema", "sign_flipped", "lr_inside"):
        torch_lr, torch_mu = E.torch_momentum_hparams(form, 0.01, 0.9)
        assert np.allclose(
            M.run(form, f.grad, f.start, 0.01, 0.9, 20),
            M.run("torch", f.grad, f.start, torch_lr, torch_mu, 20),
            rtol=1e-10,
        )
