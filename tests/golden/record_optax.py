"""Record golden optimizer trajectories from optax (AdaBelief) for the tests of :mod:`lib.optim`.

The companion of ``record_torch.py`` for optimizers that ``torch.optim`` does not have: same
problems, same gradient formula, same ``.npz`` layout (see that script's docstring), written
to ``tests/data/adabelief_optax.npz``. The metadata has ``optax`` and ``jax`` versions instead
of ``torch``. JAX runs in float64 (``jax_enable_x64``), without ``jit``.

Case ``hparams`` use ``lib.optim``'s (torch-style) names; :func:`run_optax` translates them
(``lr`` -> ``learning_rate``, ``betas`` -> ``b1, b2``).

How to run (``make golden`` does this)::

    .venv-golden/bin/pip install torch==2.13.0 numpy jax==0.10.2 optax==0.2.8
    .venv-golden/bin/python tests/golden/record_optax.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record_torch import Case, Problem, gradient, record, warmup_cosine  # noqa: E402

OPTAX_VERSION = "0.2.8"

ADABELIEF_CASES = [
    Case("adabelief", "adabelief", "adabelief", dict(lr=0.05), state=("mu", "nu")),
    Case("adabelief_nesterov", "adabelief", "adabelief", dict(lr=0.05, nesterov=True), state=("mu", "nu")),
    # the paper's epsilon (1e-8 in the denominator), no eps_root, other betas
    Case(
        "adabelief_paper_eps_betas", "adabelief", "adabelief", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-8, eps_root=0.0)
    ),
    Case("adabelief_large_eps_root", "adabelief", "adabelief", dict(lr=0.05, eps=1e-3, eps_root=1e-4)),
    Case(
        "adabelief_schedule_nesterov",
        "adabelief",
        "adabelief",
        dict(lr=0.0, nesterov=True),
        schedule=warmup_cosine(0.1, warmup=10, steps=120),
    ),
]

FILES = {"adabelief_optax": ADABELIEF_CASES}


def run_optax(case: Case, problem: Problem, arrays: dict) -> tuple[dict, np.ndarray | None, dict]:
    """Like ``record_torch.run_torch``, with ``optax.<case.optimizer>``."""
    import jax.numpy as jnp
    import optax

    names = list(problem.shapes)
    hp = dict(case.hparams)
    kwargs = {"learning_rate": hp.pop("lr")}
    if "betas" in hp:
        kwargs["b1"], kwargs["b2"] = hp.pop("betas")
    kwargs.update(hp)
    lrs = None
    if case.schedule is not None:
        lrs = np.array([float(case.schedule(t)) for t in range(problem.steps)])
        table = jnp.asarray(lrs)
        kwargs["learning_rate"] = lambda count: table[count]
    tx = getattr(optax, case.optimizer)(**kwargs)
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
    inner = state[0]  # chain(scale_by_belief, scale_by_learning_rate): the belief state
    recorded = {key: {n: np.asarray(getattr(inner, key)[n]).copy() for n in names} for key in case.state}
    for n in names:
        assert traj[n][-1].dtype == np.float64, "enable jax_enable_x64"
    return {n: np.stack(v) for n, v in traj.items()}, lrs, recorded


def main(argv: list[str]) -> int:
    try:
        import jax
        import optax
    except ImportError:
        sys.exit("record_optax.py needs jax and optax; run it with the golden venv (see the docstring)")
    if optax.__version__ != OPTAX_VERSION:
        sys.exit(
            f"record_optax.py needs optax {OPTAX_VERSION}, found {optax.__version__}: "
            "goldens are recorded with one pinned version"
        )
    jax.config.update("jax_enable_x64", True)
    keys = argv or list(FILES)
    unknown = [k for k in keys if k not in FILES]
    if unknown:
        sys.exit(f"unknown golden file(s) {unknown}; known: {list(FILES)}")
    versions = {"optax": optax.__version__, "jax": jax.__version__}
    for key in keys:
        path = record(key, FILES[key], runner=run_optax, versions=versions, source="tests/golden/record_optax.py")
        print(f"wrote {path} ({path.stat().st_size / 1024:.1f} kB, {len(FILES[key])} cases)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
