"""Tests of chapter 06's library code: decay masks (:mod:`lib.optim.masking`), masked
``add_decayed_weights`` / ``adam`` / ``adamw``, against torch parameter groups and optax masks.

Golden data: ``tests/data/weight_decay_torch.npz`` and ``weight_decay_optax.npz``, recorded in
float64 by ``tests/golden/record_weight_decay.py`` (torch 2.13.0, optax 0.2.8). This file never
imports torch or jax.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import lib.optim as optim
from lib.optim import apply_updates, chain, resolve_mask, weight_decay_mask

DATA = Path(__file__).resolve().parent / "data"
RTOL = 1e-10


def _load(name):
    path = DATA / f"{name}.npz"
    if not path.exists():
        return None, None
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    return json.loads(str(arrays.pop("meta"))), arrays


GOLDEN = {name: _load(name) for name in ("weight_decay_torch", "weight_decay_optax")}
CASES = [(f, c["name"]) for f, (meta, _) in GOLDEN.items() if meta for c in meta["cases"]]


def _mask(spec):
    return weight_decay_mask if spec == "ndim>=2" else {k: bool(v) for k, v in spec.items()}


def make_lib(case, data):
    """The lib optimizer that the golden case's torch / optax optimizer corresponds to."""
    hp = dict(case["hparams"])
    if case["schedule"]:
        values = data[f"case/{case['name']}/lr"]
        hp["lr"] = lambda t: values[t]
    mask = _mask(hp.pop("mask")) if "mask" in hp else None
    kind = case["lib"]
    if kind == "adam":
        return optim.adam(**hp, mask=mask)
    if kind == "adamw":
        return optim.adamw(**hp, mask=mask)
    if kind == "sgd_chain":  # torch SGD(momentum, weight_decay) on the decayed group only
        return chain(
            optim.add_decayed_weights(hp["weight_decay"], mask),
            optim.trace(hp["momentum"]),
            optim.scale_by_learning_rate(hp["lr"]),
        )
    if kind == "adamw_two_decays":
        rest = lambda p: {k: not v for k, v in resolve_mask(mask, p).items()}  # noqa: E731
        return chain(
            optim.scale_by_adam(),
            optim.add_decayed_weights(hp["weight_decay"], mask),
            optim.add_decayed_weights(hp["weight_decay_rest"], rest),
            optim.scale_by_learning_rate(hp["lr"]),
        )
    if kind == "adam_l2_chain":
        return chain(
            optim.add_decayed_weights(hp["weight_decay"], mask),
            optim.scale_by_adam(),
            optim.scale_by_learning_rate(hp["lr"]),
        )
    raise KeyError(kind)


def run_golden(file, name, tx=None):
    """Run lib on a recorded case; return the worst relative error over every step."""
    meta, data = GOLDEN[file]
    case = next(c for c in meta["cases"] if c["name"] == name)
    pname = case["problem"]
    names = meta["problems"][pname]["params"]
    tx = make_lib(case, data) if tx is None else tx
    params = {n: data[f"problem/{pname}/init/{n}"].copy() for n in names}
    state = tx.init(params)
    worst = 0.0
    for t in range(case["steps"]):
        g = {
            n: (
                data[f"problem/{pname}/A/{n}"] @ np.ravel(params[n])
                + data[f"problem/{pname}/b/{n}"]
                + data[f"problem/{pname}/noise/{n}"][t]
            ).reshape(np.shape(params[n]))
            for n in names
        }
        updates, state = tx.update(g, state, params)
        params = apply_updates(params, updates)
        for n in names:
            ref = data[f"case/{name}/traj/{n}"][t + 1]
            worst = max(worst, float(np.max(np.abs(params[n] - ref) / (np.abs(ref) + 1.0))))
    return worst


@pytest.mark.skipif(not CASES, reason="golden files missing: run make golden")
def test_golden_files_cover_the_chapter():
    tmeta, _ = GOLDEN["weight_decay_torch"]
    ometa, _ = GOLDEN["weight_decay_optax"]
    assert tmeta["torch"].startswith("2.13.0") and ometa["optax"] == "0.2.8"
    assert {c["optimizer"] for c in tmeta["cases"]} == {"Adam", "AdamW", "SGD"}
    assert any(c["hparams"].get("decoupled_weight_decay") for c in tmeta["cases"])
    assert any(isinstance(c["hparams"].get("mask"), dict) for c in ometa["cases"])
    assert any(c["hparams"].get("mask") == "ndim>=2" for c in ometa["cases"])
    assert any(c["schedule"] for c in tmeta["cases"]) and any(c["schedule"] for c in ometa["cases"])


@pytest.mark.parametrize("file, name", CASES, ids=[n for _, n in CASES])
def test_matches_reference(file, name):
    assert run_golden(file, name) <= RTOL


@pytest.mark.skipif(not CASES, reason="golden files missing")
def test_golden_is_sensitive_to_the_mask_and_the_order():
    """Without the mask, or with the decay on the wrong side of Adam, the trajectories differ."""
    assert run_golden("weight_decay_torch", "adamw_masked", optim.adamw(lr=0.05, weight_decay=0.3)) > 1e-3
    assert (
        run_golden("weight_decay_torch", "adamw_masked", optim.adam(lr=0.05, weight_decay=0.3, mask=weight_decay_mask))
        > 1e-3
    )
    assert (
        run_golden(
            "weight_decay_torch", "adam_l2_masked", optim.adamw(lr=0.05, weight_decay=0.3, mask=weight_decay_mask)
        )
        > 1e-3
    )
    # optax's default decay 1e-4 is not torch's 1e-2
    assert run_golden("weight_decay_optax", "optax_adamw_default_decay", optim.adamw(lr=0.05)) > 1e-4


def test_unmasked_behaviour_is_unchanged():
    p = {"W": np.ones((2, 2)), "b": np.ones(2)}
    g = {"W": np.full((2, 2), 0.5), "b": np.full(2, -0.5)}
    for mask in (None, True, lambda q: True, {"W": True, "b": True}):
        tx = optim.add_decayed_weights(0.1, mask)
        u, _ = tx.update(g, tx.init(p), p)
        np.testing.assert_array_equal(u["W"], 0.6)
        np.testing.assert_array_equal(u["b"], -0.4)


def test_masked_entries_are_untouched_copies():
    p = {"W": np.ones((2, 2)), "b": np.ones(2)}
    g = {"W": np.zeros((2, 2)), "b": np.full(2, 3.0)}
    tx = optim.add_decayed_weights(0.5, weight_decay_mask)
    u, _ = tx.update(g, tx.init(p), p)
    np.testing.assert_array_equal(u["W"], 0.5)
    np.testing.assert_array_equal(u["b"], 3.0)
    assert u["b"] is not g["b"]
    u["b"][0] = 99.0
    assert g["b"][0] == 3.0


def test_prefix_masks_and_nested_trees():
    params = {"enc": {"W": np.ones((2, 2)), "b": np.zeros(2)}, "head": [np.ones((2, 3)), np.zeros(3)]}
    assert resolve_mask({"enc": False, "head": True}, params) == {"enc": {"W": False, "b": False}, "head": [True, True]}
    assert resolve_mask(weight_decay_mask, params) == {"enc": {"W": True, "b": False}, "head": [True, False]}
    assert resolve_mask(None, params)["head"] == [True, True]
    assert resolve_mask(np.bool_(False), params)["enc"]["W"] is False


def test_weight_decay_mask_min_ndim():
    p = {"K": np.ones((3, 3, 2)), "W": np.ones((2, 2)), "b": np.ones(2), "s": 1.0}
    assert weight_decay_mask(p) == {"K": True, "W": True, "b": False, "s": False}
    assert weight_decay_mask(p, min_ndim=3) == {"K": True, "W": False, "b": False, "s": False}
    assert weight_decay_mask(p, min_ndim=0) == {k: True for k in p}
    with pytest.raises(ValueError, match="min_ndim"):
        weight_decay_mask(p, min_ndim=-1)


@pytest.mark.parametrize(
    "mask, error, words",
    [
        ({"W": True}, ValueError, "keys"),
        ({"W": True, "bias": False}, ValueError, r"\['W', 'bias'\]"),
        ({"W": 1.0, "b": False}, TypeError, r"mask\['W'\]"),
        ({"W": "yes", "b": False}, TypeError, "True or False"),
        ([True, False], ValueError, "does not match"),
        (lambda p: lambda q: True, TypeError, "returned a function"),
    ],
)
def test_bad_masks_raise_clear_errors(mask, error, words):
    params = {"W": np.ones((2, 2)), "b": np.zeros(2)}
    with pytest.raises(error, match=words):
        resolve_mask(mask, params)
    tx = optim.adamw(lr=0.1, mask=mask)
    with pytest.raises(error, match=words):
        tx.init(params)


def test_mask_to_param_groups():
    p = {"W1": np.ones((2, 2)), "b1": np.ones(2), "W2": np.ones((2, 1))}
    assert optim.mask_to_param_groups(weight_decay_mask, p, 0.1) == [
        {"params": ["W1", "W2"], "weight_decay": 0.1},
        {"params": ["b1"], "weight_decay": 0.0},
    ]
    assert optim.mask_to_param_groups(None, p, 0.1) == [{"params": ["W1", "b1", "W2"], "weight_decay": 0.1}]
    with pytest.raises(TypeError, match="flat dict"):
        optim.mask_to_param_groups(None, {"a": {"b": np.ones(1)}}, 0.1)


def test_adamw_masked_bias_sees_plain_adam():
    """A masked parameter follows plain Adam exactly; a decayed one shrinks by (1 - lr λ)."""
    p = {"W": np.full((2, 2), 2.0), "b": np.full(2, 2.0)}
    zero = {"W": np.zeros((2, 2)), "b": np.zeros(2)}
    tx = optim.adamw(lr=0.1, weight_decay=0.5, mask=weight_decay_mask)
    u, _ = tx.update(zero, tx.init(p), p)
    np.testing.assert_allclose(u["W"], -0.1 * 0.5 * 2.0)
    np.testing.assert_array_equal(u["b"], 0.0)
