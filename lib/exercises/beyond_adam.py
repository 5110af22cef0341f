r"""Chapter 11 (beyond Adam): the graded exercises and their reference solutions.

Notebook: ``exercises/source/11-beyond-adam.ipynb``. The reference solutions call
:mod:`lib.optim` (PyTorch's / optax's conventions), so the exercises and the library have one
source of truth.

==============================  ======  ================================================================
id                              points  the student writes
==============================  ======  ================================================================
``adadelta_step``               2       RMS of past updates over RMS of gradients, the *old* E[Δ²]
``adafactor_second_moment``     2       V̂ = R Cᵀ / sum(R) from the row and column sums of V
``lion_step``                   2       sign(β₁m + (1−β₁)g) + λθ, then m ← β₂m + (1−β₂)g
``newton_schulz_orthogonalize`` 2       X₀ = G/‖G‖_F, then X ← aX + (bA + cA²)X, A = XXᵀ
``muon_step``                   3       Muon on the matrices of a dict, everything else unchanged
==============================  ======  ================================================================
"""

from __future__ import annotations

import numpy as np

from lib import optim
from lib.exercises import Case, Exercise

__all__ = [
    "EXERCISES",
    "adadelta_step",
    "adafactor_second_moment",
    "lion_step",
    "newton_schulz_orthogonalize",
    "muon_step",
]

CHAPTER = "11-beyond-adam"
MUON_COEFFICIENTS = (3.4445, -4.775, 2.0315)


# --- reference solutions ---------------------------------------------------------------------


def adadelta_step(theta, g, square_avg, acc_delta, lr, rho, eps):
    r"""One Adadelta update (``torch.optim.Adadelta``); returns ``(theta, square_avg, acc_delta)``.

    .. math:: E[g^2]_t = \rho E[g^2]_{t-1} + (1-\rho) g^2, \quad
              \Delta = \frac{\sqrt{E[\Delta^2]_{t-1} + \varepsilon}}{\sqrt{E[g^2]_t + \varepsilon}}\, g, \quad
              E[\Delta^2]_t = \rho E[\Delta^2]_{t-1} + (1-\rho)\Delta^2, \quad \theta \leftarrow \theta - \eta\Delta
    """
    theta = np.asarray(theta, dtype=float)
    tx = optim.adadelta(lr=lr, rho=rho, eps=eps)
    state = optim.ScaleByAdadeltaState(0, np.asarray(square_avg, dtype=float), np.asarray(acc_delta, dtype=float))
    u, state = tx.update(np.asarray(g, dtype=float), state, theta)
    return optim.apply_updates(theta, u), state.square_avg, state.acc_delta


def adafactor_second_moment(V):
    r"""Adafactor's rank-1 estimate of a nonnegative matrix ``V``: :math:`R C^\top / (1^\top R)`.

    .. math:: \hat V_{ij} = \frac{R_i C_j}{\sum_k R_k}, \qquad R = V 1, \quad C = V^\top 1
    """
    V = np.asarray(V, dtype=float)
    return optim.factored_second_moment(V.mean(axis=1, keepdims=True), V.mean(axis=0, keepdims=True))


def lion_step(theta, g, m, lr, betas, weight_decay):
    r"""One Lion update (``optax.lion``); returns ``(theta, m)``.

    .. math:: \theta \leftarrow \theta - \eta\big(\operatorname{sign}(\beta_1 m + (1-\beta_1) g) + \lambda\theta\big),
              \qquad m \leftarrow \beta_2 m + (1-\beta_2) g
    """
    theta = np.asarray(theta, dtype=float)
    tx = optim.lion(lr, betas=betas, weight_decay=weight_decay)
    state = (optim.ScaleByLionState(0, np.asarray(m, dtype=float)), (), optim.ScaleByLearningRateState(0))
    u, state = tx.update(np.asarray(g, dtype=float), state, theta)
    return optim.apply_updates(theta, u), state[0].mu


def newton_schulz_orthogonalize(G, steps, coefficients):
    r"""``steps`` Newton–Schulz steps from :math:`X_0 = G/\|G\|_F` (``torch.optim.Muon``'s, in float64).

    .. math:: X_{k+1} = a X_k + (b A_k + c A_k^2) X_k, \qquad A_k = X_k X_k^\top
    """
    return optim.newton_schulz(np.asarray(G, dtype=float), tuple(coefficients), int(steps), eps=1e-7)


def muon_step(params, grads, bufs, lr, momentum, weight_decay):
    r"""One ``torch.optim.Muon`` step (Nesterov, 5 Newton–Schulz steps, ``adjust_lr_fn="original"``) on
    the 2-D entries of ``params``; every other entry (and its buffer) is returned unchanged.

    .. math:: B \leftarrow \mu B + (1-\mu) G, \quad O = \mathrm{NS}_5((1-\mu)G + \mu B), \quad
              W \leftarrow (1-\eta\lambda) W - \eta\sqrt{\max(1, A/B)}\; O
    """
    new_params, new_bufs = {}, {}
    tx = optim.muon(lr=lr, momentum=momentum, weight_decay=weight_decay)
    for k, p in params.items():
        p = np.asarray(p, dtype=float)
        if p.ndim != 2:
            new_params[k], new_bufs[k] = p.copy(), np.array(bufs[k], dtype=float)
            continue
        state = optim.MuonState(0, {"x": np.asarray(bufs[k], dtype=float)})
        u, state = tx.update({"x": np.asarray(grads[k], dtype=float)}, state, {"x": p})
        new_params[k], new_bufs[k] = p + u["x"], state.momentum_buffer["x"]
    return new_params, new_bufs


# --- cases -----------------------------------------------------------------------------------


def _adadelta_cases(rng):
    return [
        Case(
            (np.array([1.0, -1.0]), np.array([0.5, -3.0]), np.zeros(2), np.zeros(2), 1.0, 0.9, 1e-6),
            note="the first step from zero averages: about sqrt(eps / (1 - rho)) per coordinate",
        ),
        Case(
            (
                rng.normal(size=3),
                rng.normal(size=3),
                rng.uniform(0.1, 1.0, 3),
                rng.uniform(1e-4, 1e-2, 3),
                1.0,
                0.9,
                1e-6,
            ),
            note="running averages",
        ),
        Case(
            (
                rng.normal(size=(2, 3)),
                rng.normal(size=(2, 3)),
                rng.uniform(0.1, 1.0, (2, 3)),
                rng.uniform(1e-3, 1e-1, (2, 3)),
                0.5,
                0.95,
                1e-4,
            ),
            note="a matrix, lr = 0.5, a large eps",
        ),
        Case(
            (np.array([2.0]), np.array([0.0]), np.array([0.3]), np.array([0.04]), 1.0, 0.8, 1e-6),
            note="a zero gradient: theta does not move, both averages decay",
        ),
    ]


def _factored_cases(rng):
    return [
        Case((np.outer([1.0, 4.0], [1.0, 2.0, 3.0]),), note="an exactly rank-1 V: the estimate is V itself"),
        Case((np.array([[1.0, 0.0], [0.0, 1.0]]),), note="the identity, 2x2"),
        Case((rng.uniform(0.0, 2.0, (3, 5)),), note="a wide random V (3 rows, 5 columns)"),
        Case((rng.normal(size=(6, 2)) ** 2,), note="a tall V = G**2 (6 rows, 2 columns)"),
        Case((rng.uniform(0.5, 1.5, (4, 4)),), note="a square random V"),
    ]


def _lion_cases(rng):
    return [
        Case(
            (np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.1, -4.0]), np.zeros(3), 1e-3, (0.9, 0.99), 0.0),
            note="the first step from m = 0: -lr * sign(g)",
        ),
        Case(
            (np.array([0.5, 0.5]), np.array([1.0, -1.0]), np.array([-5.0, 5.0]), 0.01, (0.9, 0.99), 0.0),
            note="momentum against the gradient: the sign follows 0.9 m + 0.1 g",
        ),
        Case(
            (np.array([0.5, 0.5]), np.array([1.0, -1.0]), np.array([-5.0, 5.0]), 0.01, (0.5, 0.9), 0.0),
            note="beta1 = 0.5 now outweighs the momentum",
        ),
        Case(
            (np.array([0.5, 0.5]), np.array([10.0, -10.0]), np.array([-1.0, 1.0]), 0.01, (0.9, 0.99), 0.0),
            note="a large gradient flips sign(0.9 m + 0.1 g) but not the new m = 0.99 m + 0.01 g",
        ),
        Case(
            (rng.normal(size=4), rng.normal(size=4), rng.normal(size=4), 3e-4, (0.9, 0.99), 0.1),
            note="weight decay 0.1 (multiplied by lr)",
        ),
        Case(
            (rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), 1e-3, (0.95, 0.98), 1.0),
            note="a matrix, other betas",
        ),
    ]


def _ns_cases(rng):
    muon, classic = MUON_COEFFICIENTS, (1.875, -1.25, 0.375)
    return [
        Case((np.array([[3.0, 0.0], [0.0, 0.5]]), 5, muon), note="a diagonal matrix: the singular values are 3, 0.5"),
        Case((np.array([[2.0, 1.0, 0.0], [0.0, 1.0, 1.0]]), 1, classic), note="one step of the classic quintic, wide"),
        Case((10.0 * rng.normal(size=(3, 5)), 5, muon), note="a large wide random matrix: normalise first"),
        Case((rng.normal(size=(6, 3)), 5, muon), note="a tall random matrix"),
        Case((rng.normal(size=(4, 4)) / 100, 8, classic), note="a small square matrix, 8 classic steps"),
    ]


def _muon_cases(rng):
    def net(shapes):
        return (
            {k: rng.normal(size=s) for k, s in shapes.items()},
            {k: rng.normal(size=s) for k, s in shapes.items()},
            {k: 0.1 * rng.normal(size=s) for k, s in shapes.items()},
        )

    fixed_W = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    return [
        Case(
            (
                {"W": fixed_W},
                {"W": np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]])},
                {"W": np.zeros((3, 2))},
                0.02,
                0.95,
                0.0,
            ),
            note="one tall matrix, zero buffer, no weight decay",
        ),
        Case(
            (*net({"W1": (4, 3), "b1": (3,), "W2": (3, 2), "b2": (2,)}), 0.02, 0.95, 0.1),
            note="an MLP's parameters: only W1 and W2 are Muon's; b1, b2 are returned unchanged",
        ),
        Case((*net({"W": (2, 5), "scale": ()}), 0.05, 0.9, 0.0), note="a wide matrix and a scalar gain"),
        Case((*net({"W": (5, 5), "b": (5,)}), 0.01, 0.8, 0.2), note="a square matrix, momentum 0.8, weight decay"),
    ]


# --- the exercises ---------------------------------------------------------------------------

EXERCISES = (
    Exercise(
        id="adadelta_step",
        chapter=CHAPTER,
        points=2,
        function="adadelta_step",
        cases=_adadelta_cases,
        reference=adadelta_step,
        hint="Update square_avg FIRST; the numerator uses the OLD acc_delta: "
        "delta = np.sqrt(acc_delta + eps) / np.sqrt(square_avg_new + eps) * g. Then "
        "acc_delta_new = rho * acc_delta + (1 - rho) * delta**2 and theta - lr * delta.",
    ),
    Exercise(
        id="adafactor_second_moment",
        chapter=CHAPTER,
        points=2,
        function="adafactor_second_moment",
        cases=_factored_cases,
        reference=adafactor_second_moment,
        hint="R = V.sum(axis=1) has one entry per ROW (length n), C = V.sum(axis=0) one per COLUMN "
        "(length m); the estimate is np.outer(R, C) / R.sum(), of shape (n, m) like V.",
    ),
    Exercise(
        id="lion_step",
        chapter=CHAPTER,
        points=2,
        function="lion_step",
        cases=_lion_cases,
        reference=lion_step,
        hint="The SIGN uses beta1 and the OLD m: np.sign(beta1 * m + (1 - beta1) * g). The new momentum "
        "uses beta2: beta2 * m + (1 - beta2) * g. theta - lr * (sign + weight_decay * theta).",
    ),
    Exercise(
        id="newton_schulz_orthogonalize",
        chapter=CHAPTER,
        points=2,
        function="newton_schulz_orthogonalize",
        cases=_ns_cases,
        reference=newton_schulz_orthogonalize,
        hint="Start from X = G / np.linalg.norm(G) (the Frobenius norm: all singular values <= 1). Then "
        "`steps` times: A = X @ X.T; X = a * X + (b * A + c * A @ A) @ X, with (a, b, c) = coefficients.",
    ),
    Exercise(
        id="muon_step",
        chapter=CHAPTER,
        points=3,
        function="muon_step",
        cases=_muon_cases,
        reference=muon_step,
        hint="Only entries with p.ndim == 2 are Muon's: copy the others (and their buffers) unchanged. For a "
        "matrix: buf = momentum * buf + (1 - momentum) * g; d = (1 - momentum) * g + momentum * buf; "
        "O = 5 Newton-Schulz steps of d with (3.4445, -4.775, 2.0315); "
        "W_new = (1 - lr * weight_decay) * W - lr * np.sqrt(max(1, W.shape[0] / W.shape[1])) * O.",
    ),
)
