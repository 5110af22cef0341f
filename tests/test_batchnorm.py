"""lib.nn.batchnorm: BatchNorm1d reproduces torch 2.13 (forward, running statistics, gradients) and passes the gradient check."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import numpy as np
import pytest

import lib.nn.batchnorm
from lib.gradcheck import check_gradient
from lib.nn import BatchNorm1d, batchnorm_backward, batchnorm_forward

GOLDEN = Path(__file__).resolve().parent / "data" / "regularization_torch.npz"
TOL = 1e-12
DATA = np.load(GOLDEN, allow_pickle=False)
META = json.loads(str(DATA["meta"]))
CASES = META["batchnorm"]


def test_doctests():
    assert doctest.testmod(lib.nn.batchnorm).failed == 0


def _close(a, b, what):
    err = float(np.max(np.abs(np.asarray(a) - b) / np.maximum(1.0, np.abs(b))))
    assert err <= TOL, f"{what}: max error {err:.2e} > {TOL}"


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_batchnorm1d_matches_torch(case):
    pre = f"bn/{case['name']}/"
    bn = BatchNorm1d(case["num_features"], eps=case["eps"], momentum=case["momentum"], affine=case["affine"])
    if case["affine"]:
        bn.weight, bn.bias = DATA[pre + "weight"].copy(), DATA[pre + "bias"].copy()
    for t in range(case["steps"]):
        out = bn.forward(DATA[pre + f"x/{t}"])
        _close(out, DATA[pre + f"out/{t}"], f"out step {t}")
        dx = bn.backward(DATA[pre + f"dout/{t}"])
        _close(dx, DATA[pre + f"dx/{t}"], f"dx step {t}")
        if case["affine"]:
            _close(bn.grads["weight"], DATA[pre + f"dweight/{t}"], f"dweight step {t}")
            _close(bn.grads["bias"], DATA[pre + f"dbias/{t}"], f"dbias step {t}")
        _close(bn.running_mean, DATA[pre + f"running_mean/{t}"], f"running_mean step {t}")
        _close(bn.running_var, DATA[pre + f"running_var/{t}"], f"running_var step {t}")
        assert bn.num_batches_tracked == int(DATA[pre + f"num_batches_tracked/{t}"])
    bn.eval()
    rm = bn.running_mean.copy()
    _close(bn.forward(DATA[pre + "eval_x"]), DATA[pre + "eval_out"], "eval out")
    _close(bn.backward(DATA[pre + "eval_dout"]), DATA[pre + "eval_dx"], "eval dx")
    if case["affine"]:
        _close(bn.grads["weight"], DATA[pre + "eval_dweight"], "eval dweight")
        _close(bn.grads["bias"], DATA[pre + "eval_dbias"], "eval dbias")
    assert np.array_equal(bn.running_mean, rm), "eval mode must not move the running statistics"


def test_running_variance_is_unbiased_and_normalisation_biased():
    x = np.array([[0.0], [2.0], [4.0]])  # mean 2, biased var 8/3, unbiased 4
    out, _, rm, rv = batchnorm_forward(
        x, np.ones(1), np.zeros(1), np.zeros(1), np.zeros(1), True, momentum=1.0, eps=0.0
    )
    assert rm.tolist() == [2.0] and np.isclose(rv[0], 4.0)
    assert np.allclose(out.ravel(), (x.ravel() - 2) / np.sqrt(8 / 3))


def test_eval_uses_running_statistics_not_the_batch():
    x = np.array([[10.0], [12.0]])
    out, _, rm, rv = batchnorm_forward(x, np.ones(1), np.zeros(1), np.array([1.0]), np.array([4.0]), False, eps=0.0)
    assert out.ravel().tolist() == [4.5, 5.5] and rm.tolist() == [1.0] and rv.tolist() == [4.0]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 2)])
def test_backward_passes_the_gradient_check(training, shape):
    rng = np.random.default_rng(3)
    C = shape[1]
    p = {"x": rng.standard_normal(shape) * 2 + 1, "gamma": rng.uniform(0.5, 2, C), "beta": rng.standard_normal(C)}
    rm, rv = rng.standard_normal(C), rng.uniform(0.5, 2, C)
    R = rng.standard_normal(shape)

    def f(q):
        return float(np.sum(R * batchnorm_forward(q["x"], q["gamma"], q["beta"], rm, rv, training)[0]))

    def grad(q):
        _, cache, _, _ = batchnorm_forward(q["x"], q["gamma"], q["beta"], rm, rv, training)
        dx, dg, db = batchnorm_backward(R, cache)
        return {"x": dx, "gamma": dg, "beta": db}

    result = check_gradient(f, grad, p, tol=1e-7)
    assert result.passed, f"relative error {result.max_relative_error:.2e} at {result.worst}"


def test_forward_does_not_modify_its_inputs():
    rm, rv = np.zeros(2), np.ones(2)
    batchnorm_forward(np.arange(6.0).reshape(3, 2), np.ones(2), np.zeros(2), rm, rv, True)
    assert rm.tolist() == [0.0, 0.0] and rv.tolist() == [1.0, 1.0]


def test_errors_say_what_is_wrong():
    bn = BatchNorm1d(3)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        bn.forward(np.ones((1, 3)))
    assert bn.num_batches_tracked == 0
    assert bn.eval().forward(np.ones((1, 3))).shape == (1, 3)  # fine in eval mode
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        bn.forward(np.ones(3))
    with pytest.raises(ValueError, match="num_features=3"):
        bn.forward(np.ones((4, 2)))
    with pytest.raises(ValueError, match="momentum"):
        BatchNorm1d(3, momentum=1.5)
    with pytest.raises(ValueError, match="eps"):
        BatchNorm1d(3, eps=-1)
    with pytest.raises(ValueError, match="num_features"):
        BatchNorm1d(0)
    with pytest.raises(ValueError, match="running_mean should contain 3 elements"):
        batchnorm_forward(np.ones((2, 3)), np.ones(3), np.zeros(3), np.zeros(4), np.ones(3), True)
    with pytest.raises(RuntimeError, match="forward"):
        BatchNorm1d(2).backward(np.ones((2, 2)))
    _, cache, _, _ = batchnorm_forward(np.ones((2, 3)), np.ones(3), np.zeros(3), np.zeros(3), np.ones(3), True)
    with pytest.raises(ValueError, match="dout has shape"):
        batchnorm_backward(np.ones((3, 3)), cache)


def test_no_affine_has_no_parameters():
    bn = BatchNorm1d(2, affine=False)
    assert bn.parameters() == {} and bn.weight is None
    bn.forward(np.array([[1.0, 2.0], [3.0, 5.0]]))
    bn.backward(np.ones((2, 2)))
    assert bn.grads == {}
