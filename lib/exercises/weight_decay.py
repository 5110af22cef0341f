r"""Chapter 06 (weight decay and AdamW): the graded exercises and their reference solutions.

Notebook: ``exercises/source/06-weight-decay.ipynb``. Conventions: the L2 penalty is
:math:`\tfrac{\lambda'}{2}\lVert\theta\rVert^2` (gradient :math:`\lambda'\theta`), the update
counter ``t`` starts at 1, ε sits outside the square root, and "AdamW" means PyTorch's form
(decay multiplied by ``lr``). The reference solutions call :mod:`lib.optim`.

===========================  ======  ===================================================================
id                           points  the student writes
===========================  ======  ===================================================================
``adamw_step``               3       θ ← (1 − ηλ)θ, then Adam's step from the raw gradient
``l2_to_decoupled``          1       the per-step decay λ = ηλ′ equivalent to an L2 coefficient for SGD
``adam_l2_effective_decay``  2       ηλ′/(√v̂ + ε), the fraction of θ the L2 term removes under Adam
``decay_mask``               2       a dict of bools: decay parameters with ndim ≥ 2, not ``norm*``
===========================  ======  ===================================================================
"""

from __future__ import annotations

import numpy as np

from lib import optim
from lib.exercises import Case, Exercise

__all__ = ["EXERCISES", "adamw_step", "l2_to_decoupled", "adam_l2_effective_decay", "decay_mask"]

CHAPTER = "06-weight-decay"


def adamw_step(theta, g, m, v, t, lr, betas, eps, weight_decay):
    r"""Update number ``t`` of ``torch.optim.AdamW``; returns ``(theta, m, v)``.

    .. math:: \theta \leftarrow (1 - \eta\lambda)\,\theta - \eta\,\frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)}+\varepsilon}

    with :math:`m_t, v_t` from the raw gradient :math:`g` :cite:p:`loshchilov2019decoupled`.
    """
    b1, b2 = betas
    theta = np.asarray(theta, dtype=float)
    tx = optim.adamw(lr=lr, betas=(b1, b2), eps=eps, weight_decay=weight_decay)
    adam_state = optim.ScaleByAdamState(int(t) - 1, np.asarray(m, dtype=float), np.asarray(v, dtype=float), None)
    state = (adam_state, (), optim.ScaleByLearningRateState(0))
    updates, (new_adam, _, _) = tx.update(np.asarray(g, dtype=float), state, theta)
    return optim.apply_updates(theta, updates), new_adam.mu, new_adam.nu


def l2_to_decoupled(l2, lr):
    r"""The per-step decay :math:`\lambda = \eta\lambda'` that makes SGD with weight decay
    :math:`\theta \leftarrow (1-\lambda)\theta - \eta g` equal to SGD on the penalised loss
    (Loshchilov & Hutter, Proposition 1) :cite:p:`loshchilov2019decoupled`."""
    return float(lr) * float(l2)


def adam_l2_effective_decay(v, t, lr, weight_decay, beta2, eps):
    r"""The fraction of each weight removed per step by the L2 part of Adam's step,
    :math:`\eta\lambda'/(\sqrt{v_t/(1-\beta_2^t)}+\varepsilon)` :cite:p:`loshchilov2019decoupled`."""
    v_hat = np.asarray(v, dtype=float) / (1.0 - beta2 ** int(t))
    return lr * weight_decay / (np.sqrt(v_hat) + eps)


def decay_mask(params):
    r"""``{name: bool}``: decay every parameter with at least 2 dimensions, except those whose
    name starts with ``"norm"`` (:func:`lib.optim.weight_decay_mask` plus a name rule)."""
    dims = optim.weight_decay_mask(params)
    return {k: bool(dims[k] and not str(k).startswith("norm")) for k in params}


# --- cases -----------------------------------------------------------------------------------


def _adamw_cases(rng):
    return [
        Case(
            (
                np.array([1.0, -2.0]),
                np.array([0.3, -4.0]),
                np.zeros(2),
                np.zeros(2),
                1,
                0.001,
                (0.9, 0.999),
                1e-8,
                0.01,
            ),
            note="the first update, torch's default weight_decay",
        ),
        Case(
            (np.array([2.0, -1.0, 0.5]), np.zeros(3), np.zeros(3), np.zeros(3), 1, 0.1, (0.9, 0.999), 1e-8, 0.5),
            note="a zero gradient: only the decay moves theta",
        ),
        Case(
            (
                rng.normal(size=3),
                rng.normal(size=3),
                0.1 * rng.normal(size=3),
                rng.uniform(0.01, 0.1, size=3),
                5,
                0.01,
                (0.9, 0.999),
                1e-8,
                0.3,
            ),
            note="t = 5, a large decay",
        ),
        Case(
            (
                rng.normal(size=(2, 3)),
                rng.normal(size=(2, 3)),
                rng.normal(size=(2, 3)),
                rng.uniform(0.5, 2.0, size=(2, 3)),
                100,
                0.05,
                (0.8, 0.99),
                1e-8,
                0.2,
            ),
            note="a matrix, t = 100",
        ),
        Case(
            (
                3 + rng.normal(size=4),
                1e-3 * rng.normal(size=4),
                np.zeros(4),
                np.zeros(4),
                1,
                0.03,
                (0.9, 0.999),
                1e-8,
                1.0,
            ),
            note="large weights, tiny gradients",
        ),
    ]


def _l2_cases(rng):
    return [
        Case((0.01, 0.1), note="λ' = 0.01, η = 0.1"),
        Case((5e-4, 0.5), note="λ' = 5e-4, η = 0.5"),
        Case((0.0, 0.3), note="no penalty"),
        Case((float(rng.uniform(1e-4, 1e-1)), float(rng.uniform(0.01, 1.0))), note="random λ', η"),
        Case((float(rng.uniform(1e-4, 1e-1)), float(rng.uniform(0.01, 1.0))), note="random λ', η"),
    ]


def _effective_cases(rng):
    return [
        Case((np.array([1e-4, 1e-2, 1.0]), 1000, 1e-3, 1e-2, 0.999, 1e-8), note="three gradient scales, t = 1000"),
        Case((np.array([0.0, 1e-20]), 10, 0.01, 0.1, 0.999, 1e-8), note="no gradient: eps bounds the factor"),
        Case((rng.uniform(1e-6, 1.0, size=4), 1, 0.01, 0.05, 0.999, 1e-8), note="t = 1: the correction is large"),
        Case((rng.uniform(1e-4, 1e-1, size=(2, 3)), 50, 3e-3, 1e-3, 0.99, 1e-6), note="a matrix, beta2 = 0.99"),
        Case((rng.uniform(1e-8, 1e-6, size=3), 20000, 1e-3, 1e-2, 0.999, 1e-4), note="a large eps"),
    ]


def _mask_params(rng):
    h = int(rng.integers(2, 6))
    return {
        "W1": rng.normal(size=(3, h)),
        "b1": np.zeros(h),
        "norm_scale": np.ones(h),
        "norm_W": rng.normal(size=(h, h)),
        "W2": rng.normal(size=(h, 2)),
        "b2": np.zeros(2),
        "temperature": np.float64(rng.uniform(0.5, 2.0)),
        "conv": rng.normal(size=(2, 2, 3)),
    }


def _mask_cases(rng):
    return [
        Case(({"W": np.ones((2, 2)), "b": np.zeros(2)},), note="a weight and a bias"),
        Case(
            (
                {
                    "W1": np.ones((4, 3)),
                    "b1": np.zeros(3),
                    "norm1": np.ones((1, 3)),
                    "W2": np.ones((3, 2)),
                    "b2": np.zeros(2),
                },
            ),
            note="a 2-D normalisation scale",
        ),
        Case(({"scale": np.float64(2.0), "kernel": np.ones((3, 3, 1, 2))},), note="a scalar and a 4-D kernel"),
        Case((_mask_params(rng),), note="a mixed set"),
        Case((_mask_params(rng),), note="another mixed set"),
    ]


EXERCISES = (
    Exercise(
        id="adamw_step",
        chapter=CHAPTER,
        points=3,
        function="adamw_step",
        cases=_adamw_cases,
        reference=adamw_step,
        hint="Decay FIRST and scale it by the learning rate: theta_d = theta * (1 - lr * weight_decay). "
        "The moments use the RAW gradient g (no weight_decay * theta in m or v). Then the Adam step "
        "from chapter 5 on theta_d: theta_d - lr * m_hat / (np.sqrt(v_hat) + eps).",
    ),
    Exercise(
        id="l2_to_decoupled",
        chapter=CHAPTER,
        points=1,
        function="l2_to_decoupled",
        cases=_l2_cases,
        reference=l2_to_decoupled,
        hint="Expand theta - lr * (g + l2 * theta) and compare the coefficient of theta with (1 - lam). "
        "The penalty is (l2 / 2) * ||theta||^2, so its gradient is l2 * theta (no factor 2).",
    ),
    Exercise(
        id="adam_l2_effective_decay",
        chapter=CHAPTER,
        points=2,
        function="adam_l2_effective_decay",
        cases=_effective_cases,
        reference=adam_l2_effective_decay,
        hint="Adam divides the L2 gradient weight_decay * theta by np.sqrt(v_hat) + eps, where "
        "v_hat = v / (1 - beta2**t) is bias-corrected; the step also has the factor lr. "
        "eps goes outside the square root.",
    ),
    Exercise(
        id="decay_mask",
        chapter=CHAPTER,
        points=2,
        function="decay_mask",
        cases=_mask_cases,
        reference=decay_mask,
        hint="Return {name: bool} with the same keys as params: np.ndim(p) >= 2 (scalars and "
        "vectors are not decayed) and not name.startswith('norm'). Use Python bools.",
    ),
)
