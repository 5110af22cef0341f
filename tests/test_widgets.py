"""lib.widgets: the framework (mode, live, static scrubber) and chapter 01's two widgets."""

import re

import numpy as np
import pytest

import lib.widgets as W
from lib.widgets import Control, Widget
from lib.widgets import gradient_descent as GD

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DATA_URI = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")


# ---------------------------------------------------------------------------- a tiny widget


def _line_compute(slope=1.0, shift=0):
    x = np.linspace(0, 1, 5)
    return x, slope * x + shift


def _line_draw(data, fig):
    ax = fig.subplots()
    ax.plot(*data)
    ax.set_ylim(-1, 4)


def tiny_widget():
    return Widget(
        _line_compute,
        _line_draw,
        (Control("slope", (0.5, 1.0, 2.0), "slope", default=1.0), Control("shift", (0, 1), "shift", default=0)),
        figsize=(2, 1.5),
        title="a line",
    )


# ---------------------------------------------------------------------------- controls


def test_control_validates_default_and_formats_values():
    with pytest.raises(ValueError, match="default"):
        Control("lr", (0.1, 0.2), "η", default=0.3)
    with pytest.raises(ValueError, match="repeated"):
        Control("lr", (0.1, 0.1), "η", default=0.1)
    c = Control("start", ((-1.5, 2.0), (0.0, -0.5)), "start", default=(0.0, -0.5), fmt="({0[0]:g}, {0[1]:g})")
    assert c.labels == ("(-1.5, 2)", "(0, -0.5)") and c.default_index == 1


def test_widget_values_rejects_unknown_and_off_grid():
    w = tiny_widget()
    assert w.values(shift=1) == {"slope": 1.0, "shift": 1}
    with pytest.raises(TypeError, match="unknown control"):
        w.values(slop=1.0)
    with pytest.raises(ValueError, match="grid"):
        w.values(slope=3.0)
    assert w.n_frames == 6


# ---------------------------------------------------------------------------- mode


def test_mode_respects_environment_variable(monkeypatch):
    monkeypatch.setenv("DESCENT_WIDGETS", "static")
    assert W.mode() == "static"
    monkeypatch.setenv("DESCENT_WIDGETS", "live")
    assert W.mode() == "live"
    monkeypatch.setenv("DESCENT_WIDGETS", "sttic")
    with pytest.raises(ValueError, match="DESCENT_WIDGETS"):
        W.mode()


def test_mode_falls_back_to_static_outside_a_kernel(monkeypatch):
    monkeypatch.delenv("DESCENT_WIDGETS", raising=False)
    assert W.mode() == "static"  # pytest is not an IPython kernel
    monkeypatch.setattr(W, "_in_kernel", lambda: True)
    assert W.mode() == "live"
    monkeypatch.setattr(W, "_have_ipywidgets", lambda: False)
    assert W.mode() == "static"


def test_show_displays_the_static_form_when_asked(monkeypatch):
    shown = []
    monkeypatch.setenv("DESCENT_WIDGETS", "static")
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    W.show(tiny_widget())
    assert len(shown) == 1 and '<input type="range"' in shown[0].data


# ---------------------------------------------------------------------------- static form


def test_render_png_returns_png_bytes():
    png = W.render_png(tiny_widget(), slope=2.0)
    assert png.startswith(PNG_MAGIC)
    assert png != W.render_png(tiny_widget(), slope=0.5)


def test_static_html_structure():
    w = tiny_widget()
    html = W.static_html(w)
    assert html.count("<img") == 1
    assert len(DATA_URI.findall(html)) == w.n_frames  # one frame per combination
    ranges = re.findall(r'<input type="range"[^>]*>', html)
    assert len(ranges) == len(w.controls)
    for tag, control in zip(ranges, w.controls):
        assert 'min="0"' in tag and f'max="{len(control.values) - 1}"' in tag
        assert f'value="{control.default_index}"' in tag
    assert "Static preview: 6 precomputed frames." in html
    without_data = DATA_URI.sub("", html)
    assert "http" not in without_data and "<link" not in without_data
    assert 'src="data:image/png;base64,' in html  # the image works without JS


def test_static_html_ids_are_unique_per_call():
    w = tiny_widget()
    ids = [set(re.findall(r'id="([^"]+)"', W.static_html(w))) for _ in range(2)]
    assert ids[0] and ids[1] and not ids[0] & ids[1]


def _reusing_widgets():
    """Every course widget whose static form reuses figures (``update`` and ``reuse_key``)."""
    import importlib
    import inspect
    import pkgutil

    out = []
    for info in pkgutil.iter_modules(W.__path__):
        module = importlib.import_module(f"lib.widgets.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if name.endswith("_widget") and fn.__module__ == module.__name__ and "update=" in inspect.getsource(fn):
                out.append(fn)
    return out


REUSING = _reusing_widgets()


def test_some_widgets_reuse_figures():
    found = {f"{f.__module__.rsplit('.', 1)[-1]}.{f.__name__}" for f in REUSING}
    assert found >= {
        "adaptive.effective_step_widget",
        "beyond_adam.newton_schulz_widget",
        "adaptive.race_widget",
        "autodiff.step_size_widget",
        "compare.profile_widget",
        "compare.race_widget",
        "compare.seed_band_widget",
        "gradient_descent.quadratic_learning_rate_widget",
        "gradient_descent.rosenbrock_widget",
        "momentum.quadratic_momentum_widget",
        "momentum.rosenbrock_nesterov_widget",
        "regularization.dropout_widget",
        "schedules.clipping_widget",
        "schedules.schedule_designer_widget",
        "sgd.batch_noise_widget",
        "sgd.digits_widget",
    }


@pytest.mark.parametrize("make", REUSING, ids=lambda f: f"{f.__module__.rsplit('.', 1)[-1]}.{f.__name__}")
def test_a_reused_figure_gives_the_frames_of_new_ones(make):
    """static_frames draws each reuse_key once and updates it; every frame must be the PNG that
    draw makes on a new figure (render_png), byte for byte."""
    import itertools

    widget = make()
    names = [c.name for c in widget.controls]
    fresh = [
        W.render_png(widget, **dict(zip(names, combo)))
        for combo in itertools.product(*(c.values for c in widget.controls))
    ]
    reused = list(W.static_frames(widget))
    keys = {
        widget.reuse_key(widget.compute(**widget.values(**dict(zip(names, c)))))
        for c in itertools.product(*(c.values for c in widget.controls))
    }
    assert len(keys) < len(fresh)  # some frames do share a figure
    assert [i for i, (a, b) in enumerate(zip(fresh, reused)) if a != b] == []


def test_update_and_reuse_key_go_together():
    with pytest.raises(ValueError, match="update and reuse_key"):
        Widget(_line_compute, _line_draw, (Control("slope", (1.0,), "slope", default=1.0),), update=_line_draw)


def test_a_wrong_update_is_caught():
    """The check above fails for an update that leaves part of the old frame (here: all of it)."""

    def stale(data, fig):
        pass

    w = Widget(
        _line_compute,
        _line_draw,
        (Control("slope", (0.5, 2.0), "slope", default=0.5),),
        figsize=(2, 1.5),
        update=stale,
        reuse_key=lambda data: "one figure",
    )
    frames = list(W.static_frames(w))
    assert frames[0] == W.render_png(w, slope=0.5) and frames[1] != W.render_png(w, slope=2.0)


@pytest.mark.parametrize("make", [GD.quadratic_learning_rate_widget, GD.rosenbrock_widget])
def test_chapter01_frames_fit_the_budget(make):
    w = make()
    values = {c.name: c.values[-1] for c in w.controls}  # the largest-η frame
    sizes = [len(W.render_png(w, **values)), len(W.render_png(w))]
    assert max(sizes) < 30_000
    # The whole scrubber (rendering it takes seconds), estimated from two frames with a 10%
    # margin; base64 is 4/3 of the bytes.
    assert w.n_frames * max(sizes) * 1.1 * 4 / 3 < 1_200_000


# ---------------------------------------------------------------------------- live form


def test_live_builds_one_slider_per_control_and_redraws():
    pytest.importorskip("ipywidgets")
    w = tiny_widget()
    box = W.live(w)
    assert list(box.sliders) == ["slope", "shift"]
    image = next(c for c in box.children if type(c).__name__ == "Image")
    first = bytes(image.value)
    assert first.startswith(PNG_MAGIC)
    box.update(slope=2.0, shift=1)
    assert box.sliders["slope"].value == 2.0 and bytes(image.value) != first
    box.sliders["slope"].value = 1.0  # what a reader's drag does
    box.sliders["shift"].value = 0
    assert bytes(image.value) == first  # back to the default frame
    with pytest.raises(ValueError):
        box.update(slope=3.0)


def test_live_shows_errors_instead_of_raising():
    pytest.importorskip("ipywidgets")

    def compute(x=1):
        if x == 2:
            raise RuntimeError("boom")
        return x

    w = Widget(
        compute, lambda d, fig: fig.subplots().plot([d, d]), (Control("x", (1, 2), "x", default=1),), figsize=(2, 1.5)
    )
    box = W.live(w)
    box.sliders["x"].value = 2
    assert "boom" in box.children[-1].value


def test_chapter01_live_widgets_update():
    pytest.importorskip("ipywidgets")
    box = W.live(GD.quadratic_learning_rate_widget())
    box.update(kappa=50, eta_lambda_max="optimal")
    assert box.children[-1].value == ""


# ---------------------------------------------------------------------------- quadratic


def test_quadratic_run_shapes():
    run = GD.quadratic_run(kappa=10, eta_lambda_max=1.0)
    k = GD.QUADRATIC_STEPS
    assert run.path.shape == (k + 1, 2) and run.losses.shape == (k + 1,)
    assert run.eigenvalues.shape == (2,)
    assert np.allclose(run.eigenvalues, [1.0, 10.0])
    assert run.lr == pytest.approx(0.1)
    assert not run.path.flags.writeable  # safe to cache and share


@pytest.mark.parametrize("kappa", GD.KAPPAS)
@pytest.mark.parametrize("eta_lambda_max", GD.ETA_LAMBDA_MAX)
def test_quadratic_measured_rate_matches_theory(kappa, eta_lambda_max):
    run = GD.quadratic_run(kappa=kappa, eta_lambda_max=eta_lambda_max)
    lam_min, lam_max = run.eigenvalues
    assert run.predicted_rate == pytest.approx(max(abs(1 - run.lr * lam_min), abs(1 - run.lr * lam_max)))
    assert run.measured_rate == pytest.approx(run.predicted_rate, rel=0.03)
    assert run.diverged == (run.eta_lambda_max > 2)
    assert ("diverges" in run.summary) == run.diverged
    if not run.diverged:
        assert f"{run.measured_rate:.3f}" in run.summary
        assert np.all(np.diff(run.losses) <= 1e-12)  # a convex quadratic: f decreases


def test_quadratic_optimal_rate_is_kappa_formula():
    for kappa in GD.KAPPAS:
        run = GD.quadratic_run(kappa=kappa, eta_lambda_max="optimal")
        assert run.optimal and run.lr == pytest.approx(2 / (1 + kappa))
        assert run.predicted_rate == pytest.approx((kappa - 1) / (kappa + 1))
        assert "optimal" in run.summary
    with pytest.raises(ValueError):
        GD.quadratic_run(eta_lambda_max="best")


def test_quadratic_divergent_and_oscillating_are_flagged():
    run = GD.quadratic_run(kappa=10, eta_lambda_max=2.05)
    assert run.diverged and run.measured_rate > 1 and run.losses[-1] > run.losses[0]
    assert "diverges" in run.summary
    assert "oscillates" in GD.quadratic_run(kappa=10, eta_lambda_max=1.9).summary
    assert "oscillates" not in GD.quadratic_run(kappa=10, eta_lambda_max=0.5).summary


def test_quadratic_run_is_deterministic():
    a, b = GD.quadratic_run(kappa=25, eta_lambda_max=1.5), GD.quadratic_run(kappa=25, eta_lambda_max=1.5)
    assert np.array_equal(a.path, b.path) and a.summary == b.summary


# ---------------------------------------------------------------------------- rosenbrock


def test_rosenbrock_run_shapes():
    run = GD.rosenbrock_run(lr=1e-3, start=(-1.0, 0.5))
    k = GD.ROSENBROCK_STEPS
    assert run.path.shape == (k + 1, 2) and run.losses.shape == (k + 1,)
    assert np.array_equal(run.path[0], [-1.0, 0.5]) and run.start.shape == (2,)
    assert run.outcome in ("converged", "crawling", "bouncing", "diverged")


def test_rosenbrock_small_lr_decreases_f_monotonically():
    for start in GD.ROSENBROCK_STARTS:
        run = GD.rosenbrock_run(lr=1e-4, start=start)
        assert np.all(np.diff(run.losses) <= 0), start
        assert run.outcome == "crawling" and "crawling" in run.summary


def test_rosenbrock_outcomes():
    run = GD.rosenbrock_run(lr=3e-3, start=(-1.5, 2.0))
    assert run.outcome == "diverged" and run.diverged_at == len(run.path) - 1
    assert f"diverged at step {run.diverged_at}" in run.summary
    run = GD.rosenbrock_run(lr=1.9e-3, start=(1.5, 1.5))
    assert run.outcome == "converged" and run.distance < GD.CONVERGED_WITHIN
    assert GD.rosenbrock_run(lr=3e-3, start=(1.5, 1.5)).outcome == "bouncing"


# ---------------------------------------------------------------------------- speed


def test_clear_curves_keeps_the_first_lines_and_rescales_on_request():
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    ax.plot([0, 1], [0, 1], label="kept")
    ax.plot([0, 10], [0, 10], label="a run")
    ax.legend()
    ax.set_xlim(-1, 2)
    W.clear_curves(ax, keep=1, rescale=False)
    assert [line.get_label() for line in ax.lines] == ["kept"]
    assert ax.get_legend() is None and ax.get_xlim() == (-1, 2)  # limits set by the caller stay
    W.clear_curves(ax)
    assert len(ax.lines) == 0
    (line,) = ax.plot([0, 5], [0, 5])
    assert ax.get_xlim()[1] < 6  # scaled to the new line alone, not to the removed ones
    (first,) = Figure().subplots().plot([0, 1])
    assert line.get_color() == first.get_color()  # the colour cycle started again
