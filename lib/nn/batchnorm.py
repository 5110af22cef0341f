r"""Batch normalization as pure forward / backward functions, and torch's ``BatchNorm1d`` on top.

In training mode each feature :math:`j` of a batch :math:`x \in \mathbb R^{n\times C}` is
normalised with the statistics of the batch itself, then scaled and shifted
:cite:p:`ioffe2015batch`:

.. math::
    \mu_j = \frac1n\sum_i x_{ij}, \qquad
    \sigma_j^2 = \frac1n\sum_i (x_{ij}-\mu_j)^2 \ \text{(biased)}, \qquad
    \hat x_{ij} = \frac{x_{ij}-\mu_j}{\sqrt{\sigma_j^2+\varepsilon}}, \qquad
    y_{ij} = \gamma_j \hat x_{ij} + \beta_j,

and the running estimates used in evaluation mode move towards the batch statistics, the
variance in its **unbiased** form (torch's convention):

.. math::
    \hat\mu \leftarrow (1-m)\,\hat\mu + m\,\mu, \qquad
    \hat\sigma^2 \leftarrow (1-m)\,\hat\sigma^2 + m\,\frac{n}{n-1}\sigma^2 .

The backward pass (derived in SymPy in chapter 8) is

.. math::
    \frac{\partial L}{\partial x_{ij}} = \frac{\gamma_j}{n\sqrt{\sigma_j^2+\varepsilon}}
    \Big(n\,g_{ij} - \sum_k g_{kj} - \hat x_{ij}\sum_k g_{kj}\hat x_{kj}\Big), \quad
    \frac{\partial L}{\partial \gamma_j} = \sum_i g_{ij}\hat x_{ij}, \quad
    \frac{\partial L}{\partial \beta_j} = \sum_i g_{ij}

with :math:`g = \partial L/\partial y`. A 3-D input ``(n, C, L)`` is normalised per channel
over the ``n·L`` values of each channel, as in torch.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np

__all__ = ["batchnorm_forward", "batchnorm_backward", "BatchNorm1d", "BatchNormCache"]


class BatchNormCache(NamedTuple):
    """What :func:`batchnorm_backward` needs: the normalised input, ``1/sqrt(var + eps)`` per
    feature, ``gamma``, the reduction axes and whether the batch statistics were used."""

    xhat: np.ndarray
    inv_std: np.ndarray
    gamma: np.ndarray
    axes: tuple
    training: bool


def _input(x) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind not in "fiu" or x.dtype == bool:
        raise TypeError(f"x must hold numbers, got dtype {x.dtype}")
    if x.ndim not in (2, 3):
        raise ValueError(f"expected 2D or 3D input (got {x.ndim}D input): BatchNorm1d takes (N, C) or (N, C, L)")
    return x.astype(np.float64, copy=False)


def _per_feature(name: str, a, C: int) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.shape != (C,):
        raise ValueError(
            f"{name} should contain {C} elements not {a.size} (one per feature; x has {C} features in dimension 1)"
        )
    return a


def _shape(v: np.ndarray, ndim: int) -> np.ndarray:
    return v if ndim == 2 else v[:, None]


def _momentum(momentum) -> float:
    if isinstance(momentum, bool) or not isinstance(momentum, Real) or not 0.0 <= float(momentum) <= 1.0:
        raise ValueError(f"momentum must be a number in [0, 1] (torch's default is 0.1), got {momentum!r}")
    return float(momentum)


def _eps(eps) -> float:
    if isinstance(eps, bool) or not isinstance(eps, Real) or not (math.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a finite number >= 0 (torch's default is 1e-5), got {eps!r}")
    return float(eps)


def batchnorm_forward(
    x, gamma, beta, running_mean, running_var, training: bool, momentum: float = 0.1, eps: float = 1e-5
):
    r"""Batch normalization of ``x`` ``(n, C)`` or ``(n, C, L)``, per feature (dimension 1).

    Training mode (``training=True``) normalises with the batch mean and **biased** variance
    and returns running statistics updated with the **unbiased** variance,

    .. math:: y = \gamma\,\frac{x-\mu_B}{\sqrt{\sigma_B^2+\varepsilon}} + \beta,\qquad
              \hat\mu \leftarrow (1-m)\hat\mu + m\mu_B,\quad
              \hat\sigma^2 \leftarrow (1-m)\hat\sigma^2 + m\tfrac{n}{n-1}\sigma_B^2 ;

    evaluation mode normalises with ``running_mean`` / ``running_var`` and leaves them as they
    are. Returns ``(out, cache, new_running_mean, new_running_var)`` (new arrays; the inputs are
    not modified). torch: ``F.batch_norm(x, running_mean, running_var, gamma, beta, training,
    momentum, eps)``, i.e. ``nn.BatchNorm1d`` :cite:p:`ioffe2015batch`.

    >>> x = np.array([[1.0], [3.0]])
    >>> out, _, rm, rv = batchnorm_forward(x, np.ones(1), np.zeros(1), np.zeros(1), np.ones(1), True, eps=0.0)
    >>> out.ravel().tolist(), rm.tolist(), rv.tolist()     # var_B = 1, unbiased 2
    ([-1.0, 1.0], [0.2], [1.1])
    """
    x = _input(x)
    C = x.shape[1]
    gamma, beta = _per_feature("weight (gamma)", gamma, C), _per_feature("bias (beta)", beta, C)
    running_mean = _per_feature("running_mean", running_mean, C)
    running_var = _per_feature("running_var", running_var, C)
    m, eps = _momentum(momentum), _eps(eps)
    axes = (0,) if x.ndim == 2 else (0, 2)
    count = x.size // C
    if training:
        if count <= 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size {x.shape}: "
                "use a batch of at least 2 examples, or eval mode"
            )
        mean = x.mean(axis=axes)
        var = ((x - _shape(mean, x.ndim)) ** 2).mean(axis=axes)  # biased: divides by n
        new_mean = (1 - m) * running_mean + m * mean
        new_var = (1 - m) * running_var + m * var * (count / (count - 1))  # unbiased in the estimate
    else:
        mean, var = running_mean, running_var
        new_mean, new_var = running_mean.copy(), running_var.copy()
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - _shape(mean, x.ndim)) * _shape(inv_std, x.ndim)
    out = _shape(gamma, x.ndim) * xhat + _shape(beta, x.ndim)
    return out, BatchNormCache(xhat, inv_std, gamma, axes, bool(training)), new_mean, new_var


def batchnorm_backward(dout, cache: BatchNormCache):
    r"""Gradients of :func:`batchnorm_forward` from :math:`g = \partial L/\partial y` (``dout``).

    In training mode the mean and variance depend on every example of the batch, so

    .. math:: \frac{\partial L}{\partial x} = \frac{\gamma}{n\sqrt{\sigma_B^2+\varepsilon}}
              \Big(n g - \textstyle\sum_i g_i - \hat x \sum_i g_i \hat x_i\Big);

    in evaluation mode the statistics are constants and
    :math:`\partial L/\partial x = \gamma g/\sqrt{\hat\sigma^2+\varepsilon}`. Always
    :math:`\partial L/\partial\gamma = \sum_i g_i\hat x_i` and :math:`\partial L/\partial\beta =
    \sum_i g_i`. Returns ``(dx, dgamma, dbeta)``. torch: autograd's backward of
    ``F.batch_norm`` (``torch.ops.aten.native_batch_norm_backward``) :cite:p:`ioffe2015batch`.

    >>> x = np.array([[1.0], [3.0]])
    >>> out, cache, _, _ = batchnorm_forward(x, np.ones(1), np.zeros(1), np.zeros(1), np.ones(1), True, eps=0.0)
    >>> [g.ravel().tolist() for g in batchnorm_backward(np.ones((2, 1)), cache)]   # a shift changes nothing
    [[0.0, 0.0], [0.0], [2.0]]
    """
    if not isinstance(cache, BatchNormCache):
        raise TypeError("cache must be the BatchNormCache returned by batchnorm_forward")
    xhat, inv_std, gamma, axes, training = cache
    g = np.asarray(dout, dtype=np.float64)
    if g.shape != xhat.shape:
        raise ValueError(
            f"dout has shape {g.shape} but the layer's output has shape {xhat.shape}: "
            "pass the gradient with respect to the output"
        )
    nd = xhat.ndim
    dbeta = g.sum(axis=axes)
    dgamma = (g * xhat).sum(axis=axes)
    if training:
        n = xhat.size // xhat.shape[1]
        dx = _shape(gamma * inv_std / n, nd) * (n * g - _shape(dbeta, nd) - xhat * _shape(dgamma, nd))
    else:
        dx = g * _shape(gamma * inv_std, nd)
    return dx, dgamma, dbeta


class BatchNorm1d:
    r"""torch's ``nn.BatchNorm1d(num_features, eps=1e-5, momentum=0.1, affine=True)``, as a thin
    object over :func:`batchnorm_forward` / :func:`batchnorm_backward`.

    It holds ``weight`` (:math:`\gamma`, ones) and ``bias`` (:math:`\beta`, zeros) when
    ``affine``, the buffers ``running_mean`` (zeros), ``running_var`` (ones) and
    ``num_batches_tracked``, and a mode: ``train()`` (the default) normalises with the batch
    statistics and updates the running ones, ``eval()`` normalises with the running ones.
    ``forward(x)`` returns the output and remembers what ``backward(dout)`` needs; ``backward``
    returns :math:`\partial L/\partial x` and stores ``grads = {"weight": dγ, "bias": dβ}``.
    ``momentum=None`` uses the cumulative average :math:`m = 1/\text{num\_batches\_tracked}`, as
    torch does. Update formulas: see :func:`batchnorm_forward` :cite:p:`ioffe2015batch`.

    >>> bn = BatchNorm1d(1)
    >>> _ = bn.forward(np.array([[1.0], [3.0]]))
    >>> bn.running_mean.tolist(), bn.running_var.tolist(), bn.num_batches_tracked
    ([0.2], [1.1], 1)
    >>> bn.eval().forward(np.array([[0.2]])).ravel().tolist()
    [0.0]
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True):
        if isinstance(num_features, bool) or not isinstance(num_features, Integral) or num_features < 1:
            raise ValueError(f"num_features must be a positive integer (the C of inputs (N, C)), got {num_features!r}")
        self.num_features = int(num_features)
        self.eps = _eps(eps)
        self.momentum = None if momentum is None else _momentum(momentum)
        self.affine = bool(affine)
        self.weight = np.ones(self.num_features) if self.affine else None
        self.bias = np.zeros(self.num_features) if self.affine else None
        self.running_mean = np.zeros(self.num_features)
        self.running_var = np.ones(self.num_features)
        self.num_batches_tracked = 0
        self.training = True
        self.grads: dict[str, np.ndarray] = {}
        self._cache: BatchNormCache | None = None

    def train(self, mode: bool = True) -> BatchNorm1d:
        """Switch to training mode (``mode=False``: evaluation mode); returns ``self`` (torch: ``module.train()``)."""
        self.training = bool(mode)
        return self

    def eval(self) -> BatchNorm1d:
        """Switch to evaluation mode (running statistics); returns ``self`` (torch: ``module.eval()``)."""
        return self.train(False)

    def parameters(self) -> dict[str, np.ndarray]:
        """The trainable parameters ``{"weight", "bias"}`` (empty without ``affine``)."""
        return {"weight": self.weight, "bias": self.bias} if self.affine else {}

    def forward(self, x) -> np.ndarray:
        r"""Normalise ``x`` ``(N, C)`` or ``(N, C, L)``; in training mode also update the running
        statistics (see :func:`batchnorm_forward`). torch: ``bn(x)``."""
        x = _input(x)
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"x has {x.shape[1]} features (shape {x.shape}) but this BatchNorm1d was "
                f"built for num_features={self.num_features}"
            )
        gamma = self.weight if self.affine else np.ones(self.num_features)
        beta = self.bias if self.affine else np.zeros(self.num_features)
        m = 0.0
        if self.training:
            self.num_batches_tracked += 1
            m = 1.0 / self.num_batches_tracked if self.momentum is None else self.momentum
        try:
            out, cache, rm, rv = batchnorm_forward(
                x, gamma, beta, self.running_mean, self.running_var, self.training, m, self.eps
            )
        except ValueError:
            if self.training:
                self.num_batches_tracked -= 1
            raise
        self.running_mean, self.running_var, self._cache = rm, rv, cache
        return out

    __call__ = forward

    def backward(self, dout) -> np.ndarray:
        r"""Return :math:`\partial L/\partial x` for the last ``forward`` and store
        ``grads["weight"]``, ``grads["bias"]`` (see :func:`batchnorm_backward`). torch:
        ``loss.backward()`` fills ``bn.weight.grad``, ``bn.bias.grad``."""
        if self._cache is None:
            raise RuntimeError("call forward(x) before backward(dout)")
        dx, dgamma, dbeta = batchnorm_backward(dout, self._cache)
        self.grads = {"weight": dgamma, "bias": dbeta} if self.affine else {}
        return dx

    def __repr__(self) -> str:
        return (
            f"BatchNorm1d({self.num_features}, eps={self.eps:g}, momentum={self.momentum}, "
            f"affine={self.affine}, training={self.training})"
        )
