"""lib.optim.schedule_free against optax.contrib 0.2.8 (tests/data/schedule_free_optax.npz)."""

import json
from pathlib import Path

import numpy as np
import pytest

from lib import optim
from lib.optim import schedule_free as sf

D = np.load(Path(__file__).parent / "data" / "schedule_free_optax.npz", allow_pickle=False)
META = json.loads(str(D["meta"]))
KEYS = sorted(k.split("/")[-1] for k in D.files if k.startswith("problem/init/"))


def grad(params, t):
    return {
        k: (D[f"problem/A/{k}"] @ np.ravel(params[k]) + D[f"problem/b/{k}"] + D[f"problem/noise/{k}"][t]).reshape(
            params[k].shape
        )
        for k in params
    }


@pytest.mark.parametrize("i", range(len(META["cases"])))
def test_matches_optax(i):
    spec = META["cases"][i]
    tx = getattr(sf, spec["lib"])(**spec["kwargs"])
    params = {k: D[f"problem/init/{k}"].copy() for k in KEYS}
    state = tx.init(params)
    worst = 0.0
    for t in range(META["steps"]):
        u, state = tx.update(grad(params, t), state, params)
        params = optim.apply_updates(params, u)
        ev = sf.schedule_free_eval_params(state, params)
        for k in KEYS:
            want, want_ev = D[f"case/{i}/traj/{k}"][t + 1], D[f"case/{i}/eval/{k}"][t]
            worst = max(
                worst,
                np.max(np.abs(params[k] - want)) / (1 + np.max(np.abs(want))),
                np.max(np.abs(ev[k] - want_ev)) / (1 + np.max(np.abs(want_ev))),
            )
    assert worst < 1e-12, f"{spec}: max error {worst:.2e}"
    moved = np.max(np.abs(D[f"case/{i}/traj/w"][-1] - D[f"case/{i}/traj/w"][0]))
    assert moved > 1e-2, "the golden case must actually train"


def test_warmup_first_base_step_is_zero():
    tx = sf.schedule_free_sgd(lr=1.0, warmup_steps=4)
    p = np.array([1.0])
    s = tx.init(p)
    u, s = tx.update(np.array([1.0]), s, p)
    assert u[0] == 0.0 and s.weight_sum == pytest.approx(0.25**2)


def test_eval_params_is_average_not_y():
    tx = sf.schedule_free_sgd(lr=0.1)
    p = np.array([1.0])
    s = tx.init(p)
    for _ in range(3):
        u, s = tx.update(2 * p, s, p)
        p = optim.apply_updates(p, u)
    x = sf.schedule_free_eval_params(s, p)
    assert not np.allclose(x, p) and not np.allclose(x, s.z)
    np.testing.assert_allclose(0.9 * x + 0.1 * s.z, p)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: sf.schedule_free_sgd(lr=-1.0), "learning rate"),
        (lambda: sf.schedule_free_sgd(momentum=1.0), "momentum"),
        (lambda: sf.schedule_free_sgd(momentum=0.0), "momentum"),
        (lambda: sf.schedule_free_sgd(warmup_steps=0), "warmup_steps"),
        (lambda: sf.schedule_free_adamw(betas=(0.9,)), "pair"),
        (lambda: sf.schedule_free_adamw(betas=(0.9, 1.5)), "index 1"),
        (lambda: sf.schedule_free_adamw(eps=-1.0), "epsilon"),
        (lambda: sf.schedule_free_eval_params((), np.zeros(1)), "ScheduleFreeState"),
    ],
)
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("name", ["schedule_free_sgd", "schedule_free_adamw"])
def test_float32_parameters_keep_float32_state_and_follow_the_float64_run(name):
    # optax's default (state_dtype=None): z and the second moment are in the parameters' dtype
    tx = getattr(sf, name)(lr=0.1, **({"weight_decay": 0.01} if name == "schedule_free_adamw" else {}))
    p32 = {k: D[f"problem/init/{k}"].astype(np.float32) for k in KEYS}
    p64 = {k: v.astype(np.float64) for k, v in p32.items()}
    s32, s64 = tx.init(p32), tx.init(p64)
    for t in range(10):
        g = grad(p64, t)
        u32, s32 = tx.update({k: v.astype(np.float32) for k, v in g.items()}, s32, p32)
        u64, s64 = tx.update(g, s64, p64)
        p32, p64 = optim.apply_updates(p32, u32), optim.apply_updates(p64, u64)
    for k in KEYS:
        assert u32[k].dtype == s32.z[k].dtype == p32[k].dtype == np.float32
        if s32.nu is not None:
            assert s32.nu[k].dtype == np.float32
        assert sf.schedule_free_eval_params(s32, p32)[k].dtype == np.float32
        np.testing.assert_allclose(p32[k], p64[k], rtol=1e-4, atol=1e-5)
