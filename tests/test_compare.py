"""lib.compare: the fair-comparison protocol, its reports and Dolan-Moré performance profiles."""

import doctest
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lib import compare, functions, optim  # noqa: E402

TINY = compare.least_squares_problem(kappa=30.0, n=40, d=4, steps=30)


@pytest.mark.parametrize(
    "module", [compare, compare.problems, compare.tuning, compare.reports], ids=lambda m: m.__name__
)
def test_doctests(module):
    assert doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


# --------------------------------------------------------------------------------------------
# every optimizer of lib.optim runs through the protocol unchanged

NAMED = compare.named_optimizers()


def test_registry_finds_every_named_optimizer_of_this_chapter_and_no_building_block():
    expected = {
        "sgd",
        "momentum",
        "nesterov",
        "adagrad",
        "rmsprop",
        "adam",
        "adamw",
        "adamax",
        "nadam",
        "radam",
        "adabelief",
    }
    assert expected <= set(NAMED)
    for name in NAMED:
        assert not name.startswith(("scale_by_", "add_", "clip", "trace")), name
        assert isinstance(NAMED[name](1e-3), optim.GradientTransformation), name
    # every public optimizer of lib.optim that builds from lr alone is found (new ones too),
    # and one that needs another argument without a default is left out
    import inspect

    for name in optim.__all__:
        fn = getattr(optim, name)
        if not inspect.isfunction(fn) or name.startswith(compare._BLOCK_PREFIXES):
            continue
        params = list(inspect.signature(fn).parameters.values())
        from_lr = (
            params[:1]
            and params[0].name in ("lr", "learning_rate")
            and all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params[1:])
        )
        assert (name in NAMED) == bool(from_lr), name
    assert "proximal_sgd" not in NAMED and "adjust_lr" not in NAMED


@pytest.mark.parametrize("name", sorted(NAMED))
def test_every_named_optimizer_runs_through_the_protocol(name):
    rows = compare.protocol([TINY], {name: NAMED[name]}, budget=4, seeds=2, lr_range=(1e-3, 1.0))
    assert [r["phase"] for r in rows] == ["tune"] * 4 + ["final"] * 2
    final = [r for r in rows if r["phase"] == "final"]
    for r in final:
        start = TINY.run(optim.sgd(lr=0.0), r["seed"]).metrics["val_loss"]  # lr = 0: the initial loss
        assert not r["diverged"] and math.isfinite(r["test_loss"]), r
        assert r["val_loss"] < start, f"{name} did not reduce the loss at its tuned setting: {r}"


# --------------------------------------------------------------------------------------------
# time to target


def test_steps_to_target_counts_the_first_evaluation_at_or_below_the_target():
    assert compare.steps_to_target([5, 4, 3, 2, 1], [10, 20, 30, 40, 50], 3.0) == 30.0
    assert compare.steps_to_target([5, 2, 4, 1], [1, 2, 3, 4], 2.5) == 2.0  # not the last hit
    assert compare.steps_to_target([5, 4], [1, 2], 1.0) == math.inf
    assert compare.steps_to_target([np.inf, 0.5], [1, 2], 1.0) == 2.0
    with pytest.raises(ValueError, match="same length"):
        compare.steps_to_target([1, 2], [1], 1.0)


# --------------------------------------------------------------------------------------------
# search space and tuning


def test_search_space_gives_every_optimizer_the_same_budget():
    plain = compare.search_space(6, (1e-3, 1e-1))
    two = compare.search_space(6, (1e-3, 1e-1), ("momentum", (0.0, 0.9, 0.99)))
    assert len(plain) == len(two) == 6
    assert np.allclose([s["lr"] for s in plain], np.geomspace(1e-3, 1e-1, 6))
    assert sorted({s["momentum"] for s in two}) == [0.0, 0.9, 0.99]
    assert len({s["lr"] for s in two}) == 2
    with pytest.raises(ValueError, match="multiple"):
        compare.search_space(5, (1e-3, 1e-1), ("momentum", (0.0, 0.9)))
    with pytest.raises(ValueError, match="low <= high"):
        compare.lr_grid(3, 1.0, 0.1)
    with pytest.raises(ValueError, match="budget"):
        compare.lr_grid(0)


def test_tune_picks_the_lowest_validation_loss_and_refuses_the_test_split():
    space = compare.search_space(5, (1e-3, 0.3))
    best, rows = compare.tune(TINY, NAMED["sgd"], space, name="sgd")
    vals = [r["val_loss"] if not r["diverged"] else math.inf for r in rows]
    assert best == space[int(np.argmin(vals))]
    assert all(r["phase"] == "tune" and r["seed"] == 0 for r in rows)
    with pytest.raises(ValueError, match="validation"):
        compare.tune(TINY, NAMED["sgd"], space, select="test_loss")


def test_tune_raises_when_every_setting_diverges():
    with pytest.raises(ValueError, match="diverged .* every setting"):
        compare.tune(TINY, NAMED["sgd"], compare.search_space(2, (1e10, 1e12)), name="sgd")


def test_tune_with_an_extra_hyperparameter_passes_it_to_the_factory():
    seen = []

    def make(lr, momentum):
        seen.append((lr, momentum))
        return optim.sgd(lr=lr, momentum=momentum)

    best, rows = compare.tune(TINY, make, compare.search_space(4, (1e-2, 0.1), ("momentum", (0.0, 0.9))))
    assert len(seen) == 4 and set(best) == {"lr", "momentum"}
    assert {r["momentum"] for r in rows} == {0.0, 0.9}
    with pytest.raises(TypeError, match="accept"):
        compare.tune(TINY, lambda lr: optim.sgd(lr=lr), compare.search_space(2, (1e-2, 0.1), ("momentum", (0.9,))))


def test_protocol_reruns_the_tuned_setting_with_fresh_seeds_and_is_deterministic():
    opts = {"sgd": NAMED["sgd"], "adam": NAMED["adam"]}
    rows = compare.protocol([TINY], opts, budget=3, seeds=3, lr_range=(1e-3, 0.3))
    again = compare.protocol([TINY], opts, budget=3, seeds=3, lr_range=(1e-3, 0.3))
    assert len(rows) == 2 * (3 + 3)
    for name in opts:
        tuning = [r for r in rows if r["optimizer"] == name and r["phase"] == "tune"]
        final = [r for r in rows if r["optimizer"] == name and r["phase"] == "final"]
        best = min(tuning, key=lambda r: r["val_loss"])
        assert {r["lr"] for r in final} == {best["lr"]}
        assert [r["seed"] for r in final] == [1, 2, 3]  # never the tuning seed 0
        assert len({r["test_loss"] for r in final}) == 3  # the seeds differ
    strip = lambda rs: [{k: repr(v) for k, v in r.items() if k != "time_to_target"} for r in rs]  # noqa: E731
    assert strip(rows) == strip(again)
    parallel = compare.protocol([TINY], opts, budget=3, seeds=3, lr_range=(1e-3, 0.3), n_jobs=2)
    assert strip(parallel) == strip(rows)  # worker processes: the same rows in the same order
    with pytest.raises(ValueError, match="extra names"):
        compare.protocol([TINY], opts, extra={"lion": ("b", (1,))})


def test_map_tasks_keeps_the_order_and_checks_n_jobs():
    tasks = [lambda k=k: k * k for k in range(5)]  # closures: the workers are forked
    assert compare.map_tasks(tasks, n_jobs=2) == [0, 1, 4, 9, 16] == compare.map_tasks(tasks)
    assert compare.map_tasks([], n_jobs=2) == []
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="n_jobs"):
            compare.map_tasks(tasks, n_jobs=bad)


# --------------------------------------------------------------------------------------------
# reports


def _rows(values, metric="test_loss"):
    return [
        {"problem": "p", "optimizer": "a", "phase": "final", "lr": 0.1, "setting": "lr=0.1", "seed": i + 1, metric: v}
        for i, v in enumerate(values)
    ]


def test_summarize_reports_the_median_and_the_interquartile_range_not_the_best_seed():
    (s,) = compare.summarize(_rows([5.0, 1.0, 3.0, 2.0, 4.0]), metrics=("test_loss",))
    assert s["test_loss_median"] == 3.0 and s["n"] == 5
    assert (s["test_loss_q25"], s["test_loss_q75"]) == (2.0, 4.0)
    assert s["lr"] == 0.1 and s["setting"] == "lr=0.1"
    (s,) = compare.summarize(_rows([1.0, math.inf, math.inf]), metrics=("test_loss",))
    assert s["test_loss_median"] == math.inf  # a target never reached is not dropped
    with pytest.raises(ValueError, match="phase"):
        compare.summarize(_rows([1.0]), phase="tune")


def test_to_csv_writes_every_column():
    rows = _rows([1.0, 2.0]) + [{"problem": "q", "optimizer": "b", "extra": 3}]
    text = compare.to_csv(rows)
    header = text.splitlines()[0].split(",")
    assert header[:3] == ["problem", "optimizer", "phase"] and "extra" in header
    assert len(text.splitlines()) == 4


def test_performance_profile_by_hand():
    costs = {
        "a": {"p": 1.0, "q": 4.0, "r": math.inf},
        "b": {"p": 2.0, "q": 2.0, "r": 10.0},
        "c": {"p": 1.0, "q": 8.0, "r": 5.0},
    }
    taus = [1.0, 2.0, 4.0, 100.0]
    prof = compare.performance_profile(costs, taus)
    assert np.allclose(prof["a"], [1 / 3, 2 / 3, 2 / 3, 2 / 3])  # wins p (tie), never solves r
    assert np.allclose(prof["b"], [1 / 3, 1.0, 1.0, 1.0])
    assert np.allclose(prof["c"], [2 / 3, 2 / 3, 1.0, 1.0])
    for rho in prof.values():
        assert np.all(np.diff(rho) >= 0)
    # a problem nobody solves counts for nobody
    prof = compare.performance_profile({"a": {"p": math.inf}, "b": {"p": math.nan}}, [1.0, 10.0])
    assert np.all(prof["a"] == 0) and np.all(prof["b"] == 0)
    with pytest.raises(ValueError, match="every method"):
        compare.performance_profile({"a": {"p": 1.0}, "b": {"q": 1.0}}, [1.0])
    with pytest.raises(ValueError, match="positive"):
        compare.performance_profile({"a": {"p": 0.0}}, [1.0])


def test_cost_table_and_plots():
    rows = compare.protocol(
        [TINY], {"sgd": NAMED["sgd"], "adam": NAMED["adam"]}, budget=2, seeds=2, lr_range=(1e-2, 0.3)
    )
    summary = compare.summarize(rows)
    table = compare.cost_table(summary, "test_loss_median")
    assert set(table) == {"sgd", "adam"} and set(table["sgd"]) == {TINY.name}
    fig, (ax1, ax2) = plt.subplots(1, 2)
    compare.plot_summary(ax1, summary, "test_loss", log=True)
    assert [t.get_text() for t in ax1.get_yticklabels()] != []
    taus = np.geomspace(1, 10, 5)
    compare.plot_performance_profile(ax2, compare.performance_profile(table, taus), taus)
    assert len(ax2.lines) == 2
    plt.close(fig)


# --------------------------------------------------------------------------------------------
# problems


def test_least_squares_problem_is_badly_conditioned_and_its_target_is_reachable():
    p = compare.least_squares_problem(kappa=1e3, n=200, d=6, steps=5)
    assert p.target > 0
    run = p.run(optim.sgd(lr=1e-4), 0)
    assert run.curve.shape == run.steps.shape == run.wall_time.shape == (5,)
    assert list(run.steps) == [1, 2, 3, 4, 5]  # full batch: one step per epoch
    assert np.all(np.diff(run.wall_time) >= 0)
    # no seed starts at the solution (the initial weights do not reuse the data's random stream)
    starts = [p.run(optim.sgd(lr=0.0), seed).metrics["val_loss"] for seed in range(4)]
    assert min(starts) > 10 * p.target and len(set(starts)) == 4
    with pytest.raises(ValueError, match="kappa"):
        compare.least_squares_problem(kappa=0.5)


def test_model_problem_counts_steps_per_epoch():
    from lib.data import load_digits
    from lib.nn import softmax_regression

    s = load_digits(seed=0)
    p = compare.model_problem("softmax", softmax_regression(64, 10), s, epochs=2, batch_size=100, target=0.5)
    run = p.run(optim.sgd(lr=0.1), 0)
    per_epoch = -(-len(s.train) // 100)
    assert list(run.steps) == [per_epoch, 2 * per_epoch]
    assert set(run.metrics) >= {"val_loss", "test_loss", "test_acc"} and not run.diverged
    bad = TINY.run(optim.sgd(lr=1e10), 0)
    assert bad.diverged and bad.metrics["val_loss"] == math.inf and bad.curve[-1] == math.inf


def test_objective_problem_seed_zero_starts_at_the_function_start():
    f = functions.get("saddle")
    p = compare.objective_problem(f, steps=20, jitter=0.1)
    r0, r1 = p.run(optim.sgd(lr=0.1), 0), p.run(optim.sgd(lr=0.1), 1)
    assert np.allclose(r0.metrics["path"][0], f.start)
    assert not np.allclose(r1.metrics["path"][0], f.start)
    assert p.run(optim.sgd(lr=100.0), 0).diverged


@pytest.mark.parametrize(
    "name",
    ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "adamax", "nadam", "radam", "adabelief"],
)
def test_the_optimizers_of_chapters_1_to_5_at_least_halve_the_tiny_loss(name):
    best, _ = compare.tune(TINY, NAMED[name], compare.search_space(4, (1e-3, 1.0)), name=name)
    for seed in (1, 2):
        start = TINY.run(optim.sgd(lr=0.0), seed).metrics["val_loss"]
        assert TINY.run(NAMED[name](best["lr"]), seed).metrics["val_loss"] < 0.5 * start
