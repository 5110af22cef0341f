r"""The layers of a multi-layer perceptron as pure forward / backward functions.

Each forward function returns ``(output, cache)``; each backward function maps the gradient of
the loss with respect to the output to the gradients with respect to the inputs (the chain
rule applied from the loss backwards, :cite:t:`rumelhart1986learning`). The formulas are in
the docstring of :mod:`lib.nn`; every gradient is verified by :mod:`lib.gradcheck` in the tests.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["linear_forward", "linear_backward", "relu_forward", "relu_backward", "softmax_cross_entropy"]


def _array(name: str, a: Any, ndim: int) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {a.shape}")
    if a.dtype.kind not in "fiu" or a.dtype == bool:
        raise TypeError(f"{name} must hold numbers, got dtype {a.dtype}")
    return a


def _check_labels(y: Any, n: int, n_classes: int, name: str = "y") -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},), one class label per row, got shape {y.shape}")
    if y.dtype.kind not in "iu":
        raise TypeError(
            f"{name} must hold integer class labels 0..{n_classes - 1}, got dtype {y.dtype}; "
            f"convert with {name}.astype(int) if the values are whole numbers"
        )
    if n and (y.min() < 0 or y.max() >= n_classes):
        bad = y[(y < 0) | (y >= n_classes)][0]
        raise ValueError(
            f"{name} contains the label {bad}, outside 0..{n_classes - 1} (the logits have {n_classes} columns)"
        )
    return y


def _finite_or_raise(name: str, a: np.ndarray) -> None:
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinity: clean or impute the data before training")


# --------------------------------------------------------------------------------------------
# layers


def linear_forward(X, W, b) -> tuple[np.ndarray, tuple]:
    r"""A fully connected layer :math:`Z = XW + \mathbf 1 b^\top` for a batch ``X`` ``(n, d_in)``,
    weights ``W`` ``(d_in, d_out)`` and bias ``b`` ``(d_out,)``.

    Returns ``(Z, cache)``; pass the cache to :func:`linear_backward`. torch:
    ``nn.Linear(d_in, d_out)`` (whose ``weight`` is ``W.T``), i.e. ``F.linear(X, W.T, b)``
    :cite:p:`goodfellow2016deep`.

    >>> Z, _ = linear_forward(np.ones((2, 3)), np.ones((3, 1)), np.array([0.5]))
    >>> Z.ravel().tolist()
    [3.5, 3.5]
    """
    X, W, b = _array("X", X, 2), _array("W", W, 2), _array("b", b, 1)
    if X.shape[1] != W.shape[0]:
        raise ValueError(
            f"X has shape {X.shape} but W has shape {W.shape}: "
            f"X's {X.shape[1]} columns must match W's {W.shape[0]} rows"
        )
    if b.shape[0] != W.shape[1]:
        raise ValueError(
            f"b has shape {b.shape} but W has shape {W.shape}: b needs one entry per column of W ({W.shape[1]})"
        )
    return X @ W + b, (X, W)


def linear_backward(dout, cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Gradients of a linear layer from :math:`G = \partial L/\partial Z` (``dout``, ``(n, d_out)``):

    .. math:: \frac{\partial L}{\partial X} = G W^\top, \qquad
              \frac{\partial L}{\partial W} = X^\top G, \qquad
              \frac{\partial L}{\partial b} = \textstyle\sum_i G_{i,:}

    (the sums over the batch live in :math:`X^\top G` and :math:`\sum_i`; the :math:`1/n` of a
    mean loss is already in :math:`G`). Returns ``(dX, dW, db)``. torch: what autograd runs
    for ``nn.Linear`` during ``loss.backward()`` :cite:p:`rumelhart1986learning`.

    >>> Z, cache = linear_forward(np.ones((2, 3)), np.ones((3, 1)), np.zeros(1))
    >>> [g.shape for g in linear_backward(np.ones((2, 1)), cache)]
    [(2, 3), (3, 1), (1,)]
    """
    X, W = cache
    dout = _array("dout", dout, 2)
    if dout.shape != (X.shape[0], W.shape[1]):
        raise ValueError(
            f"dout has shape {dout.shape} but the layer's output has shape "
            f"{(X.shape[0], W.shape[1])}: pass the gradient with respect to Z"
        )
    return dout @ W.T, X.T @ dout, dout.sum(axis=0)


def relu_forward(Z) -> tuple[np.ndarray, np.ndarray]:
    r"""The rectified linear unit :math:`H = \max(Z, 0)`, element-wise. Returns ``(H, cache)``.

    torch: ``nn.ReLU()`` / ``torch.relu`` :cite:p:`goodfellow2016deep`.

    >>> relu_forward(np.array([-1.0, 0.0, 2.0]))[0].tolist()
    [0.0, 0.0, 2.0]
    """
    Z = np.asarray(Z)
    if Z.dtype.kind not in "fiu" or Z.dtype == bool:
        raise TypeError(f"Z must hold numbers, got dtype {Z.dtype}")
    mask = Z > 0
    return np.where(mask, Z, 0.0), mask


def relu_backward(dout, cache) -> np.ndarray:
    r""":math:`\partial L/\partial Z = \partial L/\partial H \odot [Z > 0]`: the gradient passes
    where the unit was active and is 0 elsewhere (at the kink :math:`Z = 0` the derivative is
    taken to be 0, as in torch). torch: autograd's backward of ``torch.relu``
    :cite:p:`rumelhart1986learning`.

    >>> _, cache = relu_forward(np.array([-1.0, 2.0]))
    >>> relu_backward(np.array([5.0, 5.0]), cache).tolist()
    [0.0, 5.0]
    """
    dout = np.asarray(dout)
    if dout.shape != cache.shape:
        raise ValueError(f"dout has shape {dout.shape} but the ReLU's input had shape {cache.shape}")
    return np.where(cache, dout, 0.0)


def _softmax_cross_entropy(Z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Unchecked core of :func:`softmax_cross_entropy` (the training loop's inner path). Its
    callers silence overflow and invalid-value warnings (``np.errstate``) around it."""
    n = Z.shape[0]
    rows = np.arange(n)
    shifted = Z - Z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    loss = float((np.log(s[:, 0]) - shifted[rows, y]).sum()) / n
    probs = e / s
    probs[rows, y] -= 1.0
    probs /= n
    return loss, probs


def softmax_cross_entropy(logits, y) -> tuple[float, np.ndarray]:
    r"""Mean cross-entropy of the softmax of ``logits`` ``(n, C)`` against labels ``y`` ``(n,)``,
    and its gradient with respect to the logits.

    .. math::
        L = \frac1n \sum_{i=1}^n \Big(\log \sum_{c=1}^C e^{z_{ic}} - z_{i y_i}\Big), \qquad
        \frac{\partial L}{\partial z_{ic}} = \frac1n\big(\operatorname{softmax}(z_i)_c - [c = y_i]\big)

    The log-sum-exp is computed as :math:`m_i + \log\sum_c e^{z_{ic} - m_i}` with
    :math:`m_i = \max_c z_{ic}`, which never overflows :cite:p:`goodfellow2016deep`. Non-finite
    logits (a diverging run) give a NaN loss without warnings; labels outside ``0..C-1`` raise.
    torch: ``nn.CrossEntropyLoss()(logits, y)`` (mean reduction; it takes logits, not
    probabilities), i.e. ``F.cross_entropy``; optax:
    ``optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()``.

    >>> loss, g = softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
    >>> bool(np.isclose(loss, np.log(4))), g[0].tolist()
    (True, [-0.375, 0.125, 0.125, 0.125])
    """
    Z = _array("logits", logits, 2)
    if Z.shape[0] == 0 or Z.shape[1] == 0:
        raise ValueError(f"logits must have at least one row and one class, got shape {Z.shape}")
    y = _check_labels(y, Z.shape[0], Z.shape[1])
    with np.errstate(over="ignore", invalid="ignore"):
        return _softmax_cross_entropy(Z.astype(np.float64, copy=False), y)


# --------------------------------------------------------------------------------------------
# models
