r"""Muon: momentum orthogonalized by a Newton–Schulz iteration, for 2-D weight matrices.

Muon :cite:p:`jordan2024muon` replaces the momentum matrix :math:`B = U\Sigma V^\top` by
(approximately) its polar factor :math:`U V^\top`: every singular value of the step is set
to about 1. :math:`UV^\top` is the steepest-descent direction under the spectral norm
:cite:p:`bernstein2024old`. Instead of an SVD, a few steps of an odd matrix polynomial
(Newton–Schulz) push the singular values towards 1 using only matrix products.

Muon is for matrices only: biases, gains (and, in practice, embeddings and the output layer)
go to another optimizer; :func:`muon_with_adamw` is the recipe with :func:`lib.optim.partition`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from lib.optim._leaves import as_like, float_zeros, rebuild
from lib.optim.base import GradientTransformation, check_grads
from lib.optim.transforms import LearningRate, learning_rate_at
from lib.tree import tree_leaves, tree_map

__all__ = ["MuonState", "newton_schulz", "adjust_lr", "muon", "muon_with_adamw", "matrix_labels"]

NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


class MuonState(NamedTuple):
    count: int  # updates so far (the next update uses lr(count))
    momentum_buffer: Any  # B_t, a tree of matrices like params (torch: state["momentum_buffer"])


def newton_schulz(
    G, ns_coefficients: Sequence[float] = NS_COEFFICIENTS, ns_steps: int = 5, eps: float = 1e-7
) -> np.ndarray:
    r"""Approximate the polar factor :math:`UV^\top` of :math:`G = U\Sigma V^\top` by Newton–Schulz.

    .. math::
        X_0 = \frac{G}{\max(\|G\|_F, \varepsilon)}, \qquad
        X_{k+1} = a X_k + (b\, A_k + c\, A_k^2) X_k, \quad A_k = X_k X_k^\top

    on the wide orientation (a tall :math:`G` is transposed first and the result transposed
    back, so :math:`A_k` is the smaller Gram matrix). On the singular values this is the odd
    quintic :math:`\sigma \mapsto a\sigma + b\sigma^3 + c\sigma^5`, applied ``ns_steps`` times;
    the Frobenius normalisation puts every :math:`\sigma` in :math:`[0, 1]`. Muon's coefficients
    maximise the slope at 0 and leave the singular values near, not at, 1
    :cite:p:`jordan2024muon`; ``(1.875, -1.25, 0.375)`` is the classic quintic that converges to 1.

    torch: ``torch.optim._muon._zeropower_via_newtonschulz`` (which computes in bfloat16; this
    function computes in ``G``'s dtype), with torch's checks. optax:
    ``optax.contrib.muon``'s ``orthogonalize_via_newton_schulz``.

    >>> import numpy as np
    >>> G = np.random.default_rng(0).standard_normal((4, 6))
    >>> s = np.linalg.svd(newton_schulz(G), compute_uv=False)
    >>> bool(np.all((s > 0.6) & (s < 1.2)))
    True
    """
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if isinstance(ns_steps, bool) or int(ns_steps) != ns_steps or ns_steps < 0:
        raise ValueError(f"ns_steps must be a non-negative integer, got {ns_steps!r}")
    G = np.asarray(G)
    if G.ndim != 2:
        raise ValueError(
            f"Input tensor gradient must be a 2D matrix (got shape {G.shape}); Muon orthogonalizes weight matrices only"
        )
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    if not np.all(np.isfinite(G)):
        raise ValueError("newton_schulz got a matrix with NaN or infinite entries")
    a, b, c = (float(x) for x in ns_coefficients)
    X = G.astype(G.dtype if G.dtype.kind == "f" else np.float64)
    tall = G.shape[0] > G.shape[1]
    if tall:
        X = X.T
    X = X / max(float(np.linalg.norm(X)), eps)
    for _ in range(int(ns_steps)):
        A = X @ X.T
        B = b * A + c * (A @ A)
        X = a * X + B @ X
    return X.T if tall else X


def adjust_lr(lr: float, adjust_lr_fn: str | None, shape: Sequence[int]) -> float:
    r"""Muon's per-matrix learning rate for a parameter of shape :math:`(A, B)`.

    .. math::
        \eta' = \eta\,\sqrt{\max(1, A/B)} \ (\texttt{"original"}, \text{default}), \qquad
        \eta' = 0.2\,\eta\,\sqrt{\max(A, B)} \ (\texttt{"match\_rms\_adamw"})

    The first is Keller Jordan's :cite:p:`jordan2024muon`; the second makes the update's RMS
    about AdamW's so that AdamW's learning rate and weight decay carry over :cite:p:`liu2025muon`.
    torch: ``torch.optim._muon._adjust_lr``. Note: torch's ``A`` is the first dimension, which
    for ``nn.Linear`` is ``out_features``; for ``lib.nn``'s ``(fan_in, fan_out)`` weights the
    same shape rule is applied to the stored shape, exactly as torch would.
    """
    A, B = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, A / B))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(A, B))
    else:
        raise ValueError(
            f"Adjust learning rate function {adjust_lr_fn} is not supported; use None, 'original' or 'match_rms_adamw'"
        )
    return lr * ratio


def muon(
    lr: LearningRate = 1e-3,
    weight_decay: float = 0.1,
    momentum: float = 0.95,
    nesterov: bool = True,
    ns_coefficients: Sequence[float] = NS_COEFFICIENTS,
    eps: float = 1e-7,
    ns_steps: int = 5,
    adjust_lr_fn: str | None = None,
) -> GradientTransformation:
    r"""Muon, exactly as ``torch.optim.Muon`` (for 2-D parameters).

    .. math::
        B_t &= \mu B_{t-1} + (1-\mu) G_t, \qquad
        \tilde B_t = \begin{cases} (1-\mu) G_t + \mu B_t & \text{nesterov} \\ B_t & \text{otherwise}\end{cases} \\
        O_t &= \mathrm{NS}_k^{(a,b,c)}(\tilde B_t), \qquad
        \theta_t = (1 - \eta\lambda)\,\theta_{t-1} - \eta'\, O_t, \quad \eta' = \texttt{adjust\_lr}(\eta, \text{shape})

    :cite:p:`jordan2024muon,liu2025muon` with :func:`newton_schulz` and :func:`adjust_lr`. This
    is torch's code (``buf.lerp_(grad, 1 - momentum)``, ``grad.lerp(buf, momentum)``): the
    momentum is an exponential average, which differs from torch's docstring
    :math:`B_t = \mu B_{t-1} + g_t` by the factor :math:`1-\mu` that the normalisation in
    Newton–Schulz removes anyway. Every parameter must be a matrix; ``init`` raises torch's
    error otherwise.

    torch: ``torch.optim.Muon(params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
    ns_coefficients=(3.4445, -4.775, 2.0315), eps=1e-7, ns_steps=5, adjust_lr_fn=None)``; torch
    runs Newton–Schulz in bfloat16, this in the parameter's dtype. optax:
    ``optax.contrib.muon`` (which also runs Adam on the non-matrix parameters).

    >>> import numpy as np
    >>> tx = muon(lr=0.02, weight_decay=0.0)
    >>> W = np.zeros((3, 5))
    >>> u, s = tx.update(np.random.default_rng(0).standard_normal((3, 5)), tx.init(W), W)
    >>> np.linalg.svd(u / 0.02, compute_uv=False).round(1)      # singular values near 1
    array([1.1, 1. , 0.8])
    """
    if not callable(lr) and not 0.0 <= lr:
        raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
    if not 0.0 <= momentum:
        raise ValueError(f"momentum should be >= 0 but is: {momentum}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
    if adjust_lr_fn is not None and adjust_lr_fn not in ["original", "match_rms_adamw"]:
        raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    momentum, weight_decay = float(momentum), float(weight_decay)

    def init(params):
        for p in tree_leaves(params):
            if np.ndim(p) != 2:
                raise ValueError(
                    f"Muon only supports 2D parameters whereas we found a parameter with size: {np.shape(p)}. "
                    "Give the biases and other non-matrix parameters to another optimizer "
                    "(lib.optim.partition; see lib.optim.muon_with_adamw)."
                )
        return MuonState(0, tree_map(float_zeros, params))

    def update(grads, state, params=None):
        check_grads(grads, state.momentum_buffer)
        if params is None:
            raise ValueError(
                "muon needs the parameters (weight decay and the shape rule): call update(grads, state, params)"
            )
        out, bufs = [], []
        eta = learning_rate_at(lr, state.count)
        for g, p, buf in zip(tree_leaves(grads), tree_leaves(params), tree_leaves(state.momentum_buffer)):
            g = as_like(g, buf)
            if g.ndim != 2:
                raise ValueError("Param gradient must be a 2D matrix")
            buf = buf + (1.0 - momentum) * (g - buf)
            direction = g + momentum * (buf - g) if nesterov else buf
            O = newton_schulz(direction, ns_coefficients, ns_steps, eps)
            step = O * (-adjust_lr(eta, adjust_lr_fn, np.shape(p)))
            if weight_decay:
                step = step - (eta * weight_decay) * np.asarray(p).astype(step.dtype, copy=False)
            out.append(step)
            bufs.append(buf)
        return rebuild(grads, out), MuonState(state.count + 1, rebuild(grads, bufs))

    return GradientTransformation(init, update)


def matrix_labels(params: Any) -> Any:
    r"""``"muon"`` for every 2-D parameter, ``"adamw"`` for the rest (a label tree for
    :func:`lib.optim.partition`): :math:`\ell(\theta) = \texttt{muon}` iff :math:`\theta \in \mathbb R^{n\times m}`.
    torch: the ``p.ndim == 2`` split in ``torch.optim.Muon``'s
    docstring example; optax: ``optax.contrib.muon``'s default ``muon_weight_dimension_numbers``;
    :cite:t:`jordan2024muon`."""
    return tree_map(lambda p: "muon" if np.ndim(p) == 2 else "adamw", params)


def muon_with_adamw(
    lr: LearningRate = 0.02,
    adamw_lr: LearningRate = 1e-3,
    *,
    weight_decay: float = 0.1,
    adamw_weight_decay: float = 1e-2,
    labels=matrix_labels,
    **muon_kwargs,
) -> GradientTransformation:
    r"""The usual recipe: Muon on the weight matrices, AdamW on everything else.

    .. math::
        \theta_i \leftarrow \begin{cases} \text{Muon step}(\eta_{\text{Muon}}) & \theta_i \text{ a matrix} \\
        \text{AdamW step}(\eta_{\text{AdamW}}) & \text{otherwise (biases, gains)} \end{cases}

    It is ``partition({"muon": muon(lr, weight_decay, **muon_kwargs), "adamw": adamw(adamw_lr,
    weight_decay=adamw_weight_decay)}, labels)`` with :func:`matrix_labels`; pass another
    ``labels`` (a tree or a callable) to keep e.g. the first and last layers on AdamW, as
    :cite:t:`jordan2024muon` recommends for embeddings and output heads.
    torch: two optimizers, ``torch.optim.Muon(matrices)`` and ``torch.optim.AdamW(others)``,
    stepped together; optax: ``optax.contrib.muon`` (Muon + Adam in one transform).

    >>> from lib.nn import mlp
    >>> model = mlp((4, 8, 3))
    >>> params = model.init(0)
    >>> matrix_labels(params)
    {'W1': 'muon', 'b1': 'adamw', 'W2': 'muon', 'b2': 'adamw'}
    >>> state = muon_with_adamw().init(params)
    """
    from lib.optim.adaptive_optimizers import adamw
    from lib.optim.partition import partition

    return partition(
        {
            "muon": muon(lr, weight_decay=weight_decay, **muon_kwargs),
            "adamw": adamw(adamw_lr, weight_decay=adamw_weight_decay),
        },
        labels,
    )
