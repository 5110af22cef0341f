"""Record golden trajectories of ``optax.lars``, ``optax.lamb`` and ``optax.MultiSteps`` (optax 0.2.8, float64).

The problem is built to exercise every branch of the trust ratio::

    params   W (3, 2) scale 10, w (4,) scale 0.01, bias (2,) initialised to ZERO,
             frozen (3,) whose gradient is always ZERO, s () a scalar
    g_t[n] = gate[t] * reshape(A[n] @ ravel(θ_t[n]) + b[n] + noise[n][t])

with ``A = b = noise = 0`` for ``frozen`` and ``gate[t] = 0`` at a few steps (an all-zero
gradient tree). The layers have very different scales, as the trust ratio is meant for.
Every case is a dict of keyword arguments in ``lib.optim``'s names; masks are dicts of bools
(stored in the JSON metadata) or the name of a mask function in :data:`MASK_FUNCTIONS`.

Layout of ``tests/data/large_batch_optax.npz`` (``np.load(path, allow_pickle=False)``)::

    meta                    JSON: versions, parameter names, steps, cases
    init/<n>, A/<n>, b/<n>, noise/<n>, gate
    case/<c>/traj/<n>       (steps + 1, *shape): θ_0 ... θ_steps
    case/<c>/lr             (steps,) learning rate per step, for cases with a schedule

Run it with the golden environment (``make golden`` runs every ``record_*.py``)::

    .venv-golden/bin/python tests/golden/record_large_batch.py
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

OPTAX_VERSION = "0.2.8"
DATA = Path(__file__).resolve().parents[1] / "data" / "large_batch_optax.npz"
SHAPES = {"W": (3, 2), "w": (4,), "bias": (2,), "frozen": (3,), "s": ()}
SCALES = {"W": 10.0, "w": 0.01, "bias": 1.0, "frozen": 1.0, "s": 1.0}
STEPS = 60
ZERO_STEPS = (0, 7, 8, 31)  # gate[t] = 0: all-zero gradients (step 0: before anything moved)
SEED = 20261206

# a mask as a function of the parameters, named so that the test can rebuild it
MASK_FUNCTIONS = {"matrices": lambda params: {n: np.ndim(p) >= 2 for n, p in params.items()}}

NO_BIAS = {"W": True, "w": True, "bias": False, "frozen": True, "s": False}
ONLY_W = {"W": True, "w": False, "bias": False, "frozen": False, "s": False}


def warmup(base: float, steps: int):
    """Linear warmup to ``base`` over ``steps`` updates, then constant (a plain ``step -> lr``)."""
    return lambda t: base * min(1.0, (t + 1) / steps)


# name -> (optimizer, hparams, schedule or None, MultiSteps k or None)
CASES = {
    "lars_default": ("lars", dict(lr=0.5), None, None),
    "lars_weight_decay": ("lars", dict(lr=0.5, weight_decay=1e-2), None, None),
    "lars_weight_decay_mask": ("lars", dict(lr=0.5, weight_decay=0.05, weight_decay_mask=NO_BIAS), None, None),
    "lars_weight_decay_mask_false": ("lars", dict(lr=0.5, weight_decay=0.05, weight_decay_mask=False), None, None),
    "lars_trust_ratio_mask": ("lars", dict(lr=0.2, weight_decay=1e-2, trust_ratio_mask=NO_BIAS), None, None),
    "lars_trust_ratio_mask_fn": ("lars", dict(lr=0.2, trust_ratio_mask="matrices"), None, None),
    "lars_both_masks": (
        "lars",
        dict(lr=0.3, weight_decay=0.02, weight_decay_mask=ONLY_W, trust_ratio_mask=NO_BIAS),
        None,
        None,
    ),
    "lars_eps": ("lars", dict(lr=0.5, eps=1e-3, weight_decay=1e-3), None, None),
    "lars_trust_coefficient": ("lars", dict(lr=0.05, trust_coefficient=0.02), None, None),
    "lars_nesterov": ("lars", dict(lr=0.5, nesterov=True, weight_decay=1e-3), None, None),
    "lars_no_momentum": ("lars", dict(lr=0.5, momentum=0.0), None, None),
    "lars_no_momentum_nesterov": ("lars", dict(lr=0.5, momentum=0.0, nesterov=True), None, None),
    "lars_warmup": ("lars", dict(lr=0.0, momentum=0.8, weight_decay=1e-3), warmup(1.0, 10), None),
    "lamb_default": ("lamb", dict(lr=0.01), None, None),
    "lamb_weight_decay": ("lamb", dict(lr=0.01, weight_decay=0.1), None, None),
    "lamb_weight_decay_mask": ("lamb", dict(lr=0.01, weight_decay=0.1, mask=NO_BIAS), None, None),
    "lamb_weight_decay_mask_fn": ("lamb", dict(lr=0.01, weight_decay=0.1, mask="matrices"), None, None),
    "lamb_betas_eps": ("lamb", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-8), None, None),
    "lamb_eps_root": ("lamb", dict(lr=0.01, eps=1e-3, eps_root=1e-4, weight_decay=1e-2), None, None),
    "lamb_warmup": ("lamb", dict(lr=0.0, weight_decay=1e-2), warmup(0.05, 10), None),
    "multisteps_lamb_k3": ("lamb", dict(lr=0.01, weight_decay=1e-2), None, 3),
    "multisteps_lars_k4": ("lars", dict(lr=0.5, weight_decay=1e-3), None, 4),
    "multisteps_lars_k1": ("lars", dict(lr=0.5), None, 1),
}


def problem() -> dict:
    rng = np.random.default_rng(SEED)
    out = {"init": {}, "A": {}, "b": {}, "noise": {}}
    for n, shape in SHAPES.items():
        k = math.prod(shape)
        q, _ = np.linalg.qr(rng.standard_normal((k, k)))
        a = (q * rng.uniform(0.5, 2.0, size=k)) @ q.T
        zero = n == "frozen"
        out["A"][n] = np.zeros((k, k)) if zero else (a + a.T) / 2
        out["b"][n] = np.zeros(k) if zero else SCALES[n] * rng.standard_normal(k)
        out["noise"][n] = np.zeros((STEPS, k)) if zero else 0.1 * SCALES[n] * rng.standard_normal((STEPS, k))
        out["init"][n] = np.zeros(shape) if n == "bias" else SCALES[n] * rng.standard_normal(shape)
    gate = np.ones(STEPS)
    gate[list(ZERO_STEPS)] = 0.0
    out["gate"] = gate
    return out


def gradient(arrays: dict, params: dict, t: int) -> dict:
    """The gradient at step ``t`` (0-based); ``tests/test_large_batch.py`` uses the same formula."""
    return {
        n: arrays["gate"][t]
        * (arrays["A"][n] @ np.ravel(p) + arrays["b"][n] + arrays["noise"][n][t]).reshape(np.shape(p))
        for n, p in params.items()
    }


def optax_kwargs(hp: dict, params: dict) -> dict:
    """lib.optim's names -> optax's (``lr`` -> ``learning_rate``, ``betas`` -> ``b1, b2``, masks)."""
    hp = dict(hp)
    kw = {"learning_rate": hp.pop("lr")}
    if "betas" in hp:
        kw["b1"], kw["b2"] = hp.pop("betas")
    for key in ("weight_decay_mask", "trust_ratio_mask", "mask"):
        if isinstance(hp.get(key), str):
            fn = MASK_FUNCTIONS[hp.pop(key)]
            kw[key] = lambda p, fn=fn: fn({n: np.asarray(v) for n, v in p.items()})
    kw.update(hp)
    return kw


def run(name: str, arrays: dict):
    import jax.numpy as jnp
    import optax

    optimizer, hp, schedule, k = CASES[name]
    names = list(SHAPES)
    params = {n: jnp.asarray(arrays["init"][n], dtype=jnp.float64) for n in names}
    kw = optax_kwargs(hp, params)
    lrs = None
    if schedule is not None:
        lrs = np.array([schedule(t) for t in range(STEPS)])
        table = jnp.asarray(lrs)
        kw["learning_rate"] = lambda count: table[count]
    tx = getattr(optax, optimizer)(**kw)
    if k is not None:
        tx = optax.MultiSteps(tx, every_k_schedule=k, accumulator_dtype=jnp.float64).gradient_transformation()
    state = tx.init(params)
    traj = {n: [np.asarray(params[n]).copy()] for n in names}
    for t in range(STEPS):
        grads = gradient(arrays, {n: np.asarray(params[n]) for n in names}, t)
        updates, state = tx.update({n: jnp.asarray(g) for n, g in grads.items()}, state, params)
        params = optax.apply_updates(params, updates)
        for n in names:
            traj[n].append(np.asarray(params[n]).copy())
    for n in names:
        assert traj[n][-1].dtype == np.float64, "enable jax_enable_x64"
    return {n: np.stack(v) for n, v in traj.items()}, lrs


def main() -> int:
    try:
        import jax
        import optax
    except ImportError:
        sys.exit("record_large_batch.py needs jax and optax; run it with the golden venv (see the docstring)")
    if optax.__version__ != OPTAX_VERSION:
        sys.exit(f"record_large_batch.py needs optax {OPTAX_VERSION}, found {optax.__version__}")
    jax.config.update("jax_enable_x64", True)
    arrays = problem()
    out = {"gate": arrays["gate"]}
    for kind in ("init", "A", "b", "noise"):
        for n, a in arrays[kind].items():
            out[f"{kind}/{n}"] = a
    meta = {
        "format": 1,
        "source": "tests/golden/record_large_batch.py",
        "optax": optax.__version__,
        "jax": jax.__version__,
        "numpy": np.__version__,
        "dtype": "float64",
        "params": list(SHAPES),
        "steps": STEPS,
        "zero_steps": list(ZERO_STEPS),
        "cases": [],
    }
    for name, (optimizer, hp, schedule, k) in CASES.items():
        traj, lrs = run(name, arrays)
        if not all(np.all(np.isfinite(a)) for a in traj.values()):
            raise RuntimeError(f"case {name} diverged")
        for n, a in traj.items():
            out[f"case/{name}/traj/{n}"] = a
        if lrs is not None:
            out[f"case/{name}/lr"] = lrs
        meta["cases"].append(
            {"name": name, "optimizer": optimizer, "hparams": hp, "schedule": schedule is not None, "multisteps": k}
        )
    out["meta"] = np.array(json.dumps(meta, sort_keys=True))
    DATA.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(DATA, **out)
    with np.load(DATA, allow_pickle=False) as check:
        assert set(check.files) == set(out)
    print(f"wrote {DATA} ({DATA.stat().st_size / 1024:.1f} kB, {len(CASES)} cases)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
