"""Record golden trajectories of weight decay with masks (chapter 06) from torch and optax.

The companion of ``record_torch.py`` (same problem ``quad3`` with parameters ``w`` (3,), ``W``
(2, 2) and the scalar ``s``, same gradient formula, same ``.npz`` layout; see that script's
docstring). Two files:

* ``tests/data/weight_decay_torch.npz``: ``torch.optim`` 2.13.0 with the mask expressed as
  torch does it, two **parameter groups** (decayed parameters with ``weight_decay``, the others
  with ``weight_decay=0`` or ``weight_decay_rest``): ``Adam(weight_decay)`` (L2),
  ``AdamW``, ``Adam(decoupled_weight_decay=True)`` and ``SGD(momentum, weight_decay)``.
* ``tests/data/weight_decay_optax.npz``: ``optax`` 0.2.8: ``optax.adamw(mask=...)`` with a
  callable mask and with a prefix tree of booleans, optax's default ``weight_decay=1e-4``, and
  the L2 chain ``optax.chain(add_decayed_weights(λ, mask), scale_by_adam(), scale(-lr))``.

``hparams["mask"]`` is ``"ndim>=2"`` (only ``W`` is decayed: ``lib.optim.weight_decay_mask``)
or a dict ``{name: bool}``. ``case.lib`` names the lib chain that the test
(``tests/test_weight_decay.py``) builds: ``adam``, ``adamw``, ``sgd_chain``, ``adamw_two_decays``,
``adam_l2_chain``.

How to run (``make golden`` does this)::

    .venv-golden/bin/python tests/golden/record_weight_decay.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record_torch import TORCH_VERSION, Case, Problem, gradient, record, warmup_cosine  # noqa: E402

OPTAX_VERSION = "0.2.8"
NDIM = "ndim>=2"


def mask_flags(mask, shapes: dict) -> dict[str, bool]:
    """The mask of a case as ``{name: bool}`` (``"ndim>=2"``: only matrices are decayed)."""
    if mask == NDIM:
        return {n: len(s) >= 2 for n, s in shapes.items()}
    return {n: bool(mask[n]) for n in shapes}


TORCH_CASES = [
    Case("adam_l2_masked", "Adam", "adam", dict(lr=0.05, weight_decay=0.3, mask=NDIM)),
    Case("adamw_masked", "AdamW", "adamw", dict(lr=0.05, weight_decay=0.3, mask=NDIM)),
    Case(
        "adamw_masked_tree", "AdamW", "adamw", dict(lr=0.05, weight_decay=0.5, mask={"w": True, "W": False, "s": True})
    ),
    Case(
        "adam_decoupled_masked", "Adam", "adam", dict(lr=0.05, weight_decay=0.3, decoupled_weight_decay=True, mask=NDIM)
    ),
    Case(
        "adamw_masked_schedule",
        "AdamW",
        "adamw",
        dict(lr=0.0, weight_decay=0.4, mask=NDIM),
        schedule=warmup_cosine(0.1, warmup=10, steps=120),
    ),
    Case("adamw_amsgrad_masked", "AdamW", "adamw", dict(lr=0.05, weight_decay=0.2, amsgrad=True, mask=NDIM)),
    # two groups with different decays: two add_decayed_weights with complementary masks
    Case(
        "adamw_two_decays",
        "AdamW",
        "adamw_two_decays",
        dict(lr=0.05, weight_decay=0.5, weight_decay_rest=0.05, mask=NDIM),
    ),
    Case("sgd_momentum_masked", "SGD", "sgd_chain", dict(lr=0.05, momentum=0.9, weight_decay=0.2, mask=NDIM)),
]

OPTAX_CASES = [
    Case("optax_adamw_mask_fn", "adamw", "adamw", dict(lr=0.05, weight_decay=0.3, mask=NDIM)),
    Case(
        "optax_adamw_mask_tree",
        "adamw",
        "adamw",
        dict(lr=0.05, weight_decay=0.5, mask={"w": True, "W": False, "s": True}),
    ),
    Case("optax_adamw_default_decay", "adamw", "adamw", dict(lr=0.05, weight_decay=1e-4)),
    Case(
        "optax_adamw_mask_schedule",
        "adamw",
        "adamw",
        dict(lr=0.0, weight_decay=0.4, mask=NDIM),
        schedule=warmup_cosine(0.1, warmup=10, steps=120),
    ),
    Case("optax_adam_l2_chain_masked", "adam_l2_chain", "adam_l2_chain", dict(lr=0.05, weight_decay=0.3, mask=NDIM)),
]

FILES = {"weight_decay_torch": TORCH_CASES, "weight_decay_optax": OPTAX_CASES}


def run_torch_groups(case: Case, problem: Problem, arrays: dict):
    """``record_torch.run_torch`` with the mask turned into two parameter groups."""
    import torch

    names = list(problem.shapes)
    params = {n: torch.tensor(arrays["init"][n], dtype=torch.float64, requires_grad=True) for n in names}
    hp = dict(case.hparams)
    flags = mask_flags(hp.pop("mask"), problem.shapes)
    wd, wd_rest = hp.pop("weight_decay"), hp.pop("weight_decay_rest", 0.0)
    groups = [
        {"params": [params[n] for n in names if flags[n]], "weight_decay": wd},
        {"params": [params[n] for n in names if not flags[n]], "weight_decay": wd_rest},
    ]
    opt = getattr(torch.optim, case.optimizer)(groups, **hp, foreach=False)
    traj = {n: [params[n].detach().numpy().copy()] for n in names}
    lrs = []
    for t in range(problem.steps):
        if case.schedule is not None:
            lr = float(case.schedule(t))
            for group in opt.param_groups:
                group["lr"] = lr
            lrs.append(lr)
        current = {n: params[n].detach().numpy().copy() for n in names}
        for n, g in gradient(arrays, current, t).items():
            params[n].grad = torch.from_numpy(g.copy())
        opt.step()
        for n in names:
            traj[n].append(params[n].detach().numpy().copy())
    return {n: np.stack(v) for n, v in traj.items()}, (np.array(lrs) if lrs else None), {}


def run_optax_masked(case: Case, problem: Problem, arrays: dict):
    """Like ``record_optax.run_optax``, with masks (a callable or a tree of bools)."""
    import jax
    import jax.numpy as jnp
    import optax

    names = list(problem.shapes)
    hp = dict(case.hparams)
    mask = hp.pop("mask", None)
    if mask == NDIM:
        mask = lambda p: jax.tree.map(lambda x: x.ndim >= 2, p)  # noqa: E731 (a callable mask)
    elif mask is not None:
        mask = {n: bool(mask[n]) for n in names}
    lrs = None
    lr = hp.pop("lr")
    if case.schedule is not None:
        lrs = np.array([float(case.schedule(t)) for t in range(problem.steps)])
        table = jnp.asarray(lrs)
        lr = lambda count: table[count]  # noqa: E731
    if case.optimizer == "adamw":
        tx = optax.adamw(learning_rate=lr, mask=mask, **hp)
    elif case.optimizer == "adam_l2_chain":
        tx = optax.chain(
            optax.add_decayed_weights(hp.pop("weight_decay"), mask),
            optax.scale_by_adam(),
            optax.scale_by_learning_rate(lr),
        )
    else:
        raise ValueError(case.optimizer)
    params = {n: jnp.asarray(arrays["init"][n], dtype=jnp.float64) for n in names}
    state = tx.init(params)
    traj = {n: [np.asarray(params[n]).copy()] for n in names}
    for t in range(problem.steps):
        current = {n: np.asarray(params[n]) for n in names}
        grads = {n: jnp.asarray(g) for n, g in gradient(arrays, current, t).items()}
        updates, state = tx.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        for n in names:
            traj[n].append(np.asarray(params[n]).copy())
    for n in names:
        assert traj[n][-1].dtype == np.float64, "enable jax_enable_x64"
    return {n: np.stack(v) for n, v in traj.items()}, lrs, {}


def main(argv: list[str]) -> int:
    try:
        import jax
        import optax
        import torch
    except ImportError:
        sys.exit("record_weight_decay.py needs torch, jax and optax; run it with the golden venv")
    if not torch.__version__.startswith(TORCH_VERSION) or optax.__version__ != OPTAX_VERSION:
        sys.exit(
            f"needs torch {TORCH_VERSION} and optax {OPTAX_VERSION}, found {torch.__version__}, "
            f"{optax.__version__}: goldens are recorded with pinned versions"
        )
    torch.set_default_dtype(torch.float64)
    jax.config.update("jax_enable_x64", True)
    keys = argv or list(FILES)
    for key in keys:
        if key.endswith("_torch"):
            path = record(
                key,
                FILES[key],
                runner=run_torch_groups,
                versions={"torch": torch.__version__},
                source="tests/golden/record_weight_decay.py",
            )
        else:
            path = record(
                key,
                FILES[key],
                runner=run_optax_masked,
                versions={"optax": optax.__version__, "jax": jax.__version__},
                source="tests/golden/record_weight_decay.py",
            )
        print(f"wrote {path} ({path.stat().st_size / 1024:.1f} kB, {len(FILES[key])} cases)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
