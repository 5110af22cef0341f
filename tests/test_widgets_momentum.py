"""Chapter 4's widgets: momentum on a quadratic (with iteration-matrix eigenvalues) and
momentum against Nesterov on Rosenbrock."""

import doctest
import math
import re

import numpy as np
import pytest

import lib.widgets as W
from lib.theory import quadratic_rates
from lib.widgets import momentum as WM

DATA_URI = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")


def test_doctests():
    result = doctest.testmod(WM)
    assert result.failed == 0 and result.attempted > 0


# ---------------------------------------------------------------------------- quadratic


@pytest.mark.parametrize("eta_lambda_max", WM.ETA_LAMBDA_MAX)
@pytest.mark.parametrize("mu", WM.MOMENTA)
def test_quadratic_run_matches_theory(eta_lambda_max, mu):
    run = WM.momentum_quadratic_run(eta_lambda_max, mu)
    lam = run.eigenvalues
    assert np.allclose(lam, [1.0, WM.KAPPA])
    assert run.lr == pytest.approx(eta_lambda_max / WM.KAPPA)
    assert run.predicted_rate == pytest.approx(float(np.abs(run.roots).max()))
    assert run.predicted_rate == pytest.approx(quadratic_rates.momentum_contraction_factor(run.lr, mu, lam))
    # every root is an eigenvalue of the iteration matrix of its eigen-direction
    for i in range(2):
        A = quadratic_rates.momentum_iteration_matrix(run.lr, mu, lam[i])
        assert np.allclose(np.sort_complex(np.linalg.eigvals(A)), np.sort_complex(run.roots[i]))
    stable = eta_lambda_max < 2 + 2 * mu
    assert run.converges == stable
    assert ("diverges" in run.summary) == (eta_lambda_max > 2 + 2 * mu)
    if stable and run.predicted_rate < 0.95:
        # 80 steps: a polynomial factor near critical damping, so a loose tolerance
        assert run.measured_rate == pytest.approx(run.predicted_rate, rel=0.04)
    assert run.gd_rate == pytest.approx(quadratic_rates.contraction_factor(run.lr, lam))
    assert not run.path.flags.writeable


def test_quadratic_optimum_is_on_the_grid_and_beats_gd():
    run = WM.momentum_quadratic_run(WM.ETA_LAMBDA_MAX[2], WM.MOMENTA[2])
    k = WM.KAPPA
    assert run.predicted_rate == pytest.approx((math.sqrt(k) - 1) / (math.sqrt(k) + 1), rel=1e-6)
    best_gd = quadratic_rates.optimal_rate(k)
    assert run.measured_rate < best_gd
    # complex roots lie on the circle of radius √μ
    run = WM.momentum_quadratic_run(1.0, 0.9)
    assert np.allclose(np.abs(run.roots), math.sqrt(0.9))


def test_quadratic_labels_mark_the_optimum():
    w = WM.quadratic_momentum_widget()
    labels = [c.labels for c in w.controls]
    assert sum("optimal" in s for s in labels[0]) == 1 and sum("optimal" in s for s in labels[1]) == 1


# ---------------------------------------------------------------------------- rosenbrock


def test_rosenbrock_runs():
    run = WM.nesterov_rosenbrock_run(1e-3, 0.95)
    assert set(run.paths) == {"momentum", "Nesterov"}
    for name in run.paths:
        assert run.paths[name].shape == (WM.ROSENBROCK_STEPS + 1, 2)
        assert np.array_equal(run.paths[name][0], [-1.2, 1.0])
    assert run.final["Nesterov"] < run.final["momentum"]
    # above Nesterov's stability limit near the minimum (λ_max ≈ 1002): it diverges, momentum does not
    run = WM.nesterov_rosenbrock_run(2e-3, 0.95)
    assert math.isinf(run.final["Nesterov"]) and math.isfinite(run.final["momentum"])
    assert "diverges" in run.summary


# ---------------------------------------------------------------------------- static form and speed


@pytest.mark.parametrize("make", [WM.quadratic_momentum_widget, WM.rosenbrock_nesterov_widget])
def test_frames_fit_the_budget(make):
    w = make()
    assert w.n_frames <= 40
    sizes = [len(W.render_png(w, **{c.name: c.values[i] for c in w.controls})) for i in (0, -1)]
    sizes.append(len(W.render_png(w)))
    assert w.n_frames * max(sizes) * 1.1 * 4 / 3 < 1_250_000


def test_static_html_has_every_frame():
    w = WM.rosenbrock_nesterov_widget()
    html = W.static_html(w)
    assert len(DATA_URI.findall(html)) == w.n_frames == 15


def test_live_widgets_update():
    pytest.importorskip("ipywidgets")
    box = W.live(WM.quadratic_momentum_widget())
    box.update(eta_lambda_max=3.5, mu=0.0)
    assert box.children[-1].value == ""
