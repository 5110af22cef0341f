r"""Chapter 10 (second-order methods): the graded exercises and their reference solutions.

Notebook: ``exercises/source/10-second-order.ipynb``. The reference solutions call
:mod:`lib.second_order`, so that the exercises and the library have one source of truth.

======================  ======  =====================================================================
id                      points  the student writes
======================  ======  =====================================================================
``damped_newton_step``  2       θ − (H + λI)⁻¹ g (a linear solve, never the inverse)
``cauchy_point``        2       the minimiser of the model along −g inside ‖δ‖ ≤ Δ
``lbfgs_two_loop``      3       H_k g from the pairs (s_i, y_i) by the two-loop recursion
``softmax_fisher``      2       F = (1/n) Σ J_iᵀ (diag p_i − p_i p_iᵀ) J_i (the model's labels, not y)
``kfac_layer_factors``  2       A = mean of [a; 1][a; 1]ᵀ, G = mean of g gᵀ for one dense layer
======================  ======  =====================================================================
"""

from __future__ import annotations

import numpy as np

from lib.exercises import Case, Exercise
from lib.second_order import newton, quasi_newton, trust_region

__all__ = ["EXERCISES", "damped_newton_step", "cauchy_point", "lbfgs_two_loop", "softmax_fisher", "kfac_layer_factors"]

CHAPTER = "10-second-order"


def damped_newton_step(theta, g, H, damping):
    r"""One damped Newton step :math:`\theta - (H + \lambda I)^{-1} g`."""
    return np.asarray(theta, dtype=float) + newton.newton_direction(g, H, damping)


def cauchy_point(g, B, delta):
    r"""The Cauchy point :math:`-\tau\frac{\Delta}{\lVert g\rVert} g` (Nocedal & Wright, eq. 4.12)."""
    return trust_region.cauchy_point(g, B, delta)


def lbfgs_two_loop(g, s_list, y_list, gamma):
    r""":math:`H_k g` by the two-loop recursion with :math:`H^0 = \gamma I` (pairs oldest first)."""
    return quasi_newton.two_loop(g, list(s_list), list(y_list), gamma)


def softmax_fisher(J, p, y):
    r"""The Fisher :math:`\frac1n\sum_i J_i^\top(\operatorname{diag}p_i - p_ip_i^\top)J_i`; ``y`` is not needed."""
    J, p = np.asarray(J, dtype=float), np.asarray(p, dtype=float)
    Lam = np.einsum("ic,cd->icd", p, np.eye(p.shape[1])) - p[:, :, None] * p[:, None, :]
    return np.einsum("icn,icd,idm->nm", J, Lam, J) / len(p)


def kfac_layer_factors(a, g):
    r"""K-FAC's factors of a dense layer: :math:`A = \frac1n\sum_i\bar a_i\bar a_i^\top` with
    :math:`\bar a = [a; 1]`, and :math:`G = \frac1n\sum_i g_ig_i^\top`; returns ``(A, G)``."""
    a, g = np.asarray(a, dtype=float), np.asarray(g, dtype=float)
    ab = np.hstack([a, np.ones((len(a), 1))])
    return ab.T @ ab / len(a), g.T @ g / len(g)


# --- cases -----------------------------------------------------------------------------------


def _spd(rng, n, low=0.5, high=5.0):
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (Q * rng.uniform(low, high, n)) @ Q.T


def _damped_cases(rng):
    H_ind = np.array([[2.0, 0.0], [0.0, -1.0]])
    return [
        Case(
            (np.array([1.0, 1.0]), np.array([2.0, -1.0]), np.array([[4.0, 1.0], [1.0, 3.0]]), 0.0),
            note="no damping: the Newton step",
        ),
        Case(
            (np.array([0.0, 0.0]), np.array([1.0, 1.0]), H_ind, 2.0),
            note="an indefinite H made positive definite by λ = 2",
        ),
        Case(
            (rng.normal(size=3), rng.normal(size=3), _spd(rng, 3), float(rng.uniform(0.1, 3))),
            note="a random positive definite H",
        ),
        Case(
            (rng.normal(size=4), rng.normal(size=4), _spd(rng, 4, 0.01, 100.0), 1e3),
            note="heavy damping: close to a short gradient step",
        ),
    ]


def _cauchy_cases(rng):
    B = np.array([[3.0, 1.0], [1.0, 2.0]])
    return [
        Case((np.array([1.0, 0.5]), B, 10.0), note="a large radius: the minimiser along -g is inside"),
        Case((np.array([1.0, 0.5]), B, 0.1), note="a small radius: the step stops on the boundary"),
        Case(
            (np.array([1.0, -1.0]), np.array([[1.0, 0.0], [0.0, -3.0]]), 5.0),
            note="negative curvature along g (gᵀBg ≤ 0): go to the boundary",
        ),
        Case((rng.normal(size=3), _spd(rng, 3), float(rng.uniform(0.05, 2.0))), note="random, 3-D"),
        Case((rng.normal(size=4), _spd(rng, 4), float(rng.uniform(0.05, 2.0))), note="random, 4-D"),
    ]


def _pairs(rng, n, m):
    A = _spd(rng, n)
    s = [rng.normal(size=n) for _ in range(m)]
    return s, [A @ si for si in s]


def _two_loop_cases(rng):
    s2, y2 = [np.array([1.0, 0.0]), np.array([0.5, 1.0])], [np.array([2.0, 0.5]), np.array([1.0, 3.0])]
    out = [
        Case((np.array([1.0, 2.0]), [], [], 0.5), note="no pairs yet: γ g"),
        Case((np.array([1.0, -1.0]), s2, y2, 0.4), note="two pairs"),
    ]
    for n, m in ((4, 3), (5, 5)):
        s, y = _pairs(rng, n, m)
        gamma = float(s[-1] @ y[-1] / (y[-1] @ y[-1]))
        out.append(Case((rng.normal(size=n), s, y, gamma), note=f"{m} random pairs, γ = sᵀy/yᵀy"))
    return out


def _fisher_cases(rng):
    def case(n, C, N, note):
        J = rng.normal(size=(n, C, N))
        z = rng.normal(size=(n, C)) * 2
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        return Case((J, p, rng.integers(0, C, n)), note=note)

    J1 = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    return [
        Case((J1, np.array([[0.5, 0.5]]), np.array([0])), note="one example, two classes, J = I"),
        case(3, 3, 4, "3 examples, 3 classes"),
        case(10, 4, 5, "10 examples, 4 classes"),
        case(1, 5, 3, "one example, 5 classes"),
    ]


def _kfac_cases(rng):
    return [
        Case((np.array([[1.0, 2.0]]), np.array([[3.0]])), note="one example"),
        Case((rng.normal(size=(5, 3)), rng.normal(size=(5, 2))), note="5 examples, 3 inputs, 2 outputs"),
        Case((rng.normal(size=(20, 2)), rng.normal(size=(20, 4))), note="more outputs than inputs"),
        Case((rng.normal(size=(8, 4)) + 3.0, rng.normal(size=(8, 3))), note="inputs with a large mean"),
    ]


EXERCISES = (
    Exercise(
        id="damped_newton_step",
        chapter=CHAPTER,
        points=2,
        function="damped_newton_step",
        cases=_damped_cases,
        reference=damped_newton_step,
        hint="Solve (H + damping * I) d = g with np.linalg.solve(H + damping * np.eye(len(g)), g) and "
        "return theta - d. Add the damping to the DIAGONAL only (np.eye), not to every entry.",
    ),
    Exercise(
        id="cauchy_point",
        chapter=CHAPTER,
        points=2,
        function="cauchy_point",
        cases=_cauchy_cases,
        reference=cauchy_point,
        hint="tau = 1 if g @ B @ g <= 0, else min(1, |g|**3 / (delta * g @ B @ g)); return "
        "-tau * delta / |g| * g. The step never leaves the ball, and is shorter than delta when "
        "the model's minimum along -g is inside.",
    ),
    Exercise(
        id="lbfgs_two_loop",
        chapter=CHAPTER,
        points=3,
        function="lbfgs_two_loop",
        cases=_two_loop_cases,
        reference=lbfgs_two_loop,
        hint="rho_i = 1 / (y_i @ s_i). First loop NEWEST to oldest (reversed(range(m))): "
        "alpha_i = rho_i * s_i @ q; q -= alpha_i * y_i. Then r = gamma * q. Second loop oldest to "
        "newest: beta = rho_i * y_i @ r; r += (alpha_i - beta) * s_i. Return r (= H g, no minus sign).",
    ),
    Exercise(
        id="softmax_fisher",
        chapter=CHAPTER,
        points=2,
        function="softmax_fisher",
        cases=_fisher_cases,
        reference=softmax_fisher,
        rtol=1e-9,
        hint="The Fisher averages over the MODEL's labels: the middle matrix is diag(p_i) - outer(p_i, p_i) "
        "for each example. The observed labels y give the empirical Fisher, a different matrix: "
        "do not use y. Divide the sum over examples by n.",
    ),
    Exercise(
        id="kfac_layer_factors",
        chapter=CHAPTER,
        points=2,
        function="kfac_layer_factors",
        cases=_kfac_cases,
        reference=kfac_layer_factors,
        rtol=1e-9,
        hint="Append a column of ones to a (the bias): ab = np.hstack([a, np.ones((n, 1))]). Then "
        "A = ab.T @ ab / n (size d_in + 1) and G = g.T @ g / n (size d_out); return (A, G) in that order.",
    ),
)
