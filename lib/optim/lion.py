r"""Lion: the sign of an interpolation between momentum and gradient, found by program search.

:cite:t:`chen2023symbolic` searched a space of update programs and distilled the winner to
"EvoLved Sign Momentum": every coordinate moves by exactly :math:`\pm\eta` (plus weight decay),
the sign of :math:`\beta_1 m + (1-\beta_1) g`, while the momentum itself is tracked with a
*different*, slower :math:`\beta_2`. It stores one buffer per parameter (Adam stores two).
torch has no Lion; this module reproduces ``optax.lion``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from lib.optim._leaves import as_like, float_zeros, rebuild
from lib.optim.adaptive import _check_beta
from lib.optim.base import GradientTransformation, chain, check_grads, owning, with_in_place
from lib.optim.transforms import LearningRate, _check_nonnegative, scale_by_learning_rate
from lib.tree import tree_leaves, tree_map

__all__ = ["ScaleByLionState", "scale_by_lion", "add_masked_decayed_weights", "lion"]

Mask = None | Any | Callable[[Any], Any]


class ScaleByLionState(NamedTuple):
    count: int  # updates so far (optax: count)
    mu: Any  # m_t, the momentum (optax: mu)


def scale_by_lion(b1: float = 0.9, b2: float = 0.99) -> GradientTransformation:
    r"""Lion's direction: the sign of an interpolation, with a second beta for the momentum.

    .. math::
        u_t = \operatorname{sign}\big(\beta_1 m_{t-1} + (1-\beta_1)\, g_t\big), \qquad
        m_t = \beta_2 m_{t-1} + (1-\beta_2)\, g_t \qquad (m_0 = 0)

    :cite:p:`chen2023symbolic` (Algorithm 2). With :math:`\beta_1 = \beta_2 = \beta` this is
    signed momentum (Signum, :cite:t:`bernstein2018signsgd`) with the momentum updated *after*
    the sign is taken; ``sign(0) = 0``. optax: ``optax.scale_by_lion(b1, b2)``; torch: none.

    >>> import numpy as np
    >>> tx = scale_by_lion()
    >>> u, s = tx.update(np.array([3.0, -1e-6, 0.0]), tx.init(np.zeros(3)))
    >>> u, s.mu                                   # ±1 whatever the size; m uses b2
    (array([ 1., -1.,  0.]), array([ 3.e-02, -1.e-08,  0.e+00]))
    """
    b1, b2 = _check_beta(0, b1), _check_beta(1, b2)

    def init(params):
        return ScaleByLionState(0, tree_map(float_zeros, params))

    def update(grads, state, params=None):
        check_grads(grads, state.mu)
        out, mu = [], []
        for g, m in zip(tree_leaves(grads), tree_leaves(state.mu)):
            g = as_like(g, m)
            c = _fresh((1.0 - b1) * g)  # c = (1-b1) g + b1 m
            spare = _fresh(b1 * m)
            c += spare
            new = _fresh((1.0 - b2) * g)  # the new m = (1-b2) g + b2 m
            new += np.multiply(m, b2, out=spare)
            out.append(np.sign(c, out=spare))  # into another array: NumPy's in-place sign is slow
            mu.append(new)
        return rebuild(grads, out), ScaleByLionState(state.count + 1, rebuild(grads, mu))

    return GradientTransformation(init, owning(update))


def _fresh(x: Any) -> np.ndarray:
    return x if isinstance(x, np.ndarray) else np.asarray(x)


def _mask_leaves(mask: Mask, params: Any) -> list:
    if mask is None:
        return [True] * len(tree_leaves(params))
    m = mask(params) if callable(mask) else mask
    leaves = tree_leaves(m)
    if len(leaves) != len(tree_leaves(params)):
        raise ValueError(
            f"the mask has {len(leaves)} leaves but the parameters have "
            f"{len(tree_leaves(params))}: give one bool per parameter, in a tree like params"
        )
    for b in leaves:
        if not isinstance(b, (bool, np.bool_)):
            raise TypeError(f"mask leaves must be True / False, got {b!r}")
    return [bool(b) for b in leaves]


def add_masked_decayed_weights(weight_decay: float, mask: Mask = None) -> GradientTransformation:
    r"""Add :math:`\lambda\theta` to the updates of the parameters where ``mask`` is True.

    .. math:: u_i \leftarrow u_i + \lambda\,\theta_i \quad \text{if } \text{mask}_i, \qquad u_i \text{ otherwise}

    ``mask`` is a tree of bools like the parameters, or a callable ``params -> mask``, or
    ``None`` (decay everything). optax: ``optax.add_decayed_weights(weight_decay, mask)``;
    torch: a parameter group with ``weight_decay=0``. Reference: :cite:t:`loshchilov2019decoupled`.
    """
    weight_decay = _check_nonnegative("weight_decay", weight_decay)

    def update(grads, state, params=None):
        if params is None:
            raise ValueError("weight decay needs the parameters: call update(grads, state, params)")
        check_grads(grads, params)
        keep = _mask_leaves(mask, params)
        out = [
            np.asarray(g) + weight_decay * np.asarray(p) if k else g
            for g, p, k in zip(tree_leaves(grads), tree_leaves(params), keep)
        ]
        return rebuild(grads, out), state

    def update_in_place(updates, state, params=None):  # on arrays a chain's previous link just made
        if params is None:
            raise ValueError("weight decay needs the parameters: call update(grads, state, params)")
        check_grads(updates, params)
        keep = _mask_leaves(mask, params)
        out = [
            _add_scaled(u, weight_decay, p) if k else u
            for u, p, k in zip(tree_leaves(updates), tree_leaves(params), keep)
        ]
        return rebuild(updates, out), state

    return GradientTransformation(lambda params: (), with_in_place(update, update_in_place))


def _add_scaled(u, c, p):
    from lib.optim.transforms import _add_scaled_in_place

    p = np.asarray(p)
    if isinstance(u, np.ndarray) and u.dtype.kind == "f" and u.dtype == np.result_type(u, p):
        return _add_scaled_in_place(u, c, p)
    return np.asarray(u) + c * p


def lion(
    lr: LearningRate, betas: Sequence[float] = (0.9, 0.99), weight_decay: float = 1e-3, mask: Mask = None
) -> GradientTransformation:
    r"""Lion, exactly as ``optax.lion``.

    .. math::
        c_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        \theta_t = \theta_{t-1} - \eta_t\big(\operatorname{sign}(c_t) + \lambda\theta_{t-1}\big), \qquad
        m_t = \beta_2 m_{t-1} + (1-\beta_2) g_t

    :cite:p:`chen2023symbolic`. Because every coordinate of :math:`\operatorname{sign}(c_t)` has
    size 1, the update's RMS is 1, larger than Adam's; so Lion's learning rate is usually
    taken several times smaller than AdamW's and its weight decay correspondingly larger, to keep
    :math:`\eta\lambda` (the decay per step) the same. ``mask`` selects which parameters decay.

    optax: ``optax.lion(learning_rate, b1, b2, weight_decay=1e-3, mask=None)`` = ``chain(
    scale_by_lion(b1, b2), add_decayed_weights(weight_decay, mask), scale_by_learning_rate(lr))``
    (the order of this chain). torch: none in ``torch.optim`` (the authors' ``lion-pytorch``
    package applies ``p *= 1 - lr * wd`` first, the same result).

    >>> import numpy as np
    >>> from lib.optim import apply_updates
    >>> tx = lion(lr=0.01, weight_decay=0.0)
    >>> p = np.zeros(2)
    >>> u, s = tx.update(np.array([1e3, -1e-3]), tx.init(p), p)
    >>> u
    array([-0.01,  0.01])
    """
    if not callable(lr):
        _check_nonnegative("learning rate", lr)
    try:
        b1, b2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}") from None
    return chain(scale_by_lion(b1, b2), add_masked_decayed_weights(weight_decay, mask), scale_by_learning_rate(lr))
