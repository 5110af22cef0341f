r"""Gradient clipping (chapter 07): optax's chainable transforms and torch's in-place functions.

Two conventions for the same idea, which differ in one detail that the tests pin down:

* optax ``clip_by_global_norm(max_norm)`` leaves the updates alone when
  :math:`\|g\| < c` and otherwise returns :math:`g\,c/\|g\|` (the clipped norm is exactly ``c``);
* torch ``clip_grad_norm_(params, max_norm)`` multiplies by
  :math:`\min(1, c/(\|g\| + 10^{-6}))` (the clipped norm is slightly *below* ``c``, and a
  gradient of norm exactly ``c`` is still scaled by :math:`c/(c + 10^{-6})`).
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import numpy as np

from lib.optim._leaves import sum_of_squares
from lib.optim.base import GradientTransformation
from lib.tree import tree_leaves, tree_map

__all__ = [
    "global_norm",
    "clip_by_global_norm",
    "clip",
    "clip_by_block_rms",
    "clip_grad_norm_",
    "clip_grad_value_",
    "TORCH_CLIP_EPS",
]

TORCH_CLIP_EPS = 1e-6  # torch.nn.utils.clip_grad_norm_ divides by (total_norm + 1e-6)


def _positive(name: str, value: Any, allow_zero: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or math.isnan(float(value)):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>=' if allow_zero else '>'} 0, got {value}")
    return value


def _norm_type(norm_type) -> float:
    if isinstance(norm_type, str):
        if norm_type.lower() != "inf":
            raise ValueError(f"norm_type must be a number or 'inf', got {norm_type!r}")
        return math.inf
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ValueError(f"norm_type must be > 0 (2 for the Euclidean norm, inf for the max), got {norm_type}")
    return norm_type


def global_norm(tree, norm_type: float = 2.0) -> float:
    r"""The norm of all the leaves of ``tree`` taken together as one vector.

    .. math:: \|g\|_p = \Bigl(\sum_{\text{leaves}} \sum_i |g_i|^p\Bigr)^{1/p}
              = \bigl\|(\|g^{(1)}\|_p, \dots, \|g^{(L)}\|_p)\bigr\|_p

    torch: ``torch.nn.utils.get_total_norm`` (the norm of the per-tensor norms); optax:
    ``optax.tree.norm`` (``optax.global_norm``). Reference: :cite:t:`pascanu2013difficulty`.
    """
    p = _norm_type(norm_type)
    leaves = [np.asarray(x, dtype=float) for x in tree_leaves(tree)]
    if not leaves:
        return 0.0
    if p == math.inf:
        return float(max(np.max(np.abs(x)) if x.size else 0.0 for x in leaves))
    if p == 2.0:
        return math.sqrt(sum(sum_of_squares(x) for x in leaves))
    per = np.array([np.sum(np.abs(x) ** p) ** (1.0 / p) for x in leaves])
    return float(np.sum(per**p) ** (1.0 / p))


def clip_by_global_norm(max_norm: float) -> GradientTransformation:
    r"""Rescale the whole update tree when its global norm exceeds ``max_norm`` (optax's rule).

    .. math:: u \leftarrow \begin{cases} u & \|u\| < c \\ u\, c / \|u\| & \text{otherwise}
              \end{cases}

    optax: ``optax.clip_by_global_norm(max_norm)``; torch: ``clip_grad_norm_`` (which adds
    ``1e-6`` to the norm, see :func:`clip_grad_norm_`). Reference: :cite:t:`pascanu2013difficulty`.
    """
    max_norm = _positive("max_norm", max_norm)

    def init(params):
        return ()

    def update(grads, state, params=None):
        g_norm = global_norm(grads)
        if not math.isfinite(g_norm):
            raise ValueError(
                f"clip_by_global_norm: the gradient norm is {g_norm}; the gradients "
                "contain inf or NaN (lower the learning rate or check the loss)"
            )
        if g_norm < max_norm:
            return tree_map(lambda u: np.asarray(u), grads), state
        return tree_map(lambda u: (np.asarray(u) / g_norm) * max_norm, grads), state

    return GradientTransformation(init, update)


def clip(max_delta: float) -> GradientTransformation:
    r"""Clip every coordinate of the updates to :math:`[-\delta, \delta]` (clipping by value).

    .. math:: u_i \leftarrow \min(\max(u_i, -\delta), \delta)

    optax: ``optax.clip(max_delta)``; torch: ``clip_grad_value_`` (:func:`clip_grad_value_`).
    Reference: :cite:t:`pascanu2013difficulty`.
    """
    max_delta = _positive("max_delta", max_delta)

    def init(params):
        return ()

    def update(grads, state, params=None):
        return tree_map(lambda u: np.clip(np.asarray(u), -max_delta, max_delta), grads), state

    return GradientTransformation(init, update)


def clip_by_block_rms(threshold: float) -> GradientTransformation:
    r"""Rescale each leaf (block) whose root-mean-square exceeds ``threshold``.

    .. math:: u^{(l)} \leftarrow u^{(l)} / \max\bigl(1, \mathrm{rms}(u^{(l)})/\tau\bigr),
              \quad \mathrm{rms}(u) = \sqrt{\tfrac1n \textstyle\sum_i u_i^2}

    optax: ``optax.clip_by_block_rms(threshold)``; torch has no equivalent (a per-tensor
    ``clip_grad_norm_`` comes closest). Reference: :cite:t:`pascanu2013difficulty`.
    """
    threshold = _positive("threshold", threshold, allow_zero=False)

    def init(params):
        return ()

    def _clip(u):
        u = np.asarray(u)
        return u / max(1.0, float(np.sqrt(np.mean(np.abs(u) ** 2))) / threshold)

    def update(grads, state, params=None):
        return tree_map(_clip, grads), state

    return GradientTransformation(init, update)


def clip_grad_norm_(grads, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False):
    r"""torch's ``clip_grad_norm_`` as a function: returns ``(clipped_grads, total_norm)``.

    .. math:: g \leftarrow g \cdot \min\Bigl(1, \frac{c}{\|g\|_p + 10^{-6}}\Bigr)

    The norm is over all leaves together (``norm_type`` ``p``, ``'inf'`` for the max);
    ``total_norm`` is the norm *before* clipping, as torch returns it. torch:
    ``torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type)``; optax:
    ``clip_by_global_norm`` (without the ``1e-6``). Reference: :cite:t:`pascanu2013difficulty`.
    """
    max_norm = _positive("max_norm", max_norm)
    total = global_norm(grads, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {float(_norm_type(norm_type))} for gradients from "
            "`parameters` is non-finite, so it cannot be clipped. To disable this error "
            "and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    coef = min(max_norm / (total + TORCH_CLIP_EPS), 1.0)
    return tree_map(lambda g: np.asarray(g) * coef, grads), total


def clip_grad_value_(grads, clip_value: float):
    r"""torch's ``clip_grad_value_`` as a function: every coordinate into :math:`[-v, v]`.

    .. math:: g_i \leftarrow \min(\max(g_i, -v), v)

    torch: ``torch.nn.utils.clip_grad_value_(params, clip_value)``; optax: ``optax.clip``.
    Reference: :cite:t:`pascanu2013difficulty`.
    """
    clip_value = _positive("clip_value", clip_value)
    return tree_map(lambda g: np.clip(np.asarray(g), -clip_value, clip_value), grads)
