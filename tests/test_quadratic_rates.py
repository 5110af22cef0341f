"""lib.theory.quadratic_rates: the quadratic-convergence formulas agree with gradient-descent runs."""

import math

import numpy as np
import pytest

from lib import functions, optim
from lib.theory import quadratic_rates


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
        rho = quadratic_rates.contraction_factor(lr, eig)
        steps = min(3000, int(200 / abs(math.log(rho))))  # long enough for the slowest mode to dominate
        path = optim.run(optim.sgd(lr=lr), f.grad, np.ones(4), steps, max_norm=math.inf)
        errors = np.linalg.norm(path, axis=1)
        assert quadratic_rates.empirical_rate(errors, steps // 10) == pytest.approx(rho, rel=1e-3)


def test_optimal_learning_rate_minimises_the_factor():
    eig = [0.5, 2.0, 7.0]
    lrs = np.linspace(1e-4, 2 / 7.0, 20001)
    best = lrs[np.argmin(quadratic_rates.contraction_factor(lrs, eig))]
    assert best == pytest.approx(quadratic_rates.optimal_learning_rate(eig), rel=1e-3)
    assert quadratic_rates.contraction_factor(quadratic_rates.optimal_learning_rate(eig), eig) == pytest.approx(
        quadratic_rates.optimal_rate(14.0)
    )
    assert quadratic_rates.critical_learning_rate(eig) == pytest.approx(2 / 7.0)
    assert quadratic_rates.contraction_factor(quadratic_rates.critical_learning_rate(eig), eig) == pytest.approx(1.0)


@pytest.mark.parametrize("kappa", [1.0, 1.5, 3.0, 10.0, 99.0, 1e4])
@pytest.mark.parametrize("tol", [1.0, 0.5, 1e-3, 1e-8])
def test_steps_to_tolerance_is_the_smallest_k(kappa, tol):
    k = quadratic_rates.steps_to_tolerance(kappa, tol)
    rho = quadratic_rates.optimal_rate(kappa)
    assert isinstance(k, int) and rho**k <= tol
    assert k == 0 or rho ** (k - 1) > tol


def test_steps_to_tolerance_matches_a_gd_run():
    f = functions.quadratic(kappa=100)
    lr = quadratic_rates.optimal_learning_rate(f.eigenvalues)
    k = quadratic_rates.steps_to_tolerance(100, 1e-6)
    start = np.array([1.0, 1.0])
    errors = np.linalg.norm(optim.run(optim.sgd(lr=lr), f.grad, start, k + 5), axis=1) / np.linalg.norm(start)
    # with both eigen-components present the bound is attained: first step below 1e-6 is k
    assert int(np.argmax(errors <= 1e-6 * (1 + 1e-9))) == k


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: quadratic_rates.contraction_factor(0.1, [1.0, -2.0]), "positive definite"),
        (lambda: quadratic_rates.contraction_factor(0.1, []), "non-empty"),
        (lambda: quadratic_rates.optimal_rate(0.5), ">= 1"),
        (lambda: quadratic_rates.steps_to_tolerance(10, 0.0), r"\(0, 1\]"),
        (lambda: quadratic_rates.steps_to_tolerance(10, 2.0), r"\(0, 1\]"),
        (lambda: quadratic_rates.empirical_rate([1.0, 0.5], 2), "window"),
    ],
)
def test_bad_input_is_explained(call, message):
    with pytest.raises(ValueError, match=message):
        call()
