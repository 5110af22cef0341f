"""lib.optim.proximal: soft-thresholding = torch's softshrink; proximal and subgradient L1 steps match torch 2.13."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import numpy as np
import pytest

import lib.optim.proximal
from lib.optim import (
    add_l1_prox,
    add_l1_subgradient,
    apply_updates,
    chain,
    l1_subgradient_sgd,
    proximal_sgd,
    scale_by_learning_rate,
    sgd,
    soft_threshold,
    trace,
)

DATA = np.load(Path(__file__).resolve().parent / "data" / "regularization_torch.npz", allow_pickle=False)
L1 = json.loads(str(DATA["meta"]))["l1"]
TOL = 1e-12


def test_doctests():
    assert doctest.testmod(lib.optim.proximal).failed == 0


def test_soft_threshold_is_torch_softshrink():
    out = soft_threshold(DATA["l1/softshrink_x"], float(DATA["l1/softshrink_tau"]))
    np.testing.assert_allclose(out, DATA["l1/softshrink_out"], rtol=0, atol=1e-15)


def _grad(theta):
    A, b = DATA["l1/A"], DATA["l1/b"]
    return A.T @ (A @ theta - b) / L1["n"]


def _run(tx):
    theta = DATA["l1/theta0"].copy()
    state = tx.init(theta)
    traj = [theta]
    for _ in range(L1["steps"]):
        u, state = tx.update(_grad(theta), state, theta)
        theta = apply_updates(theta, u)
        traj.append(theta)
    return np.array(traj)


@pytest.mark.parametrize("kind", ["prox", "subgrad"])
def test_l1_trajectories_match_torch(kind):
    make = proximal_sgd if kind == "prox" else l1_subgradient_sgd
    traj = _run(make(lr=L1["lr"], l1=L1["l1"]))
    ref = DATA[f"l1/{kind}_traj"]
    err = np.max(np.abs(traj - ref) / np.maximum(1, np.abs(ref)))
    assert err < TOL, f"max error {err:.2e}"


def test_prox_gives_exact_zeros_and_subgradient_does_not():
    prox, sub = DATA["l1/prox_traj"][-1], DATA["l1/subgrad_traj"][-1]
    mine = _run(proximal_sgd(lr=L1["lr"], l1=L1["l1"]))[-1]
    assert np.sum(mine == 0.0) >= 1 and np.sum(mine == 0.0) == np.sum(prox == 0.0)
    assert np.sum(_run(l1_subgradient_sgd(lr=L1["lr"], l1=L1["l1"]))[-1] == 0.0) == np.sum(sub == 0.0) == 0


def test_prox_fixed_point_is_the_lasso_optimality_condition():
    # a fixed point of theta = S(theta - lr grad f) satisfies grad f_i = -l1 sign(theta_i) (theta_i != 0)
    # and |grad f_i| <= l1 (theta_i == 0): the subgradient condition of the Lasso
    tx = proximal_sgd(lr=L1["lr"], l1=L1["l1"])
    theta = DATA["l1/theta0"].copy()
    state = tx.init(theta)
    for _ in range(3000):
        u, state = tx.update(_grad(theta), state, theta)
        theta = apply_updates(theta, u)
    g = _grad(theta)
    nz = theta != 0
    assert np.any(~nz)
    np.testing.assert_allclose(g[nz], -L1["l1"] * np.sign(theta[nz]), atol=1e-9)
    assert np.all(np.abs(g[~nz]) <= L1["l1"] + 1e-9)


def test_prox_composes_after_momentum_and_masks():
    p = {"W": np.array([0.01, 2.0]), "b": np.array([0.01])}
    g = {"W": np.zeros(2), "b": np.zeros(1)}
    tx = chain(trace(0.9), scale_by_learning_rate(0.1), add_l1_prox(1.0, 0.1, mask={"W": True, "b": False}))
    u, _ = tx.update(g, tx.init(p), p)
    new = apply_updates(p, u)
    assert new["W"].tolist() == [0.0, 1.9] and new["b"].tolist() == [0.01]
    tx = add_l1_subgradient(0.5, mask=lambda q: {k: k == "W" for k in q})
    u, _ = tx.update(g, tx.init(p), p)
    assert u["W"].tolist() == [0.5, 0.5] and u["b"].tolist() == [0.0]
    # with l1 = 0 both are plain SGD
    a = _run(proximal_sgd(lr=0.1, l1=0.0))
    np.testing.assert_allclose(a, _run(sgd(lr=0.1)), rtol=0, atol=0)


def test_schedule_sets_the_threshold():
    tx = proximal_sgd(lr=lambda t: 0.1 * (t + 1), l1=1.0)
    p = np.array([0.15])
    s = tx.init(p)
    u, s = tx.update(np.zeros(1), s, p)  # threshold 0.1: 0.15 -> 0.05
    p = apply_updates(p, u)
    u, s = tx.update(np.zeros(1), s, p)  # threshold 0.2: 0.05 -> 0
    assert np.allclose(apply_updates(p, u), [0.0])


def test_errors():
    with pytest.raises(ValueError, match="l1"):
        add_l1_prox(-1.0, 0.1)
    with pytest.raises(ValueError, match="learning rate"):
        add_l1_prox(1.0, -0.1)
    with pytest.raises(ValueError, match="threshold"):
        soft_threshold(np.ones(2), -1)
    tx = add_l1_prox(1.0, 0.1)
    with pytest.raises(ValueError, match="needs params"):
        tx.update(np.zeros(2), tx.init(np.zeros(2)))
    with pytest.raises(ValueError, match="shape"):
        tx.update(np.zeros(3), tx.init(np.zeros(2)), np.zeros(2))
    with pytest.raises(ValueError, match="needs params"):
        add_l1_subgradient(1.0).update(np.zeros(2), ())
