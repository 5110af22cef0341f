"""lib.autodiff: both modes agree with SymPy on a registry of expressions; the worked example;
bad input gives clear errors; Hessian-vector products; traces and tables; gradcheck additions."""

import doctest
import math

import numpy as np
import pytest
import sympy as sp

from lib import autodiff as AD
from lib import gradcheck
from lib.autodiff import DomainError, Dual, Var, forward, reverse, tables

X1, X2, X3 = SYMBOLS = sp.symbols("x1 x2 x3", positive=True)

# name -> (sympy expression in x1, x2, x3, the same function for lib.autodiff (on a sequence),
#          sampling box for each coordinate). Every elementary operation appears at least once.
REGISTRY = {
    "worked example": (sp.log(X1) + X1 * X2 - sp.sin(X2), lambda x: AD.log(x[0]) + x[0] * x[1] - AD.sin(x[1])),
    "quotient and cosine": (X1 / (1 + X2**2) + sp.cos(X1 * X3), lambda x: x[0] / (1 + x[1] ** 2) + AD.cos(x[0] * x[2])),
    "exp and tanh": (sp.exp(-X1 * X2) * sp.tanh(X3), lambda x: AD.exp(-x[0] * x[1]) * AD.tanh(x[2])),
    "sqrt and powers": (
        sp.sqrt(X1 + X2**3) - X3**-2 + X1 ** sp.Rational(5, 2),
        lambda x: AD.sqrt(x[0] + x[1] ** 3) - x[2] ** -2 + x[0] ** 2.5,
    ),
    "variable exponent": (X1**X2 + 2**X3, lambda x: x[0] ** x[1] + 2 ** x[2]),
    "sigmoid of a product": (1 / (1 + sp.exp(-X1 * X2 + X3)), lambda x: AD.sigmoid(x[0] * x[1] - x[2])),
    "rosenbrock": ((1 - X1) ** 2 + 100 * (X2 - X1**2) ** 2, lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2),
    "nested": (
        sp.log(1 + sp.sin(X1) ** 2) * sp.exp(sp.cos(X2 * X3)) / X3,
        lambda x: AD.log(1 + AD.sin(x[0]) ** 2) * AD.exp(AD.cos(x[1] * x[2])) / x[2],
    ),
    "numpy on object arrays": (
        X1 * X2 + X2 * X3 + sp.sin(X1) + sp.sin(X2) + sp.sin(X3),
        lambda x: np.sum(x * np.roll(x, -1)[:3] * np.array([1, 1, 0])) + np.sum(np.sin(x)),
    ),
}
POINTS = np.random.default_rng(0).uniform(0.3, 2.0, size=(4, 3))


def _sympy_gradient(expr, point):
    at = dict(zip(SYMBOLS, point))
    return float(expr.subs(at)), np.array([float(sp.diff(expr, s).subs(at)) for s in SYMBOLS])


@pytest.mark.parametrize("name", REGISTRY)
@pytest.mark.parametrize("k", range(len(POINTS)))
def test_both_modes_agree_with_sympy(name, k):
    expr, fn = REGISTRY[name]
    point = POINTS[k]
    value, expected = _sympy_gradient(expr, point)
    v_fwd, g_fwd = AD.forward_gradient(fn, point)
    v_rev, g_rev = AD.value_and_grad(fn, point)
    assert v_fwd == pytest.approx(value, rel=1e-12) and v_rev == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(g_fwd, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g_rev, expected, rtol=1e-10, atol=1e-12)
    direction = np.array([0.3, -1.0, 2.0])
    assert AD.jvp(fn, point, direction)[1] == pytest.approx(expected @ direction, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("name", ["worked example", "rosenbrock", "nested", "sqrt and powers"])
def test_hvp_agrees_with_sympy_hessian(name):
    expr, fn = REGISTRY[name]
    rng = np.random.default_rng(1)
    for point in POINTS[:2]:
        v = rng.normal(size=3)
        H = np.array(sp.hessian(expr, SYMBOLS).subs(dict(zip(SYMBOLS, point))), dtype=float)
        g, Hv = AD.hvp(fn, point, v)
        np.testing.assert_allclose(Hv, H @ v, rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(g, _sympy_gradient(expr, point)[1], rtol=1e-10)
        Hv_fd = gradcheck.numerical_hvp(lambda p: AD.grad(fn, p), point, v)
        assert gradcheck.relative_error(Hv_fd, H @ v) < 1e-5


def test_hvp_scalar_and_zero_direction():
    assert AD.hvp(lambda t: t**3, 2.0, 1.0) == (12.0, 12.0)
    assert np.array_equal(gradcheck.numerical_hvp(lambda p: 2 * p, [1.0, 2.0], [0.0, 0.0]), [0.0, 0.0])


def test_worked_example_closed_form():
    for x1, x2 in [(2.0, 5.0), (0.5, -1.0), (3.0, 0.1)]:
        closed = np.array([1 / x1 + x2, x1 - math.cos(x2)])
        t = AD.trace(lambda a, b: AD.log(a) + a * b - AD.sin(b), x1, x2)
        np.testing.assert_allclose(t.gradient, closed, rtol=1e-14)
        a, b = Var(x1), Var(x2)
        y = AD.log(a) + a * b - AD.sin(b)
        y.backward()
        assert (a.grad, b.grad) == pytest.approx(tuple(closed), rel=1e-14)


def test_trace_tables_match_baydin():
    from lib.widgets.autodiff import worked_example

    t = AD.trace(worked_example, 2.0, 5.0)
    assert [(r.label, r.expression) for r in t.forward_rows] == [
        ("v₋₁", "x₁"),
        ("v₀", "x₂"),
        ("v₁", "ln v₋₁"),
        ("v₂", "v₋₁ × v₀"),
        ("v₃", "sin v₀"),
        ("v₄", "v₁ + v₂"),
        ("v₅", "v₄ − v₃"),
    ]
    assert [(r.target, r.source, r.first) for r in t.adjoint_rows] == [
        ("v₅", "y", True),
        ("v₄", "v₅", True),
        ("v₃", "v₅", True),
        ("v₁", "v₄", True),
        ("v₂", "v₄", True),
        ("v₀", "v₃", True),
        ("v₋₁", "v₂", True),
        ("v₀", "v₂", False),
        ("v₋₁", "v₁", False),
    ]
    assert t.adjoint_rows[-1].total == pytest.approx(5.5) and t.adjoint_rows[-2].total == pytest.approx(2 - math.cos(5))
    text = AD.format_adjoint(t)
    assert "v̄₀ = v̄₀ + v̄₂ ∂v₂/∂v₀" in text and "1.7163" in text
    assert "v₃ = sin v₀" in AD.format_forward(t)
    tangent = AD.trace(worked_example, 2.0, 5.0, tangents=(1.0, 0.0))
    assert tangent.forward_rows[-1].tangent == pytest.approx(5.5)
    assert "v̇₅" in AD.format_forward(tangent)


def test_trace_with_constants_and_an_unused_input():
    t = AD.trace(lambda a, b: 2 * a**3, 1.5, 4.0)
    assert [r.expression for r in t.forward_rows][2:] == ["v₋₁^3", "2 × v₁"]
    np.testing.assert_allclose(t.gradient, [6 * 1.5**2, 0.0])
    with pytest.raises(ValueError, match="at least one"):
        AD.trace(lambda: 1.0)


@pytest.mark.parametrize(
    "bad, kind, words",
    [
        (lambda: AD.log(Dual(-1.0, 1.0)), DomainError, r"log is undefined at x = -1\.0 \(the derivative needs x > 0\)"),
        (lambda: AD.log(Var(-1.0)), ValueError, r"log is undefined at x = -1\.0"),
        (lambda: AD.log(0.0), ValueError, r"log is undefined at x = 0\.0"),
        (lambda: Dual(1.0, 1.0) / 0, ZeroDivisionError, "division by zero"),
        (lambda: Var(1.0) / Var(0.0), ValueError, "division by zero"),
        (lambda: 1 / Dual(0.0, 1.0), ValueError, "division by zero"),
        (lambda: AD.sqrt(Dual(-4.0, 1.0)), ValueError, "sqrt is undefined at x = -4.0"),
        (lambda: AD.sqrt(Var(0.0)), ValueError, "not differentiable at x = 0.0"),
        (lambda: Dual(-2.0, 1.0) ** 0.5, ValueError, "negative base needs an integer"),
        (lambda: Dual(0.0, 1.0) ** 0.5, ValueError, "not differentiable at x = 0"),
        (lambda: (-2.0) ** Var(1.0), ValueError, "base > 0"),
        (lambda: AD.exp(Dual(1000.0, 1.0)), OverflowError, "exp overflows at x = 1000.0"),
        (lambda: Dual("a"), TypeError, "must be a real number, got str"),
        (lambda: Var([1.0]), TypeError, "must be a real number, got list"),
        (lambda: Dual(1.0) + "a", TypeError, "unsupported operand"),
        (lambda: AD.grad(lambda x: "nope", 1.0), TypeError, "expected a scalar Var"),
        (lambda: AD.jvp(lambda x: x, [1.0, 2.0], [1.0]), ValueError, "same length"),
        (lambda: AD.grad(lambda x: x, np.ones((2, 2))), ValueError, "1-D"),
    ],
)
def test_bad_input_gives_a_clear_error(bad, kind, words):
    with pytest.raises(kind, match=words):
        bad()


def test_gradient_through_branches_loops_and_numpy():
    def newton_sqrt(a):
        y = a if a > 1 else 1.0 + 0 * a
        for _ in range(25):
            y = (y + a / y) / 2
        return y

    for a in (0.3, 2.0, 7.0):
        assert AD.grad(newton_sqrt, a) == pytest.approx(0.5 / math.sqrt(a), rel=1e-12)
        assert AD.derivative(newton_sqrt, a) == pytest.approx(0.5 / math.sqrt(a), rel=1e-12)
    assert AD.grad(lambda x: AD.relu(x) * 3, -1.0) == 0.0 and AD.grad(lambda x: AD.relu(x) * 3, 1.0) == 3.0
    assert AD.derivative(lambda x: AD.relu(x), 0.0) == 0.0  # PyTorch's convention at 0
    assert np.sin(Dual(0.0, 1.0)).dot == 1.0  # numpy calls Dual.sin
    out = np.float64(2.0) * Dual(1.0, 1.0)
    assert isinstance(out, Dual) and (out.value, out.dot) == (2.0, 2.0)


def test_jacobians_both_modes_and_vjp():
    def f(z):
        return [z[0] * z[1], AD.sin(z[0]) + z[1] ** 2, AD.exp(z[1])]

    x = np.array([0.7, -0.4])
    J = np.array([[x[1], x[0]], [math.cos(x[0]), 2 * x[1]], [0.0, math.exp(x[1])]])
    np.testing.assert_allclose(AD.forward_jacobian(f, x), J, rtol=1e-14)
    np.testing.assert_allclose(AD.reverse_jacobian(f, x), J, rtol=1e-14)
    u = np.array([1.0, -2.0, 0.5])
    values, uJ = AD.vjp(f, x, u)
    np.testing.assert_allclose(uJ, u @ J, rtol=1e-14)
    assert values.shape == (3,)
    with pytest.raises(ValueError, match="outputs"):
        AD.vjp(f, x, [1.0, 2.0])
    with pytest.raises(ValueError, match="scalar"):
        AD.forward_gradient(f, x)


def test_backward_resets_adjoints_and_graph_counts_nodes():
    x = Var(2.0)
    y = x * x
    y.backward()
    y.backward()  # no accumulation across calls
    assert x.grad == 4.0
    z = x
    for _ in range(1000):  # a deep graph: no recursion limit
        z = AD.sin(z)
    assert len(AD.graph_nodes(z)) == 1001
    z.backward()
    assert np.isfinite(x.grad)
    with pytest.raises(TypeError):
        AD.graph_nodes(3.0)
    assert AD.grad(lambda x: 5.0, 1.0) == 0.0  # a constant function


@pytest.mark.parametrize(
    "rule, args, expected",
    [
        (reverse.add_backward, (2.0, 1.0, 3.0), (2.0, 2.0)),
        (reverse.sub_backward, (2.0, 1.0, 3.0), (2.0, -2.0)),
        (reverse.mul_backward, (2.0, 1.5, 3.0), (6.0, 3.0)),
        (reverse.div_backward, (1.0, 6.0, 3.0), (1 / 3, -6 / 9)),
        (reverse.pow_backward, (1.0, 2.0, 3.0), (12.0,)),
        (reverse.log_backward, (1.0, 4.0), (0.25,)),
        (reverse.sin_backward, (2.0, 0.0), (2.0,)),
    ],
)
def test_backward_rules(rule, args, expected):
    assert rule(*args) == pytest.approx(expected)


def test_gradcheck_difference_quotients_and_optimal_steps():
    h = np.logspace(-12, -1, 12)
    for dtype in (np.float64, np.float32):
        eps = float(np.finfo(dtype).eps)
        for method, _order in (("forward", 1), ("central", 2)):
            q = gradcheck.difference_quotient(np.sin, 1.0, h, method=method, dtype=dtype)
            assert q.dtype == dtype
            h_star = gradcheck.optimal_step(method, eps=eps, f0=math.sin(1), f2=math.sin(1), f3=math.cos(1))
            err = abs(
                float(gradcheck.difference_quotient(np.sin, 1.0, h_star, method=method, dtype=dtype)) - math.cos(1)
            )
            assert err <= gradcheck.error_model(h_star, method, eps=eps, f0=math.sin(1), f2=math.sin(1), f3=math.cos(1))
    # truncation order: on exp at 0 in float64 with large steps, halving h divides the error by 2 or 4
    for method, factor in (("forward", 2), ("central", 4)):
        e1, e2 = (abs(float(gradcheck.difference_quotient(np.exp, 0.0, s, method=method)) - 1) for s in (1e-2, 5e-3))
        assert e1 / e2 == pytest.approx(factor, rel=0.02)
    with pytest.raises(ValueError, match="method"):
        gradcheck.difference_quotient(np.sin, 1.0, 0.1, method="backward")
    with pytest.raises(ValueError, match="positive"):
        gradcheck.difference_quotient(np.sin, 1.0, [0.1, 0.0])
    with pytest.raises(ValueError, match="dtype"):
        gradcheck.difference_quotient(np.sin, 1.0, 0.1, dtype=np.int32)
    with pytest.raises(ValueError, match="no optimum"):
        gradcheck.optimal_step("central", eps=1e-16, f0=1.0, f3=0.0)
    with pytest.raises(ValueError, match="method"):
        gradcheck.error_model(0.1, "side", eps=1e-16, f0=1.0)
    with pytest.raises(ValueError, match="same shape"):
        gradcheck.numerical_hvp(lambda p: p, [1.0], [1.0, 2.0])


@pytest.mark.parametrize("module", [AD, forward, reverse, tables, gradcheck])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
