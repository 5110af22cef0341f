"""Small gradient transformations; named optimizers are chains of them."""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real
from typing import Any, NamedTuple

import numpy as np

from lib.optim.base import GradientTransformation, check_grads, owning, with_in_place
from lib.tree import tree_map

__all__ = [
    "ScaleByLearningRateState",
    "TraceState",
    "scale_by_learning_rate",
    "add_decayed_weights",
    "trace",
    "learning_rate_at",
]

LearningRate = float | Callable[[int], float]


def _check_nonnegative(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0.0:
        raise ValueError(f"Invalid {name} value: {value}. {name} must be a finite number >= 0.")
    return value


def _check_real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise ValueError(f"Invalid {name} value: {value!r}. {name} must be a finite real number.")
    return float(value)


def learning_rate_at(lr: LearningRate, step: int) -> float:
    r"""The learning rate :math:`\eta_t` used by update number ``step`` (0 for the first update).

    ``lr`` is a number or a schedule ``step -> lr``; decreasing schedules go back to
    stochastic approximation :cite:p:`robbins1951stochastic`. The value is returned as a
    Python ``float`` so that float32 parameters stay float32. torch: a scheduler writes it
    into ``param_group["lr"]`` before each ``step()``; optax: ``learning_rate`` accepts a
    schedule ``count -> value`` in the same way.
    """
    value = lr(step) if callable(lr) else lr
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"the learning rate at step {step} is {value!r}, not a number") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"the learning rate at step {step} is {value}; it must be finite and >= 0")
    return value


class ScaleByLearningRateState(NamedTuple):
    count: int  # number of updates made so far; the next update uses lr(count)


def scale_by_learning_rate(lr: LearningRate) -> GradientTransformation:
    r"""Multiply the updates by :math:`-\eta_t`: the one place where descent flips the sign.

    .. math:: u \leftarrow -\eta_t\, u, \qquad \eta_t = \texttt{lr}(t) \text{ or } \texttt{lr}

    ``lr`` is a float or a callable ``step -> lr``; the first update uses ``lr(0)``. With
    nothing before it in the chain this is gradient descent :cite:p:`cauchy1847methode`.

    torch: the ``param.add_(d_p, alpha=-lr)`` at the end of every ``torch.optim`` step (a
    scheduler changes ``param_group["lr"]`` between steps). optax:
    ``optax.scale_by_learning_rate(lr)``.
    """
    if not callable(lr):
        _check_nonnegative("learning rate", lr)

    def init(params):
        return ScaleByLearningRateState(count=0)

    def update(grads, state, params=None):
        eta = learning_rate_at(lr, state.count)
        return tree_map(lambda u: -eta * np.asarray(u), grads), ScaleByLearningRateState(state.count + 1)

    def update_in_place(updates, state, params=None):  # on arrays a chain's previous link just made
        eta = learning_rate_at(lr, state.count)
        return tree_map(lambda u: _scale_in_place(u, -eta), updates), ScaleByLearningRateState(state.count + 1)

    return GradientTransformation(init, with_in_place(update, update_in_place))


def _scale_in_place(u: Any, c: float) -> Any:
    """``c * u``, written into ``u`` when it is a float array (the same numbers as ``c * u``)."""
    if isinstance(u, np.ndarray) and u.dtype.kind == "f":
        return np.multiply(u, c, out=u)
    return c * np.asarray(u)


_BLOCK = 1 << 16  # elements per block of the blocked loops below (512 KiB of float64: in cache)


def _add_scaled_in_place(u: np.ndarray, c: float, p: np.ndarray) -> np.ndarray:
    """``u += c * p`` block by block, so that the temporary ``c * p`` is never parameter-sized."""
    p = np.asarray(p)
    if u.size <= _BLOCK or u.shape != p.shape:
        u += c * p
        return u
    fu, fp = u.reshape(-1), p.reshape(-1)
    tmp = np.empty(_BLOCK, dtype=fp.dtype if fp.dtype.kind == "f" else u.dtype)  # c * p in p's dtype, as before
    for i in range(0, fu.size, _BLOCK):
        k = min(_BLOCK, fu.size - i)
        np.multiply(fp[i : i + k], c, out=tmp[:k])
        fu[i : i + k] += tmp[:k]
    return u


def add_decayed_weights(weight_decay: float, mask=None) -> GradientTransformation:
    r"""Add :math:`\lambda\theta` to the updates (an L2 penalty's gradient when used before the
    optimizer's scaling; decoupled weight decay when used after it).

    .. math:: u_i \leftarrow u_i + m_i\,\lambda\,\theta_i

    with :math:`m_i = 1` for every parameter unless ``mask`` says otherwise: a tree of
    booleans (or a prefix of one) or a callable ``params -> tree of booleans``, e.g.
    :func:`lib.optim.weight_decay_mask` (see :mod:`lib.optim.masking`).

    torch: ``SGD(weight_decay=λ)`` does this first (``d_p = d_p.add(param, alpha=weight_decay)``);
    a mask is a parameter group with ``weight_decay=0``. optax:
    ``optax.add_decayed_weights(weight_decay, mask)``. Reference: :cite:t:`loshchilov2019decoupled`.
    """
    weight_decay = _check_nonnegative("weight_decay", weight_decay)

    def init(params):
        if mask is not None:
            from lib.optim.masking import resolve_mask

            resolve_mask(mask, params)  # fail early, with the path of the bad entry
        return ()

    def update(grads, state, params=None):
        if params is None:
            raise ValueError("add_decayed_weights needs the parameters: call update(grads, state, params)")
        check_grads(grads, params)
        if mask is None:
            return tree_map(lambda g, p: np.asarray(g) + weight_decay * np.asarray(p), grads, params), state
        from lib.optim.masking import resolve_mask

        flags = resolve_mask(mask, params)
        return tree_map(
            lambda g, p, m: np.asarray(g) + weight_decay * np.asarray(p) if m else np.array(g, copy=True),
            grads,
            params,
            flags,
        ), state

    def update_in_place(updates, state, params=None):  # on arrays a chain's previous link just made
        if params is None:
            raise ValueError("add_decayed_weights needs the parameters: call update(grads, state, params)")
        check_grads(updates, params)
        flags = tree_map(lambda _: True, params)
        if mask is not None:
            from lib.optim.masking import resolve_mask

            flags = resolve_mask(mask, params)

        def leaf(u, p, m):
            if not m:
                return u
            if isinstance(u, np.ndarray) and u.dtype.kind == "f" and u.dtype == np.result_type(u, np.asarray(p)):
                return _add_scaled_in_place(u, weight_decay, p)
            return np.asarray(u) + weight_decay * np.asarray(p)

        return tree_map(leaf, updates, params, flags), state

    return GradientTransformation(init, with_in_place(update, update_in_place))


class TraceState(NamedTuple):
    momentum_buffer: Any  # b_t, a tree like params (torch: state["momentum_buffer"])
    count: int  # updates so far; at count 0 the buffer starts as a copy of the gradient


def trace(decay: float, dampening: float = 0.0, nesterov: bool = False) -> GradientTransformation:
    r"""Momentum in torch's convention: a buffer :math:`b_t` of past gradients.

    .. math::
        b_1 = g_1, \qquad b_t = \mu\, b_{t-1} + (1-\tau)\, g_t \quad (t > 1), \qquad
        u_t = \begin{cases} g_t + \mu\, b_t & \text{Nesterov} \\ b_t & \text{otherwise} \end{cases}

    with :math:`\mu` = ``decay`` and :math:`\tau` = ``dampening``. The first buffer is the raw
    gradient (no dampening), exactly as in ``torch.optim.SGD``. The learning rate is applied
    later, outside the buffer (see chapter 04 for the other conventions).

    torch: the momentum part of ``torch.optim.SGD``. optax: ``optax.trace(decay, nesterov)``
    (optax starts from a zero buffer and has no dampening). References:
    :cite:t:`polyak1964some`, :cite:t:`sutskever2013importance`.
    """
    decay = _check_nonnegative("momentum", decay)
    dampening = _check_real("dampening", dampening)
    if nesterov and (decay <= 0 or dampening != 0):
        raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def init(params):
        return TraceState(momentum_buffer=tree_map(lambda p: np.zeros_like(np.asarray(p)), params), count=0)

    def update(grads, state, params=None):
        if state.count == 0:
            buf = tree_map(lambda g: np.array(g, copy=True), grads)
        else:
            buf = tree_map(_accumulate, state.momentum_buffer, grads)
        if nesterov:
            updates = tree_map(_look_ahead, grads, buf)
        else:
            updates = buf  # the state itself: not owned, the next link must not overwrite it
        return updates, TraceState(momentum_buffer=buf, count=state.count + 1)

    def _accumulate(b, g):
        g = np.asarray(g)
        new = _owned(decay * b)  # mu b, fresh
        if dampening == 0.0:  # (1 - 0) g is g: one pass less, the same numbers
            return np.add(new, g, out=new) if _fits(new, g) else new + g
        tmp = (1.0 - dampening) * g
        return np.add(new, tmp, out=new) if _fits(new, tmp) else new + tmp

    def _look_ahead(g, b):
        new = _owned(decay * b)
        return np.add(new, g, out=new) if _fits(new, np.asarray(g)) else np.asarray(g) + new

    return GradientTransformation(init, owning(update) if nesterov else update)


def _owned(x: Any) -> Any:
    return x if isinstance(x, np.ndarray) else np.asarray(x)


def _fits(out: np.ndarray, x: np.ndarray) -> bool:
    """True when ``out + x`` can be written into ``out`` (same shape, and ``out``'s dtype is the result's)."""
    return out.shape == x.shape and out.dtype == np.result_type(out, x)
