"""lib.schedules against torch 2.13's lr_scheduler (golden data in tests/data/schedules_torch.npz)."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from lib import optim, schedules

DATA = np.load(Path(__file__).parent / "data" / "schedules_torch.npz", allow_pickle=False)
META = json.loads(str(DATA["meta"]))
RTOL = 1e-12


def build(spec, base_lr=None):
    kw = dict(spec.get("kwargs", {}))
    if spec["lib"] == "sequential_lr":
        subs = [build(s, spec["base_lr"]) for s in spec["schedules"]]
        return schedules.sequential_lr(subs, spec["milestones"])
    if base_lr is not None:
        kw["base_lr"] = base_lr
    return getattr(schedules, spec["lib"])(**kw)


def _id(spec):
    return spec["lib"] + "-" + json.dumps(spec.get("kwargs", spec.get("milestones")))[:60]


@pytest.mark.parametrize("i", range(len(META["cases"])), ids=[_id(s) for s in META["cases"]])
def test_matches_torch(i):
    spec = META["cases"][i]
    want = DATA[f"case/{i}/lr"]
    f = build(spec)
    got = schedules.schedule_values(f, spec["steps"])
    # relative to the schedule's own scale (its largest value): torch's recursive forms carry
    # rounding errors of that size even where the exact value is 0
    err = np.max(np.abs(got - want)) / np.max(np.abs(want))
    assert err <= RTOL, f"{f.name}: max relative error {err:.2e} vs torch"
    nz = np.abs(want) > 1e-6 * np.max(want)
    assert np.max(np.abs(got[nz] - want[nz]) / np.abs(want[nz])) <= 1e-10


def test_every_schedule_has_golden_cases():
    names = {s["lib"] for s in META["cases"]}
    for s in META["cases"]:
        names |= {x["lib"] for x in s.get("schedules", [])}
    assert names >= {
        "constant_lr",
        "step_lr",
        "multi_step_lr",
        "exponential_lr",
        "cosine_annealing_lr",
        "cosine_annealing_warm_restarts",
        "linear_lr",
        "polynomial_lr",
        "one_cycle_lr",
        "cyclic_lr",
        "sequential_lr",
        "warmup_stable_decay",
    }
    assert META["torch"].startswith("2.13")


def test_cosine_past_T_max_keeps_going():
    spec = next(s for s in META["cases"] if s["lib"] == "cosine_annealing_lr")
    f = build(spec)
    T = spec["kwargs"]["T_max"]
    assert f(2 * T) == pytest.approx(f(0))
    assert f(T + 10) == pytest.approx(f(T - 10))


@pytest.mark.parametrize("i", range(len(META["cases"])))
def test_pure_function_of_t(i):
    f = build(META["cases"][i])
    n = META["cases"][i]["steps"]
    ts = np.random.default_rng(i).permutation(n)
    first = {int(t): f(int(t)) for t in ts}
    assert all(f(t) == first[t] for t in range(n - 1, -1, -1))


@pytest.mark.parametrize("i", range(len(META["plateau"])))
def test_reduce_lr_on_plateau_matches_torch(i):
    spec = META["plateau"][i]
    sched = schedules.reduce_lr_on_plateau(**spec["kwargs"])
    got = np.array([sched.step(loss) for loss in DATA[f"plateau/{i}/loss"]])
    np.testing.assert_allclose(got, DATA[f"plateau/{i}/lr"], rtol=1e-15, atol=0)
    assert len(set(got)) > 1, "the case must reduce at least once"


def test_plateau_depends_on_losses_not_on_t():
    a, b = schedules.reduce_lr_on_plateau(1.0, patience=1), schedules.reduce_lr_on_plateau(1.0, patience=1)
    for k in range(6):  # same number of evaluations, same t; only the losses differ
        a.step(1.0)
        b.step(1.0 / (k + 1))
    assert a(0) < b(0) == 1.0


def test_schedule_as_lr_argument():
    """The first update uses f(0), the second f(1), ... in every lib optimizer."""
    f = schedules.step_lr(1.0, step_size=1, gamma=0.5)
    tx = optim.sgd(lr=f)
    state, params = tx.init(np.zeros(1)), np.zeros(1)
    us = []
    for _t in range(4):
        u, state = tx.update(np.ones(1), state, params)
        us.append(-u[0])
    assert us == [1.0, 0.5, 0.25, 0.125]


def test_boundaries_and_continuity():
    f = schedules.sequential_lr([schedules.linear_lr(0.1, 0.01, 1.0, 20), schedules.cosine_annealing_lr(0.1, 80)], [20])
    assert 20 in f.boundaries
    assert f(19) < f(20) == pytest.approx(0.1)
    w = schedules.warmup_stable_decay(1.0, 10, 50, 40)
    assert w.boundaries == (10, 60, 100)
    assert w(10) == 1.0 and w(59) == 1.0 and w(100) == 0.0
    oc = schedules.one_cycle_lr(1.0, 100)
    assert oc(oc.boundaries[0] - 1) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: schedules.step_lr(0.1, 0), "step_size"),
        (lambda: schedules.linear_lr(0.1, start_factor=0.0), "Starting multiplicative factor"),
        (lambda: schedules.linear_lr(0.1, end_factor=1.5), "Ending multiplicative factor"),
        (lambda: schedules.constant_lr(0.1, factor=2.0), "between 0 and 1"),
        (lambda: schedules.cosine_annealing_warm_restarts(0.1, 0), "positive integer T_0"),
        (lambda: schedules.cosine_annealing_warm_restarts(0.1, 10, T_mult=0), "T_mult"),
        (lambda: schedules.one_cycle_lr(0.1, 0), "total_steps"),
        (lambda: schedules.one_cycle_lr(0.1, 10, pct_start=1.5), "pct_start"),
        (lambda: schedules.one_cycle_lr(0.1, 10, anneal_strategy="exp"), "anneal_strategy"),
        (lambda: schedules.cyclic_lr(0.1, 1.0, mode="sine"), "mode"),
        (lambda: schedules.sequential_lr([schedules.step_lr(0.1, 3)], [5]), "one more than"),
        (lambda: schedules.sequential_lr([], []), "at least one"),
        (lambda: schedules.exponential_lr(-0.1, 0.9), "base_lr"),
        (lambda: schedules.exponential_lr(float("nan"), 0.9), "base_lr"),
        (lambda: schedules.reduce_lr_on_plateau(0.1, factor=1.0), "Factor"),
        (lambda: schedules.reduce_lr_on_plateau(0.1, mode="best"), "unknown"),
        (lambda: schedules.warmup_stable_decay(0.1, 10, 10, 10, decay_shape="exp"), "decay_shape"),
    ],
)
def test_argument_checks(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_steps():
    f = schedules.cosine_annealing_lr(0.1, 10)
    with pytest.raises(ValueError, match=">= 0"):
        f(-1)
    with pytest.raises(TypeError, match="integer"):
        f(1.5)
    with pytest.raises(ValueError, match="total steps"):
        schedules.one_cycle_lr(0.1, 10)(11)


def test_plot_schedule_marks_boundaries():
    import matplotlib

    matplotlib.use("Agg")
    ax = schedules.plot_schedule(schedules.warmup_stable_decay(1.0, 10, 50, 40), 120)
    assert len(ax.lines) == 1 + 3
    assert math.isclose(ax.lines[0].get_ydata()[10], 1.0)


def test_warm_restarts_step_epoch_torch_misses_one_restart():
    """torch's step(epoch) finds the period with a logarithm; lib's subtraction agrees with it at
    every recorded epoch around the restarts except t = 1210, where log_3(243) rounds down."""
    d = np.load(Path(__file__).parent / "data" / "sgdr_step_epoch_torch.npz", allow_pickle=False)
    f = schedules.cosine_annealing_warm_restarts(1.0, T_0=10, T_mult=3)
    got = np.array([f(int(e)) for e in d["epoch"]])
    differ = d["epoch"][~np.isclose(got, d["lr"], rtol=1e-12, atol=1e-15)]
    assert differ.tolist() == [1210]
    i = int(np.flatnonzero(d["epoch"] == 1210)[0])
    assert (d["T_cur"][i], d["T_i"][i], d["lr"][i]) == (810.0, 810.0, 0.0)
    assert schedules.sgdr_position(1210, 10, 3) == (0, 2430) and f(1210) == 1.0
