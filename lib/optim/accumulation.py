r"""Gradient accumulation: k micro-batches, one optimizer step (optax's ``MultiSteps``).

A batch of :math:`B` examples that does not fit in memory is split into :math:`k` micro-batches
of :math:`B/k`; their gradients are averaged and the optimizer steps once. For a loss that is a
*mean* over examples this is exactly the gradient of the full batch:

.. math::
    \nabla L_B(\theta) = \frac1B \sum_{i=1}^B \nabla\ell_i(\theta)
    = \frac1k \sum_{j=1}^k \Big(\frac{1}{B/k} \sum_{i \in \text{micro-batch } j} \nabla\ell_i(\theta)\Big)

(summing instead of averaging multiplies the step by :math:`k`). It is *not* exact when the
forward pass mixes examples, e.g. batch normalisation's per-batch statistics.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from lib.optim.base import GradientTransformation, check_grads
from lib.tree import tree_map

__all__ = ["MultiStepsState", "multi_steps", "has_updated", "split_batch"]


class MultiStepsState(NamedTuple):
    mini_step: int  # micro-batches accumulated since the last step (0 .. k-1)
    gradient_step: int  # optimizer steps taken so far
    inner_opt_state: Any  # the wrapped optimizer's state, unchanged between its steps
    acc_grads: Any  # running mean (or sum) of the micro-batch gradients


def multi_steps(
    opt: GradientTransformation, every_k_schedule: int | Callable[[int], int], use_grad_mean: bool = True
) -> GradientTransformation:
    r"""Accumulate ``k`` gradients, then apply ``opt`` once to their mean; zero updates in between.

    With :math:`n` = ``mini_step`` and :math:`k` = ``every_k_schedule(gradient_step)``:

    .. math::
        a \leftarrow a + \frac{g - a}{n + 1} \ \text{(mean; sum: } a \leftarrow a + g), \qquad
        u = \begin{cases} \texttt{opt.update}(a) & n = k - 1 \text{ (then } a \leftarrow 0) \\
                          0 & \text{otherwise} \end{cases}

    The wrapped optimizer's state (its step counter, moments, schedule) advances only on the
    :math:`k`-th call, so ``multi_steps(adam(lr), k)`` on micro-batches of :math:`B/k` takes
    exactly the steps of ``adam(lr)`` on batches of :math:`B`. optax:
    ``optax.MultiSteps(opt, every_k_schedule, use_grad_mean)`` (the same running mean; optax
    keeps the accumulator in float32 unless ``accumulator_dtype`` says otherwise, here it
    has the gradients' dtype). torch: accumulate ``loss / k`` over ``k`` backward passes
    (``.grad`` sums), then ``optimizer.step(); optimizer.zero_grad()``. Reference:
    :cite:t:`goyal2017accurate` (the mean-loss scaling it relies on).
    """
    if not isinstance(opt, GradientTransformation):
        raise TypeError(f"multi_steps wraps a GradientTransformation, got {type(opt).__name__}")
    if callable(every_k_schedule):
        schedule = every_k_schedule
    else:
        if isinstance(every_k_schedule, bool) or int(every_k_schedule) != every_k_schedule or every_k_schedule < 1:
            raise ValueError(
                f"every_k_schedule must be an integer >= 1 (micro-batches per step), got {every_k_schedule!r}"
            )
        k_const = int(every_k_schedule)
        schedule = lambda step: k_const  # noqa: E731

    def init(params):
        zeros = tree_map(lambda p: np.zeros_like(np.asarray(p, dtype=float)), params)
        return MultiStepsState(0, 0, opt.init(params), zeros)

    def update(grads, state, params=None):
        check_grads(grads, state.acc_grads)
        k = schedule(state.gradient_step)
        if int(k) != k or k < 1:
            raise ValueError(f"every_k_schedule({state.gradient_step}) = {k!r}; it must be an integer >= 1")
        n = state.mini_step
        if use_grad_mean:
            acc = tree_map(lambda g, a: a + (np.asarray(g) - a) / (n + 1), grads, state.acc_grads)
        else:
            acc = tree_map(lambda g, a: a + np.asarray(g), grads, state.acc_grads)
        if n == k - 1:
            updates, inner = opt.update(acc, state.inner_opt_state, params)
            zeros = tree_map(np.zeros_like, acc)
            return updates, MultiStepsState(0, state.gradient_step + 1, inner, zeros)
        zeros = tree_map(lambda g: np.zeros_like(np.asarray(g, dtype=float)), grads)
        return zeros, MultiStepsState(n + 1, state.gradient_step, state.inner_opt_state, acc)

    return GradientTransformation(init, update)


def has_updated(state: MultiStepsState) -> bool:
    r"""True right after a call of :func:`multi_steps` that applied the optimizer:
    :math:`n = 0` and at least one step taken. optax: ``MultiSteps.has_updated``; torch: the
    ``(i + 1) % k == 0`` test of an accumulation loop. Reference: :cite:t:`goyal2017accurate`.
    """
    return state.mini_step == 0 and state.gradient_step > 0


def split_batch(X: np.ndarray, y: np.ndarray, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    r"""Split a batch ``(X, y)`` into ``k`` consecutive micro-batches of equal size.

    The sizes must be equal (:math:`B` divisible by :math:`k`): the mean of micro-batch means is
    the batch mean only then. torch: ``torch.chunk`` / ``tensor_split``; jax: reshape to
    ``(k, B // k, ...)``. Reference: :cite:t:`goyal2017accurate`.
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}: pass one label per example")
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    k = int(k)
    if len(X) % k:
        raise ValueError(
            f"a batch of {len(X)} cannot be split into {k} equal micro-batches; "
            f"choose k dividing {len(X)} (unequal sizes would weight examples unequally)"
        )
    m = len(X) // k
    return [(X[j * m : (j + 1) * m], y[j * m : (j + 1) * m]) for j in range(k)]
