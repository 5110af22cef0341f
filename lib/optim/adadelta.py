r"""Adadelta: a step size in the units of the parameter, from two leaky averages.

Zeiler's Adadelta :cite:p:`zeiler2012adadelta` divides the gradient by the RMS of past
gradients (as RMSprop does) and multiplies it by the RMS of past *updates*, so that the step
:math:`\Delta\theta` has the units of :math:`\theta` ("unit correction"), and no global learning
rate is needed in the paper. torch keeps a multiplier ``lr`` (default 1.0).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from lib.optim._leaves import as_like, float_zeros, rebuild
from lib.optim.base import GradientTransformation, check_grads
from lib.optim.transforms import LearningRate, _check_nonnegative, learning_rate_at
from lib.tree import tree_leaves, tree_map

__all__ = ["ScaleByAdadeltaState", "adadelta"]


class ScaleByAdadeltaState(NamedTuple):
    count: int  # updates so far (torch: state["step"])
    square_avg: Any  # E[g^2]_t, a tree like params (torch: state["square_avg"])
    acc_delta: Any  # E[Δθ^2]_t, a tree like params (torch: state["acc_delta"])


def adadelta(
    lr: LearningRate = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0.0, *, maximize: bool = False
) -> GradientTransformation:
    r"""Adadelta, exactly as ``torch.optim.Adadelta``.

    .. math::
        g_t &\leftarrow g_t + \lambda\theta_{t-1}, \qquad
        E[g^2]_t = \rho\,E[g^2]_{t-1} + (1-\rho)\,g_t^2 \\
        \Delta_t &= \frac{\sqrt{E[\Delta^2]_{t-1} + \varepsilon}}{\sqrt{E[g^2]_t + \varepsilon}}\; g_t, \qquad
        E[\Delta^2]_t = \rho\,E[\Delta^2]_{t-1} + (1-\rho)\,\Delta_t^2, \qquad
        \theta_t = \theta_{t-1} - \eta\,\Delta_t

    :cite:p:`zeiler2012adadelta` (Algorithm 1, where :math:`\eta = 1`). The numerator uses the
    average of the *previous* updates, so the very first step is about
    :math:`\sqrt{\varepsilon/(1-\rho)}` per coordinate: Adadelta starts slowly.

    torch: ``torch.optim.Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0,
    maximize=False)``, with torch's argument checks (``0 <= rho <= 1``). optax:
    ``optax.adadelta(learning_rate, rho, eps, weight_decay)``.

    >>> import numpy as np
    >>> tx = adadelta()
    >>> u, s = tx.update(np.array([100.0, -1.0]), tx.init(np.zeros(2)), np.zeros(2))
    >>> np.round(u, 4)        # ≈ -sqrt(eps/(1-rho)) sign(g), whatever the gradient's scale
    array([-0.0032,  0.0032])
    """
    if not callable(lr) and (not isinstance(lr, (int, float, np.floating)) or not 0.0 <= lr):
        raise ValueError(f"Invalid learning rate: {lr}")
    if isinstance(rho, bool) or not isinstance(rho, (int, float, np.floating)) or not 0.0 <= rho <= 1.0:
        raise ValueError(f"Invalid rho value: {rho}. rho must be in [0, 1].")
    if not isinstance(eps, (int, float, np.floating)) or not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}. eps must be >= 0.")
    weight_decay = _check_nonnegative("weight_decay", weight_decay)
    rho, eps = float(rho), float(eps)

    def init(params):
        return ScaleByAdadeltaState(0, tree_map(float_zeros, params), tree_map(float_zeros, params))

    def update(grads, state, params=None):
        check_grads(grads, state.square_avg)
        if weight_decay and params is None:
            raise ValueError("adadelta with weight_decay needs the parameters: call update(grads, state, params)")
        eta = learning_rate_at(lr, state.count)
        g_leaves = tree_leaves(grads)
        p_leaves = tree_leaves(params) if weight_decay else [None] * len(g_leaves)
        out, sq_new, acc_new = [], [], []
        for g, p, sq, acc in zip(g_leaves, p_leaves, tree_leaves(state.square_avg), tree_leaves(state.acc_delta)):
            g = as_like(g, sq)
            if maximize:
                g = -g
            if weight_decay:
                g = g + weight_decay * np.asarray(p)
            # the same operations as sq·ρ + (1-ρ)g², sqrt(acc+ε)/sqrt(sq+ε)·g, acc·ρ + (1-ρ)Δ², -ηΔ,
            # on four fresh arrays: the two new averages, Δ and a spare one (the update at the end)
            sq = _fresh(sq * rho)
            spare = _fresh(g * g)
            spare *= 1.0 - rho
            sq += spare
            std = np.sqrt(np.add(sq, eps, out=spare), out=spare)
            delta = _fresh(acc + eps)
            np.sqrt(delta, out=delta)
            delta /= std
            delta *= g
            acc = _fresh(acc * rho)
            sq_delta = np.multiply(delta, delta, out=spare)
            sq_delta *= 1.0 - rho
            acc += sq_delta
            out.append(np.multiply(delta, -eta, out=spare) if spare.shape == delta.shape else -eta * delta)
            sq_new.append(sq)
            acc_new.append(acc)
        return rebuild(grads, out), ScaleByAdadeltaState(
            state.count + 1, rebuild(grads, sq_new), rebuild(grads, acc_new)
        )

    return GradientTransformation(init, update)


def _fresh(x: Any) -> np.ndarray:
    return x if isinstance(x, np.ndarray) else np.asarray(x)
