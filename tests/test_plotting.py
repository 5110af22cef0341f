"""lib.plotting: every helper draws on an Agg figure without a single warning."""

import importlib
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import lib.functions as F  # noqa: E402
import lib.plotting as P  # noqa: E402

pytestmark = pytest.mark.filterwarnings("error")  # any warning fails, drawing included


@pytest.fixture
def ax():
    """A fresh axes, rendered after the test (warnings while drawing count too)."""
    fig, ax = P.figure()
    yield ax
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.canvas.draw()
    plt.close(fig)


def test_import_changes_no_rcparams_and_apply_style_does():
    before = dict(matplotlib.rcParams)
    importlib.reload(P)
    assert dict(matplotlib.rcParams) == before
    with matplotlib.rc_context():
        P.apply_style()
        assert matplotlib.rcParams["axes.spines.top"] is False
        assert matplotlib.rcParams["figure.dpi"] == 100
        assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"] == list(P.COLORS)
    assert dict(matplotlib.rcParams) == before


def test_figure_sizes():
    fig, axes = P.figure(3, 2)
    assert axes.shape == (2, 3) and tuple(fig.get_size_inches()) == (10.0, 6.4)
    fig2, _ = P.figure(width=4, height=3)
    assert tuple(fig2.get_size_inches()) == (4, 3)
    plt.close("all")


@pytest.mark.parametrize("name", F.FUNCTIONS)
@pytest.mark.parametrize("log, filled", [(True, False), (False, True)])
def test_contour_marks_minima_and_saddles(ax, name, log, filled):
    f = F.get(name)
    cs = P.contour(ax, f, n=60, log=log, filled=filled)
    assert len(cs.levels) >= 20
    assert ax.get_xlim() == f.xlim and ax.get_xlabel() == r"$\theta_1$"
    markers = [line.get_marker() for line in ax.get_lines()]
    inside = [m for m in f.minima if f.xlim[0] <= m[0] <= f.xlim[1]]
    assert markers.count("*") == len(inside) and markers.count("X") == len(f.saddles)


def test_contour_log_levels_span_orders_of_magnitude(ax):
    cs = P.contour(ax, F.rosenbrock(), n=80, levels=20)
    gaps = np.diff(np.log(cs.levels))  # f_min = 0: the levels are geometric
    assert cs.levels[-1] / cs.levels[0] > 1e3 and np.allclose(gaps, gaps[0])


def test_contour_options(ax):
    cs = P.contour(ax, F.quadratic(kappa=5), xlim=(-1, 1), ylim=(-0.5, 0.5), levels=[0.1, 1], minima=False)
    assert list(cs.levels) == [0.1, 1] and ax.get_lines() == []
    P.contour(ax, F.quadratic(hessian=np.zeros((2, 2))), n=20)  # a constant function


def test_path_marks_start_and_end(ax):
    line = P.path(ax, [[0.0, 0.0], [1.0, 0.5], [2.0, 1.0]], label="gd")
    assert line.get_label() == "gd" and len(line.get_xdata()) == 3
    start, end = ax.get_lines()[1:]
    assert start.get_markerfacecolor() == "none" and end.get_xdata()[0] == 2.0
    ax.legend()


def test_path_single_point_and_diverging(ax):
    P.path(ax, [[0.5, 0.5]])
    P.path(ax, np.array([0.5, 0.5]), start=False, end=False)
    line = P.path(ax, [[0.0, 0.0], [1.0, 2.0], [1e150, -1e150], [np.inf, np.nan], [0.0, 1.0]])
    assert len(line.get_xdata()) == 3  # stops at the first non-finite row
    assert P.path(ax, [[np.nan, 0.0]]) is None


def test_path_on_contour_keeps_the_window(ax):
    f = F.beale()
    P.contour(ax, f, n=40)
    P.path(ax, [f.start, [100.0, -100.0], [np.inf, np.inf]], color=P.COLORS[1])
    assert ax.get_xlim() == f.xlim


def test_loss_curve(ax):
    line = P.loss_curve(ax, [10.0, 1.0, 0.1, 0.0, -1.0, np.inf, np.nan, 1e-3], label="gd")
    assert ax.get_yscale() == "log" and np.isnan(line.get_ydata()[3:7]).all()
    P.loss_curve(ax, [0.0, 0.0])  # nothing positive: no warning
    P.loss_curve(ax, np.geomspace(1, 1e-6, 5), steps=[0, 10, 20, 30, 40], color="k")
    assert ax.get_xlabel() == "step $t$"


def test_loss_curve_linear(ax):
    line = P.loss_curve(ax, [1.0, -2.0, 0.0], logy=False, ylabel="loss")
    assert ax.get_yscale() == "linear" and list(line.get_ydata()) == [1.0, -2.0, 0.0]


@pytest.mark.parametrize(
    "lims, labels",
    [
        ((0.04, 0.3), ["0.05", "0.1", "0.2"]),  # under two decades: 1, 2, 5 × 10^k
        ((1e-4, 50.0), ["10⁻⁴", "10⁻³", "10⁻²", "10⁻¹", "10⁰", "10¹"]),  # longer: the decades
    ],
)
def test_plain_log_axis_labels_short_and_long_axes_in_plain_text(lims, labels):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from lib.plotting import plain_log_axis

    fig = Figure()
    ax = fig.subplots()
    ax.set_yscale("log")
    ax.set_ylim(*lims)
    plain_log_axis(ax.yaxis)
    FigureCanvasAgg(fig).draw()
    lo, hi = lims
    shown = [t.label1.get_text() for t in ax.yaxis.get_major_ticks() if lo <= t.get_loc() <= hi]
    assert shown == labels
    assert ax.yaxis.get_minor_locator().tick_values(lo, hi) == []  # no minor ticks
    assert not any("$" in s for s in shown)  # no mathtext
