"""Record golden trajectories for chapter 11: torch 2.13 Adadelta / Adafactor / Muon, optax 0.2.8 Lion.

Same problems, gradient formula and ``.npz`` layout as ``record_torch.py`` (read its docstring),
in float64, every flag of each optimizer. Files written to ``tests/data/``:

* ``beyond_adam_torch.npz``: ``torch.optim.Adadelta`` and ``torch.optim.Adafactor`` (problem
  ``mixed5``: two matrices, a 3-D tensor factored over its last two axes, a vector, a scalar),
  and ``torch.optim.Muon`` (problem ``mats3``: a tall, a wide and a square matrix);
* ``lion_optax.npz``: ``optax.lion`` (problem ``mixed5``; ``mask`` given as a dict of bools).

torch's Muon casts the Newton–Schulz input to **bfloat16** (``grad.bfloat16()`` in
``torch.optim._muon._zeropower_via_newtonschulz``), about 3 significant digits, so no float64
computation can match it to 1e-12. The ``muon_*`` cases therefore run torch's own Muon code with
that one cast replaced by ``grad.clone()`` (the function's source is patched at run time and the
replacement is checked to happen exactly once); everything else is torch's. The case
``muon_torch_bfloat16`` runs the unpatched optimizer, so the tests can also check ``lib.optim.muon``
against what torch really computes, to bfloat16 accuracy. ``ns/<i>/input`` and ``ns/<i>/output``
(with ``ns/<i>/coefficients``, ``ns/<i>/steps`` in the metadata) are single calls of the patched
Newton–Schulz function on random tall / wide / square matrices.

How to run (``make golden`` does this)::

    .venv-golden/bin/python tests/golden/record_beyond_adam.py
"""

from __future__ import annotations

import contextlib
import inspect
import json
import sys
import textwrap
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import record_torch  # noqa: E402
from record_torch import DATA_DIR, Case, Problem, gradient, record, run_torch, warmup_cosine  # noqa: E402

TORCH_VERSION = "2.13.0"
OPTAX_VERSION = "0.2.8"

record_torch.PROBLEMS.update(
    {
        p.name: p
        for p in [
            Problem(
                "mixed5", shapes={"W": (4, 3), "V": (2, 5), "T": (2, 3, 4), "w": (3,), "s": ()}, steps=40, seed=20251111
            ),
            Problem("mats3", shapes={"W": (5, 3), "V": (3, 4), "Q": (3, 3)}, steps=40, seed=20251112),
        ]
    }
)

ADADELTA = "Adadelta"
ADAFACTOR = "Adafactor"
TORCH_CASES = [
    Case("adadelta", ADADELTA, "adadelta", dict(), problem="mixed5", state=("square_avg", "acc_delta")),
    Case("adadelta_hparams", ADADELTA, "adadelta", dict(lr=0.5, rho=0.8, eps=1e-4), problem="mixed5"),
    Case("adadelta_weight_decay", ADADELTA, "adadelta", dict(lr=2.0, weight_decay=0.1), problem="mixed5"),
    Case("adadelta_rho1", ADADELTA, "adadelta", dict(rho=1.0), problem="mixed5"),
    Case("adadelta_maximize", ADADELTA, "adadelta", dict(maximize=True), problem="mixed5"),
    Case(
        "adadelta_schedule",
        ADADELTA,
        "adadelta",
        dict(lr=0.0),
        problem="mixed5",
        schedule=warmup_cosine(2.0, warmup=5, steps=40),
    ),
    Case("adafactor", ADAFACTOR, "adafactor", dict(), problem="mixed5"),
    Case("adafactor_lr", ADAFACTOR, "adafactor", dict(lr=0.2), problem="mixed5"),
    Case("adafactor_beta2_decay", ADAFACTOR, "adafactor", dict(lr=0.1, beta2_decay=-0.5), problem="mixed5"),
    Case("adafactor_beta2_decay0", ADAFACTOR, "adafactor", dict(lr=0.1, beta2_decay=0.0), problem="mixed5"),
    Case("adafactor_eps", ADAFACTOR, "adafactor", dict(lr=0.1, eps=(1e-3, 0.5)), problem="mixed5"),
    Case("adafactor_d", ADAFACTOR, "adafactor", dict(lr=0.1, d=1.2), problem="mixed5"),
    Case("adafactor_weight_decay", ADAFACTOR, "adafactor", dict(lr=0.1, weight_decay=0.2), problem="mixed5"),
    Case("adafactor_maximize", ADAFACTOR, "adafactor", dict(lr=0.05, maximize=True), problem="mixed5"),
    Case(
        "adafactor_schedule",
        ADAFACTOR,
        "adafactor",
        dict(lr=0.0, weight_decay=0.1),
        problem="mixed5",
        schedule=warmup_cosine(0.3, warmup=5, steps=40),
    ),
    Case("muon", "Muon", "muon", dict(lr=0.02), problem="mats3", state=("momentum_buffer",)),
    Case("muon_no_nesterov", "Muon", "muon", dict(lr=0.02, nesterov=False), problem="mats3"),
    Case("muon_momentum", "Muon", "muon", dict(lr=0.02, momentum=0.8, weight_decay=0.0), problem="mats3"),
    Case("muon_momentum0", "Muon", "muon", dict(lr=0.02, momentum=0.0), problem="mats3"),
    Case("muon_original", "Muon", "muon", dict(lr=0.02, adjust_lr_fn="original"), problem="mats3"),
    Case("muon_match_rms_adamw", "Muon", "muon", dict(lr=0.01, adjust_lr_fn="match_rms_adamw"), problem="mats3"),
    Case(
        "muon_classic_ns",
        "Muon",
        "muon",
        dict(lr=0.02, ns_coefficients=(1.875, -1.25, 0.375), ns_steps=8),
        problem="mats3",
    ),
    Case("muon_ns_steps", "Muon", "muon", dict(lr=0.02, ns_steps=2, eps=0.5), problem="mats3"),
    Case(
        "muon_schedule",
        "Muon",
        "muon",
        dict(lr=0.0, weight_decay=0.2),
        problem="mats3",
        schedule=warmup_cosine(0.05, warmup=5, steps=40),
    ),
    Case("muon_torch_bfloat16", "Muon", "muon", dict(lr=0.02), problem="mats3"),
]

LION_CASES = [
    Case("lion", "lion", "lion", dict(lr=0.01), problem="mixed5", state=("mu",)),
    Case("lion_betas", "lion", "lion", dict(lr=0.01, betas=(0.95, 0.98)), problem="mixed5"),
    Case("lion_equal_betas", "lion", "lion", dict(lr=0.01, betas=(0.9, 0.9), weight_decay=0.0), problem="mixed5"),
    Case("lion_weight_decay", "lion", "lion", dict(lr=0.01, weight_decay=0.5), problem="mixed5"),
    Case(
        "lion_mask",
        "lion",
        "lion",
        dict(lr=0.01, weight_decay=0.5, mask={"W": True, "V": True, "T": True, "w": False, "s": False}),
        problem="mixed5",
    ),
    Case(
        "lion_schedule",
        "lion",
        "lion",
        dict(lr=0.0, weight_decay=0.1),
        problem="mixed5",
        schedule=warmup_cosine(0.02, warmup=5, steps=40),
    ),
]

FILES = {"beyond_adam_torch": TORCH_CASES, "lion_optax": LION_CASES}

NS_SHAPES = [
    ((6, 3), (3.4445, -4.775, 2.0315), 5),
    ((3, 7), (3.4445, -4.775, 2.0315), 5),
    ((4, 4), (1.875, -1.25, 0.375), 10),
    ((5, 2), (3.4445, -4.775, 2.0315), 1),
]


def _float64_newton_schulz():
    """torch's ``_zeropower_via_newtonschulz`` with its ``grad.bfloat16()`` cast removed."""
    import torch.optim._muon as muon_module

    src = textwrap.dedent(inspect.getsource(muon_module._zeropower_via_newtonschulz))
    if src.count("grad.bfloat16()") != 1:
        raise RuntimeError("torch's Newton-Schulz source changed: expected one grad.bfloat16() cast")
    namespace = dict(vars(muon_module))
    exec(src.replace("grad.bfloat16()", "grad.clone()"), namespace)
    return namespace["_zeropower_via_newtonschulz"]


@contextlib.contextmanager
def _patched_muon():
    import torch.optim._muon as muon_module

    original = muon_module._zeropower_via_newtonschulz
    muon_module._zeropower_via_newtonschulz = _float64_newton_schulz()
    try:
        yield
    finally:
        muon_module._zeropower_via_newtonschulz = original


def run(case: Case, problem: Problem, arrays: dict):
    """:func:`record_torch.run_torch` for Adadelta / Adafactor; Muon (no ``foreach``) with the
    float64 Newton–Schulz unless the case is ``muon_torch_bfloat16``."""
    if case.optimizer != "Muon":
        return run_torch(case, problem, arrays)
    import torch

    original = torch.optim.Muon

    def muon_without_foreach(params, foreach=False, **kw):
        return original(params, **kw)

    patch = contextlib.nullcontext() if case.name == "muon_torch_bfloat16" else _patched_muon()
    torch.optim.Muon = muon_without_foreach
    try:
        with patch:
            return run_torch(case, problem, arrays)
    finally:
        torch.optim.Muon = original


def run_lion(case: Case, problem: Problem, arrays: dict):
    """``optax.lion`` in float64 (names translated: ``lr`` -> ``learning_rate``, ``betas`` -> ``b1, b2``)."""
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
    tx = optax.lion(**kwargs)
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
    inner = state[0]  # chain(scale_by_lion, add_decayed_weights, scale_by_learning_rate)
    recorded = {key: {n: np.asarray(getattr(inner, key)[n]).copy() for n in names} for key in case.state}
    for n in names:
        assert traj[n][-1].dtype == np.float64, "enable jax_enable_x64"
    return {n: np.stack(v) for n, v in traj.items()}, lrs, recorded


def record_newton_schulz() -> Path:
    """Single calls of torch's (float64) Newton–Schulz on random matrices -> ``ns_torch.npz``."""
    import torch

    ns = _float64_newton_schulz()
    rng = np.random.default_rng(20251113)
    out, meta = {}, {"source": "tests/golden/record_beyond_adam.py", "torch": torch.__version__, "calls": []}
    for i, (shape, coefficients, steps) in enumerate(NS_SHAPES):
        G = rng.standard_normal(shape) * 3.0
        X = ns(torch.from_numpy(G.copy()), coefficients, steps, 1e-7)
        assert X.dtype == torch.float64
        out[f"ns/{i}/input"], out[f"ns/{i}/output"] = G, X.numpy().copy()
        meta["calls"].append({"coefficients": list(coefficients), "steps": steps, "eps": 1e-7})
    out["meta"] = np.array(json.dumps(meta, sort_keys=True))
    path = DATA_DIR / "newton_schulz_torch.npz"
    np.savez_compressed(path, **out)
    return path


def main(argv: list[str]) -> int:
    try:
        import jax
        import optax
        import torch
    except ImportError:
        sys.exit("record_beyond_adam.py needs torch==2.13.0 and optax==0.2.8 (the golden venv; see the docstring)")
    if not torch.__version__.startswith(TORCH_VERSION) or optax.__version__ != OPTAX_VERSION:
        sys.exit(
            f"needs torch {TORCH_VERSION} and optax {OPTAX_VERSION}, found {torch.__version__}, "
            f"{optax.__version__}: goldens are recorded with pinned versions"
        )
    torch.set_default_dtype(torch.float64)
    jax.config.update("jax_enable_x64", True)
    keys = argv or list(FILES) + ["newton_schulz_torch"]
    for key in keys:
        if key == "newton_schulz_torch":
            path = record_newton_schulz()
        elif key == "lion_optax":
            path = record(
                key,
                FILES[key],
                runner=run_lion,
                versions={"optax": optax.__version__, "jax": jax.__version__},
                source="tests/golden/record_beyond_adam.py",
            )
        elif key in FILES:
            path = record(
                key,
                FILES[key],
                runner=run,
                versions={"torch": torch.__version__},
                source="tests/golden/record_beyond_adam.py",
            )
        else:
            sys.exit(f"unknown golden file {key!r}; known: {list(FILES) + ['newton_schulz_torch']}")
        print(f"wrote {path} ({path.stat().st_size / 1024:.1f} kB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
