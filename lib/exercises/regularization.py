r"""Chapter 08 (regularization): the graded exercises and their reference solutions.

Notebook: ``exercises/source/08-regularization.ipynb``. Conventions: ``p`` is the dropout
**drop** probability (PyTorch's), a ``mask`` holds 1 for a kept unit and 0 for a dropped one;
batch norm follows ``torch.nn.BatchNorm1d`` (biased variance in the normalisation, unbiased in
the running estimate, ``momentum`` the weight of the new value); epochs are counted from 1.
The reference solutions call :mod:`lib.nn`, :mod:`lib.optim` and :mod:`lib.early_stopping`,
so that the exercises and the library have one source of truth.

===========================  ======  ================================================================
id                           points  the student writes
===========================  ======  ================================================================
``dropout_forward_backward`` 2       inverted dropout's output and input gradient, train and eval
``batchnorm_forward_modes``  3       batch norm's output and new running statistics, train and eval
``batchnorm_backward_train`` 3       batch norm's gradients in training mode
``l1_prox_step``             2       one proximal gradient step for L1 (soft-thresholding)
``early_stopping_rule``      2       the epoch early stopping stops at and the epoch it restores
===========================  ======  ================================================================
"""

from __future__ import annotations

import numpy as np

from lib import nn, optim
from lib.early_stopping import EarlyStopping, EarlyStoppingState, early_stopping_update
from lib.exercises import Case, Exercise

__all__ = [
    "EXERCISES",
    "dropout_forward_backward",
    "batchnorm_forward_modes",
    "batchnorm_backward_train",
    "l1_prox_step",
    "early_stopping_rule",
]

CHAPTER = "08-regularization"


# --- reference solutions ---------------------------------------------------------------------


def dropout_forward_backward(x, mask, p, dout, training):
    r"""Inverted dropout with drop probability ``p`` and the given 0/1 ``mask``; returns ``(out, dx)``.

    .. math:: \text{train: } y = \frac{m\odot x}{1-p},\ \frac{\partial L}{\partial x} = \frac{m\odot g}{1-p};
              \qquad \text{eval: } y = x,\ \frac{\partial L}{\partial x} = g
    """
    out, cache = nn.dropout_forward(x, p, bool(training), mask=mask)
    return out, nn.dropout_backward(dout, cache)


def batchnorm_forward_modes(x, gamma, beta, running_mean, running_var, momentum, eps, training):
    r"""``torch.nn.BatchNorm1d``'s forward pass; returns ``(out, new_running_mean, new_running_var)``.

    .. math:: \text{train: } y = \gamma\frac{x-\mu_B}{\sqrt{\sigma_B^2+\varepsilon}}+\beta,\quad
              \hat\mu \leftarrow (1-m)\hat\mu + m\mu_B,\quad
              \hat\sigma^2 \leftarrow (1-m)\hat\sigma^2 + m\tfrac{n}{n-1}\sigma_B^2;
              \qquad \text{eval: } y = \gamma\frac{x-\hat\mu}{\sqrt{\hat\sigma^2+\varepsilon}}+\beta
    """
    out, _, rm, rv = nn.batchnorm_forward(x, gamma, beta, running_mean, running_var, bool(training), momentum, eps)
    return out, rm, rv


def batchnorm_backward_train(dout, x, gamma, eps):
    r"""Gradients of training-mode batch norm (batch statistics); returns ``(dx, dgamma, dbeta)``.

    .. math:: \frac{\partial L}{\partial x} = \frac{\gamma}{n\sqrt{\sigma_B^2+\varepsilon}}
              \Big(n g - \textstyle\sum_i g_i - \hat x\sum_i g_i\hat x_i\Big)
    """
    C = np.shape(x)[1]
    _, cache, _, _ = nn.batchnorm_forward(x, gamma, np.zeros(C), np.zeros(C), np.ones(C), True, 0.1, eps)
    return nn.batchnorm_backward(dout, cache)


def l1_prox_step(theta, g, lr, l1):
    r"""One proximal gradient step for :math:`f + \lambda\lVert\theta\rVert_1`:
    :math:`S_{\eta\lambda}(\theta - \eta g)`."""
    return optim.soft_threshold(np.asarray(theta, float) - lr * np.asarray(g, float), lr * l1)


def early_stopping_rule(val_losses, patience, min_delta):
    r"""Apply early stopping to the validation losses of epochs 1, 2, …; returns
    ``(stop_epoch, best_epoch)``: the epoch after which training stops (the last one if the rule
    never fires) and the epoch whose parameters are restored."""
    rule = EarlyStopping(patience=int(patience), min_delta=float(min_delta))
    state = EarlyStoppingState()
    epoch = 0
    for epoch, value in enumerate(val_losses, start=1):
        state, _, stop = early_stopping_update(rule, state, value, epoch)
        if stop:
            break
    return epoch, state.best_epoch


# --- cases -----------------------------------------------------------------------------------


def _dropout_cases(rng):
    def case(shape, p, training, note):
        x = rng.normal(size=shape)
        mask = (rng.uniform(size=shape) >= p).astype(float)
        return Case((x, mask, p, rng.normal(size=shape), training), note=note)

    return [
        Case(
            (np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 0.0, 1.0, 0.0]), 0.5, np.ones(4), True),
            note="p = 0.5, training: kept units doubled",
        ),
        Case(
            (np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 0.0, 1.0, 1.0]), 0.2, np.ones(4), True),
            note="p = 0.2 (drop), so kept units are scaled by 1/0.8",
        ),
        Case(
            (np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.0]), 0.2, np.array([1.0, -1.0, 2.0]), False),
            note="evaluation mode: the identity, whatever the mask",
        ),
        case((3, 4), 0.3, True, "a random batch, training"),
        case((5, 2), 0.7, True, "a high drop probability, training"),
        case((2, 3), 0.5, False, "a random batch, evaluation"),
    ]


def _bn_forward_cases(rng):
    def case(n, C, m, eps, training, note):
        return Case(
            (
                rng.normal(size=(n, C)) * rng.uniform(0.5, 3) + rng.normal(),
                rng.uniform(0.5, 2, C),
                rng.normal(size=C),
                rng.normal(size=C),
                rng.uniform(0.5, 2, C),
                m,
                eps,
                training,
            ),
            note=note,
        )

    return [
        Case(
            (np.array([[1.0], [3.0]]), np.ones(1), np.zeros(1), np.zeros(1), np.ones(1), 0.1, 0.0, True),
            note="two values 1 and 3: batch variance 1 (biased), 2 (unbiased)",
        ),
        Case(
            (
                np.array([[0.0, 1.0], [2.0, 1.0], [4.0, 4.0]]),
                np.array([2.0, 1.0]),
                np.array([0.5, -1.0]),
                np.array([10.0, -10.0]),
                np.array([9.0, 4.0]),
                0.1,
                1e-5,
                True,
            ),
            note="training mode must ignore the (wrong) running statistics",
        ),
        Case(
            (
                np.array([[0.0, 1.0], [2.0, 1.0], [4.0, 4.0]]),
                np.array([2.0, 1.0]),
                np.array([0.5, -1.0]),
                np.array([1.0, -1.0]),
                np.array([4.0, 0.25]),
                0.1,
                1e-5,
                False,
            ),
            note="evaluation mode: running statistics, and they do not change",
        ),
        case(8, 3, 0.1, 1e-5, True, "a random batch, training, momentum 0.1"),
        case(4, 2, 0.5, 1e-3, True, "a small batch, momentum 0.5"),
        case(6, 3, 0.1, 1e-5, False, "a random batch, evaluation"),
    ]


def _bn_backward_cases(rng):
    def case(n, C, eps, note):
        return Case((rng.normal(size=(n, C)), rng.normal(size=(n, C)) * 2 + 1, rng.uniform(0.5, 2, C), eps), note=note)

    return [
        Case(
            (np.ones((2, 1)), np.array([[1.0], [3.0]]), np.ones(1), 0.0),
            note="a constant upstream gradient: a shift of the batch changes nothing, so dx = 0",
        ),
        Case(
            (np.array([[1.0], [0.0], [0.0]]), np.array([[0.0], [1.0], [2.0]]), np.array([2.0]), 1e-5),
            note="one upstream gradient, three examples: all three inputs get a gradient",
        ),
        case(5, 3, 1e-5, "a random batch"),
        case(2, 4, 1e-5, "a batch of two"),
        case(10, 2, 1e-2, "a large eps"),
    ]


def _prox_cases(rng):
    return [
        Case(
            (np.array([0.05, -0.05, 1.0, -1.0]), np.zeros(4), 0.1, 1.0),
            note="no gradient: small weights go to exactly 0, large ones shrink by lr * l1",
        ),
        Case(
            (np.array([0.5, 0.5]), np.array([1.0, -1.0]), 0.1, 2.0),
            note="the threshold is lr * l1 = 0.2, applied after the gradient step",
        ),
        Case(
            (np.array([0.0, 0.0, 0.0]), np.array([0.5, -3.0, 1.5]), 0.1, 2.0),
            note="from zero: only gradients larger than l1 move a weight",
        ),
        Case(
            (rng.normal(size=5), rng.normal(size=5), 0.05, float(rng.uniform(0.5, 5))),
            note="random weights and gradients",
        ),
        Case((rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), 0.2, float(rng.uniform(0.1, 2))), note="a matrix"),
    ]


def _es_cases(rng):
    def noisy(n):
        base = 1.0 / np.arange(1, n + 1) + 0.02 * np.arange(n)  # falls, then rises
        return (base + 0.01 * rng.normal(size=n)).tolist()

    return [
        Case(([1.0, 0.8, 0.7, 0.75, 0.72, 0.71, 0.9], 2, 0.0), note="best at epoch 3, patience 2: stop at 5"),
        Case(([1.0, 0.8, 0.7, 0.65, 0.6], 2, 0.0), note="never stops: the last epoch, which is also the best"),
        Case(([1.0, 0.99, 0.98, 0.97, 0.96, 0.5], 3, 0.05), note="improvements smaller than min_delta do not count"),
        Case(([0.5, 0.6, 0.4, 0.45, 0.46, 0.47, 0.3], 3, 0.0), note="patience resets after an improvement"),
        Case((noisy(40), 5, 0.0), note="a noisy validation curve, patience 5"),
        Case((noisy(30), int(rng.integers(1, 6)), 0.01), note="a noisy curve with min_delta"),
    ]


# --- the exercises ---------------------------------------------------------------------------

EXERCISES = (
    Exercise(
        id="dropout_forward_backward",
        chapter=CHAPTER,
        points=2,
        function="dropout_forward_backward",
        cases=_dropout_cases,
        reference=dropout_forward_backward,
        hint="p is the probability of DROPPING a unit, so a kept unit is scaled by 1 / (1 - p), and "
        "that scaling happens in TRAINING (inverted dropout): out = x * mask / (1 - p), "
        "dx = dout * mask / (1 - p). In evaluation mode return x and dout unchanged.",
    ),
    Exercise(
        id="batchnorm_forward_modes",
        chapter=CHAPTER,
        points=3,
        function="batchnorm_forward_modes",
        cases=_bn_forward_cases,
        reference=batchnorm_forward_modes,
        hint="Training: normalise with the batch mean and the BIASED variance x.var(axis=0) (divide "
        "by n), and update the running estimates with the UNBIASED one x.var(axis=0, ddof=1): "
        "rm = (1 - momentum) * rm + momentum * mean. Never use the running statistics to "
        "normalise in training. Evaluation: normalise with the running statistics and return "
        "them unchanged.",
    ),
    Exercise(
        id="batchnorm_backward_train",
        chapter=CHAPTER,
        points=3,
        function="batchnorm_backward_train",
        cases=_bn_backward_cases,
        reference=batchnorm_backward_train,
        hint="The mean and variance depend on every x, so dx is NOT just dout * gamma / std. With "
        "xhat = (x - mean) / sqrt(var + eps) (biased var): dx = gamma / (n * sqrt(var + eps)) * "
        "(n * dout - dout.sum(0) - xhat * (dout * xhat).sum(0)); dgamma = (dout * xhat).sum(0); "
        "dbeta = dout.sum(0).",
    ),
    Exercise(
        id="l1_prox_step",
        chapter=CHAPTER,
        points=2,
        function="l1_prox_step",
        cases=_prox_cases,
        reference=l1_prox_step,
        hint="First the gradient step v = theta - lr * g, then soft-threshold with lr * l1 (not l1): "
        "np.sign(v) * np.maximum(np.abs(v) - lr * l1, 0). Coordinates with |v| <= lr * l1 "
        "become exactly 0; the others move towards 0 by lr * l1, they are not kept as they are.",
    ),
    Exercise(
        id="early_stopping_rule",
        chapter=CHAPTER,
        points=2,
        function="early_stopping_rule",
        cases=_es_cases,
        reference=early_stopping_rule,
        hint="Go through the epochs 1, 2, ...: an epoch improves if its loss < best - min_delta; "
        "then best_epoch = that epoch and wait = 0, otherwise wait += 1. Stop as soon as "
        "wait == patience. Return (stop_epoch, best_epoch): the parameters to restore are those "
        "of best_epoch, not of the epoch you stopped at.",
    ),
)
