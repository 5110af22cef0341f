"""lib.gradcheck: finite differences agree with known gradients, and wrong gradients are caught."""

import numpy as np
import pytest

from lib import functions
from lib.gradcheck import assert_gradient, check_gradient, numerical_gradient, relative_error


@pytest.mark.parametrize("name", sorted(functions.FUNCTIONS))
def test_numerical_gradient_matches_sympy_gradients(name):
    f = functions.get(name)
    x = np.array(f.start, dtype=float) + 0.1
    assert relative_error(numerical_gradient(f.value, x), f.grad(x)) < 1e-7
    assert check_gradient(f.value, f.grad, x).passed


def test_forward_differences_are_less_accurate_than_central():
    f = functions.rosenbrock()
    x = np.array([-0.7, 0.4])
    central = relative_error(numerical_gradient(f.value, x), f.grad(x))
    forward = relative_error(numerical_gradient(f.value, x, method="forward"), f.grad(x))
    assert central < 1e-8 < forward < 1e-5


def test_trees_and_the_worst_coordinate_is_named():
    params = {"W": np.array([[1.0, 2.0], [3.0, -1.0]]), "b": np.array([0.5])}

    def loss(p):
        return float(np.sum(p["W"] ** 2) + 3 * p["b"][0] ** 2)

    def grad(p):
        return {"W": 2 * p["W"], "b": 6 * p["b"]}

    def wrong(p):
        g = grad(p)
        g["W"] = g["W"].copy()
        g["W"][1, 0] *= 1.01  # one wrong entry
        return g

    assert check_gradient(loss, grad, params).passed
    result = check_gradient(loss, wrong, params)
    assert not result.passed and result.worst == "['W'][1, 0]"
    with pytest.raises(AssertionError, match=r"\['W'\]\[1, 0\].*analytic 6\.06"):
        assert_gradient(loss, wrong, params)


def test_bad_input_is_explained():
    f = functions.quadratic()
    with pytest.raises(ValueError, match="NaN"):
        numerical_gradient(f.value, np.array([np.nan, 1.0]))
    with pytest.raises(ValueError, match="method"):
        numerical_gradient(f.value, np.zeros(2), method="backward")
    with pytest.raises(TypeError, match="scalar"):
        numerical_gradient(lambda x: x, np.zeros(2))
    with pytest.raises(ValueError, match="shape"):
        check_gradient(f.value, lambda x: np.zeros(3), np.zeros(2))
    assert not check_gradient(f.value, lambda x: np.full(2, np.nan), np.ones(2)).passed
