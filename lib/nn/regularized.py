r"""The MLP with dropout and batch normalization, and the model state they need (chapter 8).

``mlp(sizes, dropout=p, batchnorm=True)`` builds, for every hidden layer,
``Linear → BatchNorm1d → ReLU → Dropout(p)`` (torch: ``nn.Sequential(nn.Linear(d, h,
bias=False), nn.BatchNorm1d(h), nn.ReLU(), nn.Dropout(p), ...)``); the output layer is a
plain ``Linear``. The parameters stay a dict of arrays (``W1``, ``gamma1``, ``beta1``, ...,
a hidden layer followed by batch norm has no bias: the normalisation would remove it). What
is *not* a parameter lives in the model's :class:`ModelState`: the mode (training or
evaluation), the running statistics of every batch-norm layer, and the dropout generator.
``model.train()`` / ``model.eval()`` switch the mode, as ``nn.Module.train()`` / ``.eval()``;
:func:`lib.train.train` trains in training mode and evaluates in evaluation mode.

The forward and backward passes are those of :mod:`lib.nn.layers`, :mod:`lib.nn.batchnorm`
and :mod:`lib.nn.dropout`, chained.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lib.nn.batchnorm import batchnorm_backward, batchnorm_forward
from lib.nn.dropout import _p, dropout_mask
from lib.nn.layers import _check_labels, _finite_or_raise, _softmax_cross_entropy

__all__ = ["ModelState", "make_regularized_mlp"]

#: the dropout generator's stream is derived from a seed with this tag, so that it is
#: independent of the mini-batch shuffling drawn from the same seed
DROPOUT_STREAM = 8


class ModelState:
    r"""The mutable part of a model that is not trained by the optimizer (torch: the module's
    mode and its buffers).

    - ``training``: True in training mode (batch statistics, dropout), False in evaluation mode;
    - ``buffers``: ``{"running_mean1": ..., "running_var1": ..., ...}``, the running estimates
      of every batch-norm layer (:func:`lib.nn.batchnorm_forward`);
    - ``rng``: the generator of the dropout masks.

    ``reset(seed)`` restores the initial buffers (means 0, variances 1) and reseeds the
    dropout generator; ``snapshot()`` / ``restore(snapshot)`` copy the buffers out and back (the
    best checkpoint of early stopping keeps them with the parameters).
    """

    def __init__(self, widths: dict[int, int], momentum: float = 0.1, eps: float = 1e-5, seed: int = 0):
        self.widths = dict(widths)  # batch-norm layer index -> number of features
        self.momentum, self.eps = momentum, eps
        self.training = True
        self.reset(seed)

    def reset(self, seed: int = 0) -> None:
        """Fresh running statistics (means 0, variances 1) and a dropout generator seeded by ``seed``."""
        self.buffers = {}
        for l, h in self.widths.items():
            self.buffers[f"running_mean{l}"] = np.zeros(h)
            self.buffers[f"running_var{l}"] = np.ones(h)
        self.rng = np.random.default_rng([int(seed), DROPOUT_STREAM])

    def snapshot(self) -> dict[str, np.ndarray]:
        """A copy of the buffers."""
        return {k: v.copy() for k, v in self.buffers.items()}

    def restore(self, snapshot: dict[str, np.ndarray]) -> None:
        """Put the buffers of :meth:`snapshot` back."""
        if set(snapshot) != set(self.buffers):
            raise ValueError(f"the snapshot has the buffers {sorted(snapshot)}, this model {sorted(self.buffers)}")
        self.buffers = {k: np.array(v, dtype=np.float64) for k, v in snapshot.items()}

    def __repr__(self) -> str:
        return f"ModelState(training={self.training}, buffers={sorted(self.buffers)})"


def make_regularized_mlp(sizes: tuple[int, ...], init_weights, dropout: float, batchnorm: bool, init: str):
    r"""Build the functions of ``mlp(sizes, dropout=..., batchnorm=...)`` (see the module
    docstring); returns ``(name, init_fn, loss_and_grad, predict, state)``. Called by
    :func:`lib.nn.mlp`; each hidden layer is
    :math:`h = \operatorname{drop}_p(\operatorname{relu}(\operatorname{BN}(hW)))` in training
    mode and :math:`\operatorname{relu}(\operatorname{BN}_{\text{running}}(hW))` in evaluation
    mode. torch: ``nn.Sequential(nn.Linear(d, h, bias=False), nn.BatchNorm1d(h), nn.ReLU(),
    nn.Dropout(p), ..., nn.Linear(h, C))`` :cite:p:`ioffe2015batch,srivastava2014dropout`.
    """
    p = _p(dropout)
    if p == 1.0:
        raise ValueError("dropout=1 drops every hidden unit: the network would output a constant; use p < 1")
    L = len(sizes) - 1
    keys: list[str] = []
    shapes: dict[str, tuple] = {}
    for l in range(1, L + 1):
        keys.append(f"W{l}")
        shapes[f"W{l}"] = (sizes[l - 1], sizes[l])
        if batchnorm and l < L:
            keys += [f"gamma{l}", f"beta{l}"]
            shapes[f"gamma{l}"] = shapes[f"beta{l}"] = (sizes[l],)
        else:
            keys.append(f"b{l}")
            shapes[f"b{l}"] = (sizes[l],)
    state = ModelState({l: sizes[l] for l in range(1, L)} if batchnorm else {})
    parts = [f"mlp({', '.join(map(str, sizes))}"]
    if p:
        parts.append(f"dropout={p:g}")
    if batchnorm:
        parts.append("batchnorm=True")
    name = ", ".join(parts) + ")"
    scale = 1.0 / (1.0 - p)

    def init_fn(seed: int = 0) -> dict:
        rng = np.random.default_rng(int(seed))
        params = {}
        for l in range(1, L + 1):
            params[f"W{l}"] = init_weights(init, rng, sizes[l - 1], sizes[l])
            if f"gamma{l}" in shapes:
                params[f"gamma{l}"], params[f"beta{l}"] = np.ones(sizes[l]), np.zeros(sizes[l])
            else:
                params[f"b{l}"] = np.zeros(sizes[l])
        state.reset(seed)
        return params

    def check(params, X) -> np.ndarray:
        if not isinstance(params, dict):
            raise TypeError(f"params must be the dict returned by {name}.init(seed), got {type(params).__name__}")
        for k in keys:
            if k not in params:
                raise ValueError(f"params has no entry {k!r}: {name} needs the keys {keys}")
            if np.shape(params[k]) != shapes[k]:
                raise ValueError(f"params[{k!r}] has shape {np.shape(params[k])} but {name} expects {shapes[k]}")
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != sizes[0]:
            raise ValueError(
                f"X has shape {X.shape} but {name} expects (n, {sizes[0]}): one example of {sizes[0]} features per row"
            )
        return X.astype(np.float64, copy=False)

    def forward(params, X):
        training = state.training
        H, caches = X, []
        for l in range(1, L):
            Z = H @ params[f"W{l}"]
            bn = None
            if batchnorm:
                Z, bn, rm, rv = batchnorm_forward(
                    Z,
                    params[f"gamma{l}"],
                    params[f"beta{l}"],
                    state.buffers[f"running_mean{l}"],
                    state.buffers[f"running_var{l}"],
                    training,
                    state.momentum,
                    state.eps,
                )
                if training:
                    state.buffers[f"running_mean{l}"], state.buffers[f"running_var{l}"] = rm, rv
            else:
                Z = Z + params[f"b{l}"]
            active = Z > 0
            A = np.where(active, Z, 0.0)
            mask = None
            if training and p:
                mask = dropout_mask(A.shape, p, state.rng) * scale
                A = A * mask
            caches.append((H, bn, active, mask))
            H = A
        caches.append((H, None, None, None))
        return H @ params[f"W{L}"] + params[f"b{L}"], caches

    def predict(params, X) -> np.ndarray:
        X = check(params, X)
        with np.errstate(over="ignore", invalid="ignore"):
            return forward(params, X)[0]

    def loss_and_grad(params, X, y) -> tuple[float, dict]:
        X = check(params, X)
        if X.shape[0] == 0:
            raise ValueError("X is empty: a loss needs at least one example")
        _check_labels(np.asarray(y), X.shape[0], sizes[-1])
        with np.errstate(over="ignore", invalid="ignore"):
            Z, caches = forward(params, X)
            loss, G = _softmax_cross_entropy(Z, np.asarray(y))
            if not math.isfinite(loss):
                _finite_or_raise("X", X)
            grads: dict[str, Any] = {}
            H = caches[-1][0]
            grads[f"W{L}"], grads[f"b{L}"] = H.T @ G, G.sum(axis=0)
            G = G @ params[f"W{L}"].T
            for l in range(L - 1, 0, -1):
                H, bn, active, mask = caches[l - 1]
                if mask is not None:
                    G = G * mask
                G = np.where(active, G, 0.0)
                if bn is not None:
                    G, grads[f"gamma{l}"], grads[f"beta{l}"] = batchnorm_backward(G, bn)
                else:
                    grads[f"b{l}"] = G.sum(axis=0)
                grads[f"W{l}"] = H.T @ G
                if l > 1:
                    G = G @ params[f"W{l}"].T
        return loss, {k: grads[k] for k in keys}

    return name, init_fn, loss_and_grad, predict, state
