r"""Inverted dropout, torch's convention: ``p`` is the probability of **dropping** a unit.

In training mode each unit is kept independently with probability :math:`1-p` and the kept
units are scaled by :math:`1/(1-p)`, so that the expectation of every unit is unchanged
:cite:p:`srivastava2014dropout`:

.. math::
    y = \frac{x\odot r}{1-p}, \quad r_{ij}\sim\text{Bernoulli}(1-p), \qquad
    \mathbb E[y] = x, \qquad \frac{\partial L}{\partial x} = \frac{r}{1-p}\odot\frac{\partial L}{\partial y};

in evaluation mode dropout is the identity. (Srivastava et al. write :math:`p` for the
probability of *keeping* a unit and scale the weights at test time instead; torch, Keras and
optax/flax use the drop probability, and scale at training time.) Masks come from a NumPy
generator, so a run is reproducible from its seed; they are not torch's masks (a different
random generator), but the statistics are the same.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import NamedTuple

import numpy as np

__all__ = ["dropout_mask", "dropout_forward", "dropout_backward", "Dropout", "DropoutCache"]


class DropoutCache(NamedTuple):
    """The 0/1 ``mask`` of kept units and the ``scale`` :math:`1/(1-p)` (1 in eval mode)."""

    mask: np.ndarray | None
    scale: float


def _p(p) -> float:
    if isinstance(p, bool) or not isinstance(p, Real) or not 0.0 <= float(p) <= 1.0:
        raise ValueError(
            f"dropout probability has to be between 0 and 1, but got {p!r} "
            "(p is the probability of dropping a unit, as in torch.nn.Dropout)"
        )
    return float(p)


def _rng(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, Integral) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy Generator or a non-negative integer seed, got {rng!r}")


def dropout_mask(shape, p: float, rng) -> np.ndarray:
    r"""A 0/1 float mask of the given shape that keeps each unit with probability :math:`1-p`:
    :math:`r_{ij} = [u_{ij} \ge p]` with :math:`u_{ij}\sim\mathcal U[0,1)` from ``rng`` (a
    Generator or a seed). torch: the Bernoulli mask inside ``F.dropout`` (from torch's own
    generator) :cite:p:`srivastava2014dropout`.

    >>> dropout_mask((2, 3), 0.0, rng=0).tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """
    p = _p(p)
    return (_rng(rng).random(shape) >= p).astype(np.float64)


def dropout_forward(x, p: float, training: bool = True, *, rng=None, mask=None):
    r"""Inverted dropout :math:`y = x\odot r/(1-p)` in training mode, :math:`y = x` in eval mode.

    Give either ``rng`` (a Generator or seed; a fresh mask is drawn with :func:`dropout_mask`)
    or ``mask`` (a 0/1 array of ``x``'s shape, e.g. to check a gradient). ``p = 1`` drops
    everything (the output is 0, as in torch). Returns ``(out, cache)``. torch:
    ``F.dropout(x, p, training)`` / ``nn.Dropout(p)`` :cite:p:`srivastava2014dropout`.

    >>> out, _ = dropout_forward(np.ones(4), 0.5, mask=np.array([1.0, 0.0, 1.0, 0.0]))
    >>> out.tolist()
    [2.0, 0.0, 2.0, 0.0]
    """
    p = _p(p)
    x = np.asarray(x)
    if x.dtype.kind not in "fiu" or x.dtype == bool:
        raise TypeError(f"x must hold numbers, got dtype {x.dtype}")
    x = x.astype(np.float64, copy=False)
    if not training or p == 0.0:
        return x.copy(), DropoutCache(None, 1.0)
    if mask is None:
        if rng is None:
            raise ValueError("training-mode dropout needs rng (a numpy Generator or a seed) or a mask")
        mask = dropout_mask(x.shape, p, rng)
    else:
        mask = np.asarray(mask, dtype=np.float64)
        if mask.shape != x.shape:
            raise ValueError(f"mask has shape {mask.shape} but x has shape {x.shape}")
        if not np.all((mask == 0) | (mask == 1)):
            raise ValueError("mask must hold only 0 (dropped) and 1 (kept)")
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    return x * mask * scale, DropoutCache(mask, scale)


def dropout_backward(dout, cache: DropoutCache) -> np.ndarray:
    r""":math:`\partial L/\partial x = \frac{r}{1-p}\odot\partial L/\partial y` (the same mask and
    scale as the forward pass; the identity in eval mode). torch: autograd's backward of
    ``F.dropout`` :cite:p:`srivastava2014dropout`.

    >>> _, cache = dropout_forward(np.ones(2), 0.5, mask=np.array([1.0, 0.0]))
    >>> dropout_backward(np.array([3.0, 3.0]), cache).tolist()
    [6.0, 0.0]
    """
    if not isinstance(cache, DropoutCache):
        raise TypeError("cache must be the DropoutCache returned by dropout_forward")
    dout = np.asarray(dout, dtype=np.float64)
    if cache.mask is None:
        return dout.copy()
    if dout.shape != cache.mask.shape:
        raise ValueError(f"dout has shape {dout.shape} but the layer's output had shape {cache.mask.shape}")
    return dout * cache.mask * cache.scale


class Dropout:
    r"""torch's ``nn.Dropout(p=0.5)`` as a thin object over :func:`dropout_forward`: inverted
    dropout :math:`y = x\odot r/(1-p)` in ``train()`` mode (the default), the identity in
    ``eval()`` mode; masks from ``np.random.default_rng(seed)``. ``forward(x)`` remembers the
    mask for ``backward(dout)`` :cite:p:`srivastava2014dropout`.

    >>> d = Dropout(0.5, seed=0)
    >>> d.eval().forward(np.ones(3)).tolist()
    [1.0, 1.0, 1.0]
    """

    def __init__(self, p: float = 0.5, *, seed: int = 0):
        self.p = _p(p)
        self.rng = _rng(seed)
        self.training = True
        self._cache: DropoutCache | None = None

    def train(self, mode: bool = True) -> Dropout:
        """Switch to training mode (``mode=False``: evaluation mode); returns ``self``."""
        self.training = bool(mode)
        return self

    def eval(self) -> Dropout:
        """Switch to evaluation mode (the identity); returns ``self``."""
        return self.train(False)

    def forward(self, x) -> np.ndarray:
        r"""Apply dropout to ``x`` (see :func:`dropout_forward`). torch: ``drop(x)``."""
        out, self._cache = dropout_forward(x, self.p, self.training, rng=self.rng)
        return out

    __call__ = forward

    def backward(self, dout) -> np.ndarray:
        r"""Return :math:`\partial L/\partial x` for the last ``forward`` (see :func:`dropout_backward`)."""
        if self._cache is None:
            raise RuntimeError("call forward(x) before backward(dout)")
        return dropout_backward(dout, self._cache)

    def __repr__(self) -> str:
        return f"Dropout(p={self.p:g}, training={self.training})"
