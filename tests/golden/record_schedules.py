"""Record golden data for chapter 07: torch learning-rate schedules, torch and optax clipping.

What it records
---------------
``tests/data/schedules_torch.npz``
    For every case (a ``lib.schedules`` function with its arguments) the learning rate that
    ``torch.optim.lr_scheduler`` 2.13 writes into ``param_group["lr"]`` before update
    ``t = 0, 1, ..., steps-1``, when ``scheduler.step()`` follows every ``optimizer.step()``
    (torch's documented order). Arrays ``case/<i>/lr``; ``meta`` (a JSON string) lists the cases
    as ``{"lib": name, "kwargs": {...}, "steps": n}`` (``sequential_lr`` holds a list of
    sub-cases and ``milestones``). ``tests/test_schedules.py`` rebuilds each schedule from
    ``meta`` and compares, without importing torch.
``tests/data/clipping_torch.npz``
    ``torch.nn.utils.clip_grad_norm_`` (several ``max_norm`` and ``norm_type``) and
    ``clip_grad_value_`` on a few gradient trees: inputs, outputs and the returned norm.
``tests/data/clipping_optax.npz``
    ``optax.clip_by_global_norm``, ``optax.clip``, ``optax.clip_by_block_rms`` (float64, x64).
``tests/data/sgdr_step_epoch_torch.npz``
    ``CosineAnnealingWarmRestarts(T_0=10, T_mult=3).step(epoch)`` called with explicit epochs
    around the restarts (torch then finds the period with a floating-point logarithm):
    ``epoch``, ``T_cur``, ``T_i``, ``lr`` (chapter 07 shows the restart it misses at 1210).
``tests/data/schedule_free_optax.npz``
    ``optax.contrib.schedule_free_sgd/adamw`` trajectories (parameters ``y`` after every step)
    and ``schedule_free_eval_params`` on a noisy quadratic whose gradients the test recomputes.

All in float64. Run with the golden environment (torch==2.13.0, jax 0.10.2, optax==0.2.8)::

    .venv-golden/bin/python tests/golden/record_schedules.py
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch

DATA = Path(__file__).resolve().parents[1] / "data"

TORCH = {
    "constant_lr": "ConstantLR",
    "step_lr": "StepLR",
    "multi_step_lr": "MultiStepLR",
    "exponential_lr": "ExponentialLR",
    "cosine_annealing_lr": "CosineAnnealingLR",
    "cosine_annealing_warm_restarts": "CosineAnnealingWarmRestarts",
    "linear_lr": "LinearLR",
    "polynomial_lr": "PolynomialLR",
    "one_cycle_lr": "OneCycleLR",
    "cyclic_lr": "CyclicLR",
}

S = 300  # steps per case
CASES = [
    {"lib": "constant_lr", "kwargs": {"base_lr": 0.1}, "steps": S},
    {"lib": "constant_lr", "kwargs": {"base_lr": 0.05, "factor": 0.5, "total_iters": 40}, "steps": S},
    {"lib": "constant_lr", "kwargs": {"base_lr": 0.05, "factor": 0.25, "total_iters": 1}, "steps": 20},
    {"lib": "step_lr", "kwargs": {"base_lr": 0.1, "step_size": 30}, "steps": S},
    {"lib": "step_lr", "kwargs": {"base_lr": 0.3, "step_size": 7, "gamma": 0.8}, "steps": S},
    {"lib": "step_lr", "kwargs": {"base_lr": 0.3, "step_size": 1, "gamma": 0.97}, "steps": S},
    {"lib": "multi_step_lr", "kwargs": {"base_lr": 0.1, "milestones": [30, 80, 200]}, "steps": S},
    {"lib": "multi_step_lr", "kwargs": {"base_lr": 0.2, "milestones": [50, 10, 50, 120], "gamma": 0.5}, "steps": S},
    {"lib": "exponential_lr", "kwargs": {"base_lr": 0.1, "gamma": 0.99}, "steps": S},
    {"lib": "exponential_lr", "kwargs": {"base_lr": 1.0, "gamma": 0.9}, "steps": S},
    {"lib": "cosine_annealing_lr", "kwargs": {"base_lr": 0.1, "T_max": 100}, "steps": S},
    {"lib": "cosine_annealing_lr", "kwargs": {"base_lr": 0.1, "T_max": 37, "eta_min": 0.001}, "steps": S},
    {"lib": "cosine_annealing_lr", "kwargs": {"base_lr": 0.5, "T_max": 300, "eta_min": 0.01}, "steps": S},
    {"lib": "cosine_annealing_warm_restarts", "kwargs": {"base_lr": 0.1, "T_0": 10}, "steps": S},
    {
        "lib": "cosine_annealing_warm_restarts",
        "kwargs": {"base_lr": 0.1, "T_0": 10, "T_mult": 2, "eta_min": 1e-3},
        "steps": S,
    },
    {"lib": "cosine_annealing_warm_restarts", "kwargs": {"base_lr": 0.2, "T_0": 3, "T_mult": 3}, "steps": S},
    {"lib": "linear_lr", "kwargs": {"base_lr": 0.1}, "steps": 30},
    {"lib": "linear_lr", "kwargs": {"base_lr": 0.1, "start_factor": 0.01, "total_iters": 50}, "steps": S},
    {
        "lib": "linear_lr",
        "kwargs": {"base_lr": 0.1, "start_factor": 1.0, "end_factor": 0.0, "total_iters": 200},
        "steps": S,
    },
    {"lib": "polynomial_lr", "kwargs": {"base_lr": 0.1}, "steps": 30},
    {"lib": "polynomial_lr", "kwargs": {"base_lr": 0.1, "total_iters": 200, "power": 2.0}, "steps": S},
    {"lib": "polynomial_lr", "kwargs": {"base_lr": 0.1, "total_iters": 150, "power": 0.5}, "steps": S},
    {"lib": "one_cycle_lr", "kwargs": {"max_lr": 0.1, "total_steps": S}, "steps": S},
    {
        "lib": "one_cycle_lr",
        "kwargs": {"max_lr": 0.4, "total_steps": S, "pct_start": 0.25, "anneal_strategy": "linear"},
        "steps": S,
    },
    {
        "lib": "one_cycle_lr",
        "kwargs": {
            "max_lr": 0.4,
            "total_steps": 257,
            "pct_start": 0.4,
            "div_factor": 10.0,
            "final_div_factor": 100.0,
            "three_phase": True,
        },
        "steps": 257,
    },
    {
        "lib": "one_cycle_lr",
        "kwargs": {"max_lr": 1.0, "total_steps": 101, "three_phase": True, "anneal_strategy": "linear"},
        "steps": 101,
    },
    {"lib": "cyclic_lr", "kwargs": {"base_lr": 0.001, "max_lr": 0.1, "step_size_up": 20}, "steps": S},
    {
        "lib": "cyclic_lr",
        "kwargs": {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 13, "step_size_down": 29},
        "steps": S,
    },
    {
        "lib": "cyclic_lr",
        "kwargs": {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 25, "mode": "triangular2"},
        "steps": S,
    },
    {
        "lib": "cyclic_lr",
        "kwargs": {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 25, "mode": "exp_range", "gamma": 0.99},
        "steps": S,
    },
    {
        "lib": "sequential_lr",
        "milestones": [20],
        "steps": S,
        "base_lr": 0.1,
        "schedules": [
            {"lib": "linear_lr", "kwargs": {"start_factor": 0.01, "total_iters": 20}},
            {"lib": "cosine_annealing_lr", "kwargs": {"T_max": 280}},
        ],
    },
    {
        "lib": "sequential_lr",
        "milestones": [5, 60],
        "steps": S,
        "base_lr": 0.2,
        "schedules": [
            {"lib": "constant_lr", "kwargs": {"factor": 0.1, "total_iters": 5}},
            {"lib": "exponential_lr", "kwargs": {"gamma": 0.95}},
            {"lib": "step_lr", "kwargs": {"step_size": 40, "gamma": 0.5}},
        ],
    },
    {
        "lib": "sequential_lr",
        "milestones": [10, 100],
        "steps": S,
        "base_lr": 0.1,
        "schedules": [
            {"lib": "linear_lr", "kwargs": {"start_factor": 0.1, "total_iters": 10}},
            {"lib": "cosine_annealing_warm_restarts", "kwargs": {"T_0": 30}},
            {"lib": "polynomial_lr", "kwargs": {"total_iters": 150, "power": 1.5}},
        ],
    },
    # warmup-stable-decay: no torch class; torch's SequentialLR of LinearLR, ConstantLR(1), decay
    {
        "lib": "warmup_stable_decay",
        "kwargs": {"base_lr": 0.1, "warmup_steps": 20, "stable_steps": 200, "decay_steps": 80},
        "steps": S,
    },
    {
        "lib": "warmup_stable_decay",
        "kwargs": {
            "base_lr": 0.3,
            "warmup_steps": 30,
            "stable_steps": 150,
            "decay_steps": 60,
            "start_factor": 0.1,
            "end_factor": 0.01,
            "decay_shape": "cosine",
        },
        "steps": S,
    },
    {
        "lib": "warmup_stable_decay",
        "kwargs": {
            "base_lr": 0.1,
            "warmup_steps": 10,
            "stable_steps": 190,
            "decay_steps": 100,
            "decay_shape": "1-sqrt",
        },
        "steps": S,
    },
]

PLATEAU = [  # ReduceLROnPlateau on a fixed loss sequence (recorded lr after each step(loss))
    {"kwargs": {"lr": 0.1}, "seed": 0},
    {"kwargs": {"lr": 0.1, "patience": 3, "factor": 0.5, "cooldown": 2, "min_lr": 0.004}, "seed": 1},
    {"kwargs": {"lr": 0.1, "mode": "max", "patience": 2, "threshold": 0.05, "threshold_mode": "abs"}, "seed": 2},
]


def plateau_losses(seed: int, n: int = 120) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 1.0 / (1 + 0.1 * t) + 0.05 * rng.standard_normal(n) * np.exp(-t / 80)


def _optimizer(lr):
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    return torch.optim.SGD([p], lr=lr, momentum=0.9)


def _torch_scheduler(opt, spec):
    kw = dict(spec["kwargs"])
    kw.pop("base_lr", None)
    name = spec["lib"]
    if name == "one_cycle_lr":
        kw["cycle_momentum"] = False
    if name == "cyclic_lr":
        kw["base_lr"] = spec["kwargs"]["base_lr"]
        kw["cycle_momentum"] = False
    if name == "constant_lr" and "factor" not in kw:
        pass
    return getattr(torch.optim.lr_scheduler, TORCH[name])(opt, **kw)


def _wsd_torch(opt, kw):
    W, St, D = kw["warmup_steps"], kw["stable_steps"], kw["decay_steps"]
    a, b = kw.get("start_factor", 1e-3), kw.get("end_factor", 0.0)
    shape = kw.get("decay_shape", "linear")
    warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=a, end_factor=1.0, total_iters=W)
    stable = torch.optim.lr_scheduler.ConstantLR(opt, factor=1.0, total_iters=St)
    if shape == "linear":
        decay = torch.optim.lr_scheduler.LinearLR(opt, start_factor=1.0, end_factor=b, total_iters=D)
    else:
        d = {"cosine": lambda x: (1 + math.cos(math.pi * x)) / 2, "1-sqrt": lambda x: 1 - math.sqrt(x)}[shape]
        decay = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: b + (1 - b) * d(min(s, D) / D))
    return torch.optim.lr_scheduler.SequentialLR(opt, [warm, stable, decay], milestones=[W, W + St])


def record_case(spec) -> np.ndarray:
    if spec["lib"] == "sequential_lr":
        opt = _optimizer(spec["base_lr"])
        subs = [_torch_scheduler(opt, s) for s in spec["schedules"]]
        sched = torch.optim.lr_scheduler.SequentialLR(opt, subs, milestones=spec["milestones"])
    elif spec["lib"] == "warmup_stable_decay":
        opt = _optimizer(spec["kwargs"]["base_lr"])
        sched = _wsd_torch(opt, spec["kwargs"])
    else:
        lr = spec["kwargs"].get("base_lr", spec["kwargs"].get("max_lr"))
        opt = _optimizer(lr)
        sched = _torch_scheduler(opt, spec)
    lrs = []
    for _ in range(spec["steps"]):
        lrs.append(float(opt.param_groups[0]["lr"]))
        opt.step()
        sched.step()
    return np.array(lrs, dtype=np.float64)


def record_plateau(spec) -> np.ndarray:
    kw = dict(spec["kwargs"])
    opt = _optimizer(kw.pop("lr"))
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
    out = []
    for loss in plateau_losses(spec["seed"]):
        opt.step()
        sched.step(float(loss))
        out.append(float(opt.param_groups[0]["lr"]))
    return np.array(out)


def gradient_trees():
    rng = np.random.default_rng(7)
    return [
        {"w": rng.standard_normal((4, 3)), "b": rng.standard_normal(3), "s": np.array(rng.standard_normal())},
        {"w": 30 * rng.standard_normal((5, 5)), "b": 1e-3 * rng.standard_normal(5)},
        {"w": 1e-8 * rng.standard_normal((2, 3)), "b": np.zeros(3)},
        {"w": rng.standard_normal((6,)), "v": 100 * rng.standard_normal((2, 2, 2))},
    ]


CLIP_NORM = [(0.5, 2.0), (1.0, 2.0), (1e3, 2.0), (1e-7, 2.0), (1.0, 1.0), (1.0, "inf"), (2.0, 3.0), (0.1, 0.5)]
CLIP_VALUE = [0.1, 1.0, 50.0]
BLOCK_RMS = [0.1, 1.0, 10.0]


def record_clipping():
    torch_out, optax_out = {}, {}
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import optax

    trees = gradient_trees()
    for i, tree in enumerate(trees):
        for k, v in tree.items():
            torch_out[f"tree/{i}/{k}"] = v
            optax_out[f"tree/{i}/{k}"] = v
        names = sorted(tree)
        for j, (max_norm, nt) in enumerate(CLIP_NORM):
            ps = []
            for k in names:
                p = torch.zeros(tree[k].shape, dtype=torch.float64, requires_grad=True)
                p.grad = torch.tensor(tree[k], dtype=torch.float64)
                ps.append(p)
            norm_type = float("inf") if nt == "inf" else nt
            total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
            torch_out[f"norm/{i}/{j}/total"] = np.array(float(total))
            for k, p in zip(names, ps):
                torch_out[f"norm/{i}/{j}/{k}"] = p.grad.numpy().copy()
        for j, cv in enumerate(CLIP_VALUE):
            ps = []
            for k in names:
                p = torch.zeros(tree[k].shape, dtype=torch.float64, requires_grad=True)
                p.grad = torch.tensor(tree[k], dtype=torch.float64)
                ps.append(p)
            torch.nn.utils.clip_grad_value_(ps, cv)
            for k, p in zip(names, ps):
                torch_out[f"value/{i}/{j}/{k}"] = p.grad.numpy().copy()
        jtree = {k: jnp.asarray(v, dtype=jnp.float64) for k, v in tree.items()}
        for j, (max_norm, nt) in enumerate(CLIP_NORM):
            if nt != 2.0:
                continue
            tx = optax.clip_by_global_norm(max_norm)
            out, _ = tx.update(jtree, tx.init(jtree))
            for k in names:
                optax_out[f"global_norm/{i}/{j}/{k}"] = np.asarray(out[k], dtype=np.float64)
        for j, cv in enumerate(CLIP_VALUE):
            tx = optax.clip(cv)
            out, _ = tx.update(jtree, tx.init(jtree))
            for k in names:
                optax_out[f"clip/{i}/{j}/{k}"] = np.asarray(out[k], dtype=np.float64)
        for j, th in enumerate(BLOCK_RMS):
            tx = optax.clip_by_block_rms(th)
            out, _ = tx.update(jtree, tx.init(jtree))
            for k in names:
                optax_out[f"block_rms/{i}/{j}/{k}"] = np.asarray(out[k], dtype=np.float64)
    meta = {
        "clip_norm": CLIP_NORM,
        "clip_value": CLIP_VALUE,
        "block_rms": BLOCK_RMS,
        "trees": [sorted(t) for t in trees],
    }
    torch_out["meta"] = np.array(json.dumps({**meta, "torch": torch.__version__}))
    optax_out["meta"] = np.array(json.dumps({**meta, "optax": optax.__version__, "jax": jax.__version__}))
    np.savez_compressed(DATA / "clipping_torch.npz", **torch_out)
    np.savez_compressed(DATA / "clipping_optax.npz", **optax_out)


SCHEDULE_FREE = [  # lib keyword arguments (torch spelling); optax's are derived in record_schedule_free
    {"lib": "schedule_free_sgd", "kwargs": {"lr": 0.05}},
    {
        "lib": "schedule_free_sgd",
        "kwargs": {"lr": 0.1, "warmup_steps": 10, "momentum": 0.8, "weight_decay": 0.01, "weight_lr_power": 1.0},
    },
    {"lib": "schedule_free_adamw", "kwargs": {"lr": 0.01}},
    {
        "lib": "schedule_free_adamw",
        "kwargs": {
            "lr": 0.02,
            "warmup_steps": 15,
            "betas": [0.95, 0.99],
            "eps": 1e-6,
            "weight_decay": 0.05,
            "weight_lr_power": 0.0,
        },
    },
]
SF_STEPS = 120


def sf_problem():
    rng = np.random.default_rng(3)
    shapes = {"w": (3, 2), "b": (2,)}
    init, A, b, noise = {}, {}, {}, {}
    for k, sh in shapes.items():
        n = int(np.prod(sh))
        M = rng.standard_normal((n, n))
        A[k] = M @ M.T / n + 0.1 * np.eye(n)
        b[k] = rng.standard_normal(n)
        init[k] = rng.standard_normal(sh)
        noise[k] = 0.3 * rng.standard_normal((SF_STEPS, n))
    return init, A, b, noise


def sf_grad(params, A, b, noise, t):
    return {k: (A[k] @ np.ravel(params[k]) + b[k] + noise[k][t]).reshape(np.shape(params[k])) for k in params}


def record_schedule_free():
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import optax
    from optax import contrib

    init, A, b, noise = sf_problem()
    out = {}
    for k in init:
        out[f"problem/init/{k}"], out[f"problem/A/{k}"] = init[k], A[k]
        out[f"problem/b/{k}"], out[f"problem/noise/{k}"] = b[k], noise[k]
    for i, spec in enumerate(SCHEDULE_FREE):
        kw = dict(spec["kwargs"])
        ox = {"learning_rate": kw.pop("lr"), "warmup_steps": kw.pop("warmup_steps", None)}
        if "momentum" in kw:
            ox["b1"] = kw.pop("momentum")
        if "betas" in kw:
            ox["b1"], ox["b2"] = kw.pop("betas")
        ox.update(kw)
        tx = getattr(contrib, spec["lib"])(**ox)
        params = {k: jnp.asarray(v, dtype=jnp.float64) for k, v in init.items()}
        state = tx.init(params)
        traj = {k: [np.asarray(v)] for k, v in params.items()}
        evals = {k: [] for k in params}
        for t in range(SF_STEPS):
            g = sf_grad({k: np.asarray(v) for k, v in params.items()}, A, b, noise, t)
            g = {k: jnp.asarray(v, dtype=jnp.float64) for k, v in g.items()}
            updates, state = tx.update(g, state, params)
            params = optax.apply_updates(params, updates)
            ev = contrib.schedule_free_eval_params(state, params)
            for k in params:
                traj[k].append(np.asarray(params[k], dtype=np.float64))
                evals[k].append(np.asarray(ev[k], dtype=np.float64))
        for k in params:
            out[f"case/{i}/traj/{k}"] = np.stack(traj[k])
            out[f"case/{i}/eval/{k}"] = np.stack(evals[k])
    out["meta"] = np.array(
        json.dumps({"optax": optax.__version__, "jax": jax.__version__, "cases": SCHEDULE_FREE, "steps": SF_STEPS})
    )
    np.savez_compressed(DATA / "schedule_free_optax.npz", **out)


def record_sgdr_step_epoch():
    """torch's ``step(epoch)`` branch of CosineAnnealingWarmRestarts at and around its restarts."""
    import warnings

    T_0, T_mult = 10, 3
    restarts = [T_0 * (T_mult**n - 1) // (T_mult - 1) for n in range(1, 9)]
    epochs = sorted({e + d for e in restarts for d in (-1, 0, 1)})
    rows = []
    for e in epochs:
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=1.0)
        sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=T_0, T_mult=T_mult, eta_min=0.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "The epoch parameter in scheduler.step() ... deprecated"
            sched.step(e)
        rows.append((e, float(sched.T_cur), float(sched.T_i), opt.param_groups[0]["lr"]))
    epoch, T_cur, T_i, lr = (np.array(c) for c in zip(*rows))
    meta = json.dumps({"torch": torch.__version__, "T_0": T_0, "T_mult": T_mult, "base_lr": 1.0, "eta_min": 0.0})
    np.savez_compressed(
        DATA / "sgdr_step_epoch_torch.npz", epoch=epoch, T_cur=T_cur, T_i=T_i, lr=lr, meta=np.array(meta)
    )


def main():
    torch.set_default_dtype(torch.float64)
    import warnings

    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, spec in enumerate(CASES):
            out[f"case/{i}/lr"] = record_case(spec)
        for i, spec in enumerate(PLATEAU):
            out[f"plateau/{i}/loss"] = plateau_losses(spec["seed"])
            out[f"plateau/{i}/lr"] = record_plateau(spec)
    out["meta"] = np.array(json.dumps({"torch": torch.__version__, "cases": CASES, "plateau": PLATEAU}))
    DATA.mkdir(exist_ok=True)
    np.savez_compressed(DATA / "schedules_torch.npz", **out)
    record_clipping()
    record_schedule_free()
    record_sgdr_step_epoch()
    print(f"wrote {len(CASES)} schedule cases, {len(PLATEAU)} plateau cases and clipping data to {DATA}")


if __name__ == "__main__":
    main()
