r"""Layer-wise trust ratios for large-batch training: LARS and LAMB, as in optax.

Both optimizers rescale each parameter tensor's update by a *trust ratio*, the ratio of the
tensor's norm to its update's norm, so that every layer moves by about the same *relative*
amount whatever the scale of its gradient :cite:p:`you2017large,you2020large`::

    lars(lr, ...) == chain(add_decayed_weights(λ, mask), masked(scale_by_trust_ratio(c, eps), mask),
                           scale_by_learning_rate(lr), trace(momentum, nesterov))
    lamb(lr, ...) == chain(scale_by_adam(b1, b2, eps, eps_root), add_decayed_weights(λ, mask),
                           scale_by_trust_ratio(), scale_by_learning_rate(lr))

torch has neither optimizer; both reproduce ``optax.lars`` / ``optax.lamb`` (optax 0.2.8) step
for step, masks, zero parameters and zero gradients included (golden trajectories in
``tests/data/large_batch_optax.npz``, recorded by ``tests/golden/record_large_batch.py``).

A *mask* says which tensors a link applies to, as in optax: ``True`` / ``False`` for all, a tree
of bools with the structure of the parameters (``True`` = apply), or a function
``params -> tree of bools``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from lib.optim._leaves import sum_of_squares
from lib.optim.adaptive import scale_by_adam
from lib.optim.adaptive_optimizers import _check_betas, _check_lr
from lib.optim.base import GradientTransformation, chain, check_grads, identity, with_in_place
from lib.optim.masking import resolve_mask
from lib.optim.transforms import LearningRate, _check_nonnegative, add_decayed_weights, scale_by_learning_rate, trace
from lib.tree import tree_map

__all__ = ["scale_by_trust_ratio", "trust_ratio", "lars", "lamb"]

Mask = bool | Any | Callable[[Any], Any]


def _norm(x: np.ndarray, min_norm: float) -> float:
    """optax's ``safe_norm``: the Euclidean (Frobenius) norm, or ``min_norm`` if it is not larger."""
    n = math.sqrt(sum_of_squares(x))
    return min_norm if n <= min_norm else n


def trust_ratio(
    update: np.ndarray, param: np.ndarray, trust_coefficient: float = 1.0, eps: float = 0.0, min_norm: float = 0.0
) -> float:
    r"""The trust ratio of one tensor, with optax's guard for zero norms.

    .. math::
        r = \begin{cases} 1 & \text{if } \lVert\theta\rVert = 0 \text{ or } \lVert u\rVert = 0 \\
            c\, \dfrac{\lVert\theta\rVert}{\lVert u\rVert + \varepsilon} & \text{otherwise} \end{cases}

    with norms clipped below at ``min_norm``. The guard matters: a bias initialised to zero
    would otherwise get ratio 0 and never move. optax: the ``_scale_update`` inside
    ``optax.scale_by_trust_ratio``. Reference: :cite:t:`you2017large`.
    """
    p_norm, u_norm = _norm(param, min_norm), _norm(update, min_norm)
    if p_norm == 0.0 or u_norm == 0.0:
        return 1.0
    return trust_coefficient * p_norm / (u_norm + eps)


def scale_by_trust_ratio(
    min_norm: float = 0.0, trust_coefficient: float = 1.0, eps: float = 0.0, mask: Mask = True
) -> GradientTransformation:
    r"""Multiply each tensor's update by its trust ratio :math:`r = c\,\lVert\theta\rVert/(\lVert u\rVert+\varepsilon)`.

    .. math:: u^{(l)} \leftarrow r^{(l)}\, u^{(l)} \quad \text{for every tensor } l \text{ with mask } \texttt{True}

    (:func:`trust_ratio`, :math:`r = 1` when either norm is 0). Tensors whose mask is
    ``False`` pass through unchanged. optax: ``optax.scale_by_trust_ratio(min_norm,
    trust_coefficient, eps)`` (wrapped in ``optax.masked(..., mask)`` for a mask). Stateless.
    Reference: :cite:t:`you2017large`.
    """
    min_norm = _check_nonnegative("min_norm", min_norm)
    trust_coefficient = _check_nonnegative("trust_coefficient", trust_coefficient)
    eps = _check_nonnegative("eps", eps)

    def update(updates, state, params=None):
        if params is None:
            raise ValueError("scale_by_trust_ratio needs the parameters: call update(grads, state, params)")
        check_grads(updates, params, name="updates")
        m = resolve_mask(mask, params)

        def leaf(u, p, apply):
            u = np.asarray(u)
            if not apply:
                return u
            r = trust_ratio(u, p, trust_coefficient, eps, min_norm)
            return u * np.asarray(r, dtype=np.asarray(p).dtype)

        return tree_map(leaf, updates, params, m), state

    def update_in_place(updates, state, params=None):  # on arrays a chain's previous link just made
        if params is None:
            raise ValueError("scale_by_trust_ratio needs the parameters: call update(grads, state, params)")
        check_grads(updates, params, name="updates")
        m = resolve_mask(mask, params)

        def leaf(u, p, apply):
            if not apply:
                return u
            r = np.asarray(trust_ratio(u, p, trust_coefficient, eps, min_norm), dtype=np.asarray(p).dtype)
            if isinstance(u, np.ndarray) and u.ndim and u.dtype == np.result_type(u, r):
                return np.multiply(u, r, out=u)
            return np.asarray(u) * r

        return tree_map(leaf, updates, params, m), state

    return GradientTransformation(lambda params: (), with_in_place(update, update_in_place))


def _add_decayed_weights(weight_decay: float, mask: Mask) -> GradientTransformation:
    r""":math:`u \leftarrow u + \lambda\theta` where the mask is True (:func:`lib.optim.add_decayed_weights`);
    like optax, no work at all when :math:`\lambda = 0`."""
    return identity() if weight_decay == 0.0 else add_decayed_weights(weight_decay, mask=mask)


def lars(
    lr: LearningRate,
    weight_decay: float = 0.0,
    weight_decay_mask: Mask = True,
    trust_coefficient: float = 1e-3,
    eps: float = 0.0,
    trust_ratio_mask: Mask = True,
    momentum: float = 0.9,
    nesterov: bool = False,
) -> GradientTransformation:
    r"""LARS, layer-wise adaptive rate scaling, exactly as ``optax.lars``.

    For every tensor :math:`l` (decay only where ``weight_decay_mask``, the ratio only where
    ``trust_ratio_mask``):

    .. math::
        d^{(l)}_t = g^{(l)}_t + \lambda\,\theta^{(l)}_{t-1}, \qquad
        r^{(l)}_t = c\,\frac{\lVert\theta^{(l)}_{t-1}\rVert}{\lVert d^{(l)}_t\rVert + \varepsilon}
        \ (1 \text{ if a norm is } 0), \qquad
        b_t = \mu\, b_{t-1} - \eta_t\, r^{(l)}_t d^{(l)}_t, \qquad \theta_t = \theta_{t-1} + b_t

    (:math:`b_0 = 0`; Nesterov: :math:`\theta_t = \theta_{t-1} + \mu b_t - \eta_t r_t d_t`).

    How optax's LARS differs from Algorithm 1 of :cite:t:`you2017large`: the paper's local rate
    is :math:`c\,\lVert\theta\rVert / (\lVert g\rVert + \lambda\lVert\theta\rVert)`, with the
    *sum of the norms* in the denominator; optax divides by the norm of the *sum*
    :math:`\lVert g + \lambda\theta\rVert` (never larger, by the triangle inequality) plus an
    ``eps``; optax also sets the ratio to 1 when a norm is zero (a zero-initialised bias moves at
    the full rate :math:`\eta`, not :math:`c\,\eta`), and lets masks exempt tensors (biases,
    batch-norm scales) from the decay and the ratio. The learning rate is applied before the
    momentum buffer, as in the paper. torch: no ``torch.optim`` equivalent.
    """
    _check_lr(lr)
    weight_decay = _check_nonnegative("weight_decay", weight_decay)
    trust_coefficient = _check_nonnegative("trust_coefficient", trust_coefficient)
    eps = _check_nonnegative("eps", eps)
    momentum = _check_nonnegative("momentum", momentum)
    # optax's trace starts from a zero buffer, b_1 = g_1: the same as lib's torch-style trace
    # without dampening; with momentum 0, Nesterov's g + 0 * b is plain g.
    return chain(
        _add_decayed_weights(weight_decay, weight_decay_mask),
        scale_by_trust_ratio(trust_coefficient=trust_coefficient, eps=eps, mask=trust_ratio_mask),
        scale_by_learning_rate(lr),
        trace(momentum, nesterov=bool(nesterov) and momentum > 0),
    )


def lamb(
    lr: LearningRate,
    betas: Sequence[float] = (0.9, 0.999),
    eps: float = 1e-6,
    eps_root: float = 0.0,
    weight_decay: float = 0.0,
    mask: Mask = None,
) -> GradientTransformation:
    r"""LAMB, layer-wise adaptive moments, exactly as ``optax.lamb``.

    .. math::
        u_t = \frac{\hat m_t}{\sqrt{\hat v_t + \varepsilon_{\text{root}}} + \varepsilon} + \lambda\,\theta_{t-1},
        \qquad
        \theta^{(l)}_t = \theta^{(l)}_{t-1} - \eta_t\,
            \frac{\lVert\theta^{(l)}_{t-1}\rVert}{\lVert u^{(l)}_t\rVert}\, u^{(l)}_t

    with Adam's bias-corrected moments :math:`\hat m_t, \hat v_t` (:func:`lib.optim.scale_by_adam`),
    the decay only on tensors where ``mask`` is True (``None``: all), and the ratio 1 when a norm is 0.
    The ratio uses the norm of the *Adam update* (plus decay), not of the gradient as in LARS
    :cite:p:`you2020large` (the paper also allows a scaling function :math:`\phi(\lVert\theta\rVert)`;
    optax and this function use the identity). torch: no ``torch.optim`` equivalent.
    """
    _check_lr(lr)
    b1, b2 = _check_betas(betas)
    weight_decay = _check_nonnegative("weight_decay", weight_decay)
    return chain(
        scale_by_adam(b1=b1, b2=b2, eps=eps, eps_root=eps_root),
        _add_decayed_weights(weight_decay, True if mask is None else mask),
        scale_by_trust_ratio(),
        scale_by_learning_rate(lr),
    )
