r"""K-FAC: a Kronecker-factored approximation of the Fisher of each dense layer
:cite:p:`martens2015optimizing`.

A dense layer :math:`z = \bar a^\top \bar W` (input with a 1 appended,
:math:`\bar a = [a; 1]`, weights and bias stacked, :math:`\bar W = [W; b^\top]`) has the
per-example gradient :math:`\nabla_{\bar W}\ell = \bar a\, g^\top` with
:math:`g = \partial\ell/\partial z`, so :math:`\operatorname{vec}(\nabla\ell) = \bar a\otimes g`
(row-major vec) and the layer's Fisher block is
:math:`F_l = \mathbb E[\bar a\bar a^\top \otimes g g^\top]`. K-FAC assumes activations and
back-propagated gradients independent:

.. math:: F_l \approx A_l \otimes G_l, \qquad A_l = \mathbb E[\bar a\bar a^\top],\quad G_l = \mathbb E_{y\sim p}[g g^\top]

and then inverts two small matrices instead of one big one, by
:math:`(A\otimes G)^{-1} = A^{-1}\otimes G^{-1}` and
:math:`(A \otimes G)^{-1}\operatorname{vec}(M) = \operatorname{vec}(A^{-1} M G^{-1})`:
:math:`O(d_\text{in}^3 + d_\text{out}^3)` instead of :math:`O(d_\text{in}^3 d_\text{out}^3)`.
The expectation over the model's labels :math:`y\sim p` is computed exactly here (no sampling)
through :math:`\operatorname{diag}(p) - pp^\top = SS^\top`, :math:`S = \operatorname{diag}(\sqrt p) - p\sqrt p^\top`.

>>> from lib.nn import mlp
>>> p = mlp((3, 4, 2)).init(0)
>>> [(A.shape, G.shape) for A, G in kfac_factors(p, np.ones((5, 3)))]
[((4, 4), (4, 4)), ((5, 5), (2, 2))]
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from lib.data import minibatches
from lib.second_order.curvature import _layers, _softmax, forward

__all__ = ["kfac_factors", "kfac_direction", "KFACHistory", "train_kfac"]


def kfac_factors(params: dict, X, y=None, *, empirical: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
    r"""The Kronecker factors :math:`(A_l, G_l)` of every dense layer on the batch ``X``.

    :math:`A_l = \frac1n\sum_i \bar a_i\bar a_i^\top` (size :math:`d_\text{in}+1`) and
    :math:`G_l = \frac1n\sum_i \mathbb E_{y\sim p_i}[g_i g_i^\top]` (size :math:`d_\text{out}`).
    With ``empirical=True`` :math:`G_l` uses the observed labels ``y`` instead (the empirical
    Fisher's factor), shown in the lesson for contrast :cite:p:`martens2015optimizing,kunstner2019limitations`.
    """
    L = _layers(params)
    Z, inputs, pre = forward(params, X)
    n, C = Z.shape
    P = _softmax(Z)
    if empirical:
        if y is None:
            raise ValueError("empirical=True needs the labels y")
        S = P.copy()
        S[np.arange(n), np.asarray(y)] -= 1.0
        S = S[:, :, None]  # (n, C, 1)
    else:
        sq = np.sqrt(P)
        S = np.einsum("ic,cd->icd", sq, np.eye(C)) - P[:, :, None] * sq[:, None, :]  # (n, C, C)
    factors = [None] * L
    back = S  # (n, d_l, k) columns
    for l in range(L, 0, -1):
        a = np.hstack([inputs[l - 1], np.ones((n, 1))])
        A = a.T @ a / n
        G = np.einsum("idk,iek->de", back, back) / n
        factors[l - 1] = (A, G)
        if l > 1:
            back = np.einsum("ijk,dj->idk", back, params[f"W{l}"]) * (pre[l - 2] > 0)[:, :, None]
    return factors


def kfac_direction(grads: dict, factors, damping: float) -> dict:
    r"""The K-FAC preconditioned gradient :math:`(A + \pi\sqrt\lambda I)^{-1}\,[\nabla W; \nabla b^\top]\,(G + \tfrac{1}{\pi}\sqrt\lambda I)^{-1}`
    per layer, with the factored Tikhonov damping of :cite:t:`martens2015optimizing`,
    :math:`\pi = \sqrt{(\operatorname{tr}A/\dim A)/(\operatorname{tr}G/\dim G)}`.
    Returned as a dict like ``grads`` (the step is minus the learning rate times it).
    """
    if not damping > 0:
        raise ValueError(f"damping must be > 0 (K-FAC's factors are singular without it), got {damping}")
    out = {}
    for l, (A, G) in enumerate(factors, start=1):
        M = np.vstack([grads[f"W{l}"], grads[f"b{l}"][None, :]])
        pi = np.sqrt((np.trace(A) / len(A)) / max(np.trace(G) / len(G), 1e-30))
        r = np.sqrt(damping)
        Ainv_M = np.linalg.solve(A + pi * r * np.eye(len(A)), M)
        D = np.linalg.solve(G + r / pi * np.eye(len(G)), Ainv_M.T).T
        out[f"W{l}"], out[f"b{l}"] = D[:-1], D[-1]
    return out


class KFACHistory(NamedTuple):
    """``step_loss`` per step, ``wall_time`` cumulative seconds per step, final ``params``."""

    step_loss: np.ndarray
    wall_time: np.ndarray
    params: dict


def train_kfac(
    model,
    params: dict,
    X,
    y,
    *,
    epochs: int = 1,
    batch_size: int = 64,
    lr: float = 0.1,
    damping: float = 1e-2,
    decay: float = 0.95,
    inverse_every: int = 1,
    seed: int = 0,
) -> KFACHistory:
    r"""Mini-batch K-FAC: exponential moving averages (``decay``) of the factors of each batch,
    the step :math:`\theta \leftarrow \theta - \text{lr}\cdot` :func:`kfac_direction`.

    A simplified K-FAC (no momentum, no adaptive damping, no re-scaling of the step by the
    quadratic model) :cite:p:`martens2015optimizing`; batches are drawn as in
    :func:`lib.train.train` (``lib.data.minibatches`` with a generator seeded by ``seed``), so
    the runs see the same batches as SGD and Adam there.
    """
    rng = np.random.default_rng(seed)
    params = {k: np.array(v, dtype=float) for k, v in params.items()}
    avg, losses, times = None, [], []
    t0, elapsed, step = 0.0, 0.0, 0
    for _ in range(int(epochs)):
        for xb, yb in minibatches(X, y, batch_size, rng=rng):
            t0 = time.perf_counter()
            loss, grads = model.loss_and_grad(params, xb, yb)
            if step % inverse_every == 0 or avg is None:
                new = kfac_factors(params, xb)
                avg = (
                    new
                    if avg is None
                    else [
                        (decay * A + (1 - decay) * An, decay * G + (1 - decay) * Gn)
                        for (A, G), (An, Gn) in zip(avg, new)
                    ]
                )
            d = kfac_direction(grads, avg, damping)
            params = {k: params[k] - lr * d[k] for k in params}
            elapsed += time.perf_counter() - t0
            losses.append(loss)
            times.append(elapsed)
            step += 1
            if not np.isfinite(loss):
                return KFACHistory(np.array(losses), np.array(times), params)
    return KFACHistory(np.array(losses), np.array(times), params)
