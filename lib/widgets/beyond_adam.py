r"""Chapter 11's widgets: Newton–Schulz on singular values, and Lion's vs Adam's update sizes.

* :func:`newton_schulz_spectrum` runs :func:`lib.optim.newton_schulz` on a fixed matrix whose
  singular values span several decades, and returns its singular values before and after
  :math:`k` steps, with the scalar map :math:`\sigma \mapsto p^{\circ k}(\sigma)` that the
  iteration applies to each of them; :func:`newton_schulz_widget` varies :math:`k` and the
  coefficients.
* :func:`update_magnitudes` feeds Adam and Lion the same noisy gradients, coordinates of very
  different scales and signal-to-noise ratios, and returns the size of each coordinate's update
  divided by the learning rate; :func:`lion_adam_widget` varies the noise and the step.

>>> from lib.widgets import show
>>> show(newton_schulz_widget())            # doctest: +SKIP
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from lib import optim
from lib.plotting import plain_log_axis
from lib.widgets import Control, Widget, clear_curves, course_style

__all__ = [
    "NS_COEFFICIENT_SETS",
    "NSSpectrum",
    "test_matrix",
    "newton_schulz_spectrum",
    "draw_newton_schulz",
    "newton_schulz_widget",
    "UpdateMagnitudes",
    "update_magnitudes",
    "draw_update_magnitudes",
    "lion_adam_widget",
]

#: name -> (a, b, c) of the odd polynomial a σ + b σ³ + c σ⁵
NS_COEFFICIENT_SETS = {
    "Muon (3.4445, −4.775, 2.0315)": (3.4445, -4.775, 2.0315),
    "classic quintic (15/8, −5/4, 3/8)": (1.875, -1.25, 0.375),
}
NS_STEPS = (0, 1, 2, 3, 5, 8)


@functools.lru_cache(maxsize=4)
def test_matrix(n: int = 32, m: int = 16, condition: float = 1e2, seed: int = 0) -> np.ndarray:
    r"""A fixed :math:`n\times m` matrix :math:`U\,\mathrm{diag}(s)\,V^\top` with singular values
    log-spaced from 1 down to ``1/condition`` (random orthogonal :math:`U, V`); read-only."""
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((n, m)))
    V, _ = np.linalg.qr(rng.standard_normal((m, m)))
    s = np.geomspace(1.0, 1.0 / condition, m)
    G = (U * s) @ V.T
    G.flags.writeable = False
    return G


class NSSpectrum(NamedTuple):
    coefficients: tuple
    steps: int
    sigma_in: np.ndarray  # singular values of G / ||G||_F (what the iteration starts from)
    sigma_out: np.ndarray  # u_i^T newton_schulz(G) v_i: what became of σ_in[i] (its singular value if ≥ 0)
    grid: np.ndarray  # σ in [1e-3, 1], log-spaced
    curve: np.ndarray  # p applied `steps` times to grid
    distance: float  # max |σ_out − 1|: how far from orthogonal


def newton_schulz_spectrum(coefficients=(3.4445, -4.775, 2.0315), steps: int = 5) -> NSSpectrum:
    r"""Singular values of :func:`test_matrix` before and after ``steps`` Newton–Schulz steps.

    Newton–Schulz acts on each singular value separately: with :math:`X_0 = G/\|G\|_F`,
    :math:`\sigma_i(X_k) = p^{\circ k}(\sigma_i(X_0))` for :math:`p(\sigma) = a\sigma + b\sigma^3
    + c\sigma^5` (as long as :math:`p` keeps them nonnegative), which the tests check.

    >>> d = newton_schulz_spectrum(steps=5)
    >>> d.sigma_out.shape, bool(d.distance < 0.35)
    ((16,), True)
    """
    coefficients = tuple(float(x) for x in coefficients)
    if len(coefficients) != 3:
        raise ValueError("coefficients must be (a, b, c)")
    G = test_matrix()
    U, sigma_in, Vt = np.linalg.svd(G / np.linalg.norm(G), full_matrices=False)
    # X_k = U p^k(Σ) V^T: read each singular value's image on its own singular vectors
    sigma_out = np.einsum("ij,jk,ki->i", U.T, optim.newton_schulz(G, coefficients, steps), Vt.T)
    a, b, c = coefficients
    grid = np.geomspace(1e-3, 1.0, 200)
    curve = grid.copy()
    for _ in range(steps):
        curve = a * curve + b * curve**3 + c * curve**5
    return NSSpectrum(
        coefficients, int(steps), sigma_in, sigma_out, grid, curve, float(np.max(np.abs(sigma_out - 1.0)))
    )


def draw_newton_schulz(data: NSSpectrum, fig) -> None:
    """Left: the iterated polynomial on [0, 1] with the input singular values marked; right:
    the singular values before (grey) and after (blue), index by index."""
    ax_map, ax_sv = fig.subplots(1, 2, gridspec_kw={"width_ratios": (1, 1.1)})
    ax_map.set_xscale("log")
    ax_sv.set_yscale("log")
    _newton_schulz_curves(data, ax_map, ax_sv)
    ax_map.set(xlabel="σ of G/‖G‖_F", ylabel="σ after k steps")
    ax_sv.set(xlabel="index i (largest first)", ylabel="σᵢ")
    for axis in (ax_map.xaxis, ax_sv.yaxis):
        plain_log_axis(axis)
    fig._descent_title = fig.suptitle(_newton_schulz_title(data), fontsize="small")
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.16, top=0.88, wspace=0.3)


def _newton_schulz_curves(data: NSSpectrum, ax_map, ax_sv) -> None:
    """The map, the identity and the singular values (left); before and after (right); the
    legends and both axes' ranges."""
    ax_map.plot(data.grid, data.curve, color="#0072B2", lw=1.6, label=f"p applied {data.steps}×")
    ax_map.plot(data.grid, data.grid, color="0.6", lw=0.8, linestyle=":", label="identity")
    ax_map.axhline(1.0, color="0.4", lw=0.8, linestyle="--")
    ax_map.plot(data.sigma_in, data.sigma_out, "o", color="#D55E00", ms=3, label="singular values")
    ax_map.set(ylim=(-0.05, 1.6), xlim=(1e-3, 1))
    ax_map.legend(fontsize="x-small", frameon=False, loc="upper left")
    idx = np.arange(1, len(data.sigma_in) + 1)
    ax_sv.plot(idx, data.sigma_in, "s", color="0.55", ms=3.5, label="before: G/‖G‖_F")
    ax_sv.plot(idx, np.maximum(data.sigma_out, 1e-6), "o", color="#0072B2", ms=4, label="after Newton–Schulz")
    ax_sv.axhline(1.0, color="0.4", lw=0.8, linestyle="--")
    ax_sv.set_ylim(1e-3, 3)
    ax_sv.legend(fontsize="x-small", frameon=False, loc="lower left")


def _newton_schulz_title(data: NSSpectrum) -> str:
    return f"k = {data.steps} steps: max |σ − 1| = {data.distance:.2f}"


def update_newton_schulz(data: NSSpectrum, fig) -> None:
    """Turn a figure of :func:`draw_newton_schulz` into another frame: the curves, the points,
    the legends and the title change; the axes, their scales and labels stay."""
    ax_map, ax_sv = fig.axes[:2]
    clear_curves(ax_map)
    clear_curves(ax_sv)
    _newton_schulz_curves(data, ax_map, ax_sv)
    fig._descent_title.set_text(_newton_schulz_title(data))


def newton_schulz_widget() -> Widget:
    """Steps and coefficients over :func:`newton_schulz_spectrum` (12 frames)."""
    names = tuple(NS_COEFFICIENT_SETS)
    return Widget(
        compute=lambda coefficients, steps: newton_schulz_spectrum(NS_COEFFICIENT_SETS[coefficients], steps),
        draw=draw_newton_schulz,
        controls=(
            Control("steps", NS_STEPS, "Newton–Schulz steps k", default=5, fmt="{:d}"),
            Control("coefficients", names, "coefficients", default=names[0], fmt="{}"),
        ),
        figsize=(7.5, 3.2),
        title="Newton–Schulz on a 32×16 matrix with singular values from 1 to 1e-2",
        style=course_style(),
        update=update_newton_schulz,  # every frame has the same axes
        reuse_key=lambda data: "one figure",
    )


# --------------------------------------------------------------------------------------------
# Lion vs Adam, coordinate by coordinate


class UpdateMagnitudes(NamedTuple):
    scale: np.ndarray  # the mean gradient of each coordinate (log-spaced)
    adam: np.ndarray  # |Adam's update| / lr at the chosen step, per coordinate
    lion: np.ndarray  # |Lion's update| / lr (1 or 0)
    noise: float
    step: int
    adam_rms: float
    lion_rms: float


N_COORDS = 40
NOISES = (0.0, 1.0, 4.0)
MAG_STEPS = (1, 10, 100)


def update_magnitudes(noise: float = 1.0, step: int = 10, seed: int = 0) -> UpdateMagnitudes:
    r"""Adam's and Lion's per-coordinate update sizes :math:`|u_i|/\eta` after ``step`` steps.

    Coordinate :math:`i` sees gradients :math:`g_{t,i} = \mu_i(1 + \text{noise}\cdot\xi_{t,i})`,
    :math:`\xi \sim \mathcal N(0, 1)`, with :math:`\mu_i` log-spaced from :math:`10^{-4}` to
    :math:`10^{1}`: the *scale* differs by five decades, the signal-to-noise ratio is
    :math:`1/\text{noise}` for all. Both at their default betas (Adam ``(0.9, 0.999)``, Lion
    ``(0.9, 0.99)``), no weight decay; the parameters are not moved (only the update is shown).

    >>> d = update_magnitudes(noise=0.0, step=10)
    >>> bool(np.allclose(d.lion, 1.0)), bool(np.allclose(d.adam, 1.0, atol=1e-3))
    (True, True)
    """
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    if int(step) != step or step < 1:
        raise ValueError(f"step must be a positive integer, got {step!r}")
    rng = np.random.default_rng(seed)
    scale = np.geomspace(1e-4, 10.0, N_COORDS)
    adam, lion = optim.scale_by_adam(), optim.scale_by_lion()
    p = np.zeros(N_COORDS)
    sa, sl = adam.init(p), lion.init(p)
    for _ in range(int(step)):
        g = scale * (1.0 + noise * rng.standard_normal(N_COORDS))
        ua, sa = adam.update(g, sa, p)
        ul, sl = lion.update(g, sl, p)
    ua, ul = np.abs(ua), np.abs(ul)
    return UpdateMagnitudes(
        scale, ua, ul, float(noise), int(step), float(np.sqrt(np.mean(ua**2))), float(np.sqrt(np.mean(ul**2)))
    )


def draw_update_magnitudes(data: UpdateMagnitudes, fig) -> None:
    """|update|/lr against the coordinate's gradient scale, Adam (blue) and Lion (orange)."""
    ax = fig.subplots()
    ax.semilogx(data.scale, data.adam, "o", color="#0072B2", ms=4, label=f"Adam (RMS {data.adam_rms:.2f})")
    ax.semilogx(data.scale, data.lion, "s", color="#E69F00", ms=3.5, label=f"Lion (RMS {data.lion_rms:.2f})")
    ax.axhline(1.0, color="0.5", lw=0.8, linestyle=":")
    plain_log_axis(ax.xaxis)
    ax.set(xlabel="mean gradient of the coordinate (log scale)", ylabel="|update| / η", ylim=(-0.05, 1.5))
    ax.legend(fontsize="small", frameon=False, loc="upper left")
    ax.set_title(f"noise {data.noise:g} × signal, step t = {data.step}", fontsize="small")
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.17, top=0.88)


def lion_adam_widget() -> Widget:
    """Noise level and step over :func:`update_magnitudes` (9 frames)."""
    return Widget(
        compute=update_magnitudes,
        draw=draw_update_magnitudes,
        controls=(
            Control("noise", NOISES, "gradient noise / signal", default=1.0),
            Control("step", MAG_STEPS, "step t", default=10, fmt="{:d}"),
        ),
        figsize=(6.5, 3.0),
        title="Per-coordinate update size: Adam rescales, Lion takes the sign",
        style=course_style(),
    )
