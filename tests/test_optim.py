"""Tests of :mod:`lib.optim` and :mod:`lib.tree`.

The golden tests compare ``lib.optim`` with trajectories recorded from ``torch.optim`` 2.13.0
in float64 by ``tests/golden/record_torch.py`` (stored in ``tests/data/*.npz``). This file
never imports torch: it reads the problem (initial point, ``A``, ``b``, noise) and the
reference trajectories from the npz and recomputes the same gradients with NumPy.
"""

from __future__ import annotations

import copy
import json
import math
import warnings
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest

import lib.optim as optim
from lib.optim import (
    GradientTransformation,
    apply_updates,
    chain,
    check_grads,
    identity,
    run,
    sgd,
)
from lib.tree import check_same_structure, tree_leaves, tree_map, tree_paths

DATA = Path(__file__).resolve().parent / "data"

# |lib - torch| <= RTOL * (|torch| + ATOL / RTOL) at every step, i.e. relative error with an
# absolute floor (the parameters are O(1))
RTOL = 1e-12
ATOL = 1e-12


# --------------------------------------------------------------------------- golden data


def _load(name: str):
    path = DATA / f"{name}.npz"
    if not path.exists():
        pytest.skip(f"{path} missing: run tests/golden/record_torch.py with torch 2.13.0")
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays.pop("meta")))
    return meta, arrays


SGD_META, SGD_DATA = _load("sgd_torch") if (DATA / "sgd_torch.npz").exists() else (None, None)


def _cases(meta):
    return [] if meta is None else [c["name"] for c in meta["cases"]]


def _case(meta, name):
    return next(c for c in meta["cases"] if c["name"] == name)


def _problem(meta, data, pname):
    names = meta["problems"][pname]["params"]
    get = lambda kind: {n: data[f"problem/{pname}/{kind}/{n}"] for n in names}  # noqa: E731
    return names, get("init"), {"A": get("A"), "b": get("b"), "noise": get("noise")}


def _gradient(arrays, params: dict, t: int) -> dict:
    """Same formula as ``record_torch.gradient``: g_t = A θ_t + b + noise_t per tensor."""
    return {
        n: (arrays["A"][n] @ np.ravel(p) + arrays["b"][n] + arrays["noise"][n][t]).reshape(np.shape(p))
        for n, p in params.items()
    }


def _make_tx(meta, data, case):
    kwargs = dict(case["hparams"])
    if case["schedule"]:
        values = data[f"case/{case['name']}/lr"]
        assert values.shape == (case["steps"],)
        kwargs["lr"] = lambda t: values[t]
    return getattr(optim, case["lib"])(**kwargs)


def _scaled_error(x, ref) -> float:
    """max |x - ref| / (|ref| + ATOL/RTOL): <= RTOL means the combined rtol/atol check passes."""
    x, ref = np.asarray(x, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    return float(np.max(np.abs(x - ref) / (np.abs(ref) + ATOL / RTOL), initial=0.0))


def _run_golden(meta, data, name, as_list=False):
    """Run lib on a recorded case; return the worst scaled error over steps and state."""
    case = _case(meta, name)
    names, init, arrays = _problem(meta, data, case["problem"])
    tx = _make_tx(meta, data, case)
    ref = {n: data[f"case/{name}/traj/{n}"] for n in names}
    params = [init[n].copy() for n in names] if as_list else {n: init[n].copy() for n in names}
    state = tx.init(params)
    worst = 0.0
    for t in range(case["steps"]):
        as_dict = dict(zip(names, params)) if as_list else params
        g = _gradient(arrays, as_dict, t)
        grads = [g[n] for n in names] if as_list else g
        updates, state = tx.update(grads, state, params)
        params = apply_updates(params, updates)
        for i, n in enumerate(names):
            p = params[i] if as_list else params[n]
            assert np.shape(p) == ref[n].shape[1:], (name, n, t)
            err = _scaled_error(p, ref[n][t + 1])
            assert err <= RTOL, f"{name}: {n} differs from torch at step {t + 1} (scaled error {err:.3g})"
            worst = max(worst, err)
    for key in case["state"]:
        assert key == "momentum_buffer"
        (trace_state,) = [s for s in state if isinstance(s, optim.TraceState)]
        buf = trace_state.momentum_buffer
        for i, n in enumerate(names):
            b = buf[i] if as_list else buf[n]
            err = _scaled_error(b, data[f"case/{name}/state/{key}/{n}"])
            assert err <= RTOL, f"{name}: momentum buffer of {n} differs from torch (scaled error {err:.3g})"
            worst = max(worst, err)
    return worst


needs_sgd_golden = pytest.mark.skipif(SGD_META is None, reason="tests/data/sgd_torch.npz missing")


@needs_sgd_golden
def test_golden_file_is_complete():
    assert SGD_META["torch"].startswith("2.13.0")
    assert SGD_META["dtype"] == "float64"
    names = set(_cases(SGD_META))
    assert {
        "plain",
        "momentum",
        "momentum_dampening",
        "nesterov",
        "weight_decay",
        "momentum_weight_decay_nesterov",
        "dampening_weight_decay",
    } <= names
    assert any(c["schedule"] for c in SGD_META["cases"])
    for c in SGD_META["cases"]:
        assert c["steps"] >= 100
        traj = SGD_DATA[f"case/{c['name']}/traj/w"]
        assert traj.shape == (c["steps"] + 1, 3) and traj.dtype == np.float64
    shapes = {tuple(s) for s in SGD_META["problems"]["quad3"]["shapes"].values()}
    assert shapes == {(3,), (2, 2), ()}


@needs_sgd_golden
@pytest.mark.parametrize("name", _cases(SGD_META))
def test_sgd_matches_torch(name):
    _run_golden(SGD_META, SGD_DATA, name)


@needs_sgd_golden
def test_sgd_matches_torch_with_list_params():
    _run_golden(SGD_META, SGD_DATA, "momentum_weight_decay_nesterov", as_list=True)


@needs_sgd_golden
def test_golden_is_sensitive():
    """The reference detects torch-convention mistakes (lr inside the buffer, damped first step)."""
    case = _case(SGD_META, "momentum_dampening")
    names, init, arrays = _problem(SGD_META, SGD_DATA, "quad3")
    hp = case["hparams"]
    p = {n: init[n].copy() for n in names}
    buf = None
    for t in range(case["steps"]):
        g = _gradient(arrays, p, t)
        # wrong: dampening applied on the first step too (buffer starting at zero)
        buf = {n: (0 if buf is None else hp["momentum"] * buf[n]) + (1 - hp["dampening"]) * g[n] for n in names}
        p = {n: p[n] - hp["lr"] * buf[n] for n in names}
    ref = SGD_DATA["case/momentum_dampening/traj/w"][-1]
    assert _scaled_error(p["w"], ref) > 1e-6


# --------------------------------------------------------------------------- tree

Pair = namedtuple("Pair", ["a", "b"])


def test_tree_map_containers():
    assert tree_map(lambda x: x + 1, {"a": 1, "b": 2}) == {"a": 2, "b": 3}
    assert tree_map(lambda x: x * 2, [1, 2]) == [2, 4]
    out = tree_map(lambda x: x * 2, (1, 2))
    assert out == (2, 4) and type(out) is tuple
    nt = tree_map(lambda x, y: x - y, Pair(5, 7), Pair(1, 2))
    assert type(nt) is Pair and nt == Pair(4, 5)
    nested = {"layers": [{"W": np.ones((2, 2)), "b": np.zeros(2)}, Pair(np.ones(1), 3.0)], "s": 1.0}
    out = tree_map(lambda x: np.asarray(x) * 3, nested)
    assert type(out["layers"]) is list and type(out["layers"][1]) is Pair
    np.testing.assert_array_equal(out["layers"][0]["W"], 3 * np.ones((2, 2)))
    assert float(out["s"]) == 3.0
    assert tree_paths(nested) == [
        "['layers'][0]['W']",
        "['layers'][0]['b']",
        "['layers'][1][0]",
        "['layers'][1][1]",
        "['s']",
    ]
    assert len(tree_leaves(nested)) == 5


def test_tree_map_does_not_modify_input():
    tree = {"W": np.ones(3)}
    out = tree_map(lambda x: x * 2, tree)
    np.testing.assert_array_equal(tree["W"], np.ones(3))
    assert out["W"] is not tree["W"]


def test_structure_mismatch_names_the_path():
    params = {"W": np.zeros((2, 2)), "b": np.zeros(2)}
    with pytest.raises(ValueError, match=r"grads\['W'\]"):
        check_grads({"W": [np.zeros(2), np.zeros(2)], "b": np.zeros(2)}, params)
    with pytest.raises(ValueError, match=r"grads\['W'\]"):
        check_same_structure(params, {"W": [1, 2], "b": 0}, names=("params", "grads"))
    with pytest.raises(ValueError, match="keys"):
        check_grads({"W": np.zeros((2, 2))}, params)
    with pytest.raises(ValueError, match="top level"):
        check_grads([np.zeros((2, 2)), np.zeros(2)], params)
    with pytest.raises(ValueError, match=r"\[1\]"):
        tree_map(lambda x, y: x, [1, [2, 3]], [1, [2]])
    with pytest.raises(ValueError, match=r"\['b'\]\[0\]"):
        tree_map(lambda x, y: x, {"b": [1]}, {"b": [[1]]})


def test_shape_mismatch_is_named():
    params = {"W": np.zeros((2, 2)), "b": np.zeros(2)}
    with pytest.raises(ValueError, match=r"\['W'\].*\(2,\).*\(2, 2\)"):
        check_grads({"W": np.zeros(2), "b": np.zeros(2)}, params)
    with pytest.raises(ValueError, match=r"\['b'\] has shape \(3,\)"):
        apply_updates(params, {"W": np.zeros((2, 2)), "b": np.zeros(3)})
    with pytest.raises(ValueError, match=r"\['W'\] has shape \(4,\)"):
        apply_updates(params, {"W": np.zeros(4), "b": np.zeros(2)})


def test_sgd_rejects_mismatched_grads():
    params = {"W": np.zeros((2, 2)), "b": np.zeros(2)}
    tx = sgd(lr=0.1, weight_decay=0.1)
    with pytest.raises(ValueError, match=r"grads\['b'\]"):
        tx.update({"W": np.zeros((2, 2)), "b": np.zeros(5)}, tx.init(params), params)


# --------------------------------------------------------------------------- core


def _affine(add: float, mul: float, name: str) -> GradientTransformation:
    def update(grads, state, params=None):
        return tree_map(lambda g: (np.asarray(g) + add) * mul, grads), state + (name,)

    return GradientTransformation(lambda params: (), update)


def test_chain_composes_in_order():
    g = np.array([1.0, 2.0])
    tx = chain(_affine(1.0, 1.0, "a"), _affine(0.0, 2.0, "b"))
    state = tx.init(g)
    assert state == ((), ())
    u, state = tx.update(g, state)
    np.testing.assert_array_equal(u, (g + 1) * 2)
    assert state == (("a",), ("b",))
    u2, _ = chain(_affine(0.0, 2.0, "b"), _affine(1.0, 1.0, "a")).update(g, ((), ()))
    np.testing.assert_array_equal(u2, g * 2 + 1)
    with pytest.raises(ValueError, match="state"):
        tx.update(g, ((),))


def test_sgd_is_the_documented_chain():
    params = {"w": np.array([1.0, -2.0]), "s": np.array(0.5)}
    grads = {"w": np.array([0.3, 0.1]), "s": np.array(-1.0)}
    a = sgd(lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True)
    b = chain(optim.add_decayed_weights(0.01), optim.trace(0.9, nesterov=True), optim.scale_by_learning_rate(0.1))
    sa, sb = a.init(params), b.init(params)
    for _ in range(3):
        ua, sa = a.update(grads, sa, params)
        ub, sb = b.update(grads, sb, params)
        for k in params:
            np.testing.assert_array_equal(ua[k], ub[k])
        params = apply_updates(params, ua)


def test_identity():
    g = {"w": np.array([1.0, 2.0])}
    tx = identity()
    state = tx.init(g)
    u, state2 = tx.update(g, state)
    np.testing.assert_array_equal(u["w"], g["w"])
    assert state2 == state
    np.testing.assert_array_equal(chain(identity(), _affine(0, 3, "x")).update(g, ((), ()))[0]["w"], 3 * g["w"])


def test_apply_updates_keeps_dtype():
    p32 = {"w": np.ones(3, np.float32), "s": np.float32(1.0)}
    out = apply_updates(p32, {"w": np.full(3, 0.1), "s": np.float64(0.1)})
    assert out["w"].dtype == np.float32 and np.asarray(out["s"]).dtype == np.float32
    np.testing.assert_allclose(out["w"], 1.1, rtol=1e-6)
    out64 = apply_updates(np.zeros(2), np.ones(2, np.float32))
    assert out64.dtype == np.float64
    assert apply_updates(np.array(2.0), np.array(-1.0)).shape == ()


ALL_FEATURES = [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.1),
    dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
]


def _tree():
    rng = np.random.default_rng(0)
    return {"W": rng.standard_normal((2, 3)), "b": rng.standard_normal(3), "s": np.array(0.7)}


@pytest.mark.parametrize("hp", ALL_FEATURES)
def test_update_does_not_modify_inputs(hp):
    tx = sgd(**hp)
    params, grads = _tree(), tree_map(lambda x: 0.5 * x + 1, _tree())
    state = tx.init(params)
    for _ in range(3):
        p0, g0, s0 = copy.deepcopy(params), copy.deepcopy(grads), copy.deepcopy(state)
        updates, new_state = tx.update(grads, state, params)
        for a, b in [(params, p0), (grads, g0)]:
            for x, y in zip(tree_leaves(a), tree_leaves(b)):
                np.testing.assert_array_equal(x, y)
        for x, y in zip(tree_leaves(state), tree_leaves(s0)):
            np.testing.assert_array_equal(x, y)
        new_params = apply_updates(params, updates)
        for x, y in zip(tree_leaves(params), tree_leaves(p0)):
            np.testing.assert_array_equal(x, y)
        params, state = new_params, new_state


def _trajectory(hp, mutate_grad=False, mutate_updates=False, steps=4):
    tx = sgd(**hp)
    params = _tree()
    state = tx.init(params)
    out = []
    for t in range(steps):
        grads = tree_map(lambda p: np.array(2.0 * p + 0.1 * (t + 1)), params)  # fresh buffers
        updates, state = tx.update(grads, state, params)
        params = apply_updates(params, updates)
        if mutate_grad:  # a training loop reusing (or zeroing) its gradient buffers
            for g in tree_leaves(grads):
                g[...] = 1e6
        if mutate_updates:
            for u in tree_leaves(updates):
                if isinstance(u, np.ndarray):
                    u[...] = -1e6
        out.append(copy.deepcopy(params))
    return out


@pytest.mark.parametrize("hp", ALL_FEATURES)
def test_update_keeps_no_reference_to_grads(hp):
    fresh = _trajectory(hp)
    for kw in (dict(mutate_grad=True), dict(mutate_updates=True)):
        for a, b in zip(_trajectory(hp, **kw), fresh):
            for x, y in zip(tree_leaves(a), tree_leaves(b)):
                np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("hp", ALL_FEATURES)
def test_float32_stays_float32(hp):
    hp = dict(hp, lr=lambda t: np.float64(0.1) / (t + 1))
    tx = sgd(**hp)
    params = tree_map(lambda x: np.asarray(x, np.float32), _tree())
    state = tx.init(params)
    for _ in range(3):
        grads = tree_map(lambda p: np.asarray(2 * p + 1, np.float32), params)
        updates, state = tx.update(grads, state, params)
        for u in tree_leaves(updates):
            assert np.asarray(u).dtype == np.float32
        params = apply_updates(params, updates)
        for p in tree_leaves(params):
            assert np.asarray(p).dtype == np.float32
        for leaf in tree_leaves(state):
            if isinstance(leaf, np.ndarray):
                assert leaf.dtype == np.float32


def test_callable_lr_first_update_uses_lr_at_0():
    calls = []

    def lr(t):
        calls.append(t)
        return [0.1, 0.5, 0.25][t]

    tx = sgd(lr=lr)
    p = np.array([1.0, -2.0])
    g = np.array([1.0, 3.0])
    state = tx.init(p)
    assert calls == []
    u, state = tx.update(g, state, p)
    np.testing.assert_array_equal(u, -0.1 * g)
    u, state = tx.update(g, state, p)
    np.testing.assert_array_equal(u, -0.5 * g)
    assert calls == [0, 1]
    assert optim.learning_rate_at(lr, 2) == 0.25
    assert optim.learning_rate_at(0.3, 7) == 0.3
    # with momentum, the buffer is lr-free (torch convention): u_t = -lr(t) b_t
    tx = sgd(lr=lambda t: 0.1 * (t + 1), momentum=0.5)
    state = tx.init(p)
    u1, state = tx.update(g, state, p)
    u2, state = tx.update(g, state, p)
    np.testing.assert_allclose(u1, -0.1 * g, rtol=1e-15)
    np.testing.assert_allclose(u2, -0.2 * (0.5 * g + g), rtol=1e-15)


def test_run_paths_and_early_stop_without_warnings():
    tx = sgd(lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = run(tx, lambda x: 2 * x, np.array([1.0, -1.0]), 20)
        assert path.shape == (21, 2)
        np.testing.assert_allclose(path[-1], 0.8**20 * np.array([1.0, -1.0]))
        np.testing.assert_array_equal(path[0], [1.0, -1.0])
        # diverging: |x| grows by 1999 each step; stops at the first iterate beyond max_norm
        path = run(sgd(lr=1000.0), lambda x: 2 * x, np.array([1.0, 2.0]), 100)
        assert 1 < len(path) < 101 and path.shape[1:] == (2,)
        assert np.linalg.norm(path[-1]) > 1e10 and np.linalg.norm(path[-2]) <= 1e10
        # no max_norm: runs into inf/nan, still without warnings, and stops there
        path = run(sgd(lr=1e30), lambda x: x * x * 1e300, np.array([1.0, 2.0]), 100, max_norm=math.inf)
        assert len(path) < 101 and not np.all(np.isfinite(path[-1]))
        assert np.all(np.isfinite(path[:-1]))
        # trees give a list of trees
        tree_path = run(sgd(lr=0.1, momentum=0.5), lambda p: {"a": 2 * p["a"]}, {"a": np.ones(2)}, 5)
        assert isinstance(tree_path, list) and len(tree_path) == 6 and set(tree_path[-1]) == {"a"}
        assert run(tx, lambda x: 2 * x, np.zeros(3), 0).shape == (1, 3)
    with pytest.raises(ValueError, match="steps"):
        run(tx, lambda x: x, np.zeros(1), -1)


# --------------------------------------------------------------------------- argument checks
# torch 2.13 (torch/optim/sgd.py, SGD.__init__):
#   if lr < 0.0: raise ValueError(f"Invalid learning rate: {lr}")
#   if momentum < 0.0: raise ValueError(f"Invalid momentum value: {momentum}")
#   if weight_decay < 0.0: raise ValueError(f"Invalid weight_decay value: {weight_decay}")
#   if nesterov and (momentum <= 0 or dampening != 0):
#       raise ValueError("Nesterov momentum requires a momentum and zero dampening")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(lr=-0.1), "Invalid learning rate"),
        (dict(lr=-1), "learning rate"),
        (dict(momentum=-0.5), "Invalid momentum value"),
        (dict(weight_decay=-1e-4), "Invalid weight_decay value"),
        (dict(momentum=0.0, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
        (dict(momentum=0.9, dampening=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
        (dict(lr=float("nan")), "learning rate"),
        (dict(momentum=float("nan")), "momentum"),
        (dict(weight_decay=float("nan")), "weight_decay"),
    ],
)
def test_sgd_rejects_invalid_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sgd(**kwargs)


def test_valid_edge_values_are_accepted():
    sgd(lr=0.0)
    sgd(lr=np.float32(0.1), momentum=np.float64(0.9), weight_decay=0)
    sgd(lr=0.1, momentum=0.9, nesterov=True, dampening=0.0)
    sgd(lr=0.1, momentum=0.0, dampening=0.5)  # torch accepts (dampening unused)


@pytest.mark.parametrize("bad", ["0.1", None, [0.1], {"lr": 0.1}, 1j])
def test_sgd_rejects_non_number_lr(bad):
    with pytest.raises(TypeError, match="learning rate"):
        sgd(lr=bad)


@pytest.mark.parametrize("value, step", [(-0.1, 0), (float("nan"), 0), (-1.0, 2), (float("nan"), 3), (float("inf"), 1)])
def test_callable_lr_checked_at_update_time(value, step):
    tx = sgd(lr=lambda t: value if t == step else 0.1, momentum=0.9)  # construction is fine
    p = np.ones(2)
    state = tx.init(p)
    for _ in range(step):
        _, state = tx.update(np.ones(2), state, p)
    with pytest.raises(ValueError, match=f"step {step}"):
        tx.update(np.ones(2), state, p)


def test_callable_lr_returning_non_number():
    tx = sgd(lr=lambda t: None)
    with pytest.raises(TypeError, match="step 0"):
        tx.update(np.ones(2), tx.init(np.ones(2)), np.ones(2))


@pytest.mark.parametrize("bad", [sgd, "sgd", None, (lambda p: (), lambda g, s, p=None: (g, s))])
def test_chain_rejects_non_transforms(bad):
    with pytest.raises(TypeError, match="argument 1"):
        chain(identity(), bad)


def test_building_blocks_validate():
    with pytest.raises(ValueError, match="momentum"):
        optim.trace(-0.1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.trace(0.9, dampening=0.5, nesterov=True)
    with pytest.raises(ValueError, match="weight_decay"):
        optim.add_decayed_weights(-1.0)
    with pytest.raises(ValueError, match="learning rate"):
        optim.scale_by_learning_rate(-1.0)
    tx = optim.add_decayed_weights(0.1)
    with pytest.raises(ValueError, match="params"):
        tx.update(np.ones(2), tx.init(np.ones(2)))


def test_argument_edge_cases_found_in_review():
    """Deviations from torch found while recording golden data, now pinned down."""
    import lib.optim as optim

    optim.sgd(lr=0.1, momentum=0.9, dampening=np.float32(0.1))  # NumPy reals are accepted
    with pytest.raises(ValueError, match="dampening"):
        optim.sgd(lr=0.1, momentum=0.9, dampening=float("nan"))
    with pytest.raises(ValueError, match="learning rate"):
        optim.sgd(lr=float("inf"))
    params = {"W": np.zeros((2, 3))}
    with pytest.raises(ValueError, match=r"updates\['W'\] has shape"):
        optim.apply_updates(params, {"W": np.zeros((3, 2))})
