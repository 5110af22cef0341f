"""lib.optim's chapter 11 optimizers against torch 2.13 / optax 0.2.8 golden trajectories.

Adadelta, Adafactor and Muon are compared with ``torch.optim`` and Lion with ``optax.lion``, in
float64, from ``tests/data/{beyond_adam_torch,lion_optax,newton_schulz_torch}.npz`` (recorded by
``tests/golden/record_beyond_adam.py``; the tests never import torch or jax). Muon's goldens
use torch's code with its bfloat16 cast removed (see the script); ``muon_torch_bfloat16`` is
torch's real bfloat16 run, matched to bfloat16 accuracy.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lib import optim
from lib.optim import apply_updates

DATA = Path(__file__).resolve().parent / "data"
RTOL = ATOL = 1e-12


def _load(name):
    path = DATA / f"{name}.npz"
    if not path.exists():
        pytest.skip(f"{path} missing: run tests/golden/record_beyond_adam.py with torch 2.13.0 / optax 0.2.8")
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    return json.loads(str(arrays.pop("meta"))), arrays


TORCH = _load("beyond_adam_torch") if (DATA / "beyond_adam_torch.npz").exists() else (None, None)
LION = _load("lion_optax") if (DATA / "lion_optax.npz").exists() else (None, None)
EXACT = [c["name"] for c in TORCH[0]["cases"] if c["name"] != "muon_torch_bfloat16"] if TORCH[0] else []
LION_CASES = [c["name"] for c in LION[0]["cases"]] if LION[0] else []


def _case(meta, name):
    return next(c for c in meta["cases"] if c["name"] == name)


def _problem(meta, data, pname):
    names = meta["problems"][pname]["params"]
    get = lambda kind: {n: data[f"problem/{pname}/{kind}/{n}"] for n in names}  # noqa: E731
    return names, get("init"), {"A": get("A"), "b": get("b"), "noise": get("noise")}


def _gradient(arrays, params, t):
    return {
        n: (arrays["A"][n] @ np.ravel(p) + arrays["b"][n] + arrays["noise"][n][t]).reshape(np.shape(p))
        for n, p in params.items()
    }


def _make(data, case, **override):
    kwargs = {**case["hparams"], **override}
    if "eps" in kwargs and isinstance(kwargs["eps"], list):
        kwargs["eps"] = tuple(kwargs["eps"])
    if case["schedule"]:
        values = data[f"case/{case['name']}/lr"]
        kwargs["lr"] = lambda t: values[t]
    return getattr(optim, case["lib"])(**kwargs)


def _run(meta, data, name, dtype=np.float64, steps=None, tx=None):
    """Run lib on a recorded case; yield (t, params, reference) after every step."""
    case = _case(meta, name)
    names, init, arrays = _problem(meta, data, case["problem"])
    tx = tx or _make(data, case)
    params = {n: init[n].astype(dtype) for n in names}
    state = tx.init(params)
    for t in range(steps or case["steps"]):
        updates, state = tx.update(_gradient(arrays, params, t), state, params)
        params = apply_updates(params, updates)
        yield t, params, {n: data[f"case/{name}/traj/{n}"][t + 1] for n in names}, state


def _scaled_error(x, ref):
    x, ref = np.asarray(x, np.float64), np.asarray(ref, np.float64)
    return float(np.max(np.abs(x - ref) / (np.abs(ref) + ATOL / RTOL), initial=0.0))


@pytest.mark.parametrize("name", EXACT)
def test_matches_torch_float64(name):
    worst = 0.0
    for t, params, ref, state in _run(*TORCH, name):
        for n in ref:
            err = _scaled_error(params[n], ref[n])
            assert err <= RTOL, f"{name}: {n} differs from torch at step {t + 1} (scaled error {err:.3g})"
            worst = max(worst, err)
    case = _case(TORCH[0], name)
    for key in case["state"]:
        got = getattr(state, key) if hasattr(state, key) else getattr(state[0], key)
        for n in got:
            assert _scaled_error(got[n], TORCH[1][f"case/{name}/state/{key}/{n}"]) <= RTOL, (name, key, n)


@pytest.mark.parametrize("name", LION_CASES)
def test_lion_matches_optax_float64(name):
    for t, params, ref, state in _run(*LION, name):
        for n in ref:
            err = _scaled_error(params[n], ref[n])
            assert err <= RTOL, f"{name}: {n} differs from optax at step {t + 1} (scaled error {err:.3g})"
    for key in _case(LION[0], name)["state"]:
        mu = state[0].mu
        for n in mu:
            assert _scaled_error(mu[n], LION[1][f"case/{name}/state/{key}/{n}"]) <= RTOL


def test_golden_files_cover_every_flag():
    flags = {
        "Adadelta": {"lr", "rho", "eps", "weight_decay", "maximize"},
        "Adafactor": {"lr", "beta2_decay", "eps", "d", "weight_decay", "maximize"},
        "Muon": {"lr", "weight_decay", "momentum", "nesterov", "ns_coefficients", "eps", "ns_steps", "adjust_lr_fn"},
    }
    for opt, wanted in flags.items():
        seen = set().union(*(c["hparams"] for c in TORCH[0]["cases"] if c["optimizer"] == opt))
        assert wanted <= seen, (opt, wanted - seen)
        assert any(c["schedule"] for c in TORCH[0]["cases"] if c["optimizer"] == opt)
    assert {"match_rms_adamw", "original"} <= {c["hparams"].get("adjust_lr_fn") for c in TORCH[0]["cases"]}
    seen = set().union(*(c["hparams"] for c in LION[0]["cases"]))
    assert {"lr", "betas", "weight_decay", "mask"} <= seen
    assert TORCH[0]["torch"].startswith("2.13.0") and LION[0]["optax"] == "0.2.8"


@pytest.mark.parametrize("name", ["adadelta_weight_decay", "adafactor_d", "muon", "lion_mask"])
def test_golden_is_sensitive(name):
    """A slightly different hyperparameter must fail the comparison (the test can fail)."""
    meta, data = LION if name.startswith("lion") else TORCH
    case = _case(meta, name)
    key = {
        "adadelta_weight_decay": ("rho", 0.89),
        "adafactor_d": ("d", 1.1),
        "muon": ("momentum", 0.94),
        "lion_mask": ("mask", {"W": True, "V": True, "T": True, "w": True, "s": False}),
    }[name]
    tx = _make(data, case, **dict([key]))
    worst = max(_scaled_error(p[n], r[n]) for _, p, r, _ in _run(meta, data, name, tx=tx) for n in r)
    assert worst > 1e-6


def test_muon_close_to_torch_bfloat16():
    """torch runs Newton–Schulz in bfloat16 (8 bits of mantissa): agreement to ~1e-2 of the step."""
    for t, params, ref, _ in _run(*TORCH, "muon_torch_bfloat16", steps=5):
        for n in ref:
            np.testing.assert_allclose(params[n], ref[n], atol=0.02 * 0.02 * (t + 1) * 2)


def test_newton_schulz_matches_torch():
    meta, data = _load("newton_schulz_torch")
    for i, call in enumerate(meta["calls"]):
        out = optim.newton_schulz(data[f"ns/{i}/input"], tuple(call["coefficients"]), call["steps"], call["eps"])
        assert _scaled_error(out, data[f"ns/{i}/output"]) <= RTOL, i


@pytest.mark.parametrize("name", ["adadelta", "adafactor_weight_decay", "muon", "lion_weight_decay"])
def test_float32_is_preserved_and_close(name):
    meta, data = LION if name.startswith("lion") else TORCH
    for _t, params, ref, _state in _run(meta, data, name, dtype=np.float32, steps=5):
        for n in ref:
            assert params[n].dtype == np.float32, (name, n)
            np.testing.assert_allclose(params[n], ref[n], rtol=1e-4, atol=1e-5)
