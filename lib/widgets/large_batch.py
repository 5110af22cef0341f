r"""Chapter 09's experiments and widgets: steps to a target vs batch size, and LARS trust ratios.

* :func:`steps_grid` measures, on the digits, the steps momentum SGD needs to reach a target
  validation accuracy for every batch size × learning rate of a small grid (the experiment of
  :cite:t:`shallue2019measuring`, regenerated on a small problem); :func:`steps_widget` picks
  the learning rate.
* :func:`trust_ratio_history` trains an MLP and a per-layer rescaled copy of it (the same
  function) with LARS and records every tensor's norm, gradient norm and trust ratio;
  :func:`trust_ratio_widget` scrubs through training.

Both are cached: the lesson and the widgets share one computation.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from lib import optim
from lib.batch_size import fit_critical_batch_size, steps_to_target
from lib.data import load_digits
from lib.nn import mlp
from lib.parallel import blas_threads
from lib.plotting import plain_log_axis
from lib.widgets import Control, Widget, course_style

__all__ = [
    "BATCH_SIZES",
    "LRS",
    "TARGET",
    "StepsGrid",
    "steps_grid",
    "steps_frame",
    "draw_steps",
    "steps_widget",
    "rescale",
    "TrustHistory",
    "trust_ratio_history",
    "trust_frame",
    "draw_trust",
    "trust_ratio_widget",
]

BATCH_SIZES = (8, 16, 32, 64, 128, 256, 512, 1024)
LRS = (0.03, 0.1, 0.3, 1.0)
TARGET = 0.93  # validation accuracy
MAX_STEPS = 150
SIZES = (64, 32, 10)


def _one_thread():
    return blas_threads(1)


class StepsGrid(NamedTuple):
    batch_sizes: np.ndarray  # (nB,)
    lrs: np.ndarray  # (nlr,)
    steps: np.ndarray  # (nB, nlr) steps to TARGET, inf if never within MAX_STEPS
    best_steps: np.ndarray  # (nB,) min over learning rates
    best_lr: np.ndarray  # (nB,) the learning rate achieving it (nan if none)
    s_min: float  # fit of S = S_min (1 + B_crit / B) to best_steps
    b_crit: float


@functools.lru_cache(maxsize=2)
def steps_grid(
    batch_sizes: tuple = BATCH_SIZES,
    lrs: tuple = LRS,
    target: float = TARGET,
    max_steps: int = MAX_STEPS,
    seed: int = 0,
) -> StepsGrid:
    r"""Steps of SGD with momentum 0.9 to reach ``target`` validation accuracy on the digits.

    ``mlp((64, 32, 10))`` from ``init(0)``, one run per (batch size, learning rate) with
    :func:`lib.batch_size.steps_to_target`; the envelope over learning rates is fitted with
    :func:`lib.batch_size.fit_critical_batch_size` :cite:p:`mccandlish2018empirical`.
    """
    splits = load_digits(seed=0)
    model = mlp(SIZES)
    p0 = model.init(0)
    with _one_thread():
        steps = np.array(
            [
                [
                    steps_to_target(
                        model.loss_and_grad,
                        model.predict,
                        p0,
                        optim.sgd(lr=lr, momentum=0.9),
                        splits.train.X,
                        splits.train.y,
                        splits.val.X,
                        splits.val.y,
                        batch_size=b,
                        target=target,
                        max_steps=max_steps,
                        seed=seed,
                    )
                    for lr in lrs
                ]
                for b in batch_sizes
            ]
        )
    best = steps.min(axis=1)
    best_lr = np.array([lrs[int(np.argmin(r))] if np.isfinite(r).any() else np.nan for r in steps])
    s_min, b_crit = fit_critical_batch_size(batch_sizes, best)
    for a in (steps, best, best_lr):
        a.flags.writeable = False
    return StepsGrid(np.array(batch_sizes), np.array(lrs), steps, best, best_lr, s_min, b_crit)


def steps_frame(lr: float = 0.3) -> tuple:
    """The data of one frame: the grid and the index of the chosen learning rate."""
    grid = steps_grid()
    if lr not in LRS:
        raise ValueError(f"lr must be one of {LRS}, got {lr!r}")
    return grid, LRS.index(lr)


def draw_steps(data: tuple, fig) -> None:
    """Left: steps to target vs batch size (chosen η, best over η, perfect scaling, the fit);
    right: the whole grid as a table of steps, the chosen η's column outlined."""
    from matplotlib.patches import Rectangle

    grid, j = data
    ax, ax_grid = fig.subplots(1, 2, gridspec_kw={"width_ratios": (1.3, 1)})
    b = grid.batch_sizes
    ok = np.isfinite(grid.steps[:, j])
    ax.loglog(b[ok], grid.steps[ok, j], "o-", color="#D55E00", label=f"η = {grid.lrs[j]:g}")
    ax.loglog(b, grid.best_steps, "s--", color="#0072B2", ms=4, label="best η per batch size")
    bb = np.geomspace(b[0], b[-1], 100)
    ax.loglog(
        bb,
        grid.s_min * (1 + grid.b_crit / bb),
        ":",
        color="#000000",
        label=f"fit $S_{{min}}(1 + B_{{crit}}/B)$, $B_{{crit}}$ ≈ {grid.b_crit:.0f}",
    )
    ax.loglog(bb, grid.best_steps[0] * b[0] / bb, color="0.6", lw=0.8, label="perfect scaling ∝ 1/B")
    ax.set(
        xlabel="batch size B",
        ylabel=f"steps to {TARGET:.0%} val. accuracy",
        ylim=(0.6 * np.nanmin(grid.best_steps), 1.5 * MAX_STEPS),
    )
    plain_log_axis(ax.xaxis)  # no minor ticks, plain-text labels: a cheaper frame
    plain_log_axis(ax.yaxis)
    ax.legend(fontsize=7, loc="upper right")
    shown = np.where(np.isfinite(grid.steps), grid.steps, np.nan)
    ax_grid.imshow(np.log(shown), cmap="viridis_r", aspect="auto")
    for (i, k), v in np.ndenumerate(grid.steps):
        ax_grid.text(
            k,
            i,
            "–" if not np.isfinite(v) else f"{v:.0f}",
            ha="center",
            va="center",
            fontsize=7,
            color="white" if np.isfinite(v) and v > 40 else "black",
        )
    ax_grid.add_patch(Rectangle((j - 0.5, -0.5), 1, len(b), fill=False, ec="#D55E00", lw=2))
    ax_grid.set_xticks(range(len(grid.lrs)), [f"{v:g}" for v in grid.lrs])
    ax_grid.set_yticks(range(len(b)), [str(v) for v in b])
    ax_grid.set(xlabel="learning rate η", ylabel="batch size B", title="steps (– : not reached)")
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.15, top=0.92, wspace=0.35)


def steps_widget() -> Widget:
    """Learning rate → steps to the target at every batch size (4 frames over :func:`steps_grid`)."""
    return Widget(
        compute=steps_frame,
        draw=draw_steps,
        controls=(Control("lr", LRS, "learning rate η", default=0.3),),
        figsize=(8.0, 3.4),
        title="Steps to the target vs batch size (momentum SGD on the digits)",
        style=course_style(),
    )


# --------------------------------------------------------------------------------------------
# 2. Trust ratios per layer

ALPHAS = (1.0, 10.0)
TRUST_STEPS = 40
TRUST_BATCH = 512
TRUST_FRAMES = (0, 1, 2, 5, 10, 20, 30, 39)


def rescale(params: dict, alpha: float) -> dict:
    r"""The same ReLU network with layer 1 multiplied by :math:`\alpha` and layer 2 divided by it.

    :math:`W_2^\top\operatorname{relu}(\alpha(W_1^\top x + b_1)) = \alpha\, W_2^\top\operatorname{relu}(W_1^\top x + b_1)`
    for :math:`\alpha > 0`, so the network computes the same function; its gradients change by
    :math:`1/\alpha` and :math:`\alpha` (the reparameterisation of :cite:t:`dinh2017sharp`).
    """
    out = dict(params)
    out["W1"], out["b1"], out["W2"] = alpha * params["W1"], alpha * params["b1"], params["W2"] / alpha
    return out


class TrustHistory(NamedTuple):
    names: tuple  # parameter tensors
    param_norm: dict  # alpha -> (steps, n_tensors) ||θ_l|| before each step
    grad_norm: dict  # alpha -> (steps, n_tensors) ||g_l||
    ratio: dict  # alpha -> (steps, n_tensors) LARS trust ratio c ||θ|| / ||g||
    loss: dict  # (optimizer, alpha) -> (steps,) full training loss before each step


@functools.lru_cache(maxsize=2)
def trust_ratio_history(
    steps: int = TRUST_STEPS, batch_size: int = TRUST_BATCH, lr: float = 3.0, sgd_lr: float = 0.3, seed: int = 0
) -> TrustHistory:
    r"""LARS (``trust_coefficient=1e-3``, momentum 0.9) and momentum SGD on the digits, on
    ``mlp((64, 32, 10))`` and on its rescaled copy :func:`rescale` (:math:`\alpha = 10`).

    Biases start at small random values (a zero bias would take LARS's ratio-1 branch, see
    :func:`lib.optim.trust_ratio`). Records per tensor :math:`\lVert\theta_l\rVert`,
    :math:`\lVert g_l\rVert` and the ratio, and the full training loss :cite:p:`you2017large`.
    """
    splits = load_digits(seed=0)
    X, y = splits.train.X, splits.train.y
    model = mlp(SIZES)
    rng = np.random.default_rng(1)
    p0 = {k: (v if k.startswith("W") else 0.05 * rng.standard_normal(v.shape)) for k, v in model.init(0).items()}
    names = tuple(p0)
    batches = [np.random.default_rng(seed + t).choice(len(X), batch_size, replace=False) for t in range(steps)]
    pn, gn, rt, losses = {}, {}, {}, {}
    for opt_name, make in (("LARS", lambda: optim.lars(lr=lr)), ("SGD", lambda: optim.sgd(lr=sgd_lr, momentum=0.9))):
        for alpha in ALPHAS:
            params, tx = rescale(p0, alpha), make()
            state = tx.init(params)
            rec = np.empty((3, steps, len(names)))
            loss = np.empty(steps)
            with np.errstate(all="ignore"), _one_thread():
                for t, idx in enumerate(batches):
                    loss[t] = model.loss_and_grad(params, X, y)[0]
                    _, g = model.loss_and_grad(params, X[idx], y[idx])
                    for k, n in enumerate(names):
                        rec[0, t, k] = np.linalg.norm(params[n])
                        rec[1, t, k] = np.linalg.norm(g[n])
                        rec[2, t, k] = optim.trust_ratio(g[n], params[n], trust_coefficient=1e-3)
                    updates, state = tx.update(g, state, params)
                    params = optim.apply_updates(params, updates)
            losses[(opt_name, alpha)] = loss
            if opt_name == "LARS":
                pn[alpha], gn[alpha], rt[alpha] = rec
    return TrustHistory(names, pn, gn, rt, losses)


def trust_frame(step: int = 10) -> tuple:
    """The data of one frame: the history and the step to show."""
    if not 0 <= step < TRUST_STEPS:
        raise ValueError(f"step must be in [0, {TRUST_STEPS}), got {step!r}")
    return trust_ratio_history(), step


def draw_trust(data: tuple, fig) -> None:
    """Left: each tensor's trust ratio at ``step`` for α = 1 and α = 10; right: training loss up to
    ``step`` for LARS and SGD on both parameterisations."""
    h, step = data
    ax, ax_loss = fig.subplots(1, 2)
    x = np.arange(len(h.names))
    for k, (alpha, color) in enumerate(zip(ALPHAS, ("#0072B2", "#D55E00"))):
        # bars of log10(ratio) on a linear axis (a log-scale bar chart is several times slower to draw)
        ax.bar(
            x + (k - 0.5) * 0.38,
            np.log10(h.ratio[alpha][step]) + 5,
            bottom=-5,
            width=0.38,
            color=color,
            label=f"α = {alpha:g}" + (" (rescaled)" if alpha != 1 else ""),
        )
    ax.set_xticks(x, h.names)
    ax.set_yticks(range(-5, 3), [f"1e{k}" for k in range(-5, 3)])
    ax.set(ylabel=r"trust ratio $c\,\|\theta_l\|/\|g_l\|$", title=f"LARS, step {step}", ylim=(-5, 2))
    ax.legend(fontsize=7, loc="upper left")
    t = np.arange(step + 1)
    styles = {
        ("LARS", 1.0): ("#0072B2", "-"),
        ("LARS", 10.0): ("#D55E00", "--"),
        ("SGD", 1.0): ("#009E73", "-"),
        ("SGD", 10.0): ("#CC79A7", "--"),
    }
    for key, (color, ls) in styles.items():
        ax_loss.semilogy(
            t, np.clip(h.loss[key][: step + 1], 1e-5, 1e3), color=color, ls=ls, label=f"{key[0]}, α = {key[1]:g}"
        )
    ax_loss.set(xlim=(0, TRUST_STEPS), ylim=(1e-4, 30), xlabel="step", ylabel="training loss")
    plain_log_axis(ax_loss.yaxis)
    ax_loss.legend(fontsize=7, loc="upper right")
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.15, top=0.9, wspace=0.3)


def trust_ratio_widget() -> Widget:
    """Step → LARS trust ratios per tensor and the loss curves so far (8 frames)."""
    return Widget(
        compute=trust_frame,
        draw=draw_trust,
        controls=(Control("step", TRUST_FRAMES, "training step", default=10, fmt="{:d}"),),
        figsize=(8.0, 3.3),
        title="LARS's per-layer trust ratios, original and rescaled network",
        style=course_style(),
    )
