r"""Chapter 4 (momentum and Nesterov): the graded exercises and their reference solutions.

Notebook: ``exercises/source/04-momentum.ipynb``. Conventions: learning rate η = ``lr``,
momentum μ = ``momentum``, dampening τ = ``dampening``, torch's buffer :math:`b` = ``buf``
(``None`` before the first step). The step exercises are checked against
:func:`lib.optim.sgd`, which reproduces ``torch.optim.SGD`` step for step.

==========================  ======  ==========================================================
id                          points  the student writes
==========================  ======  ==========================================================
``sgd_momentum_step``       3       one torch ``SGD(momentum, dampening)`` step, buffer included
``torch_momentum_hparams``  2       the torch ``(lr, momentum)`` equal to another convention
``nesterov_step``           3       one torch ``SGD(nesterov=True)`` step
``optimal_momentum``        2       the heavy-ball pair (η*, μ*) for a spectrum
``momentum_rate``           2       the factor per step: the largest iteration-matrix eigenvalue
==========================  ======  ==========================================================
"""

from __future__ import annotations

import numpy as np

from lib import optim
from lib.exercises import Case, Exercise
from lib.theory import quadratic_rates

__all__ = [
    "EXERCISES",
    "sgd_momentum_step",
    "torch_momentum_hparams",
    "nesterov_step",
    "optimal_momentum",
    "momentum_rate",
]

CHAPTER = "04-momentum"


# --- reference solutions ---------------------------------------------------------------------


def _torch_step(theta, buf, g, lr, momentum, dampening=0.0, nesterov=False):
    """One step of the torch-exact ``lib.optim.sgd``, starting from buffer ``buf``."""
    tx = optim.sgd(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov)
    theta = np.asarray(theta, dtype=float)
    state = tx.init(theta)  # (TraceState, ScaleByLearningRateState)
    if buf is not None:  # a later step: torch's buffer already exists
        state = (optim.TraceState(momentum_buffer=np.array(buf, dtype=float), count=1),) + state[1:]
    updates, state = tx.update(np.asarray(g, dtype=float), state, theta)
    return optim.apply_updates(theta, updates), state[0].momentum_buffer


def sgd_momentum_step(theta, buf, g, lr, momentum, dampening):
    r"""One step of ``torch.optim.SGD(lr, momentum, dampening)``; returns ``(theta, buf)``.

    .. math:: b_1 = g_1, \quad b_t = \mu b_{t-1} + (1-\tau) g_t \ (t > 1), \quad
              \theta_t = \theta_{t-1} - \eta\, b_t
    """
    return _torch_step(theta, buf, g, lr, momentum, dampening)


def torch_momentum_hparams(form, lr, beta):
    r"""The ``(lr, momentum)`` of ``torch.optim.SGD`` that gives the same iterates as ``form``
    with learning rate ``lr`` and coefficient ``beta`` (constant learning rate):
    ``"ema"`` → :math:`(\alpha(1-\beta), \beta)`; ``"sign_flipped"``, ``"lr_inside"`` and
    ``"torch"`` → :math:`(\eta, \beta)`."""
    if form == "ema":
        return lr * (1 - beta), beta
    if form in ("sign_flipped", "lr_inside", "torch"):
        return lr, beta
    raise ValueError(f"unknown form {form!r}")


def nesterov_step(theta, buf, g, lr, momentum):
    r"""One step of ``torch.optim.SGD(lr, momentum, nesterov=True)``; returns ``(theta, buf)``.

    .. math:: b_t = \mu b_{t-1} + g_t \ (b_1 = g_1), \qquad \theta_t = \theta_{t-1} - \eta\,(g_t + \mu b_t)
    """
    return _torch_step(theta, buf, g, lr, momentum, nesterov=True)


def optimal_momentum(eigenvalues):
    r"""The heavy-ball pair :math:`\eta^\star = (2/(\sqrt{\lambda_{\min}}+\sqrt{\lambda_{\max}}))^2`,
    :math:`\mu^\star = ((\sqrt\kappa-1)/(\sqrt\kappa+1))^2` for a Hessian with these eigenvalues."""
    return quadratic_rates.momentum_optimal_parameters(eigenvalues)


def momentum_rate(lr, momentum, eigenvalues):
    r"""The factor per step of heavy-ball momentum on a quadratic: the largest modulus of the
    roots of :math:`z^2 - (1+\mu-\eta\lambda) z + \mu` over the eigenvalues :math:`\lambda`."""
    return float(quadratic_rates.momentum_contraction_factor(lr, momentum, eigenvalues))


# --- cases -----------------------------------------------------------------------------------


def _step_cases(rng, dampening=True):
    theta2, g2, b2 = rng.normal(size=2), rng.normal(size=2), rng.normal(size=2)
    matrix = rng.normal(size=(2, 3))
    cases = [
        Case(
            (np.array([1.0, -2.0]), None, np.array([0.5, 4.0]), 0.1, 0.9) + ((0.0,) if dampening else ()),
            note="the first step: there is no buffer yet",
        ),
        Case((theta2, b2, g2, 0.05, 0.9) + ((0.0,) if dampening else ()), note="a later step"),
        Case(
            (matrix, rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), 0.01, 0.5) + ((0.0,) if dampening else ()),
            note="a matrix of parameters",
        ),
        Case(
            (np.array([3.0]), np.array([2.0]), np.array([-1.0]), 0.2, 0.99) + ((0.0,) if dampening else ()),
            note="one parameter, momentum 0.99",
        ),
    ]
    if dampening:
        cases += [
            Case(
                (np.array([1.0, 1.0]), None, np.array([2.0, -1.0]), 0.1, 0.9, 0.9),
                note="the first step with dampening 0.9: torch does not dampen b_1",
            ),
            Case(
                (np.array([1.0, 1.0]), np.array([2.0, -1.0]), np.array([1.0, 1.0]), 0.1, 0.9, 0.9),
                note="a later step with dampening 0.9",
            ),
            Case((theta2, b2, g2, 0.3, 0.7, 0.3), note="a later step with dampening 0.3"),
        ]
    return cases


def _hparam_cases(rng):
    return [
        Case(("ema", 0.1, 0.9), note="EMA form, α = 0.1, β = 0.9"),
        Case(("ema", 0.5, 0.99), note="EMA form, β = 0.99"),
        Case(("sign_flipped", 0.05, 0.9), note="m = βm − g, θ += ηm"),
        Case(("lr_inside", 0.01, 0.95), note="v = βv + ηg, θ −= v"),
        Case(("torch", 0.1, 0.8), note="already torch's form"),
        Case(("ema", 0.02, 0.5), note="EMA form, β = 0.5"),
        Case(("ema", float(rng.uniform(0.01, 0.5)), float(rng.uniform(0.5, 0.99))), note="EMA form, random α and β"),
        Case(
            (
                str(rng.choice(["sign_flipped", "lr_inside", "torch"])),
                float(rng.uniform(0.01, 0.5)),
                float(rng.uniform(0.5, 0.99)),
            ),
            note="random η and β",
        ),
    ]


def _optimal_cases(rng):
    return [
        Case((np.array([1.0, 100.0]),), note="κ = 100"),
        Case((np.array([4.0, 0.25, 1.0]),), note="unsorted, κ = 16"),
        Case((np.geomspace(0.1, 10.0, 5),), note="five eigenvalues, κ = 100"),
        Case((np.array([2.0, 2.0]),), note="κ = 1: no momentum is needed"),
        Case((np.sort(rng.uniform(0.5, 50.0, size=6)),), note="random spectrum"),
        Case((rng.uniform(0.1, 100.0, size=4),), note="random spectrum, unsorted"),
    ]


def _rate_cases(rng):
    lam = np.array([1.0, 25.0])
    return [
        Case((0.04, 0.9, lam), note="complex roots: |z| = √μ"),
        Case((0.0044, 0.0, lam), note="no momentum: gradient descent"),
        Case((4 / 36, 4 / 9, lam), note="the optimal pair for κ = 25"),
        Case((0.001, 0.5, lam), note="a small η: real roots, slow"),
        Case((0.2, 0.9, lam), note="ηλ_max = 5 > 2 + 2μ: unstable"),
        Case((0.01, 0.8, np.array([9.0, 1.0, 50.0, 4.0])), note="four eigenvalues, unsorted"),
        Case(
            (float(rng.uniform(0.001, 0.03)), float(rng.uniform(0.0, 0.95)), rng.uniform(0.5, 50.0, size=3)),
            note="random η, μ and eigenvalues",
        ),
        Case(
            (float(rng.uniform(0.001, 0.03)), float(rng.uniform(0.0, 0.95)), rng.uniform(0.5, 50.0, size=3)),
            note="random η, μ and eigenvalues",
        ),
    ]


# --- the exercises ---------------------------------------------------------------------------

EXERCISES = (
    Exercise(
        id="sgd_momentum_step",
        chapter=CHAPTER,
        points=3,
        function="sgd_momentum_step",
        cases=_step_cases,
        reference=sgd_momentum_step,
        hint="First step (buf is None): buf = g, with no dampening. Later: buf = momentum * buf + "
        "(1 - dampening) * g. Then theta - lr * buf: the learning rate stays OUTSIDE the buffer. "
        "Return new arrays; do not modify theta or buf in place.",
    ),
    Exercise(
        id="torch_momentum_hparams",
        chapter=CHAPTER,
        points=2,
        function="torch_momentum_hparams",
        cases=_hparam_cases,
        reference=torch_momentum_hparams,
        hint="The EMA velocity is (1 - beta) times torch's buffer, so the same step needs "
        "lr_torch = alpha * (1 - beta) (smaller, not larger). The other forms only move the "
        "sign or the learning rate around: (lr, beta) unchanged.",
    ),
    Exercise(
        id="nesterov_step",
        chapter=CHAPTER,
        points=3,
        function="nesterov_step",
        cases=lambda rng: _step_cases(rng, dampening=False),
        reference=nesterov_step,
        hint="Update the buffer as for momentum (buf = g at the first step, else momentum * buf + g), "
        "then step along g + momentum * buf with the NEW buffer: theta - lr * (g + momentum * buf). "
        "Stepping along buf alone is classical momentum, not Nesterov.",
    ),
    Exercise(
        id="optimal_momentum",
        chapter=CHAPTER,
        points=2,
        function="optimal_momentum",
        cases=_optimal_cases,
        reference=optimal_momentum,
        hint="With s_min = sqrt(lambda_min) and s_max = sqrt(lambda_max): lr = (2 / (s_min + s_max))**2 "
        "and momentum = ((s_max - s_min) / (s_max + s_min))**2. Square roots of the eigenvalues, "
        "and both results squared.",
    ),
    Exercise(
        id="momentum_rate",
        chapter=CHAPTER,
        points=2,
        function="momentum_rate",
        cases=_rate_cases,
        reference=momentum_rate,
        hint="For each eigenvalue lam, the roots of z**2 - (1 + momentum - lr*lam) z + momentum "
        "(np.roots, or the quadratic formula with a complex square root); return the largest "
        "absolute value over all roots and all eigenvalues, as a float.",
    ),
)
