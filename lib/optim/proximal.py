r"""L1 regularization two ways: the proximal (soft-thresholding) step, and the plain subgradient.

For :math:`\min_\theta f(\theta) + \lambda\lVert\theta\rVert_1` the **proximal gradient** step
takes a gradient step on :math:`f` and then solves the small problem that the L1 term poses
:cite:p:`parikh2014proximal`:

.. math::
    \operatorname{prox}_{\eta\lambda\lVert\cdot\rVert_1}(v)
    = \arg\min_\theta \Big(\lambda\lVert\theta\rVert_1 + \frac{1}{2\eta}\lVert\theta - v\rVert^2\Big)
    = \operatorname{sign}(v)\max(|v| - \eta\lambda, 0) = S_{\eta\lambda}(v),

the soft-thresholding operator (derived in SymPy in chapter 8), so
:math:`\theta_t = S_{\eta\lambda}(\theta_{t-1} - \eta g_t)`. Every coordinate with
:math:`|v_i| \le \eta\lambda` becomes **exactly** zero: the Lasso's sparsity
:cite:p:`tibshirani1996regression`. The **subgradient** step
:math:`\theta_t = \theta_{t-1} - \eta(g_t + \lambda\operatorname{sign}(\theta_{t-1}))` (what
autograd computes for ``loss + lam * p.abs().sum()`` in torch) overshoots zero and makes
coordinates oscillate around it instead: they become small, almost never zero.

As transforms: ``chain(..., scale_by_learning_rate(lr), add_l1_prox(l1, lr))`` is a proximal
method (``add_l1_prox`` must come last: it needs the parameters after the step), and
``chain(add_l1_subgradient(l1), ..., scale_by_learning_rate(lr))`` the subgradient one;
:func:`proximal_sgd` and :func:`l1_subgradient_sgd` are the two with plain SGD.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from lib.optim.base import GradientTransformation, chain, check_grads
from lib.optim.transforms import (
    LearningRate,
    _check_nonnegative,
    learning_rate_at,
    scale_by_learning_rate,
)
from lib.tree import tree_map

__all__ = [
    "soft_threshold",
    "AddL1ProxState",
    "add_l1_prox",
    "add_l1_subgradient",
    "proximal_sgd",
    "l1_subgradient_sgd",
]


def soft_threshold(x, threshold: float) -> np.ndarray:
    r"""The soft-thresholding operator, the proximal map of :math:`\tau\lVert\cdot\rVert_1`:

    .. math:: S_\tau(x) = \operatorname{sign}(x)\max(|x| - \tau, 0)

    (element-wise; exact zeros wherever :math:`|x| \le \tau`). torch: none built in
    (``torch.sign(x) * torch.clamp(x.abs() - tau, min=0)``; ``F.softshrink(x, tau)`` is the same
    map); jaxopt: ``jaxopt.prox.prox_lasso`` :cite:p:`parikh2014proximal`.

    >>> soft_threshold(np.array([-2.0, -0.5, 0.0, 0.3, 1.5]), 0.5).tolist()
    [-1.5, -0.0, 0.0, 0.0, 1.0]
    """
    tau = _check_nonnegative("threshold", threshold)
    x = np.asarray(x, dtype=np.float64)
    return np.sign(x) * np.maximum(np.abs(x) - tau, 0.0)


def _mask_tree(mask, params):
    if mask is None:
        return tree_map(lambda p: True, params)
    m = mask(params) if callable(mask) else mask
    return m


class AddL1ProxState(NamedTuple):
    count: int  # number of updates made; the threshold of update t is lr(t) * l1


def add_l1_prox(l1: float, lr: LearningRate, *, mask: Any = None) -> GradientTransformation:
    r"""Turn a (descent) update :math:`u` into the proximal step for :math:`\lambda\lVert\theta\rVert_1`:

    .. math:: \theta_t = S_{\eta_t\lambda}(\theta_{t-1} + u_t), \qquad
              u_t \leftarrow S_{\eta_t\lambda}(\theta_{t-1} + u_t) - \theta_{t-1}

    with :math:`S` the soft threshold (:func:`soft_threshold`), :math:`\lambda` = ``l1`` and
    :math:`\eta_t` = ``lr`` (a number or a schedule; the same as the chain's
    :func:`~lib.optim.scale_by_learning_rate`). It needs ``params`` and must be the **last**
    transform of the chain, after the learning rate has been applied. Parameters that are
    exactly 0 after the step stay 0 as long as the gradient step does not move them past
    :math:`\pm\eta\lambda`. ``mask`` (a tree of bools like ``params``, or a function
    ``params -> tree``) limits the penalty to some parameters (e.g. the weights, not the
    biases). torch / optax: no built-in equivalent (torch users add ``lam * p.abs().sum()``
    to the loss, the subgradient method); the proximal gradient method of
    :cite:t:`parikh2014proximal` (ISTA), for the Lasso of :cite:t:`tibshirani1996regression`.

    >>> from lib.optim import chain, scale_by_learning_rate
    >>> tx = chain(scale_by_learning_rate(0.1), add_l1_prox(1.0, 0.1))
    >>> p = np.array([0.05, -1.0])
    >>> u, _ = tx.update(np.zeros(2), tx.init(p), p)
    >>> (p + u).tolist()          # 0.05 is within 0.1 of zero: exactly 0
    [0.0, -0.9]
    """
    lam = _check_nonnegative("l1", l1)
    if not callable(lr):
        _check_nonnegative("learning rate", lr)

    def init(params):
        return AddL1ProxState(count=0)

    def update(updates, state, params=None):
        if params is None:
            raise ValueError("add_l1_prox needs params: call update(grads, state, params)")
        check_grads(updates, params, name="updates")
        tau = learning_rate_at(lr, state.count) * lam
        m = _mask_tree(mask, params)

        def prox(u, p, use):
            p = np.asarray(p, dtype=np.float64)
            v = p + np.asarray(u)
            return (soft_threshold(v, tau) - p) if use else np.asarray(u)

        return tree_map(prox, updates, params, m), AddL1ProxState(state.count + 1)

    return GradientTransformation(init, update)


def add_l1_subgradient(l1: float, *, mask: Any = None) -> GradientTransformation:
    r"""Add the subgradient of :math:`\lambda\lVert\theta\rVert_1` to the gradient:

    .. math:: g \leftarrow g + \lambda\operatorname{sign}(\theta) \qquad (\operatorname{sign}(0) = 0)

    (the L1 analogue of :func:`~lib.optim.add_decayed_weights`; place it first in a chain).
    It is what torch's autograd computes for ``loss + lam * sum(p.abs().sum() for p in
    params)``, whose derivative at 0 is taken to be 0; optax: ``optax.add_decayed_weights`` is
    the L2 version, no L1 one :cite:p:`tibshirani1996regression`.

    >>> tx = add_l1_subgradient(0.5)
    >>> tx.update(np.zeros(3), tx.init(None), np.array([-2.0, 0.0, 3.0]))[0].tolist()
    [-0.5, 0.0, 0.5]
    """
    lam = _check_nonnegative("l1", l1)

    def init(params):
        return ()

    def update(grads, state, params=None):
        if params is None:
            raise ValueError("add_l1_subgradient needs params: call update(grads, state, params)")
        check_grads(grads, params)
        m = _mask_tree(mask, params)
        return tree_map(
            lambda g, p, use: np.asarray(g) + lam * np.sign(p) if use else np.asarray(g), grads, params, m
        ), state

    return GradientTransformation(init, update)


def proximal_sgd(lr: LearningRate, l1: float, *, mask: Any = None) -> GradientTransformation:
    r"""Proximal gradient descent (ISTA) for :math:`f(\theta) + \lambda\lVert\theta\rVert_1`:

    .. math:: \theta_t = S_{\eta\lambda}(\theta_{t-1} - \eta g_t)

    ``chain(scale_by_learning_rate(lr), add_l1_prox(l1, lr))``. torch / optax: no built-in
    equivalent :cite:p:`parikh2014proximal`.
    """
    return chain(scale_by_learning_rate(lr), add_l1_prox(l1, lr, mask=mask))


def l1_subgradient_sgd(lr: LearningRate, l1: float, *, mask: Any = None) -> GradientTransformation:
    r"""Subgradient descent for :math:`f(\theta) + \lambda\lVert\theta\rVert_1`:

    .. math:: \theta_t = \theta_{t-1} - \eta\big(g_t + \lambda\operatorname{sign}(\theta_{t-1})\big)

    ``chain(add_l1_subgradient(l1), scale_by_learning_rate(lr))``; torch: ``SGD(lr)`` on
    ``loss + l1 * p.abs().sum()`` :cite:p:`tibshirani1996regression`.
    """
    return chain(add_l1_subgradient(l1, mask=mask), scale_by_learning_rate(lr))
