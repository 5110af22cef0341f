"""Stochastic gradient descent with momentum, exactly as ``torch.optim.SGD``."""

from __future__ import annotations

from lib.optim.base import GradientTransformation, chain
from lib.optim.transforms import (
    LearningRate,
    _check_nonnegative,
    _check_real,
    add_decayed_weights,
    scale_by_learning_rate,
    trace,
)

__all__ = ["sgd"]


def sgd(
    lr: LearningRate = 1e-3,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
) -> GradientTransformation:
    r"""Gradient descent, optionally with momentum, dampening, Nesterov and L2 weight decay.

    With :math:`\eta_t` = ``lr``, :math:`\mu` = ``momentum``, :math:`\tau` = ``dampening`` and
    :math:`\lambda` = ``weight_decay``, one update is

    .. math::
        g_t &\leftarrow \nabla L(\theta_{t-1}) + \lambda\,\theta_{t-1} \\
        b_t &\leftarrow \mu\, b_{t-1} + (1-\tau)\, g_t \qquad (b_1 = g_t) \\
        \theta_t &\leftarrow \theta_{t-1} - \eta_t\, (g_t + \mu b_t \text{ if Nesterov else } b_t)

    and with ``momentum=0`` it is plain gradient descent, :math:`\theta_t = \theta_{t-1} - \eta\, g_t`
    :cite:p:`cauchy1847methode,robbins1951stochastic`. It is the chain
    ``add_decayed_weights(λ) → trace(μ, τ, nesterov) → scale_by_learning_rate(η)``, each link
    present only when it does something.

    torch: ``torch.optim.SGD(params, lr, momentum, dampening, weight_decay, nesterov)``, step
    for step (checked against golden trajectories in ``tests/``), including its argument
    checks. optax: ``optax.sgd(learning_rate, momentum, nesterov)`` (no dampening, no weight
    decay; optax's buffer starts at zero, torch's at the first gradient).

    >>> import numpy as np
    >>> tx = sgd(lr=0.1)
    >>> params = np.array([1.0, -2.0])
    >>> updates, state = tx.update(2 * params, tx.init(params), params)   # grad of ||θ||²
    >>> from lib.optim import apply_updates
    >>> apply_updates(params, updates)
    array([ 0.8, -1.6])
    """
    if not callable(lr):
        _check_nonnegative("learning rate", lr)
    momentum = _check_nonnegative("momentum", momentum)
    weight_decay = _check_nonnegative("weight_decay", weight_decay)
    dampening = _check_real("dampening", dampening)
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError(
            f"Nesterov momentum requires a momentum and zero dampening (got momentum={momentum}, dampening={dampening})"
        )
    links = []
    if weight_decay:
        links.append(add_decayed_weights(weight_decay))
    if momentum:
        links.append(trace(momentum, dampening=dampening, nesterov=nesterov))
    links.append(scale_by_learning_rate(lr))
    return chain(*links)
