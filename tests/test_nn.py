"""lib.nn: every layer, the loss and the models pass the gradient check; bad input is explained."""

from __future__ import annotations

import doctest
import warnings

import numpy as np
import pytest

import lib.nn
from lib import nn
from lib.gradcheck import check_gradient
from lib.nn import (
    Model,
    accuracy,
    linear_backward,
    linear_forward,
    mlp,
    relu_backward,
    relu_forward,
    softmax_cross_entropy,
    softmax_regression,
)

TOL = 1e-6


def test_doctests():
    assert doctest.testmod(lib.nn).failed == 0


def _passes(f, grad, x):
    result = check_gradient(f, grad, x, tol=TOL)
    assert result.passed, f"relative error {result.max_relative_error:.2e} at {result.worst}"
    return result


# --------------------------------------------------------------------------------------------
# layers


def test_linear_layer_gradients():
    rng = np.random.default_rng(0)
    x = {"X": rng.standard_normal((5, 4)), "W": rng.standard_normal((4, 3)), "b": rng.standard_normal(3)}
    R = rng.standard_normal((5, 3))  # L = sum(R * Z), so dL/dZ = R

    def f(p):
        return float(np.sum(R * linear_forward(p["X"], p["W"], p["b"])[0]))

    def grad(p):
        _, cache = linear_forward(p["X"], p["W"], p["b"])
        dX, dW, db = linear_backward(R, cache)
        return {"X": dX, "W": dW, "b": db}

    _passes(f, grad, x)


def test_relu_gradient_away_from_the_kink():
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((6, 5))
    Z = np.where(np.abs(Z) < 0.1, 0.5, Z)  # keep |z| >= 0.1 so finite differences see no kink
    R = rng.standard_normal(Z.shape)
    _passes(lambda z: float(np.sum(R * relu_forward(z)[0])), lambda z: relu_backward(R, relu_forward(z)[1]), Z)
    out, mask = relu_forward(np.array([-1.0, 0.0, 3.0]))
    assert out.tolist() == [0.0, 0.0, 3.0]
    assert relu_backward(np.ones(3), mask).tolist() == [0.0, 0.0, 1.0]  # 0 at the kink, as torch


def test_softmax_cross_entropy_value_and_gradient():
    rng = np.random.default_rng(2)
    Z = rng.standard_normal((7, 4)) * 3
    y = rng.integers(0, 4, size=7)
    loss, G = softmax_cross_entropy(Z, y)
    p = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(7), y])), rel=1e-12)
    np.testing.assert_allclose(G, (p - np.eye(4)[y]) / 7, atol=1e-15)
    _passes(lambda z: softmax_cross_entropy(z, y)[0], lambda z: softmax_cross_entropy(z, y)[1], Z)


def test_softmax_cross_entropy_is_stable_and_shift_invariant():
    Z = np.array([[1000.0, 0.0, -1000.0], [5e4, 5e4, 0.0]])
    y = np.array([0, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, G = softmax_cross_entropy(Z, y)
    assert loss == pytest.approx((0.0 + (5e4 + np.log(2))) / 2)
    assert np.all(np.isfinite(G))
    loss2, G2 = softmax_cross_entropy(Z + np.array([[7.0], [-3.0]]), y)
    assert loss2 == pytest.approx(loss) and np.allclose(G2, G)
    assert softmax_cross_entropy(np.zeros((3, 10)), np.arange(3))[0] == pytest.approx(np.log(10))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(softmax_cross_entropy(np.array([[np.nan, 0.0]]), np.array([0]))[0])
        assert np.isnan(softmax_cross_entropy(np.array([[np.inf, 0.0]]), np.array([0]))[0])


def test_layers_explain_bad_input():
    with pytest.raises(ValueError, match=r"X has shape \(2, 3\) but W has shape \(4, 1\)"):
        linear_forward(np.ones((2, 3)), np.ones((4, 1)), np.ones(1))
    with pytest.raises(ValueError, match=r"b has shape \(2,\)"):
        linear_forward(np.ones((2, 3)), np.ones((3, 1)), np.ones(2))
    with pytest.raises(ValueError, match="X must be a 2-D array"):
        linear_forward(np.ones(3), np.ones((3, 1)), np.ones(1))
    _, cache = linear_forward(np.ones((2, 3)), np.ones((3, 1)), np.ones(1))
    with pytest.raises(ValueError, match="dout has shape"):
        linear_backward(np.ones((3, 1)), cache)
    with pytest.raises(ValueError, match="dout has shape"):
        relu_backward(np.ones(2), relu_forward(np.ones(3))[1])
    with pytest.raises(ValueError, match=r"label 3, outside 0\.\.2"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="label -1"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, -1]))
    with pytest.raises(TypeError, match="integer class labels"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="logits must be a 2-D"):
        softmax_cross_entropy(np.zeros(3), np.array([0]))


# --------------------------------------------------------------------------------------------
# models


def _problem(d=6, C=4, n=9, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, C, size=n)


@pytest.mark.parametrize(
    "model",
    [
        softmax_regression(6, 4),
        softmax_regression(6, 4, init="glorot"),
        mlp((6, 5, 4)),
        mlp((6, 5, 4), init="glorot"),
        mlp((6, 8, 5, 4)),
        mlp((6, 4)),
    ],
    ids=lambda m: m.name,
)
def test_model_gradients_pass_the_gradient_check(model):
    X, y = _problem()
    params = model.init(3)
    if "softmax" in model.name:  # move away from the symmetric zero start
        params = {k: v + 0.1 * np.random.default_rng(4).standard_normal(v.shape) for k, v in params.items()}
    loss, grads = model.loss_and_grad(params, X, y)
    assert list(grads) == list(params)
    assert all(grads[k].shape == params[k].shape for k in params)
    assert loss == pytest.approx(softmax_cross_entropy(model.predict(params, X), y)[0])
    _passes(lambda p: model.loss_and_grad(p, X, y)[0], lambda p: model.loss_and_grad(p, X, y)[1], params)


def test_model_does_not_modify_its_inputs():
    model = mlp((6, 5, 4))
    X, y = _problem()
    params = model.init(0)
    before = {k: v.copy() for k, v in params.items()}
    Xc = X.copy()
    model.loss_and_grad(params, X, y)
    model.predict(params, X)
    assert all(np.array_equal(before[k], params[k]) for k in params) and np.array_equal(X, Xc)


def test_initialisations():
    m = mlp((400, 300, 10))
    p = m.init(0)
    assert list(p) == ["W1", "b1", "W2", "b2"] and m.name == "mlp(400, 300, 10)"
    assert p["W1"].std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)  # He
    assert np.all(p["b1"] == 0) and np.all(p["b2"] == 0)
    g = mlp((400, 300, 10), init="glorot").init(0)
    a = np.sqrt(6 / 700)
    assert np.abs(g["W1"]).max() <= a and g["W1"].std() == pytest.approx(a / np.sqrt(3), rel=0.02)
    assert all(np.all(v == 0) for v in mlp((4, 3, 2), init="zeros").init(0).values())
    np.testing.assert_array_equal(m.init(7)["W1"], m.init(7)["W1"])
    assert not np.array_equal(m.init(7)["W1"], m.init(8)["W1"])
    s = softmax_regression(64, 10)
    assert s.name == "softmax_regression(64, 10)"
    assert {k: v.shape for k, v in s.init(0).items()} == {"W": (64, 10), "b": (10,)}
    assert all(np.all(v == 0) for v in s.init(0).values())


def test_predict_and_accuracy():
    model = softmax_regression(2, 2)
    params = {"W": np.array([[1.0, 0.0], [0.0, 1.0]]), "b": np.zeros(2)}
    X = np.array([[2.0, 0.0], [0.0, 3.0], [1.0, 0.0], [0.0, 1.0]])
    assert model.predict(params, X).shape == (4, 2)
    assert accuracy(model, params, X, np.array([0, 1, 0, 0])) == 0.75
    with pytest.raises(TypeError, match="lib.nn.Model"):
        accuracy(None, params, X, np.zeros(4, int))
    with pytest.raises(ValueError, match="empty"):
        accuracy(model, params, np.zeros((0, 2)), np.zeros(0, int))


def test_models_explain_bad_input():
    model = mlp((6, 5, 4))
    X, y = _problem()
    p = model.init(0)
    with pytest.raises(ValueError, match=r"params\['W2'\] has shape \(5, 3\) but mlp\(6, 5, 4\) expects \(5, 4\)"):
        model.loss_and_grad({**p, "W2": np.zeros((5, 3))}, X, y)
    with pytest.raises(ValueError, match="no entry 'b1'"):
        model.loss_and_grad({k: v for k, v in p.items() if k != "b1"}, X, y)
    with pytest.raises(ValueError, match=r"X has shape \(9, 5\) but mlp\(6, 5, 4\) expects \(n, 6\)"):
        model.predict(p, X[:, :5])
    with pytest.raises(ValueError, match=r"y must have shape \(9,\)"):
        model.loss_and_grad(p, X, y[:5])
    with pytest.raises(ValueError, match="label 4"):
        model.loss_and_grad(p, X, np.full(9, 4))
    with pytest.raises(ValueError, match="NaN"):
        model.loss_and_grad(p, np.where(np.eye(9, 6) > 0, np.nan, X), y)
    with pytest.raises(ValueError, match="params must be a dict with the keys"):
        softmax_regression(6, 4).loss_and_grad(p, X, y)
    with pytest.raises(ValueError, match="init must be one of"):
        mlp((6, 4), init="kaiming")
    with pytest.raises(ValueError, match="at least an input and an output"):
        mlp((6,))
    with pytest.raises(ValueError, match="positive integer"):
        mlp((6, 0, 4))
    with pytest.raises(TypeError, match="seed"):
        model.init(-1)


def test_diverged_parameters_give_nan_not_an_error():
    model = mlp((6, 5, 4))
    X, y = _problem()
    p = {k: v * 1e200 for k, v in model.init(0).items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, grads = model.loss_and_grad(p, X, y)
    assert not np.isfinite(loss)


def test_model_is_a_named_tuple_of_functions():
    model = mlp((3, 2))
    assert isinstance(model, Model) and model._fields == ("name", "init", "loss_and_grad", "predict")


def test_l2_regularized_adds_penalty_and_gradient():
    model = nn.l2_regularized(nn.softmax_regression(3, 4), 0.3)
    rng = np.random.default_rng(0)
    params = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 4, size=6)
    base = nn.softmax_regression(3, 4).loss_and_grad(params, X, y)[0]
    loss, _ = model.loss_and_grad(params, X, y)
    assert np.isclose(loss, base + 0.15 * (np.sum(params["W"] ** 2) + np.sum(params["b"] ** 2)))
    result = check_gradient(
        lambda p: model.loss_and_grad(p, X, y)[0], lambda p: model.loss_and_grad(p, X, y)[1], params, tol=1e-6
    )
    assert result.passed, result
    with pytest.raises(ValueError, match="weight_decay"):
        nn.l2_regularized(model, -1.0)
