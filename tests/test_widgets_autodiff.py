"""Chapter 2's widgets: the finite-difference step size and the graph explorer."""

import math
import re

import numpy as np
import pytest

import lib.widgets as W
from lib.widgets import autodiff as A

DATA_URI = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")


# ---------------------------------------------------------------------------- step size


@pytest.mark.parametrize("precision", A.PRECISIONS)
@pytest.mark.parametrize("method", A.METHODS)
def test_step_size_study_matches_the_quotient_and_the_model(method, precision):
    dtype = np.float64 if precision == "float64" else np.float32
    for h in A.STEPS:
        s = A.step_size_study(h, method, precision)
        expected = np.sin(dtype(1) + dtype(h)) - (
            np.sin(dtype(1)) if method == "forward" else np.sin(dtype(1) - dtype(h))
        )
        expected /= dtype(h) if method == "forward" else dtype(2) * dtype(h)
        assert s.estimate == pytest.approx(float(expected), rel=1e-6)
        assert s.error == pytest.approx(abs(s.estimate - math.cos(1)))
        assert s.eps == np.finfo(dtype).eps
        assert s.truncation + s.roundoff == pytest.approx(float(np.interp(np.log(h), np.log(s.grid), s.model)), rel=0.3)
    s = A.step_size_study(1e-1, method, precision)
    assert s.truncation > s.roundoff and "truncation dominates" in s.summary
    # the error at the predicted best step is within the model's bound
    best = A.step_size_study(min(A.STEPS, key=lambda h: abs(math.log(h / s.h_star))), method, precision)
    assert best.error <= 3 * float(np.min(s.model))


def test_step_size_optimum_and_orders():
    assert A.step_size_study(method="central").h_star == pytest.approx(
        (3 * np.finfo(float).eps * math.tan(1)) ** (1 / 3)
    )
    assert A.step_size_study(method="forward").h_star == pytest.approx(2 * math.sqrt(np.finfo(float).eps))
    # truncation regime: the central error is second order, the forward error first order
    c1, c2 = (A.step_size_study(h, "central").error for h in (1e-1, 1e-2))
    f1, f2 = (A.step_size_study(h, "forward").error for h in (1e-1, 1e-2))
    assert c1 / c2 == pytest.approx(100, rel=0.05) and f1 / f2 == pytest.approx(10, rel=0.1)
    # float32 loses the step below ~1e-8: the quotient is 0
    assert A.step_size_study(1e-10, "forward", "float32").estimate == 0.0
    with pytest.raises(ValueError):
        A.step_size_study(method="backward")
    with pytest.raises(ValueError):
        A.step_size_study(precision="float16")


# ---------------------------------------------------------------------------- graph explorer


def test_graph_steps_forward_then_backward():
    first = A.graph_step(0)
    n = first.n_steps
    t = first.trace
    assert n == len(t.nodes) + len(t.adjoint_rows) == 7 + 9
    assert first.phase == "start" and not first.known
    for k in range(1, 8):
        s = A.graph_step(k)
        assert s.phase == "forward" and len(s.known) == k and not s.adjoints
        assert t.forward_rows[k - 1].label in s.equation
    last = A.graph_step(n)
    assert last.phase == "backward" and len(last.adjoints) == 7
    labels = {id(v): t.labels[id(v)] for v in t.nodes}
    adj = {labels[i]: v for i, v in last.adjoints.items()}
    assert adj["v₋₁"] == pytest.approx(1 / 2 + 5) and adj["v₀"] == pytest.approx(2 - math.cos(5))
    assert adj["v₃"] == -1.0 and adj["v₅"] == 1.0
    assert "5.5000" in last.equation and last.edge is not None
    seed = A.graph_step(8)
    assert "seed" in seed.equation and seed.edge is None
    with pytest.raises(ValueError):
        A.graph_step(n + 1)


def test_graph_layout_puts_parents_left_of_children():
    t = A.worked_example_trace()
    pos = A.graph_layout(t)
    for v in t.nodes:
        for p in v.parents:
            assert pos[id(p)][0] < pos[id(v)][0]
    assert len({pos[id(v)] for v in t.nodes}) == len(t.nodes)  # no two nodes overlap


# ---------------------------------------------------------------------------- static frames, speed


@pytest.mark.parametrize("make, frames", [(A.step_size_widget, 40), (A.graph_explorer_widget, 17)])
def test_frames_fit_the_budget(make, frames):
    w = make()
    assert w.n_frames == frames <= 40
    values = {c.name: c.values[-1] for c in w.controls}
    sizes = [len(W.render_png(w, **values)), len(W.render_png(w))]
    assert max(sizes) < 30_000
    assert w.n_frames * max(sizes) * 1.1 * 4 / 3 < 1_200_000


def test_static_html_of_the_graph_explorer_has_every_frame():
    html = W.static_html(A.graph_explorer_widget())
    assert len(DATA_URI.findall(html)) == 17
    assert len(re.findall(r'<input type="range"', html)) == 1


def test_live_widgets_update():
    pytest.importorskip("ipywidgets")
    box = W.live(A.graph_explorer_widget())
    box.update(step=12)
    assert box.children[-1].value == ""
    box = W.live(A.step_size_widget())
    box.update(h=1e-8, method="forward", precision="float32")
    assert box.children[-1].value == ""
