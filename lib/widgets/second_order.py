r"""Chapter 10's widgets: Newton and its repairs on a 2-D function, and the trust-region step.

* :func:`newton_paths` runs gradient descent, Newton, damped Newton (Levenberg-Marquardt) and a
  dogleg trust region from a chosen start on a test function of :mod:`lib.functions`;
  :func:`newton_widget` picks the function and the start (one of them next to a saddle).
* :func:`trust_region_step` computes, at one point of Rosenbrock's function, the Cauchy point,
  the dogleg path and step, the exact step :math:`-(H + \lambda I)^{-1} g` and its
  :math:`\lambda`, for a radius :math:`\Delta`; :func:`trust_region_widget` moves :math:`\Delta`.

Both are pure and tested in ``tests/test_widgets_second_order.py``.

>>> from lib.widgets import show
>>> show(newton_widget())                 # doctest: +SKIP
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from lib import functions, optim, plotting
from lib.plotting import plain_log_axis
from lib.second_order import newton as nt
from lib.second_order import trust_region as tr
from lib.widgets import Control, Widget, course_style

__all__ = [
    "STARTS",
    "CASES",
    "METHOD_STYLES",
    "NewtonPaths",
    "newton_paths",
    "draw_newton_paths",
    "newton_widget",
    "TrustRegionStep",
    "trust_region_step",
    "draw_trust_region_step",
    "trust_region_widget",
]

#: Start points per function; the saddle function's second start sits next to its saddle.
STARTS = {
    "rosenbrock": {"far (-1.2, 1)": (-1.2, 1.0), "near (0.8, 0.6)": (0.8, 0.6)},
    "himmelblau": {"near the maximum (-0.3, -0.9)": (-0.3, -0.9), "(0, 0)": (0.0, 0.0)},
    "saddle": {"near the saddle (0.5, 0.05)": (0.5, 0.05), "(1.5, 1.2)": (1.5, 1.2)},
}
#: Gradient descent's learning rate per function (stable from the starts above).
GD_LR = {"rosenbrock": 1e-3, "himmelblau": 0.01, "saddle": 0.1}
STEPS = 40
METHOD_STYLES = {
    "gradient descent": {"color": "#000000", "linestyle": ":"},
    "Newton": {"color": "#D55E00", "linestyle": "-"},
    "damped Newton (LM)": {"color": "#0072B2", "linestyle": "-"},
    "trust region (dogleg)": {"color": "#009E73", "linestyle": "--"},
}
CONTOUR_GRID = 60


class NewtonPaths(NamedTuple):
    """What :func:`newton_paths` returns: per method a path ``(k + 1, 2)`` and the gaps
    :math:`f(\\theta_t) - f^\\star` ``(k + 1,)``; ``summary`` says where each ended."""

    function: str
    start: tuple
    paths: dict
    gaps: dict
    summary: str


@functools.cache
def _objective(name: str):
    f = functions.get(name)
    f.value(f.start), f.grad(f.start), f.hessian(f.start)
    return f


def _nearest(f, x) -> str:
    if np.all(np.isfinite(x)) and np.linalg.norm(f.grad(x)) < 1e-6 and np.linalg.eigvalsh(f.hessian(x))[-1] < 0:
        return "a maximum"
    points = [("minimum", m) for m in f.minima] + [("saddle", s) for s in f.saddles]
    kind, p = min(points, key=lambda kp: np.linalg.norm(kp[1] - x))
    return kind if np.linalg.norm(p - x) < 1e-3 else "nowhere yet"


@functools.lru_cache(maxsize=64)
def newton_paths(
    function: str = "rosenbrock", start: str = "far (-1.2, 1)", damping: float = 1.0, steps: int = STEPS
) -> NewtonPaths:
    r"""Paths of GD, Newton, damped Newton and a dogleg trust region from ``start``.

    Damped Newton starts with :math:`\lambda_0 =` ``damping`` and adapts it
    (:func:`lib.second_order.newton.update_damping`); the trust region starts with
    :math:`\Delta_0 = 1/\text{damping}` (a large damping is a small radius). Newton and the
    trust region are :cite:t:`nocedal2006numerical`'s; damping follows :cite:t:`martens2010deep`.
    """
    if function not in STARTS:
        raise ValueError(f"function must be one of {list(STARTS)}, got {function!r}")
    if start not in STARTS[function]:
        raise ValueError(f"start must be one of {list(STARTS[function])}, got {start!r}")
    f = _objective(function)
    x0 = np.array(STARTS[function][start])
    fmin = min(f.value(m) for m in f.minima)
    paths = {
        "gradient descent": optim.run(optim.sgd(lr=GD_LR[function]), f.grad, x0, steps, max_norm=1e3),
        "Newton": nt.newton(f, x0, steps=steps, max_norm=1e3).path,
        "damped Newton (LM)": nt.newton(f, x0, steps=steps, damping=damping, adaptive=True).path,
        "trust region (dogleg)": tr.trust_region(
            f, x0, steps=steps, delta0=1 / damping, delta_max=10.0, method="dogleg"
        ).path,
    }
    gaps = {}
    with np.errstate(over="ignore", invalid="ignore"):
        for k, p in paths.items():
            gaps[k] = np.maximum(np.asarray(f.value(p.T), dtype=float) - fmin, 1e-16)
    summary = "; ".join(f"{k}: {_nearest(f, p[-1])}" for k, p in paths.items())
    return NewtonPaths(function, tuple(x0), paths, gaps, f"after {steps} steps: " + summary)


def draw_newton_paths(data: NewtonPaths, fig) -> None:
    """Contours with the four paths (left) and :math:`f - f^\\star` per step (right)."""
    f = _objective(data.function)
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1]})
    plotting.contour(ax, f, levels=14, n=CONTOUR_GRID)
    for name, p in data.paths.items():
        st = METHOD_STYLES[name]
        plotting.path(ax, p, color=st["color"], markersize=1.5)
        ax2.semilogy(data.gaps[name], label=name, **st)
    ax.set_xlabel("θ₁")
    ax.set_ylabel("θ₂", labelpad=0)
    ax2.set_xlabel("step t")
    ax2.set_ylabel("f(θ_t) − f*")
    plain_log_axis(ax2.yaxis, numticks=4)
    ax2.legend(fontsize="x-small", frameon=False, loc="lower left")
    fig.suptitle(data.summary.replace("; ", ";\n", 1) if len(data.summary) > 90 else data.summary, fontsize="x-small")
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.84, wspace=0.28)


#: The widget's cases: "function: start" for every start of :data:`STARTS`.
CASES = tuple(f"{f}: {st}" for f, starts in STARTS.items() for st in starts)


def _newton_frame(case: str = CASES[0]) -> NewtonPaths:
    function, start = case.split(": ", 1)
    return newton_paths(function, start)


def newton_widget() -> Widget:
    """One slider over the function and start pairs of :data:`STARTS` (6 frames), with
    λ₀ = 1 and Δ₀ = 1; call :func:`newton_paths` for other dampings. The six cases are computed
    here, once (cached), so that a slider move only draws."""
    for case in CASES:
        _newton_frame(case)
    return Widget(
        compute=_newton_frame,
        draw=draw_newton_paths,
        controls=(Control("case", CASES, "function: start", default=CASES[0], fmt="{}"),),
        figsize=(7.5, 3.4),
        title="Newton, damped Newton and a trust region against gradient descent",
        style=course_style(),
    )


# --------------------------------------------------------------------------------------------
# 2. The trust-region step

TR_POINT = (-0.5, 0.1)
RADII = (0.02, 0.05, 0.1, 0.2, 0.4, 0.8)


class TrustRegionStep(NamedTuple):
    """What :func:`trust_region_step` returns (all steps relative to the point ``x``)."""

    x: tuple
    delta: float
    newton: np.ndarray
    cauchy: np.ndarray
    dogleg: np.ndarray
    dogleg_path: np.ndarray
    exact: np.ndarray
    lam: float
    curve: np.ndarray  # the exact steps for a range of radii (the path of δ(λ))
    radii: np.ndarray  # those radii
    lams: np.ndarray  # and their λ
    summary: str


@functools.lru_cache(maxsize=64)
def trust_region_step(delta: float = 0.05, x: tuple = TR_POINT) -> TrustRegionStep:
    r"""The subproblem's solutions at ``x`` on Rosenbrock's function for radius ``delta``.

    :math:`\lambda` is the damping whose step :math:`-(H + \lambda I)^{-1} g` has length
    :math:`\Delta` (:func:`lib.second_order.trust_region.lambda_for_radius`)
    :cite:p:`nocedal2006numerical`.
    """
    f = _objective("rosenbrock")
    g, H = f.grad(np.array(x)), f.hessian(np.array(x))
    lam = tr.lambda_for_radius(g, H, delta)
    radii = np.geomspace(0.005, 2.0, 40)
    lams = np.array([tr.lambda_for_radius(g, H, d) for d in radii])
    curve = np.array([tr.step_for_lambda(g, H, l) for l in lams])
    newton = -np.linalg.solve(H, g)
    dl = tr.dogleg(g, H, delta) if np.linalg.eigvalsh(H)[0] > 0 else tr.exact_step(g, H, delta)
    path = tr.dogleg_path(g, H) if np.linalg.eigvalsh(H)[0] > 0 else np.zeros((1, 2))
    m = lambda p: float(g @ p + 0.5 * p @ H @ p)
    ex, cp = tr.exact_step(g, H, delta), tr.cauchy_point(g, H, delta)
    summary = (
        f"Δ = {delta:g}: λ = {lam:.3g};  model decrease: Cauchy {-m(cp):.3g}, dogleg {-m(dl):.3g}, exact {-m(ex):.3g}"
    )
    return TrustRegionStep(x, delta, newton, cp, dl, path, ex, lam, curve, radii, lams, summary)


def draw_trust_region_step(data: TrustRegionStep, fig) -> None:
    """The model's contours around ``x``, the ball, the dogleg path and the steps."""
    f = _objective("rosenbrock")
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.2, 1]})
    x = np.array(data.x)
    g, H = f.grad(x), f.hessian(x)
    w = 1.15 * max(np.abs(data.newton).max(), data.delta)
    s = np.linspace(-w, w, 50)
    P1, P2 = np.meshgrid(s, s)
    M = g[0] * P1 + g[1] * P2 + 0.5 * (H[0, 0] * P1**2 + 2 * H[0, 1] * P1 * P2 + H[1, 1] * P2**2)
    ax.contour(
        P1, P2, M, levels=np.linspace(M.min(), M.min() + 0.6 * (M.max() - M.min()), 14), colors="0.75", linewidths=0.7
    )
    t = np.linspace(0, 2 * np.pi, 100)
    ax.plot(data.delta * np.cos(t), data.delta * np.sin(t), color="0.3", linewidth=1)
    ax.plot(data.curve[:, 0], data.curve[:, 1], color="#CC79A7", linewidth=1, label="exact steps δ(λ), all Δ")
    ax.plot(
        data.dogleg_path[:, 0],
        data.dogleg_path[:, 1],
        color="#009E73",
        linestyle="--",
        linewidth=1.2,
        label="dogleg path",
    )
    for p, lab, c, mk in (
        (data.newton, "Newton step", "#D55E00", "s"),
        (data.cauchy, "Cauchy point", "#000000", "o"),
        (data.dogleg, "dogleg step", "#009E73", "D"),
        (data.exact, "exact step", "#0072B2", "*"),
    ):
        ax.plot(*p, marker=mk, color=c, linestyle="none", markersize=7 if mk == "*" else 5, label=lab)
    ax.plot(0, 0, marker="+", color="black", markersize=8)
    ax.set(xlim=(-w, w), ylim=(-w, w), aspect="equal")
    ax.set_xlabel("δ₁")
    ax.set_ylabel("δ₂", labelpad=0)
    ax.legend(fontsize="xx-small", frameon=False, loc="lower right")
    ax.grid(False)
    radii, lams = data.radii, data.lams
    pos = lams > 0
    ax2.loglog(radii[pos], lams[pos], color="#0072B2")
    floor = lams[pos].min() / 3
    ax2.plot(radii[~pos], np.full((~pos).sum(), floor), color="#0072B2", linestyle=":")
    ax2.plot(data.delta, max(data.lam, floor), marker="*", color="#0072B2", markersize=9)
    ax2.axvline(np.linalg.norm(data.newton), color="#D55E00", linestyle=":", linewidth=1)
    ax2.text(
        np.linalg.norm(data.newton),
        lams.max() / 2,
        " ‖Newton step‖:\n λ = 0 beyond",
        color="#D55E00",
        fontsize="x-small",
    )
    plain_log_axis(ax2.yaxis, numticks=4)
    ax2.set_xlabel("radius Δ")
    ax2.set_ylabel("λ with ‖δ(λ)‖ = Δ")
    plain_log_axis(ax2.xaxis, numticks=4)
    fig.suptitle(data.summary, fontsize="x-small")
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.9, wspace=0.3)


def trust_region_widget() -> Widget:
    """The radius Δ over :func:`trust_region_step` (6 frames)."""
    return Widget(
        compute=trust_region_step,
        draw=draw_trust_region_step,
        controls=(Control("delta", RADII, "radius Δ", default=0.05),),
        figsize=(7.5, 3.4),
        title=f"The trust-region subproblem at {TR_POINT} on Rosenbrock's function",
        style=course_style(),
    )
