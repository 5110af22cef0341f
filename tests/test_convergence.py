"""lib.convergence: the quadratic-convergence formulas agree with gradient-descent runs."""

import math

import numpy as np
import pytest

from lib import convergence, functions, optim


def random_spd(rng, n, kappa):
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    eig = np.geomspace(1.0, kappa, n)
    return (q * eig) @ q.T, eig


@pytest.mark.parametrize("kappa", [1.5, 10.0, 100.0])
def test_contraction_factor_matches_runs(kappa):
    rng = np.random.default_rng(int(kappa))
    H, eig = random_spd(rng, 4, kappa)
    f = functions.quadratic(hessian=H)
    for frac in (0.2, 0.9, 1.0, 1.5, 1.99, 2.02):
        lr = frac / eig.max()
        # start along the slowest-or-fastest eigen-direction mix: all components present
        rho = convergence.contraction_factor(lr, eig)
        steps = min(3000, int(200 / abs(math.log(rho))))   # long enough for the slowest mode to dominate
        path = optim.run(optim.sgd(lr=lr), f.grad, np.ones(4), steps, max_norm=math.inf)
        errors = np.linalg.norm(path, axis=1)
        assert convergence.empirical_rate(errors, steps // 10) == pytest.approx(rho, rel=1e-3)


def test_optimal_learning_rate_minimises_the_factor():
    eig = [0.5, 2.0, 7.0]
    lrs = np.linspace(1e-4, 2 / 7.0, 20001)
    best = lrs[np.argmin(convergence.contraction_factor(lrs, eig))]
    assert best == pytest.approx(convergence.optimal_learning_rate(eig), rel=1e-3)
    assert convergence.contraction_factor(convergence.optimal_learning_rate(eig), eig) == \
        pytest.approx(convergence.optimal_rate(14.0))
    assert convergence.critical_learning_rate(eig) == pytest.approx(2 / 7.0)
    assert convergence.contraction_factor(convergence.critical_learning_rate(eig), eig) == pytest.approx(1.0)


@pytest.mark.parametrize("kappa", [1.0, 1.5, 3.0, 10.0, 99.0, 1e4])
@pytest.mark.parametrize("tol", [1.0, 0.5, 1e-3, 1e-8])
def test_steps_to_tolerance_is_the_smallest_k(kappa, tol):
    k = convergence.steps_to_tolerance(kappa, tol)
    rho = convergence.optimal_rate(kappa)
    assert isinstance(k, int) and rho**k <= tol
    assert k == 0 or rho ** (k - 1) > tol


def test_steps_to_tolerance_matches_a_gd_run():
    f = functions.quadratic(kappa=100)
    lr = convergence.optimal_learning_rate(f.eigenvalues)
    k = convergence.steps_to_tolerance(100, 1e-6)
    start = np.array([1.0, 1.0])
    errors = np.linalg.norm(optim.run(optim.sgd(lr=lr), f.grad, start, k + 5), axis=1) / np.linalg.norm(start)
    # with both eigen-components present the bound is attained: first step below 1e-6 is k
    assert int(np.argmax(errors <= 1e-6 * (1 + 1e-9))) == k


@pytest.mark.parametrize("call, message", [
    (lambda: convergence.contraction_factor(0.1, [1.0, -2.0]), "positive definite"),
    (lambda: convergence.contraction_factor(0.1, []), "non-empty"),
    (lambda: convergence.optimal_rate(0.5), ">= 1"),
    (lambda: convergence.steps_to_tolerance(10, 0.0), r"\(0, 1\]"),
    (lambda: convergence.steps_to_tolerance(10, 2.0), r"\(0, 1\]"),
    (lambda: convergence.empirical_rate([1.0, 0.5], 2), "window"),
])
def test_bad_input_is_explained(call, message):
    with pytest.raises(ValueError, match=message):
        call()
