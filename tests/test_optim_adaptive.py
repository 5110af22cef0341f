"""Tests of the adaptive optimizers of :mod:`lib.optim` (chapter 05).

Golden trajectories: ``tests/data/adaptive_torch.npz`` (``torch.optim`` 2.13.0, every optimizer
and flag) and ``tests/data/adabelief_optax.npz`` (``optax.adabelief``), recorded in float64 by
``tests/golden/record_torch.py`` / ``record_optax.py``. This file never imports torch or jax: it
recomputes the recorded problem's gradients with NumPy and requires every iterate (and the
recorded optimizer state) to agree to a relative error of 1e-10.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

import lib.optim as optim
from lib.optim import apply_updates, chain
from lib.tree import tree_leaves, tree_map

DATA = Path(__file__).resolve().parent / "data"
RTOL = 1e-10  # |lib - reference| <= RTOL * (|reference| + 1) at every step (parameters are O(1))

OPTIMIZERS = ["adagrad", "rmsprop", "adam", "adamw", "adamax", "nadam", "radam", "adabelief"]


def _load(name):
    path = DATA / f"{name}.npz"
    if not path.exists():
        return None, None
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    return json.loads(str(arrays.pop("meta"))), arrays


GOLDEN = {name: _load(name) for name in ("adaptive_torch", "adabelief_optax")}
CASES = [(f, c["name"]) for f, (meta, _) in GOLDEN.items() if meta for c in meta["cases"]]


def _case(file, name):
    meta, data = GOLDEN[file]
    return meta, data, next(c for c in meta["cases"] if c["name"] == name)


def _gradient(data, pname, names, params, t):
    """``record_torch.gradient``: g_t = A θ_t + b + noise_t for each tensor."""
    out = {}
    for n in names:
        p = params[n]
        g = data[f"problem/{pname}/A/{n}"] @ np.ravel(p) + data[f"problem/{pname}/b/{n}"]
        out[n] = (g + data[f"problem/{pname}/noise/{n}"][t]).reshape(np.shape(p))
    return out


def _make(data, case):
    kwargs = dict(case["hparams"])
    if case["schedule"]:
        values = data[f"case/{case['name']}/lr"]
        kwargs["lr"] = lambda t: values[t]
    return getattr(optim, case["lib"])(**kwargs)


# torch / optax state key -> (lib state type, field)
STATE_FIELDS = {
    "sum": (optim.ScaleByAdagradState, "sum_of_squares"),
    "square_avg": (optim.ScaleByRmsState, "square_avg"),
    "grad_avg": (optim.ScaleByRmsState, "grad_avg"),
    "momentum_buffer": (optim.TraceState, "momentum_buffer"),
    "exp_avg": (
        (optim.ScaleByAdamState, optim.ScaleByAdamaxState, optim.ScaleByNadamState, optim.ScaleByRadamState),
        "mu",
    ),
    "exp_avg_sq": ((optim.ScaleByAdamState, optim.ScaleByNadamState, optim.ScaleByRadamState), "nu"),
    "max_exp_avg_sq": (optim.ScaleByAdamState, "nu_max"),
    "exp_inf": (optim.ScaleByAdamaxState, "u_inf"),
    "mu_product": (optim.ScaleByNadamState, "mu_product"),
    "mu": (optim.ScaleByBeliefState, "mu"),
    "nu": (optim.ScaleByBeliefState, "nu"),
}


def _err(x, ref):
    x, ref = np.asarray(x, np.float64), np.asarray(ref, np.float64)
    return float(np.max(np.abs(x - ref) / (np.abs(ref) + 1.0), initial=0.0))


def run_golden(file, name, as_list=False):
    """Run lib on a recorded case; return the worst error over all steps and the final state."""
    meta, data, case = _case(file, name)
    pname = case["problem"]
    names = meta["problems"][pname]["params"]
    tx = _make(data, case)
    init = {n: data[f"problem/{pname}/init/{n}"].copy() for n in names}
    params = [init[n] for n in names] if as_list else init
    state = tx.init(params)
    worst = 0.0
    for t in range(case["steps"]):
        as_dict = dict(zip(names, params)) if as_list else params
        g = _gradient(data, pname, names, as_dict, t)
        updates, state = tx.update([g[n] for n in names] if as_list else g, state, params)
        params = apply_updates(params, updates)
        for i, n in enumerate(names):
            p = params[i] if as_list else params[n]
            err = _err(p, data[f"case/{name}/traj/{n}"][t + 1])
            assert err <= RTOL, f"{name}: {n} differs from the reference at step {t + 1} (error {err:.3g})"
            worst = max(worst, err)
    for key in case["state"]:
        kind, field = STATE_FIELDS[key]
        (s,) = [s for s in state if isinstance(s, kind)]
        value = getattr(s, field)
        for i, n in enumerate(names):
            mine = value if np.isscalar(value) else (value[i] if as_list else value[n])
            err = _err(mine, data[f"case/{name}/state/{key}/{n}"])
            assert err <= RTOL, f"{name}: state {key} of {n} differs from the reference (error {err:.3g})"
            worst = max(worst, err)
    return worst


# --------------------------------------------------------------------------- golden data


@pytest.mark.skipif(not CASES, reason="golden files missing: run make golden")
def test_golden_files_cover_every_optimizer_and_flag():
    meta, data = GOLDEN["adaptive_torch"]
    assert meta["torch"].startswith("2.13.0") and meta["dtype"] == "float64"
    libs = {c["lib"] for c in meta["cases"]}
    assert libs == {"adagrad", "rmsprop", "adam", "adamw", "adamax", "nadam", "radam"}
    flags = {(c["lib"], k) for c in meta["cases"] for k, v in c["hparams"].items() if v not in (0, 0.0, False)}
    for flag in [
        ("adagrad", "lr_decay"),
        ("adagrad", "weight_decay"),
        ("adagrad", "initial_accumulator_value"),
        ("rmsprop", "centered"),
        ("rmsprop", "momentum"),
        ("rmsprop", "weight_decay"),
        ("rmsprop", "alpha"),
        ("adam", "amsgrad"),
        ("adam", "weight_decay"),
        ("adam", "decoupled_weight_decay"),
        ("adam", "betas"),
        ("adamw", "amsgrad"),
        ("adamax", "weight_decay"),
        ("nadam", "weight_decay"),
        ("nadam", "decoupled_weight_decay"),
        ("nadam", "momentum_decay"),
        ("radam", "weight_decay"),
        ("radam", "decoupled_weight_decay"),
    ]:
        assert flag in flags, flag
    scheduled = {c["lib"] for c in meta["cases"] if c["schedule"]}
    assert {"adam", "adagrad", "adamw", "nadam", "radam", "rmsprop"} <= scheduled
    ometa, _ = GOLDEN["adabelief_optax"]
    assert ometa["optax"] == "0.2.8" and ometa["dtype"] == "float64"
    assert {c["hparams"].get("nesterov", False) for c in ometa["cases"]} == {False, True}
    for m, d in GOLDEN.values():
        for c in m["cases"]:
            assert c["steps"] >= 100
            assert d[f"case/{c['name']}/traj/W"].shape == (c["steps"] + 1, 2, 2)


@pytest.mark.parametrize("file, name", CASES, ids=[n for _, n in CASES])
def test_matches_reference(file, name):
    run_golden(file, name)


@pytest.mark.parametrize(
    "name",
    [
        "adagrad_weight_decay_initial_accumulator",
        "rmsprop_all_flags",
        "adam_amsgrad",
        "adamw_amsgrad_schedule",
        "adamax_weight_decay_betas",
        "nadam_decoupled_weight_decay",
        "radam_decoupled_weight_decay",
        "adabelief_nesterov",
    ],
)
def test_matches_reference_with_list_params(name):
    if not CASES:
        pytest.skip("golden files missing")
    run_golden("adabelief_optax" if name.startswith("adabelief") else "adaptive_torch", name, as_list=True)


@pytest.mark.skipif(not CASES, reason="golden files missing")
def test_golden_detects_plausible_mistakes():
    """Bias correction counted from t = 0 or ε inside the root give visibly different paths."""
    meta, data, case = _case("adaptive_torch", "adam")
    names = meta["problems"]["quad3"]["params"]
    ref = data["case/adam/traj/w"][-1]
    wrong = {
        "eps inside the root": chain(optim.scale_by_adam(eps=0.0, eps_root=1e-8), optim.scale_by_learning_rate(0.05)),
        "no bias correction": None,
    }
    for label, tx in wrong.items():
        p = {n: data[f"problem/quad3/init/{n}"].copy() for n in names}
        if tx is None:  # m / (sqrt(v) + eps), t never used
            m = {n: 0 * p[n] for n in names}
            v = {n: 0 * p[n] for n in names}
            for t in range(case["steps"]):
                g = _gradient(data, "quad3", names, p, t)
                m = {n: 0.9 * m[n] + 0.1 * g[n] for n in names}
                v = {n: 0.999 * v[n] + 0.001 * g[n] ** 2 for n in names}
                p = {n: p[n] - 0.05 * m[n] / (np.sqrt(v[n]) + 1e-8) for n in names}
        else:
            s = tx.init(p)
            for t in range(case["steps"]):
                u, s = tx.update(_gradient(data, "quad3", names, p, t), s, p)
                p = apply_updates(p, u)
        assert _err(p["w"], ref) > 1e-9 if label == "eps inside the root" else _err(p["w"], ref) > 1e-3, label


# --------------------------------------------------------------------------- structure


def test_adamw_is_adam_with_the_decay_link_moved():
    params = {"w": np.array([1.0, -2.0]), "s": np.array(0.5)}
    grads = {"w": np.array([0.3, 0.1]), "s": np.array(-1.0)}
    l2 = chain(optim.add_decayed_weights(0.1), optim.scale_by_adam(), optim.scale_by_learning_rate(0.1))
    decoupled = chain(optim.scale_by_adam(), optim.add_decayed_weights(0.1), optim.scale_by_learning_rate(0.1))
    for named, reference in [
        (optim.adam(lr=0.1, weight_decay=0.1), l2),
        (optim.adamw(lr=0.1, weight_decay=0.1), decoupled),
        (optim.adam(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True), decoupled),
    ]:
        s1, s2, p = named.init(params), reference.init(params), params
        for _ in range(3):
            u1, s1 = named.update(grads, s1, p)
            u2, s2 = reference.update(grads, s2, p)
            for k in p:
                np.testing.assert_array_equal(u1[k], u2[k])
            p = apply_updates(p, u1)
    u_l2, _ = l2.update(grads, l2.init(params), params)
    u_dec, _ = decoupled.update(grads, decoupled.init(params), params)
    assert not np.allclose(u_l2["w"], u_dec["w"])


def test_defaults_are_torchs():
    import inspect

    expected = {
        "adagrad": dict(lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10),
        "rmsprop": dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False),
        # mask: chapter 06's keyword-only decay mask (optax's; torch uses parameter groups)
        "adam": dict(
            lr=1e-3,
            betas=(0.9, 0.999),
            eps=1e-8,
            weight_decay=0,
            amsgrad=False,
            decoupled_weight_decay=False,
            mask=None,
        ),
        "adamw": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, mask=None),
        "adamax": dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0),
        "nadam": dict(
            lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3, decoupled_weight_decay=False
        ),
        "radam": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False),
        "adabelief": dict(lr=inspect.Parameter.empty, betas=(0.9, 0.999), eps=1e-16, eps_root=1e-16, nesterov=False),
    }
    for name, defaults in expected.items():
        sig = inspect.signature(getattr(optim, name))
        assert {k: p.default for k, p in sig.parameters.items()} == defaults, name


def test_first_steps_are_as_documented():
    p = np.zeros(2)
    g = np.array([1e-2, -1e3])
    # Adam: bias correction makes the first step -lr * sign(g)
    u, _ = optim.adam(lr=0.1).update(g, optim.adam(lr=0.1).init(p), p)
    np.testing.assert_allclose(u, [-0.1, 0.1], rtol=1e-5)
    # RMSprop: no bias correction, the first step is lr / sqrt(1 - alpha) = 10 lr
    tx = optim.rmsprop(lr=0.01)
    u, _ = tx.update(g, tx.init(p), p)
    np.testing.assert_allclose(u, [-0.1, 0.1], rtol=1e-5)
    # Adagrad: -lr * sign(g)
    tx = optim.adagrad(lr=0.3)
    u, _ = tx.update(g, tx.init(p), p)
    np.testing.assert_allclose(u, [-0.3, 0.3], rtol=1e-6)
    # RAdam: rho_1 <= 5, plain (bias-corrected) momentum: -lr * g
    tx = optim.radam(lr=0.1)
    u, _ = tx.update(g, tx.init(p), p)
    np.testing.assert_allclose(u, -0.1 * g, rtol=1e-14)


def test_adagrad_lr_decay_composes_with_a_schedule():
    p, g = np.zeros(1), np.ones(1)
    tx = optim.adagrad(lr=lambda t: [1.0, 2.0, 3.0][t], lr_decay=0.5)
    s = tx.init(p)
    steps = []
    for _ in range(3):
        u, s = tx.update(g, s, p)
        steps.append(-u[0])
    # step t (1-based): lr(t-1) / (1 + (t-1) * 0.5) / sqrt(t)
    np.testing.assert_allclose(steps, [1.0, 2.0 / 1.5 / np.sqrt(2), 3.0 / 2.0 / np.sqrt(3)], rtol=1e-9)


# --------------------------------------------------------------------------- every optimizer, every flag

FLAGS = {
    "adagrad": dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.1),
    "rmsprop": dict(lr=0.01, weight_decay=0.1, momentum=0.9, centered=True),
    "adam": dict(lr=0.01, weight_decay=0.1, amsgrad=True),
    "adamw": dict(lr=0.01, amsgrad=True),
    "adamax": dict(lr=0.01, weight_decay=0.1),
    "nadam": dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
    "radam": dict(lr=0.01, weight_decay=0.1),
    "adabelief": dict(lr=0.01, nesterov=True),
}


def _tree(dtype=np.float64):
    rng = np.random.default_rng(0)
    return {
        "W": rng.standard_normal((2, 3)).astype(dtype),
        "b": rng.standard_normal(3).astype(dtype),
        "s": np.array(0.7, dtype),
    }


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_update_does_not_modify_inputs_or_keep_grads(name):
    tx = getattr(optim, name)(**FLAGS[name])

    def trajectory(mutate):
        params = _tree()
        state = tx.init(params)
        out = []
        for t in range(8):  # RAdam is rectified from step 6 on
            grads = tree_map(lambda p: np.array(2.0 * p + 0.1 * (t + 1)), params)  # fresh buffers
            p0, g0, s0 = copy.deepcopy(params), copy.deepcopy(grads), copy.deepcopy(state)
            updates, state_new = tx.update(grads, state, params)
            for a, b in [(params, p0), (grads, g0), (state, s0)]:
                for x, y in zip(tree_leaves(a), tree_leaves(b)):
                    np.testing.assert_array_equal(x, y)
            params, state = apply_updates(params, updates), state_new
            if mutate:  # a training loop reusing its buffers must not change the optimizer's path
                for x in tree_leaves(grads) + tree_leaves(updates):
                    if isinstance(x, np.ndarray):
                        x[...] = 1e6
            out.append(params)
        return out

    for a, b in zip(trajectory(False), trajectory(True)):
        for x, y in zip(tree_leaves(a), tree_leaves(b)):
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_float32_stays_float32(name):
    hp = dict(FLAGS[name], lr=lambda t: np.float64(0.01) / (t + 1))
    tx = getattr(optim, name)(**hp)
    params = _tree(np.float32)
    state = tx.init(params)
    for _ in range(8):
        grads = tree_map(lambda p: np.asarray(2 * p + 1, np.float32), params)
        updates, state = tx.update(grads, state, params)
        assert all(np.asarray(u).dtype == np.float32 for u in tree_leaves(updates)), name
        params = apply_updates(params, updates)
        assert all(np.asarray(p).dtype == np.float32 for p in tree_leaves(params)), name
        assert all(x.dtype == np.float32 for x in tree_leaves(state) if isinstance(x, np.ndarray)), name


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_bare_array_and_a_dict_of_it_give_the_same_path(name):
    """A single array takes a fast path (no tree walk): the same numbers as the tree path."""
    tx = getattr(optim, name)(**FLAGS[name])
    w = _tree()["W"]
    d = {"W": w.copy()}
    sw, sd = tx.init(w), tx.init(d)
    for t in range(7):
        g = np.sin(3 * w) + 0.1 * t
        uw, sw = tx.update(g, sw, w)
        ud, sd = tx.update({"W": g.copy()}, sd, d)
        w, d = apply_updates(w, uw), apply_updates(d, ud)
        np.testing.assert_array_equal(w, d["W"])


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_list_and_dict_params_give_the_same_path(name):
    tx = getattr(optim, name)(**FLAGS[name])
    d = _tree()
    lst = [d["W"], d["b"], d["s"]]
    sd, sl = tx.init(d), tx.init(lst)
    for t in range(7):
        gd = tree_map(lambda p: np.sin(3 * p) + 0.1 * t, d)
        ud, sd = tx.update(gd, sd, d)
        ul, sl = tx.update([gd["W"], gd["b"], gd["s"]], sl, lst)
        d, lst = apply_updates(d, ud), apply_updates(lst, ul)
        for x, y in zip([d["W"], d["b"], d["s"]], lst):
            np.testing.assert_array_equal(x, y)
    assert isinstance(lst, list) and np.shape(lst[2]) == ()


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_mismatched_grads_are_named(name):
    tx = getattr(optim, name)(**FLAGS[name])
    params = _tree()
    with pytest.raises(ValueError, match=r"grads\['b'\]"):
        tx.update(dict(_tree(), b=np.zeros(5)), tx.init(params), params)


# --------------------------------------------------------------------------- argument checks
# torch 2.13 (torch/optim/*.py, __init__): "Invalid learning rate: {lr}", "Invalid epsilon value",
# "Invalid beta parameter at index 0/1" (0 <= beta < 1), "Invalid weight_decay value",
# "Invalid lr_decay value", "Invalid initial_accumulator_value value", "Invalid momentum value",
# "Invalid alpha value" (alpha >= 0 only), "Invalid momentum_decay value".

BAD = [
    ("adagrad", dict(lr=-0.1), "Invalid learning rate"),
    ("adagrad", dict(lr_decay=-1.0), "Invalid lr_decay value"),
    ("adagrad", dict(weight_decay=-1.0), "Invalid weight_decay value"),
    ("adagrad", dict(initial_accumulator_value=-0.1), "Invalid initial_accumulator_value value"),
    ("adagrad", dict(eps=-1e-10), "Invalid epsilon value"),
    ("rmsprop", dict(lr=-0.1), "Invalid learning rate"),
    ("rmsprop", dict(eps=-1.0), "Invalid epsilon value"),
    ("rmsprop", dict(momentum=-0.9), "Invalid momentum value"),
    ("rmsprop", dict(weight_decay=-1.0), "Invalid weight_decay value"),
    ("rmsprop", dict(alpha=-0.5), "Invalid alpha value"),
    ("adam", dict(lr=-1e-3), "Invalid learning rate"),
    ("adam", dict(eps=-1e-8), "Invalid epsilon value"),
    ("adam", dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0"),
    ("adam", dict(betas=(-0.1, 0.999)), "Invalid beta parameter at index 0"),
    ("adam", dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1"),
    ("adam", dict(betas=(0.9, float("nan"))), "Invalid beta parameter at index 1"),
    ("adam", dict(betas=(0.9,)), "betas must be a pair"),
    ("adam", dict(weight_decay=-0.1), "Invalid weight_decay value"),
    ("adamw", dict(weight_decay=-0.1), "Invalid weight_decay value"),
    ("adamw", dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1"),
    ("adamax", dict(lr=-1.0), "Invalid learning rate"),
    ("adamax", dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0"),
    ("adamax", dict(eps=-1.0), "Invalid epsilon value"),
    ("nadam", dict(momentum_decay=-1e-3), "Invalid momentum_decay value"),
    ("nadam", dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1"),
    ("nadam", dict(weight_decay=-1.0), "Invalid weight_decay value"),
    ("radam", dict(lr=-1.0), "Invalid learning rate"),
    ("radam", dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1"),
    ("adabelief", dict(lr=-1.0), "Invalid learning rate"),
    ("adabelief", dict(lr=0.1, betas=(1.0, 0.9)), "Invalid beta parameter at index 0"),
    ("adabelief", dict(lr=0.1, eps_root=-1.0), "eps_root"),
    ("adabelief", dict(lr=0.1, eps=float("nan")), "Invalid epsilon value"),
]


@pytest.mark.parametrize("name, kwargs, match", BAD, ids=[f"{n}-{list(k)[0]}" for n, k, _ in BAD])
def test_rejects_invalid_values_with_torchs_message(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        getattr(optim, name)(**kwargs)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_accepts_edge_values_and_checks_schedules_at_update_time(name):
    fn = getattr(optim, name)
    fn(lr=0.0)
    fn(lr=np.float32(0.1))
    if name != "adagrad" and name != "rmsprop":
        fn(lr=0.1, betas=(0.0, 0.0))
        fn(lr=0.1, betas=[np.float64(0.5), 0.9])
    with pytest.raises(TypeError, match="learning rate"):
        fn(lr="0.1")
    tx = fn(lr=lambda t: -1.0 if t == 1 else 0.1)
    p = np.ones(2)
    _, s = tx.update(np.ones(2), tx.init(p), p)
    with pytest.raises(ValueError, match="step 1"):
        tx.update(np.ones(2), s, p)


def test_transforms_validate():
    with pytest.raises(ValueError, match="Invalid beta parameter at index 0"):
        optim.scale_by_adam(b1=1.0)
    with pytest.raises(ValueError, match="Invalid epsilon value"):
        optim.scale_by_rms(eps=-1.0)
    with pytest.raises(ValueError, match="Invalid alpha value"):
        optim.scale_by_rms(alpha=-1.0)
    with pytest.raises(ValueError, match="eps_root"):
        optim.scale_by_adam(eps_root=-1.0)
    with pytest.raises(TypeError, match="beta"):
        optim.scale_by_radam(b2="0.9")


@pytest.mark.parametrize("name", ["adagrad", "rmsprop", "adam", "adamw", "adamax", "nadam", "radam", "adabelief"])
def test_integer_gradients_are_treated_as_floats(name):
    """An integer gradient array (e.g. np.array([3, -1])) must behave like its float version."""
    tx = getattr(optim, name)(lr=0.1)
    params = np.array([1.0, 2.0])
    results = []
    for grads in (np.array([3, -1]), np.array([3.0, -1.0])):
        state = tx.init(params)
        for _ in range(2):
            updates, state = tx.update(grads, state, params)
        results.append(optim.apply_updates(params, updates))
    np.testing.assert_array_equal(results[0], results[1])
