"""LARS, LAMB, the trust ratio and gradient accumulation against optax (chapter 09).

Golden trajectories: ``tests/data/large_batch_optax.npz`` (``optax.lars``, ``optax.lamb``,
``optax.MultiSteps``, optax 0.2.8 in float64), recorded by ``tests/golden/record_large_batch.py``
on a problem with a zero-initialised bias, a tensor whose gradient is always zero, all-zero
gradient steps and layers of very different scales. This file never imports jax.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import lib.optim as optim
from lib.optim import apply_updates

DATA = Path(__file__).resolve().parent / "data" / "large_batch_optax.npz"
RTOL = 1e-12  # |lib - optax| <= RTOL * (|optax| + 1) at every step and every entry

with np.load(DATA, allow_pickle=False) as _f:
    ARRAYS = {k: _f[k] for k in _f.files}
META = json.loads(str(ARRAYS.pop("meta")))
CASES = {c["name"]: c for c in META["cases"]}
NAMES = META["params"]
MASK_FUNCTIONS = {"matrices": lambda params: {n: np.ndim(p) >= 2 for n, p in params.items()}}


def gradient(params, t):
    """``record_large_batch.gradient``: gate[t] * (A θ + b + noise_t) per tensor."""
    return {
        n: ARRAYS["gate"][t]
        * (ARRAYS[f"A/{n}"] @ np.ravel(p) + ARRAYS[f"b/{n}"] + ARRAYS[f"noise/{n}"][t]).reshape(np.shape(p))
        for n, p in params.items()
    }


def make(case, **override):
    hp = dict(case["hparams"])
    for key in ("weight_decay_mask", "trust_ratio_mask", "mask"):
        if isinstance(hp.get(key), str):
            hp[key] = MASK_FUNCTIONS[hp[key]]
    if "betas" in hp:
        hp["betas"] = tuple(hp["betas"])
    if case["schedule"]:
        values = ARRAYS[f"case/{case['name']}/lr"]
        hp["lr"] = lambda t: float(values[t])
    hp.update(override)
    tx = getattr(optim, case["optimizer"])(**hp)
    if case["multisteps"]:
        tx = optim.multi_steps(tx, case["multisteps"])
    return tx


def run(tx, steps=META["steps"], as_list=False):
    params = {n: ARRAYS[f"init/{n}"].copy() for n in NAMES}
    if as_list:
        params = [params[n] for n in NAMES]
    state = tx.init(params)
    traj = [params]
    for t in range(steps):
        named = params if not as_list else dict(zip(NAMES, params))
        g = gradient(named, t)
        g = g if not as_list else [g[n] for n in NAMES]
        updates, state = tx.update(g, state, params)
        params = apply_updates(params, updates)
        traj.append(params)
    if as_list:
        traj = [dict(zip(NAMES, p)) for p in traj]
    return {n: np.stack([np.asarray(p[n]) for p in traj]) for n in NAMES}


def max_rel_err(traj, name):
    return max(
        float(np.max(np.abs(traj[n] - ARRAYS[f"case/{name}/traj/{n}"]) / (np.abs(ARRAYS[f"case/{name}/traj/{n}"]) + 1)))
        for n in NAMES
    )


def test_golden_file_covers_every_flag_and_mask():
    assert META["optax"] == "0.2.8" and META["dtype"] == "float64"
    lars_keys = set().union(*(c["hparams"] for c in CASES.values() if c["optimizer"] == "lars"))
    lamb_keys = set().union(*(c["hparams"] for c in CASES.values() if c["optimizer"] == "lamb"))
    assert lars_keys >= {
        "lr",
        "weight_decay",
        "weight_decay_mask",
        "trust_coefficient",
        "eps",
        "trust_ratio_mask",
        "momentum",
        "nesterov",
    }
    assert lamb_keys >= {"lr", "betas", "eps", "eps_root", "weight_decay", "mask"}
    kinds = {
        type(c["hparams"].get(k)).__name__
        for c in CASES.values()
        for k in ("mask", "trust_ratio_mask", "weight_decay_mask")
    }
    assert {"dict", "str", "bool"} <= kinds  # tree masks, function masks, constant masks
    assert any(c["schedule"] for c in CASES.values()) and any(c["multisteps"] for c in CASES.values())
    # the problem really has a zero parameter, a zero-gradient tensor and all-zero steps
    assert not ARRAYS["init/bias"].any() and not ARRAYS["A/frozen"].any()
    assert (ARRAYS["gate"] == 0).sum() >= 3 and ARRAYS["gate"][0] == 0


@pytest.mark.parametrize("name", list(CASES))
def test_matches_optax_step_for_step(name):
    traj = run(make(CASES[name]))
    err = max_rel_err(traj, name)
    assert err <= RTOL, f"{name}: max relative error {err:.2e} > {RTOL}"


@pytest.mark.parametrize("name", ["lars_both_masks", "lamb_weight_decay_mask", "multisteps_lamb_k3"])
def test_matches_optax_with_list_params(name):
    case = dict(CASES[name])
    hp = dict(case["hparams"])
    for key in ("weight_decay_mask", "trust_ratio_mask", "mask"):
        if isinstance(hp.get(key), dict):
            hp[key] = [hp[key][n] for n in NAMES]
    case["hparams"] = hp
    assert max_rel_err(run(make(case), as_list=True), name) <= RTOL


def test_zero_parameters_and_zero_gradients_behave_as_in_optax():
    traj = {n: ARRAYS[f"case/lars_default/traj/{n}"] for n in NAMES}
    # the zero bias moves at step 2 (step 1 has all-zero gradients) by the FULL rate, ratio 1
    g = gradient({n: traj[n][1] for n in NAMES}, 1)
    np.testing.assert_allclose(traj["bias"][2] - traj["bias"][1], -0.5 * g["bias"], rtol=1e-12)
    # all-zero gradients at step 0: nothing moves (the ratio is 1, not 0/0)
    for n in NAMES:
        np.testing.assert_array_equal(traj[n][1], traj[n][0])
    # a tensor whose gradient is always zero never moves
    np.testing.assert_array_equal(traj["frozen"][-1], traj["frozen"][0])
    assert np.all(np.isfinite(run(make(CASES["lamb_default"]))["bias"]))


def test_golden_detects_plausible_mistakes():
    """A trust ratio of the wrong norms, a missing zero guard or the paper's denominator all fail."""
    import lib.optim.large_batch as lb

    original = lb.trust_ratio
    wrong = {
        "gradient over param": lambda u, p, c=1.0, eps=0.0, min_norm=0.0: original(p, u, c, eps, min_norm),
        "no zero guard": lambda u, p, c=1.0, eps=0.0, min_norm=0.0: (
            c * np.linalg.norm(p) / (np.linalg.norm(u) + eps + 1e-300)
        ),
    }
    try:
        for label, fn in wrong.items():
            lb.trust_ratio = fn
            errs = [max_rel_err(run(make(CASES[n])), n) for n in ("lars_weight_decay", "lamb_default")]
            assert min(errs) > 1e-3, f"the golden data does not catch '{label}' ({errs})"
    finally:
        lb.trust_ratio = original


def test_lars_is_not_the_papers_denominator():
    """optax divides by ||g + λθ||, the paper by ||g|| + λ||θ||: different numbers, documented."""
    g, p, lam = np.array([1.0, 0.0]), np.array([-1.0, 1.0]), 0.5
    optax_form = optim.trust_ratio(g + lam * p, p)
    paper_form = np.linalg.norm(p) / (np.linalg.norm(g) + lam * np.linalg.norm(p))
    assert optax_form > paper_form  # triangle inequality, strict here


def test_trust_ratio_values():
    u, p = np.array([3.0, 4.0]), np.array([0.0, 10.0])
    assert optim.trust_ratio(u, p) == 2.0
    assert optim.trust_ratio(u, p, trust_coefficient=0.1, eps=5.0) == pytest.approx(0.1)
    assert optim.trust_ratio(u, np.zeros(2)) == 1.0 and optim.trust_ratio(np.zeros(2), p) == 1.0
    assert optim.trust_ratio(u, p, min_norm=20.0) == 1.0  # both clipped up to 20
    tx = optim.scale_by_trust_ratio(mask={"a": True, "b": False})
    out, _ = tx.update({"a": u, "b": u}, (), {"a": p, "b": p})
    np.testing.assert_array_equal(out["a"], 2 * u)
    np.testing.assert_array_equal(out["b"], u)


def test_masks_resolve_like_optax():
    params = {"W": np.ones((2, 2)), "b": np.ones(2), "sub": [np.ones(1), np.ones(3)]}
    assert optim.resolve_mask(True, params) == {"W": True, "b": True, "sub": [True, True]}
    assert optim.resolve_mask({"W": True, "b": False, "sub": False}, params)["sub"] == [False, False]
    assert optim.resolve_mask(lambda p: {k: k == "W" for k in p}, params)["W"] is True
    with pytest.raises(ValueError, match="does not match the parameters"):
        optim.resolve_mask({"W": True}, params)
    with pytest.raises(TypeError, match="True or False"):
        optim.resolve_mask({"W": 1.0, "b": True, "sub": True}, params)


@pytest.mark.parametrize(
    "factory, kwargs, match",
    [
        (optim.lars, dict(lr=-1.0), "Invalid learning rate"),
        (optim.lars, dict(lr=0.1, weight_decay=-1.0), "weight_decay"),
        (optim.lars, dict(lr=0.1, trust_coefficient=float("nan")), "trust_coefficient"),
        (optim.lars, dict(lr=0.1, momentum=-0.5), "momentum"),
        (optim.lars, dict(lr=0.1, eps=-1.0), "eps"),
        (optim.lamb, dict(lr=0.1, betas=(1.0, 0.9)), "Invalid beta parameter at index 0"),
        (optim.lamb, dict(lr=0.1, eps_root=-1.0), "eps_root"),
    ],
)
def test_rejects_bad_hyperparameters(factory, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        factory(**kwargs)


def test_trust_ratio_needs_params():
    tx = optim.lamb(lr=0.1)
    with pytest.raises(ValueError, match="needs the parameters"):
        tx.update(np.ones(2), tx.init(np.ones(2)))


def test_float32_stays_float32():
    p = {"W": np.ones((2, 2), np.float32), "b": np.zeros(2, np.float32)}
    for tx in (optim.lars(0.1, weight_decay=0.1), optim.lamb(0.1, weight_decay=0.1)):
        u, _ = tx.update({k: np.full_like(v, 0.5) for k, v in p.items()}, tx.init(p), p)
        assert all(apply_updates(p, u)[k].dtype == np.float32 for k in p)


# --------------------------------------------------------------------------- accumulation


def test_multi_steps_is_the_large_batch_step_for_mean_losses():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((24, 3)), rng.standard_normal(24)

    def grad(w, Xb, yb):  # mean squared error
        return 2 * Xb.T @ (Xb @ w - yb) / len(yb)

    big, acc = optim.adam(lr=0.1), optim.multi_steps(optim.adam(lr=0.1), 4)
    w_big = w_acc = np.zeros(3)
    s_big, s_acc = big.init(w_big), acc.init(w_acc)
    for _ in range(5):
        u, s_big = big.update(grad(w_big, X, y), s_big, w_big)
        w_big = apply_updates(w_big, u)
        for j, (Xm, ym) in enumerate(optim.split_batch(X, y, 4)):
            u, s_acc = acc.update(grad(w_acc, Xm, ym), s_acc, w_acc)
            assert optim.has_updated(s_acc) == (j == 3)
            if j < 3:
                assert not u.any()  # zero updates between steps
            w_acc = apply_updates(w_acc, u)
        np.testing.assert_allclose(w_acc, w_big, rtol=1e-13, atol=1e-15)
    assert s_acc.gradient_step == 5 and s_acc.inner_opt_state[0].count == 5


def test_multi_steps_sum_is_k_times_the_mean():
    tx = optim.multi_steps(optim.sgd(lr=1.0), 3, use_grad_mean=False)
    s = tx.init(np.zeros(1))
    for g in (1.0, 2.0, 6.0):
        u, s = tx.update(np.array([g]), s, np.zeros(1))
    assert u[0] == -9.0


def test_multi_steps_schedule_and_errors():
    tx = optim.multi_steps(optim.sgd(lr=1.0), lambda step: step + 1)  # k = 1, 2, 3, ...
    s, emitted = tx.init(np.zeros(1)), []
    for _i in range(6):
        _, s = tx.update(np.ones(1), s, np.zeros(1))
        emitted.append(optim.has_updated(s))
    assert emitted == [True, False, True, False, False, True]
    with pytest.raises(ValueError, match="integer >= 1"):
        optim.multi_steps(optim.sgd(lr=1.0), 0)
    with pytest.raises(TypeError, match="GradientTransformation"):
        optim.multi_steps(lambda g: g, 2)
    with pytest.raises(ValueError, match="equal micro-batches"):
        optim.split_batch(np.ones((10, 2)), np.ones(10), 3)
    with pytest.raises(ValueError, match="one label per example"):
        optim.split_batch(np.ones((10, 2)), np.ones(9), 2)
    parts = optim.split_batch(np.arange(12).reshape(6, 2), np.arange(6), 3)
    assert [len(p[1]) for p in parts] == [2, 2, 2] and parts[2][1].tolist() == [4, 5]


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-14), (np.float32, 1e-7)])
def test_sum_of_squares_is_accurate_in_both_precisions(dtype, rtol):
    # float64 takes a BLAS dot; float32 must not (its float32 accumulator errs by ~1e-6 here)
    from lib.optim._leaves import sum_of_squares

    x = np.random.default_rng(0).standard_normal(10**6).astype(dtype)
    exact = float(np.sum(x.astype(np.longdouble) ** 2))
    assert sum_of_squares(x) == pytest.approx(exact, rel=rtol)
    assert sum_of_squares(x.reshape(1000, 1000).T) == pytest.approx(exact, rel=rtol)  # not contiguous
