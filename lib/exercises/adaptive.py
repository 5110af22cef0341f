r"""Chapter 05 (adaptive learning rates): the graded exercises and their reference solutions.

Notebook: ``exercises/source/05-adaptive-methods.ipynb``. Conventions: parameters θ, learning
rate η = ``lr``, ``betas`` = (β₁, β₂), the update counter ``t`` starts at **1** for the first
update, and ε sits **outside** the square root (as in the papers and torch) unless an
exercise says otherwise. The reference solutions call :mod:`lib.optim`, so that the exercises
and the library have one source of truth.

=========================  ======  =====================================================================
id                         points  the student writes
=========================  ======  =====================================================================
``rmsprop_step``           2       v ← ρv + (1−ρ)g², θ ← θ − η g/(√v + ε) with the *new* v
``adam_step``              3       one Adam update with bias correction 1 − βᵗ, t ≥ 1
``adamax_step``            2       u ← max(β₂u, |g|), θ ← θ − η/(1−β₁ᵗ) · m/u (no ε, as in the paper)
``adabelief_step``         2       s ← β₂s + (1−β₂)(g − m)² + ε (the new m), then the Adam-like step
``adam_first_step``        1       the first update θ₁ − θ₀ with and without bias correction
=========================  ======  =====================================================================
"""

from __future__ import annotations

import numpy as np

from lib import optim
from lib.exercises import Case, Exercise

__all__ = ["EXERCISES", "rmsprop_step", "adam_step", "adamax_step", "adabelief_step", "adam_first_step"]

CHAPTER = "05-adaptive-methods"


# --- reference solutions (one update of lib.optim from a given state) ---------------------------


def _apply(scaling, state, params, grads, lr):
    """Run one update of ``chain(scaling, scale_by_learning_rate(lr))`` from ``state``."""
    tx = optim.chain(scaling, optim.scale_by_learning_rate(lr))
    updates, (new_state, _) = tx.update(grads, (state, optim.ScaleByLearningRateState(0)), params)
    return optim.apply_updates(params, updates), new_state


def rmsprop_step(theta, g, v, lr, alpha, eps):
    r"""One RMSprop update; returns ``(theta, v)``.

    .. math:: v_t = \rho v_{t-1} + (1-\rho) g_t^2, \qquad
              \theta_t = \theta_{t-1} - \eta\, g_t / (\sqrt{v_t} + \varepsilon)

    with :math:`\rho` = ``alpha`` (torch's name), exactly ``torch.optim.RMSprop``.
    """
    theta = np.asarray(theta, dtype=float)
    state = optim.ScaleByRmsState(np.asarray(v, dtype=float), None)
    theta, state = _apply(optim.scale_by_rms(alpha=alpha, eps=eps), state, theta, np.asarray(g, dtype=float), lr)
    return theta, state.square_avg


def adam_step(theta, g, m, v, t, lr, betas, eps):
    r"""Update number ``t`` (t = 1 for the first) of Adam; returns ``(theta, m, v)``.

    .. math:: m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,
              \quad \theta_t = \theta_{t-1} - \eta\, \frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)} + \varepsilon}
    """
    b1, b2 = betas
    state = optim.ScaleByAdamState(int(t) - 1, np.asarray(m, dtype=float), np.asarray(v, dtype=float), None)
    theta, state = _apply(
        optim.scale_by_adam(b1=b1, b2=b2, eps=eps),
        state,
        np.asarray(theta, dtype=float),
        np.asarray(g, dtype=float),
        lr,
    )
    return theta, state.mu, state.nu


def adamax_step(theta, g, m, u, t, lr, betas):
    r"""Update number ``t`` of AdaMax (Kingma & Ba, Algorithm 2, no ε); returns ``(theta, m, u)``.

    .. math:: m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad u_t = \max(\beta_2 u_{t-1}, |g_t|),
              \quad \theta_t = \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\, \frac{m_t}{u_t}
    """
    b1, b2 = betas
    state = optim.ScaleByAdamaxState(int(t) - 1, np.asarray(m, dtype=float), np.asarray(u, dtype=float))
    theta, state = _apply(
        optim.scale_by_adamax(b1=b1, b2=b2, eps=0.0),
        state,
        np.asarray(theta, dtype=float),
        np.asarray(g, dtype=float),
        lr,
    )
    return theta, state.mu, state.u_inf


def adabelief_step(theta, g, m, s, t, lr, betas, eps):
    r"""Update number ``t`` of AdaBelief (Zhuang et al., Algorithm 2); returns ``(theta, m, s)``.

    .. math:: m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
              s_t = \beta_2 s_{t-1} + (1-\beta_2)(g_t - m_t)^2 + \varepsilon, \quad
              \theta_t = \theta_{t-1} - \eta\, \frac{m_t/(1-\beta_1^t)}{\sqrt{s_t/(1-\beta_2^t)} + \varepsilon}
    """
    b1, b2 = betas
    state = optim.ScaleByBeliefState(int(t) - 1, np.asarray(m, dtype=float), np.asarray(s, dtype=float))
    theta, state = _apply(
        optim.scale_by_belief(b1=b1, b2=b2, eps=eps, eps_root=eps),
        state,
        np.asarray(theta, dtype=float),
        np.asarray(g, dtype=float),
        lr,
    )
    return theta, state.mu, state.nu


def adam_first_step(g, lr, betas, eps, bias_correction):
    r"""Adam's first update :math:`\theta_1 - \theta_0` from :math:`m_0 = v_0 = 0`.

    With bias correction it is :math:`-\eta\, g/(|g| + \varepsilon)`; without,
    :math:`-\eta\,(1-\beta_1) g / (\sqrt{1-\beta_2}\,|g| + \varepsilon)`, about
    :math:`3.16\,\eta` per coordinate for the default betas.
    """
    g = np.asarray(g, dtype=float)
    if bias_correction:
        theta, _, _ = adam_step(np.zeros_like(g), g, np.zeros_like(g), np.zeros_like(g), 1, lr, betas, eps)
        return theta
    b1, b2 = betas
    m, v = (1 - b1) * g, (1 - b2) * g * g
    return -lr * m / (np.sqrt(v) + eps)


# --- cases -----------------------------------------------------------------------------------


def _rmsprop_cases(rng):
    return [
        Case(
            (np.array([1.0, -2.0]), np.array([0.5, 3.0]), np.zeros(2), 0.01, 0.99, 1e-8), note="the first step, v = 0"
        ),
        Case(
            (rng.normal(size=3), rng.normal(size=3), rng.uniform(0.1, 2.0, size=3), 0.05, 0.9, 1e-8), note="a running v"
        ),
        Case(
            (rng.normal(size=4), 1e-2 * rng.normal(size=4), np.full(4, 1e-6), 0.1, 0.99, 1e-8),
            note="small gradients: where eps sits matters",
        ),
        Case(
            (rng.normal(size=(2, 2)), rng.normal(size=(2, 2)), rng.uniform(0.0, 1.0, size=(2, 2)), 0.001, 0.999, 1e-3),
            note="a matrix, a large eps",
        ),
        Case(
            (np.array([2.0]), np.array([0.0]), np.array([0.25]), 0.1, 0.5, 1e-8),
            note="a zero gradient: theta does not move, v decays",
        ),
    ]


def _adam_cases(rng):
    return [
        Case(
            (np.array([1.0, -1.0]), np.array([0.3, -4.0]), np.zeros(2), np.zeros(2), 1, 0.001, (0.9, 0.999), 1e-8),
            note="the first update, t = 1",
        ),
        Case(
            (
                rng.normal(size=3),
                rng.normal(size=3),
                0.1 * rng.normal(size=3),
                rng.uniform(0.01, 0.1, size=3),
                2,
                0.01,
                (0.9, 0.999),
                1e-8,
            ),
            note="t = 2",
        ),
        Case(
            (
                rng.normal(size=3),
                rng.normal(size=3),
                0.1 * rng.normal(size=3),
                rng.uniform(0.01, 0.1, size=3),
                50,
                0.01,
                (0.9, 0.99),
                1e-8,
            ),
            note="t = 50",
        ),
        Case(
            (
                rng.normal(size=4),
                1e-3 * rng.normal(size=4),
                1e-4 * rng.normal(size=4),
                np.full(4, 1e-7),
                10,
                0.1,
                (0.8, 0.999),
                1e-4,
            ),
            note="small gradients, a large eps",
        ),
        Case(
            (
                rng.normal(size=(2, 3)),
                rng.normal(size=(2, 3)),
                rng.normal(size=(2, 3)),
                rng.uniform(0.5, 2.0, size=(2, 3)),
                1000,
                0.003,
                (0.9, 0.999),
                1e-8,
            ),
            note="a matrix, t = 1000",
        ),
    ]


def _adamax_cases(rng):
    return [
        Case(
            (np.array([0.5, -0.5]), np.array([2.0, -0.1]), np.zeros(2), np.zeros(2), 1, 0.002, (0.9, 0.999)),
            note="the first update, t = 1",
        ),
        Case(
            (
                rng.normal(size=3),
                rng.normal(size=3),
                0.1 * rng.normal(size=3),
                np.array([0.1, 5.0, 1.0]),
                3,
                0.01,
                (0.9, 0.999),
            ),
            note="u keeps a large old gradient in one coordinate",
        ),
        Case(
            (
                rng.normal(size=4),
                rng.normal(size=4),
                rng.normal(size=4),
                rng.uniform(1.0, 3.0, size=4),
                20,
                0.002,
                (0.9, 0.9),
            ),
            note="a fast-decaying u, t = 20",
        ),
        Case(
            (
                rng.normal(size=(2, 2)),
                rng.normal(size=(2, 2)),
                rng.normal(size=(2, 2)),
                rng.uniform(0.5, 2.0, size=(2, 2)),
                200,
                0.05,
                (0.8, 0.99),
            ),
            note="a matrix, t = 200",
        ),
    ]


def _adabelief_cases(rng):
    return [
        Case(
            (np.array([1.0, -2.0]), np.array([0.5, 3.0]), np.zeros(2), np.zeros(2), 1, 0.001, (0.9, 0.999), 1e-8),
            note="the first update, t = 1",
        ),
        Case(
            (
                rng.normal(size=3),
                rng.normal(size=3),
                rng.normal(size=3),
                rng.uniform(0.01, 0.5, size=3),
                5,
                0.01,
                (0.9, 0.999),
                1e-8,
            ),
            note="t = 5",
        ),
        Case(
            (
                np.array([1.0, 1.0]),
                np.array([0.2, -0.3]),
                np.array([0.2, -0.3]),
                np.full(2, 1e-6),
                100,
                0.01,
                (0.9, 0.999),
                1e-4,
            ),
            note="the gradient equals its prediction m: s is mostly the eps added to it",
        ),
        Case(
            (
                rng.normal(size=(2, 3)),
                rng.normal(size=(2, 3)),
                rng.normal(size=(2, 3)),
                rng.uniform(0.1, 1.0, size=(2, 3)),
                30,
                0.003,
                (0.8, 0.99),
                1e-8,
            ),
            note="a matrix, t = 30",
        ),
    ]


def _first_step_cases(rng):
    return [
        Case((np.array([0.2, -5.0, 1e3]), 0.001, (0.9, 0.999), 1e-8, True), note="with bias correction"),
        Case((np.array([0.2, -5.0, 1e3]), 0.001, (0.9, 0.999), 1e-8, False), note="without bias correction"),
        Case((rng.normal(size=4), 0.01, (0.8, 0.99), 1e-8, False), note="other betas, no correction"),
        Case((np.array([1e-7, -1e-9]), 0.1, (0.9, 0.999), 1e-8, True), note="tiny gradients: eps limits the step"),
        Case((np.array([1e-7, -1e-9]), 0.1, (0.9, 0.999), 1e-8, False), note="tiny gradients, no correction"),
        Case(
            (rng.normal(size=3), float(rng.uniform(0.001, 0.1)), (0.9, 0.999), 1e-8, True),
            note="random gradients, with bias correction",
        ),
    ]


# --- the exercises ---------------------------------------------------------------------------

EXERCISES = (
    Exercise(
        id="rmsprop_step",
        chapter=CHAPTER,
        points=2,
        function="rmsprop_step",
        cases=_rmsprop_cases,
        reference=rmsprop_step,
        hint="Update v FIRST (v_new = alpha * v + (1 - alpha) * g**2) and divide by the NEW v: "
        "theta - lr * g / (np.sqrt(v_new) + eps). eps goes outside the square root. "
        "Return new arrays (theta_new, v_new).",
    ),
    Exercise(
        id="adam_step",
        chapter=CHAPTER,
        points=3,
        function="adam_step",
        cases=_adam_cases,
        reference=adam_step,
        hint="t is 1 for the first update, so the corrections are 1 - beta1**t and 1 - beta2**t "
        "(never beta**(t - 1)). Update m and v first, then m_hat = m / (1 - beta1**t), "
        "v_hat = v / (1 - beta2**t), theta - lr * m_hat / (np.sqrt(v_hat) + eps). "
        "Return (theta, m, v) with the UNcorrected m and v.",
    ),
    Exercise(
        id="adamax_step",
        chapter=CHAPTER,
        points=2,
        function="adamax_step",
        cases=_adamax_cases,
        reference=adamax_step,
        hint="u_new = np.maximum(beta2 * u, np.abs(g)) (element-wise, not a sum, not an average); "
        "only m is bias-corrected: theta - lr / (1 - beta1**t) * m_new / u_new.",
    ),
    Exercise(
        id="adabelief_step",
        chapter=CHAPTER,
        points=2,
        function="adabelief_step",
        cases=_adabelief_cases,
        reference=adabelief_step,
        hint="Compute the NEW m first; then s_new = beta2 * s + (1 - beta2) * (g - m_new)**2 + eps "
        "(the paper adds eps here too); then as Adam: m_new / (1 - beta1**t) over "
        "np.sqrt(s_new / (1 - beta2**t)) + eps.",
    ),
    Exercise(
        id="adam_first_step",
        chapter=CHAPTER,
        points=1,
        function="adam_first_step",
        cases=_first_step_cases,
        reference=adam_first_step,
        hint="From m0 = v0 = 0, m1 = (1 - beta1) g and v1 = (1 - beta2) g**2. With the correction "
        "(t = 1) these become g and g**2. The update is -lr * m / (np.sqrt(v) + eps): "
        "include the minus sign and eps outside the root.",
    ),
)
