"""Chapter 12's widgets: the race, seed bands and the performance-profile slider (pure computes)."""

import doctest
import math
import time

import numpy as np
import pytest

import lib.widgets as W
from lib import compare
from lib.widgets import compare as C


def test_doctests():
    assert doctest.testmod(C).failed == 0


def test_race_tunes_every_optimizer_with_the_same_budget_and_paths_start_at_the_start():
    r = C.race("saddle")
    assert set(r.lrs) == set(C.RACE_ALL)
    for name in C.RACE_ALL:
        grid = set(np.round(compare.lr_grid(C.RACE_BUDGET, *C.RACE_LR_RANGES.get(name, C.RACE_LR_RANGE)), 12))
        assert round(r.lrs[name], 12) in grid
        assert np.allclose(r.paths[name][0], (1.5, 0.01))
        tuning = [row for row in r.rows if row["optimizer"] == name and row["phase"] == "tune"]
        final = [row for row in r.rows if row["optimizer"] == name and row["phase"] == "final"]
        assert len(tuning) == C.RACE_BUDGET and len(final) == C.RACE_SEEDS
        best = min(tuning, key=lambda row: row["val_loss"])
        assert best["lr"] == r.lrs[name]
    with pytest.raises(ValueError, match="function"):
        C.race("himmelblau")
    with pytest.raises(ValueError, match="unknown optimizers"):
        C.race("saddle", ("adamm",))


def test_every_named_optimizer_races_or_is_excluded_with_a_reason():
    named = set(compare.named_optimizers())
    assert set(C.RACE_ALL) | set(C.RACE_EXCLUDED) == named
    assert not set(C.RACE_ALL) & set(C.RACE_EXCLUDED)
    assert all(C.RACE_EXCLUDED.values())
    assert set().union(*C.RACE_GROUPS.values()) == set(C.RACE_ALL)
    assert set(C.RACE_ALL) <= set(C.STYLES)  # every contestant has a style of its own
    styles = [tuple(sorted(C.STYLES[n].items())) for n in C.RACE_GROUPS["chapters 7-11"]]
    assert len(set(styles)) == len(styles)
    with pytest.raises(ValueError, match="refuses|2D|matri"):
        from lib import optim

        optim.run(optim.muon(), lambda x: x, np.ones(2), 1)


def test_race_frame_cuts_the_paths_at_t():
    frame = C.race_frame("ravine", 10)
    assert frame.t == 10 and frame.group == "chapters 1-6"
    with pytest.raises(ValueError, match="t must be"):
        C.race_frame("ravine", C.RACE_STEPS + 1)
    with pytest.raises(ValueError, match="group must be"):
        C.race_frame("ravine", 10, "chapters 99")


def _rows():
    rows, _ = C.default_rows()
    return list(rows)


def test_seed_bands_are_quartiles_of_the_kept_curves():
    rows = _rows()
    problem = rows[0]["problem"]
    bands = C.seed_bands(rows, problem, ("sgd", "adam"))
    finals = [r for r in rows if r["problem"] == problem and r["optimizer"] == "adam" and r["phase"] == "final"]
    curves = np.array([r["curve"] for r in finals])
    assert np.allclose(bands.median["adam"], np.percentile(curves, 50, axis=0, method="lower"))
    assert np.all(bands.q25["adam"] <= bands.median["adam"]) and np.all(bands.median["adam"] <= bands.q75["adam"])
    assert bands.n["adam"] == len(finals)
    with pytest.raises(ValueError, match="no final rows"):
        C.seed_bands(rows, "no such problem", ("sgd",))
    stripped = [{k: v for k, v in r.items() if k != "curve"} for r in rows]
    with pytest.raises(ValueError, match="keep_curves"):
        C.seed_bands(stripped, problem, ("sgd",))


def test_profile_at_agrees_with_the_profile():
    costs = {"a": {"p": 1.0, "q": 3.0}, "b": {"p": 2.0, "q": 1.0}, "c": {"p": math.inf, "q": 1.5}}
    data = C.profile_at(costs, 2.0)
    assert data.rho == {"a": 0.5, "b": 1.0, "c": 0.5}
    assert data.n_problems == 2
    assert np.all(np.diff(data.profile["a"]) >= 0)


@pytest.mark.parametrize("make", [C.race_widget, C.seed_band_widget, C.profile_widget])
def test_widget_compute_is_fast_after_warm_up(make):
    widget = make()
    W.render_png(widget, quantize=False)  # warm-up: runs and caches the experiments
    for control in widget.controls:
        for value in control.values:
            start = time.perf_counter()
            widget.compute(**{**widget.defaults, control.name: value})
            assert time.perf_counter() - start < 0.05, (widget.title, control.name, value)


def test_static_frames_change_with_the_controls():
    widget = C.profile_widget()
    a = W.render_png(widget, tau=1.0)
    b = W.render_png(widget, tau=10.0)
    assert a != b


def test_seed_band_update_rescales_to_a_smaller_range():
    """static_frames meets the groups in an order whose ranges only grow; the other way round,
    an update that kept the old data limits would leave the axes too wide."""
    widget = C.seed_band_widget()
    big = widget.compute(problem="ravine", group="Adam family")
    small = widget.compute(problem="ravine", group="SGD family")
    with W._rendering(widget):
        fig = W.new_figure(widget)
        widget.draw(big, fig)
        widget.update(small, fig)
        reused = W._png(fig, 72, quantize=True)
    assert reused == W.render_png(widget, problem="ravine", group="SGD family")
