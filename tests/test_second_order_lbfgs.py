"""L-BFGS and BFGS (:mod:`lib.second_order.quasi_newton`) against golden ``torch.optim.LBFGS``.

``tests/data/second_order_torch.npz`` is recorded by ``tests/golden/record_second_order.py``
(torch 2.13.0, float64); this file never imports torch. Every closure evaluation point, the
parameters after each ``step`` call, the returned losses and the state counters must agree.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize

from lib.second_order import line_search as ls
from lib.second_order import quasi_newton as qn

DATA = Path(__file__).parent / "data" / "second_order_torch.npz"
TOL = 1e-11  # see record_second_order.py: FMA and BLAS rounding, amplified along the run


def _load():
    if not DATA.exists():
        return None, {}
    z = np.load(DATA, allow_pickle=False)
    return json.loads(str(z["meta"])), {k: z[k] for k in z.files if k != "meta"}


META, ARR = _load()
CASES = [c["name"] for c in META["cases"]] if META else []


def rosenbrock(x):
    a, b = x[:-1], x[1:]
    f = float(np.sum((1 - a) ** 2 + 100 * (b - a**2) ** 2))
    g = np.zeros_like(x)
    g[:-1] += -2 * (1 - a) - 400 * a * (b - a**2)
    g[1:] += 200 * (b - a**2)
    return f, g


def lsq():
    A, b = ARR["problem/lsq/A"], ARR["problem/lsq/b"]

    def fun(x):
        r = A @ x - b
        return 0.5 * float(r @ r), A.T @ r

    return fun


def recording(fun):
    evals = []

    def wrapped(x):
        evals.append(np.array(x))
        return fun(x)

    return wrapped, evals


def run_case(name, mutate=None):
    case = next(c for c in META["cases"] if c["name"] == name)
    fun = lsq() if case["problem"] == "lsq" else rosenbrock
    if mutate:
        fun = mutate(fun)
    f, evals = recording(fun)
    x = np.array(META["problems"][case["problem"]]["x0"], dtype=float)
    state, xs, losses, fe, ni = qn.lbfgs_init(), [x], [], [], []
    for _ in range(case["steps"]):
        x, state, loss = qn.lbfgs_step(f, x, state, **case["hparams"])
        xs.append(x)
        losses.append(loss)
        fe.append(state.func_evals)
        ni.append(state.n_iter)
    return {
        "evals": np.array(evals),
        "x": np.array(xs),
        "loss": np.array(losses),
        "func_evals": np.array(fe),
        "n_iter": np.array(ni),
    }


def assert_matches(name, got):
    p = f"case/{name}/"
    assert got["evals"].shape == ARR[p + "evals"].shape, (
        f"{name}: {len(got['evals'])} closure evaluations, torch made {len(ARR[p + 'evals'])}"
    )
    np.testing.assert_allclose(got["evals"], ARR[p + "evals"], rtol=TOL, atol=TOL, err_msg=name)
    np.testing.assert_allclose(got["x"], ARR[p + "x"], rtol=TOL, atol=TOL, err_msg=name)
    np.testing.assert_allclose(got["loss"], ARR[p + "loss"], rtol=TOL, atol=TOL, err_msg=name)
    np.testing.assert_array_equal(got["func_evals"], ARR[p + "func_evals"], err_msg=name)
    np.testing.assert_array_equal(got["n_iter"], ARR[p + "n_iter"], err_msg=name)


needs_golden = pytest.mark.skipif(not CASES, reason="golden file missing: run make golden")


@needs_golden
@pytest.mark.parametrize("name", CASES)
def test_lbfgs_matches_torch(name):
    assert_matches(name, run_case(name))


@needs_golden
def test_golden_covers_every_argument():
    used = set()
    for c in META["cases"]:
        used |= set(c["hparams"])
    assert used == {
        "lr",
        "max_iter",
        "max_eval",
        "tolerance_grad",
        "tolerance_change",
        "history_size",
        "line_search_fn",
    }
    assert {c["hparams"].get("line_search_fn") for c in META["cases"]} == {None, "strong_wolfe"}
    assert META["torch"].startswith("2.13.0")


@needs_golden
def test_golden_detects_a_perturbed_gradient():
    # a relative error of 1e-9 in the gradient must show: the comparison is not vacuous
    def mutate(fun):
        def f(x):
            v, g = fun(x)
            return v, g * (1 + 1e-9)

        return f

    with pytest.raises(AssertionError):
        assert_matches("sw_default", run_case("sw_default", mutate))


def test_two_loop_equals_dense_bfgs_inverse():
    # the two-loop recursion applies the same H as m explicit BFGS updates of gamma * I
    rng = np.random.default_rng(0)
    n, m = 6, 4
    Q = rng.standard_normal((n, n))
    A = Q @ Q.T + n * np.eye(n)
    s_list = [rng.standard_normal(n) for _ in range(m)]
    y_list = [A @ s for s in s_list]
    gamma = float(y_list[-1] @ s_list[-1] / (y_list[-1] @ y_list[-1]))
    H = gamma * np.eye(n)
    for s, y in zip(s_list, y_list):
        H = qn.bfgs_update(H, s, y)
    g = rng.standard_normal(n)
    np.testing.assert_allclose(qn.two_loop(g, s_list, y_list, gamma), H @ g, rtol=1e-12)
    # the loops in the wrong order give something else
    assert not np.allclose(qn.two_loop(g, s_list[::-1], y_list[::-1], gamma), H @ g)


def test_bfgs_update_secant_and_positive_definite():
    rng = np.random.default_rng(1)
    H = np.eye(3)
    s, y = rng.standard_normal(3), rng.standard_normal(3)
    if y @ s < 0:
        y = -y
    H1 = qn.bfgs_update(H, s, y)
    np.testing.assert_allclose(H1 @ y, s, rtol=1e-12)
    assert np.all(np.linalg.eigvalsh((H1 + H1.T) / 2) > 0)
    with pytest.raises(ValueError, match="curvature condition"):
        qn.bfgs_update(H, s, -y)


def test_bfgs_and_lbfgs_solve_rosenbrock_like_scipy():
    x0 = np.array([-1.2, 1.0])
    path, n_evals = qn.bfgs(rosenbrock, x0, max_iter=200)
    np.testing.assert_allclose(path[-1], [1.0, 1.0], atol=1e-6)
    x, _, _ = qn.lbfgs(rosenbrock, x0, steps=10, line_search_fn="strong_wolfe", tolerance_change=1e-14)
    np.testing.assert_allclose(x, [1.0, 1.0], atol=1e-6)
    ref = scipy.optimize.minimize(rosenbrock, x0, jac=True, method="L-BFGS-B")
    np.testing.assert_allclose(ref.x, x, atol=1e-4)


def test_lbfgs_argument_errors():
    fun = lambda x: (float(x @ x), 2 * x)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        qn.lbfgs_step(fun, np.ones(2), qn.lbfgs_init(), lr=-1)
    with pytest.raises(RuntimeError, match="only 'strong_wolfe'"):
        qn.lbfgs_step(fun, np.ones(2), qn.lbfgs_init(), line_search_fn="armijo")
    with pytest.raises(ValueError, match="history_size"):
        qn.lbfgs_step(fun, np.ones(2), qn.lbfgs_init(), history_size=0)
    with pytest.raises(ValueError, match="1-D"):
        qn.lbfgs_step(fun, np.ones((2, 2)), qn.lbfgs_init())


def test_lbfgs_does_not_mutate_the_input_state():
    fun = lambda x: (float(x @ x), 2 * x)
    s0 = qn.lbfgs_init()
    _, s1, _ = qn.lbfgs_step(fun, np.array([1.0, -2.0]), s0, max_iter=4, tolerance_grad=0.0)
    assert s0.n_iter == 0 and s0.old_dirs == [] and s1.n_iter == 3 and len(s1.old_dirs) == 2


def test_strong_wolfe_point_satisfies_the_conditions():
    x = np.array([-1.2, 1.0])
    f, g = rosenbrock(x)
    d = -g
    obj = lambda x_, t, d_: rosenbrock(x_ + t * d_)
    f_new, g_new, t, _ = ls.strong_wolfe(obj, x, 1e-3, d, f, g, float(g @ d))
    assert ls.strong_wolfe_conditions(f, f_new, t, float(g @ d), float(g_new @ d))


def test_cubic_interpolate_is_exact_on_a_cubic():
    p = lambda t: t**3 - 3 * t  # minimum at t = 1
    dp = lambda t: 3 * t**2 - 3
    assert ls.cubic_interpolate(0.0, p(0), dp(0), 2.0, p(2), dp(2)) == pytest.approx(1.0, abs=1e-12)
    assert ls.cubic_interpolate(2.0, p(2), dp(2), 0.0, p(0), dp(0)) == pytest.approx(1.0, abs=1e-12)
    # clipped to the bounds
    assert ls.cubic_interpolate(0.0, p(0), dp(0), 2.0, p(2), dp(2), bounds=(1.5, 3.0)) == 1.5
