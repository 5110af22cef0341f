"""Time one optimizer step of every named optimizer of lib.optim against torch.optim.

Usage (from the repository root, with a Python that has torch, e.g. the .venv-golden of `make golden`;
it imports lib from this tree)::

    .venv-golden/bin/python benchmarks/optimizer_step.py            # everything (~5 min)
    .venv-golden/bin/python benchmarks/optimizer_step.py --only adam,sgd --no-scale

One *step* is ``tx.update(grads, state, params)`` followed by ``apply_updates`` for lib, and
``opt.step()`` (in place) for torch, with the gradient already computed. Both single-threaded
(``torch.set_num_threads(1)``, ``foreach=False``: torch's per-tensor loop; one BLAS thread), after
warm-up steps. The two run *interleaved* in one process: each round times ``--steps`` steps of
lib, then of torch (the order alternates), and the ratio lib/torch is taken per round; the table
gives the median over ``--rounds`` rounds and the spread (smallest and largest ratio). Times are
the thread's CPU time (``time.thread_time``), which other processes on a busy machine do not
inflate; wall-clock medians are printed too.

Optimizers with no ``torch.optim`` class (AdaBelief, Lion, LARS, LAMB, schedule-free SGD and
AdamW) are compared with a torch step written here in the style of ``torch.optim``'s
single-tensor functions (in-place ``mul_``/``add_``/``addcdiv_`` on the state, marked ``*``).

Also reported: memory (the parameter-sized temporaries one step allocates beyond the new state
and the new parameters, lib by ``tracemalloc``, torch by its profiler's memory events), the step
time from 10^3 to 10^7 parameters, and the per-call overhead on a tree of 100 small arrays; a plot
of the last two goes to ``benchmarks/out/optimizer_scale.png`` (git-ignored). Goals (issue #20):
ratio <= 1.0 for sgd, momentum and adam, <= 1.2 for the others; tree overhead <= 2x torch's.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before NumPy and torch load their BLAS

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import lib.optim as optim  # noqa: E402
from lib.compare import named_optimizers  # noqa: E402
from lib.tree import tree_leaves  # noqa: E402

LR = 1e-3
STRICT = {"sgd", "momentum", "adam"}  # goal 1.0; the others 1.2
MATRIX = {"adafactor", "muon", "muon_with_adamw"}  # benchmarked on a matrix (the rest on a vector)
SLOW = {"muon", "muon_with_adamw"}  # Newton-Schulz matmuls: one step per round

# label -> (lib factory lr -> transform, torch builder or None); the registry's names first
EXTRA_LIB = {
    "rmsprop (centered, momentum)": lambda lr: optim.rmsprop(lr, centered=True, momentum=0.9),
    "adam (amsgrad)": lambda lr: optim.adam(lr, amsgrad=True),
    "sgd (momentum, weight decay)": lambda lr: optim.sgd(lr, momentum=0.9, weight_decay=1e-2),
}

# --------------------------------------------------------------------------------------------
# torch references


def _torch_optim(cls: str, **kwargs):
    def build(tensors, lr):
        import torch

        return getattr(torch.optim, cls)(tensors, lr=lr, **kwargs, foreach=False).step

    return build


def _handwritten(step_one):
    """A torch step that loops over the tensors like torch.optim's single-tensor functions."""

    def build(tensors, lr):
        import torch

        state = [dict() for _ in tensors]
        t = [0]

        @torch.no_grad()
        def step():
            t[0] += 1
            for p, s in zip(tensors, state):
                step_one(p, p.grad, s, lr, t[0])

        return step

    return build


def _adabelief(p, g, s, lr, t, b1=0.9, b2=0.999, eps=1e-16, eps_root=1e-16):
    import torch

    if not s:
        s["m"], s["s"] = torch.zeros_like(p), torch.zeros_like(p)
    m, v = s["m"], s["s"]
    m.lerp_(g, 1 - b1)
    diff = g - m
    v.mul_(b2).addcmul_(diff, diff, value=1 - b2).add_(eps_root)
    denom = (v / (1 - b2**t)).sqrt_().add_(eps)
    p.addcdiv_(m, denom, value=-lr / (1 - b1**t))


def _lion(p, g, s, lr, t, b1=0.9, b2=0.99, wd=1e-3):  # lion-pytorch's step
    import torch

    if not s:
        s["m"] = torch.zeros_like(p)
    m = s["m"]
    p.mul_(1 - lr * wd)
    update = m.mul(b1).add_(g, alpha=1 - b1).sign_()
    p.add_(update, alpha=-lr)
    m.mul_(b2).add_(g, alpha=1 - b2)


def _lars(p, g, s, lr, t, momentum=0.9, coef=1e-3):
    import torch

    if not s:
        s["b"] = torch.zeros_like(p)
    pn, gn = torch.linalg.vector_norm(p), torch.linalg.vector_norm(g)
    ratio = coef * pn / gn if pn > 0 and gn > 0 else 1.0
    s["b"].mul_(momentum).add_(g, alpha=-lr * float(ratio))
    p.add_(s["b"])


def _lamb(p, g, s, lr, t, b1=0.9, b2=0.999, eps=1e-6):
    import torch

    if not s:
        s["m"], s["v"] = torch.zeros_like(p), torch.zeros_like(p)
    m, v = s["m"], s["v"]
    m.lerp_(g, 1 - b1)
    v.mul_(b2).addcmul_(g, g, value=1 - b2)
    u = (m / (1 - b1**t)).div_((v / (1 - b2**t)).sqrt_().add_(eps))
    pn, un = torch.linalg.vector_norm(p), torch.linalg.vector_norm(u)
    ratio = pn / un if pn > 0 and un > 0 else 1.0
    p.add_(u, alpha=-lr * float(ratio))


def _schedule_free(adam):
    def step_one(p, g, s, lr, t, b1=0.9, b2=0.999, eps=1e-8, power=2.0):  # the schedulefree package
        import torch

        if not s:
            s["z"], s["v"], s["wsum"] = p.clone(), torch.zeros_like(p), 0.0
        weight = lr**power
        s["wsum"] += weight
        ckp1 = weight / s["wsum"]
        if adam:
            s["v"].mul_(b2).addcmul_(g, g, value=1 - b2)
            step = g / (s["v"] / (1 - b2**t)).sqrt_().add_(eps)
        else:
            step = g
        p.lerp_(s["z"], ckp1)
        p.add_(step, alpha=lr * (b1 * (1 - ckp1) - 1))
        s["z"].sub_(step, alpha=lr)

    return step_one


def _muon_with_adamw(tensors, lr):
    import torch

    mats = [p for p in tensors if p.ndim == 2]
    rest = [p for p in tensors if p.ndim != 2]
    steps = [torch.optim.Muon(mats, lr=lr).step]
    if rest:
        steps.append(torch.optim.AdamW(rest, lr=LR, foreach=False).step)
    return lambda: [s() for s in steps]


TORCH = {
    "adabelief": _handwritten(_adabelief),
    "adadelta": _torch_optim("Adadelta"),
    "adafactor": _torch_optim("Adafactor"),
    "adagrad": _torch_optim("Adagrad"),
    "adam": _torch_optim("Adam"),
    "adamax": _torch_optim("Adamax"),
    "adamw": _torch_optim("AdamW"),
    "lamb": _handwritten(_lamb),
    "lars": _handwritten(_lars),
    "lion": _handwritten(_lion),
    "momentum": _torch_optim("SGD", momentum=0.9),
    "muon": lambda tensors, lr: __import__("torch").optim.Muon(tensors, lr=lr).step,
    "muon_with_adamw": _muon_with_adamw,
    "nadam": _torch_optim("NAdam"),
    "nesterov": _torch_optim("SGD", momentum=0.9, nesterov=True),
    "radam": _torch_optim("RAdam"),
    "rmsprop": _torch_optim("RMSprop"),
    "schedule_free_adamw": _handwritten(_schedule_free(adam=True)),
    "schedule_free_sgd": _handwritten(_schedule_free(adam=False)),
    "sgd": _torch_optim("SGD"),
    "rmsprop (centered, momentum)": _torch_optim("RMSprop", centered=True, momentum=0.9),
    "adam (amsgrad)": _torch_optim("Adam", amsgrad=True),
    "sgd (momentum, weight decay)": _torch_optim("SGD", momentum=0.9, weight_decay=1e-2),
}
HANDWRITTEN = {"adabelief", "lamb", "lars", "lion", "schedule_free_adamw", "schedule_free_sgd"}


def optimizers() -> dict:
    reg = {k: v for k, v in named_optimizers().items()}
    reg.update(EXTRA_LIB)
    return reg


# --------------------------------------------------------------------------------------------
# problems and steps


def shapes_for(label: str, n: int) -> list[tuple]:
    if label == "muon_with_adamw":
        k = max(int(math.isqrt(n)), 2)
        return [(k - 1, k), (k,)]
    if label in MATRIX:
        k = max(int(math.isqrt(n)), 2)
        return [(k, n // k)]
    return [(n,)]


def make_arrays(shapes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [rng.standard_normal(s).astype(dtype) for s in shapes]
    return params, grads


def as_tree(arrays):
    return arrays[0] if len(arrays) == 1 else {f"p{i}": a for i, a in enumerate(arrays)}


def lib_step(make, shapes, dtype):
    params, grads = make_arrays(shapes, dtype)
    tx = make(LR)
    box = {"params": as_tree(params)}
    grads = as_tree(grads)
    box["state"] = tx.init(box["params"])

    def step():
        updates, box["state"] = tx.update(grads, box["state"], box["params"])
        box["params"] = optim.apply_updates(box["params"], updates)

    return step, box, tx, grads


def torch_step(build, shapes, dtype):
    import torch

    params, grads = make_arrays(shapes, dtype)
    tensors = []
    for p, g in zip(params, grads):
        t = torch.tensor(p, requires_grad=True)
        t.grad = torch.tensor(g)
        tensors.append(t)
    step = build(tensors, LR)

    def run():
        with torch.no_grad():
            step()

    return run, tensors


def interleaved(fa, fb, rounds: int, steps: int, warmup: int = 3):
    """Per-round CPU times (s per step) of fa and fb, alternating which runs first."""
    for _ in range(warmup):
        fa()
        fb()
    ta, tb, wa, wb = [], [], [], []
    for r in range(rounds):
        order = [(fa, ta, wa), (fb, tb, wb)] if r % 2 == 0 else [(fb, tb, wb), (fa, ta, wa)]
        for f, cpu, wall in order:
            c0, w0 = time.thread_time(), time.perf_counter()
            for _ in range(steps):
                f()
            cpu.append((time.thread_time() - c0) / steps)
            wall.append((time.perf_counter() - w0) / steps)
    return np.array(ta), np.array(tb), np.array(wa), np.array(wb)


# --------------------------------------------------------------------------------------------
# memory


def lib_temporaries(make, shapes, dtype) -> float:
    """Peak bytes one lib step allocates beyond its new state and new params, in parameter sizes."""
    step, box, tx, grads = lib_step(make, shapes, dtype)
    for _ in range(3):
        step()
    size = sum(int(np.prod(s)) for s in shapes) * np.dtype(dtype).itemsize
    tracemalloc.start()
    try:
        old_state, old_params = box["state"], box["params"]
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        updates, new_state = tx.update(grads, old_state, old_params)
        new_params = optim.apply_updates(old_params, updates)
        del updates
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    old_ids = {id(x) for x in tree_leaves(old_state) + tree_leaves(old_params)}
    kept = sum(
        x.nbytes
        for x in tree_leaves(new_state) + tree_leaves(new_params)
        if isinstance(x, np.ndarray) and id(x) not in old_ids and x.base is None
    )
    return (peak - base - kept) / size


def torch_temporaries(build, shapes, dtype) -> float:
    """Bytes torch's ops allocate in one step (its state is updated in place), in parameter sizes.

    From the profiler's per-op memory (``self_cpu_memory_usage``; allocations under 1 KiB, the
    0-d step counters, ignored). torch frees its temporaries as soon as Python drops them, so this
    sum is an upper bound of the peak (e.g. Adam: ``sqrt`` and ``div`` allocate one each and both
    are alive at once)."""
    import torch

    run, tensors = torch_step(build, shapes, dtype)
    for _ in range(3):
        run()
    size = sum(int(np.prod(s)) for s in shapes) * np.dtype(dtype).itemsize
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], profile_memory=True) as prof:
        run()
    allocated = sum(
        e.self_cpu_memory_usage
        for e in prof.events()
        if e.name.startswith("aten::") and e.self_cpu_memory_usage >= 1024
    )
    return allocated / size


# --------------------------------------------------------------------------------------------
# the report


def fmt_ratio(r):
    return f"{np.median(r):5.2f} [{r.min():.2f}-{r.max():.2f}]"


def bench_table(args, torch, labels):
    rows = []
    dtypes = [np.dtype(d).type for d in args.dtypes.split(",")]
    reg = optimizers()
    print(
        f"\n{args.n:,} parameters, lib/torch CPU time per step, median [min-max] over {args.rounds} interleaved rounds "
        f"of {args.steps} steps ({', '.join(np.dtype(d).name for d in dtypes)})"
    )
    head = f"{'optimizer':30s}"
    for d in dtypes:
        nm = np.dtype(d).name
        head += f" | {nm + ' lib ms':>12s} {'torch ms':>8s} {'ratio [spread]':>18s}"
    print(head + " | goal")
    for label in labels:
        make = reg[label]
        build = TORCH.get(label) if torch is not None else None
        line = f"{label + ('*' if label in HANDWRITTEN else ''):30s}"
        row = {"optimizer": label, "handwritten_torch": label in HANDWRITTEN}
        goal = 1.0 if label in STRICT else 1.2
        ok = True
        for d in dtypes:
            shapes = shapes_for(label, args.n)
            fl = lib_step(make, shapes, d)[0]
            # torch's Muon takes seconds per step on a CPU (Newton-Schulz in bfloat16): 2 rounds of 1
            rounds, steps, warmup = (2, 1, 1) if label in SLOW else (args.rounds, args.steps, 3)
            if build is None:
                fb = lambda: None  # noqa: E731
            else:
                fb = torch_step(build, shapes, d)[0]
            tl, tt, wl, wt = interleaved(fl, fb, rounds, steps, warmup)
            nm = np.dtype(d).name
            row[nm] = {"lib_ms": 1e3 * float(np.median(tl)), "lib_wall_ms": 1e3 * float(np.median(wl))}
            if build is None:
                line += f" | {1e3 * np.median(tl):12.2f} {'-':>8s} {'-':>18s}"
                continue
            r = tl / tt
            row[nm].update(
                torch_ms=1e3 * float(np.median(tt)),
                torch_wall_ms=1e3 * float(np.median(wt)),
                ratio=float(np.median(r)),
                ratio_min=float(r.min()),
                ratio_max=float(r.max()),
                wall_ratio=float(np.median(wl / wt)),
            )
            ok &= bool(np.median(r) <= goal)
            line += f" | {1e3 * np.median(tl):12.2f} {1e3 * np.median(tt):8.2f} {fmt_ratio(r):>18s}"
        row["goal"], row["meets_goal"] = goal, ok
        print(line + f" | <= {goal:.1f} {'ok' if ok else 'MISSED'}", flush=True)
        rows.append(row)
    return rows


def memory_table(args, torch, labels):
    reg = optimizers()
    dt = np.float64
    print(
        "\nMemory (float64), in parameter sizes: lib = peak of one step (update + apply_updates) beyond "
        "the new state and new parameters (tracemalloc); torch = what its ops allocate (profiler; in-place state)"
    )
    print(f"{'optimizer':30s} {'lib':>6s} {'torch':>6s}")
    out = {}
    for label in labels:
        shapes = shapes_for(label, min(args.n, 10**5) if label in SLOW else args.n)
        lib_t = lib_temporaries(reg[label], shapes, dt)
        tor = torch_temporaries(TORCH[label], shapes, dt) if torch is not None and label in TORCH else float("nan")
        out[label] = {"lib": lib_t, "torch": tor}
        print(f"{label + ('*' if label in HANDWRITTEN else ''):30s} {lib_t:6.2f} {tor:6.2f}", flush=True)
    return out


SCALE_OPTS = ("sgd", "momentum", "adam")


def scale_runs(args, torch):
    reg = optimizers()
    sizes = [10**k for k in range(3, 8)]
    print("\nScale (float64): CPU ms per step and lib/torch, median of interleaved rounds")
    print(f"{'optimizer':10s} " + " ".join(f"{n:>17,d}" for n in sizes))
    out = {}
    for label in SCALE_OPTS:
        line, out[label] = f"{label:10s} ", []
        for n in sizes:
            steps = max(1, min(200, 3 * 10**6 // n))
            rounds = 5 if n >= 10**7 else args.rounds
            fl = lib_step(reg[label], [(n,)], np.float64)[0]
            fb = torch_step(TORCH[label], [(n,)], np.float64)[0]
            tl, tt, _, _ = interleaved(fl, fb, rounds, steps)
            out[label].append({"n": n, "lib_ms": 1e3 * float(np.median(tl)), "torch_ms": 1e3 * float(np.median(tt))})
            line += f" {1e3 * np.median(tl):8.3f} ({np.median(tl / tt):5.2f})"
        print(line, flush=True)
    # a tree of 100 small arrays: the per-call overhead of the tree walk vs torch's per-tensor loop
    leaves, size = 100, 100
    print(f"\nTree of {leaves} arrays of {size} float64 (per-call overhead): us per step, lib/torch")
    tree = {}
    for label in SCALE_OPTS + ("adamw", "rmsprop", "lion"):
        shapes = [(size,)] * leaves
        fl = lib_step(reg[label], shapes, np.float64)[0]
        fb = torch_step(TORCH[label], shapes, np.float64)[0]
        tl, tt, _, _ = interleaved(fl, fb, args.rounds, 20)
        r = tl / tt
        tree[label] = {
            "lib_us": 1e6 * float(np.median(tl)),
            "torch_us": 1e6 * float(np.median(tt)),
            "ratio": float(np.median(r)),
        }
        print(
            f"{label:10s} lib {1e6 * np.median(tl):8.0f}  torch {1e6 * np.median(tt):8.0f}  ratio {fmt_ratio(r)}"
            f"  (goal <= 2.0 {'ok' if np.median(r) <= 2.0 else 'MISSED'})",
            flush=True,
        )
    return {"sizes": out, "tree": tree, "tree_shape": [leaves, size]}


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for i, (label, pts) in enumerate(results["scale"]["sizes"].items()):
        n = [p["n"] for p in pts]
        ax.loglog(n, [p["lib_ms"] for p in pts], "o-", color=f"C{i}", label=f"lib {label}")
        ax.loglog(n, [p["torch_ms"] for p in pts], "s--", color=f"C{i}", alpha=0.6, label=f"torch {label}")
    ax.set(xlabel="parameters (float64, one array)", ylabel="CPU ms per step", title="step time vs size")
    ax.legend(fontsize=7)
    tree = results["scale"]["tree"]
    names = list(tree)
    x = np.arange(len(names))
    bx.bar(x - 0.2, [tree[k]["lib_us"] for k in names], 0.4, label="lib")
    bx.bar(x + 0.2, [tree[k]["torch_us"] for k in names], 0.4, label="torch (foreach=False)")
    bx.set_xticks(x, names)
    leaves, size = results["scale"]["tree_shape"]
    bx.set(ylabel="CPU µs per step", title=f"tree of {leaves} arrays of {size}: per-call overhead")
    bx.legend(fontsize=7)
    fig.savefig(path, dpi=90)
    print(f"\nplot: {path}")


def markdown(results: dict) -> str:
    """The README's table from a results file (``--markdown benchmarks/out/optimizer_step.json``)."""
    mem = results.get("memory", {})
    lines = [
        "| optimizer | float64 lib ms | torch ms | lib/torch [min-max] | float32 lib ms | torch ms "
        "| lib/torch [min-max] | goal | temporaries lib / torch |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results["table"]:
        cells = [row["optimizer"] + ("*" if row.get("handwritten_torch") else "")]
        for dt in ("float64", "float32"):
            r = row.get(dt, {})
            if "ratio" in r:
                cells += [
                    f"{r['lib_ms']:.2f}",
                    f"{r['torch_ms']:.2f}",
                    f"{r['ratio']:.2f} [{r['ratio_min']:.2f}-{r['ratio_max']:.2f}]",
                ]
            else:
                cells += [f"{r.get('lib_ms', math.nan):.2f}", "-", "-"]
        cells.append(f"≤ {row['goal']:.1f} {'✓' if row['meets_goal'] else '✗'}")
        m = mem.get(row["optimizer"])
        cells.append(f"{m['lib']:.1f} / {m['torch']:.1f}" if m else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10**6)
    ap.add_argument("--steps", type=int, default=5, help="steps per round")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--dtypes", default="float64,float32")
    ap.add_argument("--only", default="", help="comma-separated optimizer labels")
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--memory-only", action="store_true", help="only the memory table, merged into the results file")
    ap.add_argument("--no-scale", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out"))
    ap.add_argument("--plot-only", default="", help=argparse.SUPPRESS)  # JSON file -> PNG (no torch needed)
    ap.add_argument("--markdown", default="", help="print the README table from a results JSON file")
    args = ap.parse_args(argv)
    out = Path(args.out)
    if args.markdown:
        print(markdown(json.loads(Path(args.markdown).read_text())))
        return 0
    if args.plot_only:
        plot(json.loads(Path(args.plot_only).read_text()), out / "optimizer_scale.png")
        return 0
    try:
        import torch

        torch.set_num_threads(1)
        versions = f"torch {torch.__version__}"
    except ImportError:
        torch = None
        versions = "torch not installed (lib times only)"
    print(f"{versions}; NumPy {np.__version__}; Python {sys.version.split()[0]}; {os.cpu_count()} CPUs")
    labels = list(optimizers())
    if args.only:
        labels = [x.strip() for x in re.split(r",(?![^(]*\))", args.only)]  # commas outside parentheses
    js = out / "optimizer_step.json"
    if args.memory_only:
        results = json.loads(js.read_text()) if js.exists() else {}
        results["memory"] = memory_table(args, torch, labels)
        js.write_text(json.dumps(results, indent=1))
        return 0
    results = {"n": args.n, "rounds": args.rounds, "steps": args.steps, "versions": versions}
    results["table"] = bench_table(args, torch, labels)
    if not args.no_memory:
        results["memory"] = memory_table(args, torch, labels)
    if not args.no_scale and torch is not None:
        results["scale"] = scale_runs(args, torch)
    out.mkdir(parents=True, exist_ok=True)
    js.write_text(json.dumps(results, indent=1))
    print(f"\nresults: {js}")
    if "scale" in results:
        try:
            plot(results, out / "optimizer_scale.png")
        except ImportError:  # no matplotlib next to torch: draw with the project's venv
            venv = ROOT / ".venv" / "bin" / "python"
            subprocess.run([str(venv), __file__, "--plot-only", str(js), "--out", str(out)], check=False)
    missed = [r["optimizer"] for r in results["table"] if not r.get("meets_goal", True)]
    if missed and torch is not None:
        print("goal missed by: " + ", ".join(missed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
