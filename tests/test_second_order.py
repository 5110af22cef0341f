"""Newton, line search, trust region, CG / Hessian-free, curvature matrices and K-FAC
(:mod:`lib.second_order`); L-BFGS against torch is in ``test_second_order_lbfgs.py``."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize

from lib import functions
from lib.autodiff import hvp as autodiff_hvp
from lib.nn import mlp
from lib.second_order import cg as cgm
from lib.second_order import curvature as cv
from lib.second_order import kfac
from lib.second_order import line_search as ls
from lib.second_order import newton as nt
from lib.second_order import trust_region as tr

# --------------------------------------------------------------------------- Newton


def test_newton_solves_a_quadratic_in_one_step_and_is_affine_invariant():
    f = functions.quadratic((1.0, 100.0), angle=0.3)
    r = nt.newton(f, [3.0, -2.0], steps=1)
    np.testing.assert_allclose(r.path[-1], [0, 0], atol=1e-12)
    # affine invariance: Newton on g(u) = f(Au) maps to Newton on f
    A = np.array([[2.0, 1.0], [0.5, 3.0]])
    x = np.array([0.7, -0.4])
    R = functions.rosenbrock()
    d_x = nt.newton_direction(R.grad(x), R.hessian(x))
    u = np.linalg.solve(A, x)
    d_u = nt.newton_direction(A.T @ R.grad(A @ u), A.T @ R.hessian(A @ u) @ A)
    np.testing.assert_allclose(A @ d_u, d_x, rtol=1e-10)


def test_newton_converges_quadratically_on_rosenbrock():
    R = functions.rosenbrock()
    r = nt.newton(R, [0.8, 0.6], steps=8)
    err = np.linalg.norm(r.path - 1.0, axis=1)
    k = np.flatnonzero((err < 1e-1) & (err > 1e-13))
    ratios = err[k[1:]] / err[k[:-1]] ** 2  # e_{k+1} / e_k^2 bounded
    assert len(ratios) >= 2 and np.all(ratios < 1e3)
    assert err[-1] < 1e-12


def test_damping_interpolates_between_newton_and_gradient_descent():
    g, H = np.array([1.0, -2.0]), np.array([[3.0, 1.0], [1.0, 2.0]])
    np.testing.assert_allclose(nt.newton_direction(g, H, 0.0), -np.linalg.solve(H, g))
    lam = 1e8
    np.testing.assert_allclose(nt.newton_direction(g, H, lam) * lam, -g, rtol=1e-6)
    with pytest.raises(ValueError, match="damping"):
        nt.newton_direction(g, H, -1.0)
    with pytest.raises(ValueError, match="NaN"):
        nt.newton_direction([np.nan, 0.0], H)


def test_plain_newton_goes_to_the_saddle_and_saddle_free_escapes():
    S = functions.saddle()
    start = [0.5, 0.05]
    r = nt.newton(S, start, steps=15)
    assert np.linalg.norm(r.path[-1] - S.saddles[0]) < 1e-8
    r = nt.newton(S, start, steps=15, saddle_free=True, damping=1e-3)
    assert min(np.linalg.norm(r.path[-1] - m) for m in S.minima) < 1e-6


def test_saddle_free_direction_is_descent_and_rescales_eigen_directions():
    H = np.diag([2.0, -4.0])
    d = nt.saddle_free_direction([1.0, 1.0], H)
    np.testing.assert_allclose(d, [-0.5, -0.25])


def test_adaptive_damping_and_line_search_fix_newton_on_himmelblau_and_rosenbrock():
    R = functions.rosenbrock()
    for kw in (dict(line_search=True), dict(damping=1.0, adaptive=True)):
        r = nt.newton(R, [-1.2, 1.0], steps=100, **kw)
        np.testing.assert_allclose(r.path[-1], [1, 1], atol=1e-8)
        assert np.all(np.diff(r.values) <= 1e-12)  # monotone
    Hb = functions.himmelblau()
    r = nt.newton(Hb, [-0.3, -0.9], steps=60, damping=1.0, adaptive=True)
    assert min(np.linalg.norm(r.path[-1] - m) for m in Hb.minima) < 1e-6
    with pytest.raises(ValueError, match="positive initial damping"):
        nt.newton(R, [0, 0], adaptive=True)


def test_update_damping_rule():
    assert nt.update_damping(1.0, 0.9) < 1.0 < nt.update_damping(1.0, -1.0)
    assert nt.update_damping(1.0, 0.5) == 1.0


# --------------------------------------------------------------------------- line search


def test_backtracking_satisfies_armijo_and_rejects_ascent():
    R = functions.rosenbrock()
    x = np.array([-1.2, 1.0])
    g = R.grad(x)
    t, f_t, n = ls.backtracking(R.value, x, -g, R.value(x), g)
    assert ls.armijo(R.value(x), f_t, t, float(g @ -g)) and n > 1
    assert not ls.armijo(R.value(x), R.value(x - 2 * t * g), 2 * t, float(g @ -g))
    with pytest.raises(ValueError, match="descent direction"):
        ls.backtracking(R.value, x, g, R.value(x), g)


# --------------------------------------------------------------------------- trust region


def _random_model(seed, indefinite=False):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    lam = rng.uniform(0.5, 5, 4)
    if indefinite:
        lam[0] = -1.0
    return rng.standard_normal(4), (Q * lam) @ Q.T


@pytest.mark.parametrize("seed", range(4))
def test_exact_step_solves_the_trust_region_subproblem(seed):
    g, B = _random_model(seed, indefinite=seed % 2 == 1)
    m = lambda p: g @ p + 0.5 * p @ B @ p
    for delta in (0.1, 0.5, 2.0):
        p = tr.exact_step(g, B, delta)
        lam = tr.lambda_for_radius(g, B, delta)
        assert np.linalg.norm(p) <= delta * (1 + 1e-9)
        assert lam >= 0 and np.linalg.eigvalsh(B + lam * np.eye(4))[0] >= -1e-12
        # lambda tied to the radius: on the boundary unless lambda = 0
        assert lam == 0 or abs(np.linalg.norm(p) - delta) < 1e-9 * delta
        # no feasible point does better (scipy's constrained minimiser as a referee)
        ref = scipy.optimize.minimize(
            m, np.zeros(4), constraints=[{"type": "ineq", "fun": lambda q: delta**2 - q @ q}], method="SLSQP", tol=1e-12
        )
        assert m(p) <= ref.fun + 1e-7


def test_smaller_radius_means_larger_lambda():
    g, B = _random_model(0)
    lams = [tr.lambda_for_radius(g, B, d) for d in (0.05, 0.1, 0.2, 0.4)]
    assert all(a > b for a, b in zip(lams, lams[1:]))


def test_cauchy_point_and_dogleg():
    g, B = _random_model(2)
    m = lambda p: g @ p + 0.5 * p @ B @ p
    for delta in (0.05, 0.3, 5.0):
        c = tr.cauchy_point(g, B, delta)
        d = tr.dogleg(g, B, delta)
        e = tr.exact_step(g, B, delta)
        assert np.linalg.norm(c) <= delta + 1e-12 and np.linalg.norm(d) <= delta + 1e-12
        assert m(e) <= m(d) + 1e-12 <= m(c) + 2e-12  # exact ≤ dogleg ≤ Cauchy
        # the Cauchy point is the best point along -g inside the ball
        ts = np.linspace(0, delta / np.linalg.norm(g), 2001)
        assert m(c) <= min(m(-t * g) for t in ts) + 1e-9
    np.testing.assert_allclose(tr.dogleg(g, B, 100.0), -np.linalg.solve(B, g))
    with pytest.raises(ValueError, match="positive definite"):
        tr.dogleg(*_random_model(1, indefinite=True), 1.0)
    with pytest.raises(ValueError, match="radius"):
        tr.cauchy_point(g, B, 0.0)


@pytest.mark.parametrize("method", ["exact", "dogleg", "cauchy"])
def test_trust_region_minimises_rosenbrock(method):
    r = tr.trust_region(functions.rosenbrock(), [-1.2, 1.0], steps=100, method=method)
    if method == "cauchy":  # steepest descent in disguise: slow, but it gets going
        assert r.values[-1] < 0.2 * r.values[0] and r.values[-1] > 1.0  # far from the minimum
    else:
        np.testing.assert_allclose(r.path[-1], [1, 1], atol=1e-8)
    assert np.all(np.diff(r.values) <= 0)


def test_trust_region_escapes_the_saddle():
    S = functions.saddle()
    r = tr.trust_region(S, [0.5, 0.0], steps=50)
    # exactly on the ridge y = 0 the gradient has no y component, but negative curvature does
    assert min(np.linalg.norm(r.path[-1] - m) for m in S.minima) < 1e-6


# --------------------------------------------------------------------------- CG and Hessian-free


def test_cg_solves_spd_systems_in_at_most_n_steps():
    rng = np.random.default_rng(0)
    Q = rng.standard_normal((8, 8))
    A = Q @ Q.T + np.eye(8)
    b = rng.standard_normal(8)
    r = cgm.cg(lambda v: A @ v, b, tol=1e-12)
    np.testing.assert_allclose(r.x, np.linalg.solve(A, b), rtol=1e-8)
    assert r.iterations <= 8
    # three distinct eigenvalues: three iterations
    A3 = np.diag([1.0] * 3 + [5.0] * 3 + [9.0] * 2)
    assert cgm.cg(lambda v: A3 @ v, np.ones(8), tol=1e-12).iterations == 3


def test_cg_with_autodiff_hvp_is_newton_on_rosenbrock():
    R = functions.rosenbrock()
    x = np.array([1.2, 1.2])  # H ≻ 0 here (CG needs it)
    f = lambda v: (1 - v[0]) ** 2 + 100 * (v[1] - v[0] ** 2) ** 2
    r = cgm.cg(lambda v: autodiff_hvp(f, x, v)[1], -R.grad(x))
    np.testing.assert_allclose(r.x, nt.newton_direction(R.grad(x), R.hessian(x)), rtol=1e-10)


def test_hessian_free_decreases_the_loss_fast():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    model = mlp((4, 8, 2))
    r = cgm.hessian_free(model, model.init(0), X, y, steps=15, damping=1.0)
    assert r.losses[-1] < 0.2 * r.losses[0]
    assert np.all(np.diff(r.losses) <= 0)


# --------------------------------------------------------------------------- curvature


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(0)
    model = mlp((5, 4, 3, 3))
    p = model.init(1)
    X = rng.standard_normal((7, 5))
    y = rng.integers(0, 3, 7)
    _, _, pre = cv.forward(p, X)
    assert min(np.abs(z).min() for z in pre[:-1]) > 1e-3  # finite differences cross no ReLU kink
    return model, p, X, y


def test_flatten_roundtrip_and_blocks(small):
    _, p, _, _ = small
    w = cv.flatten(p)
    back = cv.unflatten(w, p)
    assert all(np.array_equal(back[k], p[k]) for k in p)
    blocks = cv.layer_blocks(p)
    assert blocks[-1].stop == w.size
    np.testing.assert_array_equal(w[blocks[1]], np.concatenate([p["W2"].ravel(), p["b2"]]))
    with pytest.raises(ValueError, match="shape"):
        cv.unflatten(w[:-1], p)


def test_hvp_matches_finite_differences_of_the_gradient(small):
    model, p, X, y = small
    rng = np.random.default_rng(0)
    w = cv.flatten(p)
    grad = lambda w_: cv.flatten(model.loss_and_grad(cv.unflatten(w_, p), X, y)[1])
    for _ in range(3):
        v = rng.standard_normal(w.size)
        h = 1e-6
        fd = (grad(w + h * v) - grad(w - h * v)) / (2 * h)
        np.testing.assert_allclose(cv.hvp(p, X, y, v), fd, atol=1e-7)


def test_ggn_equals_fisher_but_not_the_empirical_fisher_or_hessian(small):
    _, p, X, y = small
    G, F = cv.ggn(p, X), cv.fisher(p, X)
    np.testing.assert_allclose(G, F, atol=1e-13)
    np.testing.assert_allclose(cv.matrix(cv.ggn_vp, p, X, y), G, atol=1e-13)
    assert np.linalg.eigvalsh(G).min() > -1e-12  # GGN ⪰ 0
    H = cv.matrix(cv.hvp, p, X, y)
    assert np.linalg.eigvalsh(H).min() < -1e-6  # H is indefinite here
    E = cv.empirical_fisher(p, X, y)
    assert np.abs(E - F).max() > 0.1 * np.abs(F).max()
    # the per-example gradients average to the gradient
    model = small[0]
    np.testing.assert_allclose(
        cv.per_example_grads(p, X, y).mean(0), cv.flatten(model.loss_and_grad(p, X, y)[1]), atol=1e-14
    )


def test_block_diagonal_and_diagonal(small):
    _, p, X, _ = small
    F = cv.fisher(p, X)
    B = cv.block_diagonal(F, cv.layer_blocks(p))
    for b in cv.layer_blocks(p):
        np.testing.assert_array_equal(B[b, b], F[b, b])
    assert np.count_nonzero(B) < np.count_nonzero(F)
    np.testing.assert_array_equal(np.diag(cv.diagonal(F)), np.diag(F))
    with pytest.raises(ValueError, match="consecutive"):
        cv.block_diagonal(F, [slice(0, 3)])


# --------------------------------------------------------------------------- K-FAC


def test_kfac_is_exact_for_one_example_and_the_kronecker_inverse_identity():
    rng = np.random.default_rng(5)
    p = mlp((5, 4, 3)).init(2)
    X = rng.standard_normal((1, 5))
    F = cv.fisher(p, X)
    for b, (A, G) in zip(cv.layer_blocks(p), kfac.kfac_factors(p, X)):
        np.testing.assert_allclose(F[b, b], np.kron(A, G), atol=1e-14)
    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    G = np.array([[3.0, 1.0], [1.0, 2.0]])
    np.testing.assert_allclose(np.linalg.inv(np.kron(A, G)), np.kron(np.linalg.inv(A), np.linalg.inv(G)), rtol=1e-12)


def test_kfac_direction_equals_the_inverse_kronecker_product():
    rng = np.random.default_rng(6)
    p = mlp((3, 4, 2)).init(0)
    X = rng.standard_normal((20, 3))
    y = rng.integers(0, 2, 20)
    model = mlp((3, 4, 2))
    _, grads = model.loss_and_grad(p, X, y)
    fs = kfac.kfac_factors(p, X)
    lam = 1e-3
    d = kfac.kfac_direction(grads, fs, lam)
    for l, (A, G) in enumerate(fs, start=1):
        pi = np.sqrt((np.trace(A) / len(A)) / (np.trace(G) / len(G)))
        K = np.kron(A + pi * np.sqrt(lam) * np.eye(len(A)), G + np.sqrt(lam) / pi * np.eye(len(G)))
        gvec = np.concatenate([grads[f"W{l}"].ravel(), grads[f"b{l}"]])
        np.testing.assert_allclose(
            np.concatenate([d[f"W{l}"].ravel(), d[f"b{l}"]]), np.linalg.solve(K, gvec), rtol=1e-9
        )
    with pytest.raises(ValueError, match="damping"):
        kfac.kfac_direction(grads, fs, 0.0)


def test_empirical_factor_differs_and_train_kfac_learns():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((200, 4))
    y = (X[:, 0] - X[:, 2] > 0).astype(int)
    model = mlp((4, 8, 2))
    p = model.init(0)
    Gf = kfac.kfac_factors(p, X)[-1][1]
    Ge = kfac.kfac_factors(p, X, y, empirical=True)[-1][1]
    assert np.abs(Gf - Ge).max() > 1e-3
    h = kfac.train_kfac(model, p, X, y, epochs=5, batch_size=50, lr=0.3, damping=1e-2)
    assert h.step_loss[-1] < 0.5 * h.step_loss[0]


@pytest.mark.parametrize("module", [cgm, cv, kfac, ls, nt, tr])
def test_doctests(module):
    import doctest

    assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0
