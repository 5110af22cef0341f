r"""Curvature matrices of the MLP of :mod:`lib.nn`: Hessian, Gauss-Newton, Fisher, empirical Fisher,
their diagonal and block-diagonal approximations, and curvature-vector products.

For the mean softmax cross-entropy :math:`L(\theta) = \frac1n\sum_i \ell(z_i(\theta), y_i)` of
logits :math:`z_i`, with :math:`J_i = \partial z_i/\partial\theta` (:math:`C \times N`) and
:math:`p_i = \operatorname{softmax}(z_i)`:

.. math::
    H &= \tfrac1n\textstyle\sum_i J_i^\top \Lambda_i J_i + \tfrac1n\sum_{i,c} (p_{ic} - [c = y_i])\,\nabla^2 z_{ic}
    \qquad (\Lambda_i = \operatorname{diag}(p_i) - p_i p_i^\top) \\
    G &= \tfrac1n\textstyle\sum_i J_i^\top \Lambda_i J_i \succeq 0 \qquad\text{(generalised Gauss-Newton)}\\
    F &= \tfrac1n\textstyle\sum_i \mathbb E_{y \sim p_i}\big[\nabla_\theta \log p(y|x_i)\,\nabla_\theta \log p(y|x_i)^\top\big] = G \\
    \tilde F &= \tfrac1n\textstyle\sum_i \nabla\ell_i\,\nabla\ell_i^\top \qquad\text{(empirical Fisher: the labels, not } y\sim p)

:cite:p:`martens2020new,schraudolph2002fast,kunstner2019limitations`. Products with :math:`H`
and :math:`G` are computed exactly without forming them, by Pearlmutter's
:math:`\mathcal R`-operator (a forward-mode pass through the forward *and* backward pass)
:cite:p:`pearlmutter1994fast`; :func:`hvp` keeps every term, :func:`ggn_vp` drops the terms
that involve the residual :math:`p - \operatorname{onehot}(y)`.

Parameters are a dict ``{"W1", "b1", ..., "WL", "bL"}`` as made by ``lib.nn.mlp(sizes).init``;
:func:`flatten` orders them ``W1`` (row-major), ``b1``, ``W2``, ... so that ``[W_l; b_l]`` is one
contiguous block (what :func:`lib.second_order.kfac` factors).

>>> from lib.nn import mlp
>>> p = mlp((3, 4, 2)).init(0); X = np.ones((5, 3)); y = np.array([0, 1, 0, 1, 1])
>>> G = matrix(ggn_vp, p, X, y); H = matrix(hvp, p, X, y)
>>> G.shape, bool(np.linalg.eigvalsh(G).min() > -1e-12)
((26, 26), True)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.linalg

__all__ = [
    "flatten",
    "unflatten",
    "layer_blocks",
    "forward",
    "hvp",
    "ggn_vp",
    "matrix",
    "jacobians",
    "ggn",
    "fisher",
    "empirical_fisher",
    "per_example_grads",
    "diagonal",
    "block_diagonal",
]


def _layers(params: dict) -> int:
    L = 0
    while f"W{L + 1}" in params:
        L += 1
    if L == 0 or any(f"b{l}" not in params for l in range(1, L + 1)):
        raise ValueError(
            f"params must be an MLP's dict W1, b1, ..., WL, bL (from lib.nn.mlp(...).init), got keys {sorted(params)}"
        )
    return L


def flatten(params: dict) -> np.ndarray:
    """The parameters as one vector, ordered ``W1, b1, W2, b2, ...`` (weights row-major).

    >>> flatten({"W1": np.eye(2), "b1": np.array([5.0, 6.0])})
    array([1., 0., 0., 1., 5., 6.])
    """
    L = _layers(params)
    return np.concatenate([np.ravel(params[k]) for l in range(1, L + 1) for k in (f"W{l}", f"b{l}")])


def unflatten(v, like: dict) -> dict:
    """The vector ``v`` cut into a dict with the keys and shapes of ``like`` (inverse of :func:`flatten`)."""
    L = _layers(like)
    v = np.asarray(v, dtype=float)
    n = sum(np.size(like[k]) for k in like)
    if v.shape != (n,):
        raise ValueError(f"v must have shape ({n},), one entry per parameter, got {v.shape}")
    out, i = {}, 0
    for l in range(1, L + 1):
        for k in (f"W{l}", f"b{l}"):
            size = np.size(like[k])
            out[k] = v[i : i + size].reshape(np.shape(like[k]))
            i += size
    return out


def layer_blocks(params: dict) -> list[slice]:
    """The slice of :func:`flatten`'s vector that holds layer ``l``'s ``[W_l; b_l]``, for each layer."""
    L, i, out = _layers(params), 0, []
    for l in range(1, L + 1):
        size = np.size(params[f"W{l}"]) + np.size(params[f"b{l}"])
        out.append(slice(i, i + size))
        i += size
    return out


def forward(params: dict, X):
    """``(logits, inputs, pre)``: the logits, each layer's input ``H_{l-1}`` and pre-activation ``Z_l``."""
    L = _layers(params)
    H, inputs, pre = np.asarray(X, dtype=float), [], []
    for l in range(1, L + 1):
        inputs.append(H)
        Z = H @ params[f"W{l}"] + params[f"b{l}"]
        pre.append(Z)
        H = np.maximum(Z, 0.0) if l < L else Z
    return Z, inputs, pre


def _softmax(Z):
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _r_product(params, X, y, v, residual: bool) -> np.ndarray:
    L = _layers(params)
    V = unflatten(v, params)
    Z, inputs, pre = forward(params, X)
    n = Z.shape[0]
    # R-forward: RZ_l = RH_{l-1} W_l + H_{l-1} V_l + vb_l
    RH, RZs = np.zeros_like(inputs[0]), []
    for l in range(1, L + 1):
        RZ = RH @ params[f"W{l}"] + inputs[l - 1] @ V[f"W{l}"] + V[f"b{l}"]
        RZs.append(RZ)
        RH = RZ * (pre[l - 1] > 0) if l < L else RZ
    P = _softmax(Z)
    RZL = RZs[-1]
    RG = (P * RZL - P * np.sum(P * RZL, axis=1, keepdims=True)) / n  # Λ_i Jv / n
    G = P.copy()
    G[np.arange(n), y] -= 1.0
    G /= n
    out = {}
    for l in range(L, 0, -1):
        Hin = inputs[l - 1]
        RHin = RZs[l - 2] * (pre[l - 2] > 0) if l > 1 else np.zeros_like(Hin)
        out[f"W{l}"] = Hin.T @ RG + (RHin.T @ G if residual else 0.0)
        out[f"b{l}"] = RG.sum(axis=0)
        if l > 1:
            mask = pre[l - 2] > 0
            RG_new = RG @ params[f"W{l}"].T
            if residual:
                RG_new = RG_new + G @ V[f"W{l}"].T
            RG = RG_new * mask
            G = (G @ params[f"W{l}"].T) * mask
    return flatten(out)


def hvp(params: dict, X, y, v) -> np.ndarray:
    r"""The exact Hessian-vector product :math:`Hv` of the mean cross-entropy, by the
    :math:`\mathcal R`-operator (ReLU's second derivative is 0 almost everywhere)
    :cite:p:`pearlmutter1994fast`. torch: ``torch.func.jvp(torch.func.grad(loss), (θ,), (v,))``.

    >>> from lib.nn import mlp
    >>> p = mlp((2, 3, 2)).init(0)
    >>> hvp(p, np.ones((1, 2)), np.array([0]), np.zeros(17)).shape
    (17,)
    """
    return _r_product(params, X, np.asarray(y), v, residual=True)


def ggn_vp(params: dict, X, y, v) -> np.ndarray:
    r"""The generalised Gauss-Newton product :math:`Gv = \frac1n\sum_i J_i^\top\Lambda_i J_i v`:
    :math:`J v` by the :math:`\mathcal R`-forward pass, then one backward pass of
    :math:`\Lambda J v` :cite:p:`schraudolph2002fast,martens2010deep`.

    >>> from lib.nn import mlp
    >>> p = mlp((2, 3, 2)).init(0); v = np.ones(17)
    >>> bool(v @ ggn_vp(p, np.ones((4, 2)), np.array([0, 1, 1, 0]), v) >= 0)
    True
    """
    return _r_product(params, X, np.asarray(y), v, residual=False)


def matrix(product: Callable, params: dict, X, y) -> np.ndarray:
    """The dense ``N x N`` matrix of a curvature-vector ``product`` (:func:`hvp`, :func:`ggn_vp`),
    column by column: ``N`` products, for small models only."""
    N = flatten(params).size
    M = np.column_stack([product(params, X, y, e) for e in np.eye(N)])
    return (M + M.T) / 2


def jacobians(params: dict, X) -> tuple[np.ndarray, np.ndarray]:
    r"""``(J, P)``: the per-example Jacobians of the logits :math:`J` ``(n, C, N)`` and the
    softmax probabilities ``(n, C)``, by one backward pass per class."""
    L = _layers(params)
    Z, inputs, pre = forward(params, X)
    n, C = Z.shape
    J = []
    for c in range(C):
        G = np.zeros((n, C))
        G[:, c] = 1.0
        rows = {}
        for l in range(L, 0, -1):
            rows[f"W{l}"] = inputs[l - 1][:, :, None] * G[:, None, :]  # (n, d_in, d_out)
            rows[f"b{l}"] = G
            if l > 1:
                G = (G @ params[f"W{l}"].T) * (pre[l - 2] > 0)
        J.append(np.concatenate([rows[k].reshape(n, -1) for l in range(1, L + 1) for k in (f"W{l}", f"b{l}")], axis=1))
    return np.stack(J, axis=1), _softmax(Z)


def ggn(params: dict, X, y=None) -> np.ndarray:
    r"""The generalised Gauss-Newton matrix :math:`G = \frac1n\sum_i J_i^\top(\operatorname{diag}p_i - p_ip_i^\top)J_i`
    (positive semi-definite; it does not depend on the labels) :cite:p:`schraudolph2002fast,martens2020new`."""
    J, P = jacobians(params, X)
    n, C, N = J.shape
    LJ = P[:, :, None] * J - P[:, :, None] * np.einsum("ic,icn->in", P, J)[:, None, :]  # Λ_i J_i
    return J.reshape(n * C, N).T @ LJ.reshape(n * C, N) / n


def fisher(params: dict, X, y=None) -> np.ndarray:
    r"""The Fisher information :math:`F = \frac1n\sum_i\sum_c p_{ic}\, s_{ic} s_{ic}^\top` with the
    score :math:`s_{ic} = \nabla_\theta\log p(c|x_i) = J_i^\top(e_c - p_i)`, the expectation over
    the **model's** labels :math:`y \sim p_i` computed exactly :cite:p:`amari1998natural,martens2020new`.
    Equal to :func:`ggn` for softmax cross-entropy."""
    J, P = jacobians(params, X)
    n, C, N = J.shape
    F = np.zeros((N, N))
    for c in range(C):
        R = -P.copy()
        R[:, c] += 1.0
        S = np.einsum("icn,ic->in", J, R)  # scores of label c, (n, N)
        F += (S * P[:, c : c + 1]).T @ S
    return F / n


def per_example_grads(params: dict, X, y) -> np.ndarray:
    r"""The gradients :math:`\nabla\ell_i = J_i^\top(p_i - e_{y_i})` of each example's loss, ``(n, N)``."""
    J, P = jacobians(params, X)
    R = P.copy()
    R[np.arange(len(P)), np.asarray(y)] -= 1.0
    return np.einsum("icn,ic->in", J, R)


def empirical_fisher(params: dict, X, y) -> np.ndarray:
    r"""The empirical Fisher :math:`\tilde F = \frac1n\sum_i \nabla\ell_i\nabla\ell_i^\top`: the
    outer products of the gradients at the **observed** labels. It is not the Fisher, and not
    a good curvature matrix in general :cite:p:`kunstner2019limitations`."""
    Gs = per_example_grads(params, X, y)
    return Gs.T @ Gs / len(Gs)


def diagonal(M) -> np.ndarray:
    r"""The diagonal approximation :math:`\operatorname{diag}(M_{11}, \dots, M_{NN})`: :math:`N`
    numbers instead of :math:`N^2`, inverted in :math:`O(N)`."""
    M = np.asarray(M, dtype=float)
    return np.diag(np.diag(M))


def block_diagonal(M, blocks: list[slice]) -> np.ndarray:
    r"""Keep the square diagonal blocks ``M[b, b]`` (e.g. one per layer, :func:`layer_blocks`)
    and zero the rest, assembled with ``scipy.linalg.block_diag`` :cite:p:`leroux2008topmoumoute,martens2015optimizing`.

    >>> block_diagonal(np.ones((3, 3)), [slice(0, 1), slice(1, 3)])
    array([[1., 0., 0.],
           [0., 1., 1.],
           [0., 1., 1.]])
    """
    M = np.asarray(M, dtype=float)
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise ValueError(f"M must be a square matrix, got shape {M.shape}")
    covered = sum(b.stop - b.start for b in blocks)
    if blocks[0].start != 0 or covered != M.shape[0] or any(a.stop != b.start for a, b in zip(blocks, blocks[1:])):
        raise ValueError("blocks must be consecutive slices covering 0..N exactly")
    return scipy.linalg.block_diag(*[M[b, b] for b in blocks])
