r"""Chapter 06's experiments and widgets: L2 in Adam versus decoupled weight decay.

Three pure computations, tested in ``tests/test_weight_decay_widgets.py``:

* :func:`decay_paths` runs Adam + L2 and AdamW on a noisy 2-D quadratic whose second coordinate
  has gradients :data:`GRAD_SCALE` times larger, and records each coordinate's *effective
  decay per step* (:func:`decay_widget` varies λ and η);
* :func:`digits_grid` trains ``mlp((64, 32, 10))`` on the digits with Adam + L2 and with AdamW
  over an (η, λ) grid and several seeds (:func:`heatmap_widget` explores the result);
* :func:`adam_l2_decay_factors` measures, weight by weight, the factor
  :math:`\lambda/(\sqrt{\hat v}+\varepsilon)` that Adam applies to the L2 gradient.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from matplotlib import ticker

from lib import optim
from lib.widgets import Control, Widget, course_style

__all__ = [
    "GRAD_SCALE",
    "DecayPaths",
    "decay_paths",
    "draw_decay_paths",
    "decay_widget",
    "GridResult",
    "digits_grid",
    "draw_heatmaps",
    "heatmap_widget",
    "adam_l2_decay_factors",
]

METHOD_COLORS = {"Adam + L2": "#D55E00", "AdamW": "#0072B2"}


def _adjust(fig, **margins) -> None:
    """Set the margins unless the figure has a layout engine (the lesson's constrained layout)."""
    engine = fig.get_layout_engine()
    if engine is None or engine.adjust_compatible:
        fig.subplots_adjust(**margins)


# --------------------------------------------------------------------------------------------
# 1. A 2-D problem where one coordinate has large gradients

#: c in g_t = c ⊙ (θ − 1) + c ⊙ σ ξ_t: coordinate 2's gradients are 10 times larger
GRAD_SCALE = np.array([1.0, 10.0])
NOISE = 0.5
DECAY_STEPS = 400
DECAY_LAMBDAS = (0.0, 0.1, 0.3, 1.0)
DECAY_LRS = (0.01, 0.03)


class DecayPaths(NamedTuple):
    """What :func:`decay_paths` returns. ``paths[m]``: ``(steps + 1, 2)``; ``decay[m]``:
    ``(steps, 2)``, the fraction of each coordinate removed by the decay term at each step;
    ``l2_minimum``: the minimiser of the penalised mean loss."""

    paths: dict
    decay: dict
    l2_minimum: np.ndarray
    weight_decay: float
    lr: float


def decay_paths(weight_decay: float = 0.3, lr: float = 0.01, steps: int = DECAY_STEPS, seed: int = 0) -> DecayPaths:
    r"""Adam + L2 versus AdamW on :math:`L(\theta) = \mathbb E\,\tfrac12\sum_i c_i(\theta_i - 1 - \sigma\xi_i)^2`.

    The stochastic gradient is :math:`g_t = c \odot (\theta - 1) + c \odot \sigma\xi_t`
    (:math:`c` = :data:`GRAD_SCALE`, :math:`\sigma` = :data:`NOISE`, :math:`\xi_t` standard
    normal, the same draws for both methods), from :math:`\theta_0 = (1, 1)`, the minimum
    without decay. Adam + L2 is ``lib.optim.adam(lr, weight_decay=λ)``; AdamW is
    ``lib.optim.adamw(lr, weight_decay=λ)``. The effective decay per step is the fraction of
    :math:`\theta_i` that the decay term removes:

    .. math:: \text{L2: } \frac{\eta\,\lambda}{\sqrt{\hat v_{t,i}} + \varepsilon}
              \ (\text{to first order: the L2 gradient } \lambda\theta \text{ is divided by Adam's } \sqrt{\hat v}),
              \qquad \text{AdamW: } \eta\,\lambda.

    :cite:t:`loshchilov2019decoupled`, Proposition 2. The penalised minimiser is
    :math:`c_i/(c_i + \lambda)` (where SGD, or Adam + L2 on average, settles).

    >>> r = decay_paths(0.3, 0.01, steps=50)
    >>> r.paths["AdamW"].shape, r.decay["Adam + L2"].shape
    ((51, 2), (50, 2))
    """
    if not weight_decay >= 0 or not lr > 0:
        raise ValueError(f"need weight_decay >= 0 and lr > 0, got {weight_decay!r}, {lr!r}")
    noise = NOISE * np.random.default_rng(seed).standard_normal((steps, 2))
    b1, b2, eps = 0.9, 0.999, 1e-8
    paths, decay = {}, {}
    for name in ("Adam + L2", "AdamW"):
        # torch's Adam / AdamW arithmetic, written out for speed (tested against lib.optim)
        theta, m, v = np.ones(2), np.zeros(2), np.zeros(2)
        path = np.empty((steps + 1, 2))
        dec = np.empty((steps, 2))
        path[0] = theta
        for t in range(1, steps + 1):
            g = GRAD_SCALE * (theta - 1.0 + noise[t - 1])
            if name == "Adam + L2":
                g = g + weight_decay * theta
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            denom = np.sqrt(v / (1 - b2**t)) + eps
            if name == "AdamW":
                theta = theta * (1 - lr * weight_decay)
                dec[t - 1] = lr * weight_decay
            else:
                dec[t - 1] = lr * weight_decay / denom
            theta = theta - (lr / (1 - b1**t)) * m / denom
            path[t] = theta
        paths[name], decay[name] = path, dec
    return DecayPaths(paths, decay, GRAD_SCALE / (GRAD_SCALE + weight_decay), float(weight_decay), float(lr))


def draw_decay_paths(data: DecayPaths, fig) -> None:
    """Left: the two paths in the (θ₁, θ₂) plane; right: the effective decay per step."""
    ax_path, ax_dec = fig.subplots(1, 2)
    _adjust(fig, left=0.09, right=0.98, bottom=0.17, top=0.88, wspace=0.42)
    for name, path in data.paths.items():
        c = METHOD_COLORS[name]
        ax_path.plot(path[:, 0], path[:, 1], color=c, lw=0.8, alpha=0.8, label=name)
        ax_path.plot(*path[-1], "o", color=c, ms=5)
    ax_path.plot(1, 1, "k+", ms=9, label="minimum without decay")
    ax_path.plot(*data.l2_minimum, "kx", ms=7, label="minimum of the penalised loss")
    ax_path.plot([0, 1.1], [0, 1.1], color="0.7", lw=0.6, ls=":")
    ax_path.set(
        xlim=(-0.05, 1.25), ylim=(-0.05, 1.25), xlabel="θ₁ (small gradients)", ylabel="θ₂ (10× larger gradients)"
    )
    ax_path.legend(fontsize=6.5, loc="lower right")
    t = np.arange(1, len(data.decay["AdamW"]) + 1)
    for name, style in (("Adam + L2", "-"), ("AdamW", "--")):
        for i, lw in ((0, 1.6), (1, 0.9)):
            vals = data.decay[name][:, i]
            if np.all(vals > 0):
                ax_dec.semilogy(t, vals, color=METHOD_COLORS[name], ls=style, lw=lw, label=f"{name}, θ{'₁₂'[i]}")
    ax_dec.set(xlabel="step t", ylabel="decay per step (fraction of θᵢ)")
    if data.weight_decay > 0:
        ax_dec.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 3.0), numticks=6))
        ax_dec.yaxis.set_minor_locator(ticker.NullLocator())
        ax_dec.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:.0e}".replace("e-0", "e-")))
        ax_dec.legend(fontsize=6.5, loc="lower right")
    else:
        ax_dec.text(0.5, 0.5, "λ = 0: no decay", transform=ax_dec.transAxes, ha="center")
    fig.suptitle(f"λ = {data.weight_decay:g}, η = {data.lr:g}", fontsize=9)


def decay_widget() -> Widget:
    """λ and η sliders over :func:`decay_paths` (8 frames)."""
    return Widget(
        compute=decay_paths,
        draw=draw_decay_paths,
        controls=(
            Control("weight_decay", DECAY_LAMBDAS, "weight decay λ", default=0.3),
            Control("lr", DECAY_LRS, "learning rate η", default=0.01),
        ),
        figsize=(7.5, 3.4),
        title="Adam + L2 against AdamW when one coordinate has 10× larger gradients",
        style=course_style(),
    )


# --------------------------------------------------------------------------------------------
# 2. The (η, λ) grid on the digits


class GridResult(NamedTuple):
    """What :func:`digits_grid` returns. ``val_acc[method]`` has shape
    ``(n_seeds, n_lrs, n_lambdas, epochs)`` (validation accuracy after each epoch; NaN after a
    divergence); ``lambdas[method]`` is that method's λ grid."""

    lrs: tuple
    lambdas: dict
    seeds: tuple
    val_acc: dict
    epochs: int


def digits_grid(
    lrs, lambdas_l2, lambdas_w, seeds=(0, 1, 2), epochs: int = 10, batch_size: int = 128, hidden: int = 32, mask=None
) -> GridResult:
    r"""Adam + L2 and AdamW on the digits over an (η, λ) grid, for several seeds.

    Every run trains ``lib.nn.mlp((64, hidden, 10))`` with :func:`lib.train.train`
    (``epochs``, ``batch_size``) on ``lib.data.load_digits(seed=0)``'s training split and
    records the validation accuracy after each epoch. A seed fixes the initial weights
    (``model.init(seed)``) and the order of the mini-batches (``train(seed=seed)``); both
    methods see the same ones. Adam + L2 is ``adam(η, weight_decay=λ)`` (torch's
    ``Adam(weight_decay=λ)``). AdamW is parameterised as in the paper, by the decay per step
    :math:`\lambda_{\text{paper}}` (their :math:`\eta_t\lambda` with :math:`\eta_t = 1`), that is
    ``adamw(η, weight_decay=λ_paper / η)`` (torch's ``AdamW(lr=η, weight_decay=λ_paper/η)``):

    .. math:: \theta \leftarrow (1 - \lambda_{\text{paper}})\,\theta - \eta\,\hat m/(\sqrt{\hat v}+\varepsilon).

    Both use ``mask``. Runs use one BLAS thread.
    This is the experiment of :cite:t:`loshchilov2019decoupled` (their Figure 2) made small.

    >>> r = digits_grid((1e-2,), (1e-3,), (1e-1,), seeds=(0,), epochs=1)
    >>> r.val_acc["AdamW"].shape
    (1, 1, 1, 1)
    """

    try:  # tiny matrices: one BLAS thread is faster, and fair to a shared machine
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        import contextlib

        threadpool_limits = lambda limits: contextlib.nullcontext()  # noqa: E731
    with threadpool_limits(1):
        return _digits_grid(lrs, lambdas_l2, lambdas_w, seeds, epochs, batch_size, hidden, mask)


def _digits_grid(lrs, lambdas_l2, lambdas_w, seeds, epochs, batch_size, hidden, mask) -> GridResult:
    import lib.train
    from lib.data import load_digits
    from lib.nn import mlp

    splits = load_digits(seed=0)
    model = mlp((64, hidden, 10))
    lambdas = {"Adam + L2": tuple(lambdas_l2), "AdamW": tuple(lambdas_w)}
    makers = {
        "Adam + L2": lambda lr, lam: optim.adam(lr=lr, weight_decay=lam, mask=mask),
        "AdamW": lambda lr, lam: optim.adamw(lr=lr, weight_decay=lam / lr, mask=mask),
    }
    out = {}
    for name, make in makers.items():
        acc = np.full((len(seeds), len(lrs), len(lambdas[name]), epochs), np.nan)
        for s, seed in enumerate(seeds):
            init = model.init(seed)
            for i, lr in enumerate(lrs):
                for j, lam in enumerate(lambdas[name]):
                    h = lib.train.train(
                        model,
                        init,
                        make(lr, lam),
                        splits.train,
                        val=splits.val,
                        epochs=epochs,
                        batch_size=batch_size,
                        seed=seed,
                        progress=False,
                    )
                    acc[s, i, j, : len(h.val_acc)] = h.val_acc
        out[name] = acc
    return GridResult(tuple(lrs), lambdas, tuple(seeds), out, int(epochs))


def _heatmap_frame(grid: GridResult, statistic: str, epoch: int) -> dict:
    """The two (η × λ) tables to draw: mean, one seed, or the spread (max − min) over seeds."""
    out = {}
    for name, acc in grid.val_acc.items():
        a = acc[..., epoch - 1]
        if statistic == "mean over seeds":
            out[name] = a.mean(axis=0)
        elif statistic == "spread over seeds":
            out[name] = a.max(axis=0) - a.min(axis=0)
        else:
            out[name] = a[grid.seeds.index(int(statistic.split()[-1]))]
    return {"tables": out, "statistic": statistic, "epoch": epoch, "grid": grid}


def draw_heatmaps(data: dict, fig) -> None:
    """Two heatmaps side by side, rows η, columns λ, the value printed in each cell (in % or
    points); the best cell of each is framed."""
    grid, spread = data["grid"], data["statistic"] == "spread over seeds"
    axes = fig.subplots(1, 2)
    _adjust(fig, left=0.08, right=0.98, bottom=0.17, top=0.85, wspace=0.3)
    tables = data["tables"]
    lo = 0.0 if spread else min(np.nanmin(t) for t in tables.values())
    hi = max(np.nanmax(t) for t in tables.values())
    for ax, (name, table) in zip(axes, tables.items()):
        ax.grid(False)
        ax.imshow(
            table,
            cmap="viridis" if not spread else "magma",
            vmin=lo,
            vmax=max(hi, lo + 1e-9),
            origin="lower",
            aspect="auto",
        )
        for (i, j), v in np.ndenumerate(table):
            ax.text(
                j,
                i,
                "–" if np.isnan(v) else f"{100 * v:.1f}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if (np.isnan(v) or v < lo + 0.6 * (hi - lo)) else "black",
            )
        if not spread and np.any(np.isfinite(table)):
            i, j = np.unravel_index(np.nanargmax(table), table.shape)
            ax.add_patch(
                __import__("matplotlib").patches.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="red", lw=1.5)
            )
        ax.set_xticks(range(len(grid.lambdas[name])), [f"{v:g}" for v in grid.lambdas[name]], fontsize=7)
        ax.set_yticks(range(len(grid.lrs)), [f"{v:g}" for v in grid.lrs], fontsize=7)
        xlabel = "λ′ (Adam's weight_decay)" if name == "Adam + L2" else "λ_paper (decay per step)"
        ax.set(xlabel=xlabel, ylabel="η (lr)", title=name)
    unit = "spread over seeds, max − min (points)" if spread else "validation accuracy (%)"
    fig.suptitle(f"{unit}: {data['statistic']}, after epoch {data['epoch']} of {grid.epochs}", fontsize=9)


def heatmap_widget(grid: GridResult | None = None) -> Widget:
    """Statistic (mean, each seed, spread) × epoch (the last, and half-way) over a
    precomputed :func:`digits_grid` (``None``: a tiny 2 × 2 grid, 2 seeds, 3 epochs, for tests
    and previews)."""
    if grid is None:
        grid = digits_grid((1e-2, 3e-2), (0.0, 1e-2), (0.0, 3e-3), seeds=(0, 1), epochs=3)
    stats = ("mean over seeds",) + tuple(f"seed {s}" for s in grid.seeds) + ("spread over seeds",)
    epochs = tuple(sorted({max(1, grid.epochs // 2), grid.epochs}))
    return Widget(
        compute=lambda statistic, epoch: _heatmap_frame(grid, statistic, epoch),
        draw=draw_heatmaps,
        controls=(
            Control("statistic", stats, "show", default="mean over seeds", fmt="{}"),
            Control("epoch", epochs, "after epoch", default=grid.epochs, fmt="{}"),
        ),
        figsize=(8.0, 3.3),
        title="Validation accuracy (%) of mlp((64, 32, 10)) on the digits over the (η, λ) grid",
        style=course_style(),
    )


# --------------------------------------------------------------------------------------------
# 3. The per-weight factor of Adam + L2 on the digits


def adam_l2_decay_factors(
    lr: float = 3e-3, weight_decay: float = 1e-3, epochs: int = 4, batch_size: int = 64, seed: int = 0
) -> dict:
    r"""Train ``mlp((64, 32, 10))`` with Adam + L2 and return, per weight, the gradient RMS
    :math:`\sqrt{\hat v_i}` and the factor that multiplies :math:`\theta_i` in the L2 part of
    the step, :math:`\lambda/(\sqrt{\hat v_i} + \varepsilon)` (AdamW's is :math:`\lambda` for
    every weight) :cite:p:`loshchilov2019decoupled`.

    The loop is :func:`lib.train.train`'s (the same mini-batches for a given ``seed``), kept
    here so that the optimizer's state is available at the end. Returns
    ``{"rms": ..., "factor": ..., "layer": ...}`` as flat arrays over every weight matrix.

    >>> d = adam_l2_decay_factors(epochs=1)
    >>> d["rms"].shape == d["factor"].shape
    True
    """
    from lib.data import load_digits, minibatches
    from lib.nn import mlp

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        import contextlib

        threadpool_limits = lambda limits: contextlib.nullcontext()  # noqa: E731
    splits = load_digits(seed=0)
    model = mlp((64, 32, 10))
    params = model.init(seed)
    tx = optim.adam(lr=lr, weight_decay=weight_decay)
    state = tx.init(params)
    rng = np.random.default_rng(seed)
    with threadpool_limits(1):
        for _ in range(epochs):
            for Xb, yb in minibatches(splits.train.X, splits.train.y, batch_size, rng=rng):
                _, grads = model.loss_and_grad(params, Xb, yb)
                updates, state = tx.update(grads, state, params)
                params = optim.apply_updates(params, updates)
    adam_state = next(s for s in state if isinstance(s, optim.ScaleByAdamState))
    names = [k for k in params if np.ndim(params[k]) >= 2]
    rms = np.concatenate([np.sqrt(adam_state.nu[k] / (1 - 0.999**adam_state.count)).ravel() for k in names])
    layer = np.concatenate([np.full(params[k].size, k) for k in names])
    return {"rms": rms, "factor": weight_decay / (rms + 1e-8), "layer": layer}
