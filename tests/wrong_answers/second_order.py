"""Plausible wrong answers to the chapter 10 exercises; each must be rejected by its check.

``WRONG[exercise_id]`` lists them; the function names say what is wrong. The mistakes the
issue names are here: solving with H instead of H + λI, the two-loop recursion's loops in the
wrong order, the empirical Fisher where the Fisher is asked, the Kronecker factors swapped.
"""

import numpy as np

# --- damped_newton_step ----------------------------------------------------------------------


def newton_ignores_damping(theta, g, H, damping):
    return theta - np.linalg.solve(H, g)


def newton_damping_added_everywhere(theta, g, H, damping):
    return theta - np.linalg.solve(H + damping, g)


def newton_wrong_sign(theta, g, H, damping):
    return theta + np.linalg.solve(H + damping * np.eye(len(g)), g)


def newton_diagonal_only(theta, g, H, damping):
    return theta - g / (np.diag(H) + damping)


# --- cauchy_point ----------------------------------------------------------------------------


def cauchy_always_on_boundary(g, B, delta):
    return -delta / np.linalg.norm(g) * g


def cauchy_unclipped(g, B, delta):
    return -(g @ g) / (g @ B @ g) * g


def cauchy_ignores_negative_curvature(g, B, delta):
    gn = np.linalg.norm(g)
    tau = min(1.0, gn**3 / (delta * (g @ B @ g)))  # negative when gᵀBg < 0
    return -tau * delta / gn * g


# --- lbfgs_two_loop --------------------------------------------------------------------------


def _two_loop(g, s_list, y_list, gamma, first, second):
    q = np.array(g, dtype=float)
    rho = [1.0 / (y @ s) for s, y in zip(s_list, y_list)]
    alpha = [0.0] * len(s_list)
    for i in first(len(s_list)):
        alpha[i] = rho[i] * s_list[i] @ q
        q = q - alpha[i] * y_list[i]
    r = gamma * q
    for i in second(len(s_list)):
        beta = rho[i] * y_list[i] @ r
        r = r + (alpha[i] - beta) * s_list[i]
    return r


def two_loop_orders_swapped(g, s_list, y_list, gamma):
    return _two_loop(g, s_list, y_list, gamma, lambda m: range(m), lambda m: reversed(range(m)))


def two_loop_both_oldest_first(g, s_list, y_list, gamma):
    return _two_loop(g, s_list, y_list, gamma, lambda m: range(m), lambda m: range(m))


def two_loop_forgets_gamma(g, s_list, y_list, gamma):
    return _two_loop(g, s_list, y_list, 1.0, lambda m: reversed(range(m)), lambda m: range(m))


def two_loop_returns_direction(g, s_list, y_list, gamma):
    return -_two_loop(g, s_list, y_list, gamma, lambda m: reversed(range(m)), lambda m: range(m))


# --- softmax_fisher --------------------------------------------------------------------------


def fisher_is_empirical(J, p, y):
    R = p.copy()
    R[np.arange(len(p)), y] -= 1.0
    G = np.einsum("icn,ic->in", J, R)
    return G.T @ G / len(p)


def fisher_without_outer_term(J, p, y):
    return np.einsum("icn,ic,icm->nm", J, p, J) / len(p)


def fisher_not_averaged(J, p, y):
    Lam = np.einsum("ic,cd->icd", p, np.eye(p.shape[1])) - p[:, :, None] * p[:, None, :]
    return np.einsum("icn,icd,idm->nm", J, Lam, J)


def fisher_jacobian_outer_product(J, p, y):
    return np.einsum("icn,icm->nm", J, J) / len(p)


# --- kfac_layer_factors ----------------------------------------------------------------------


def kfac_factors_swapped(a, g):
    ab = np.hstack([a, np.ones((len(a), 1))])
    return g.T @ g / len(g), ab.T @ ab / len(a)


def kfac_no_bias_column(a, g):
    return a.T @ a / len(a), g.T @ g / len(g)


def kfac_outer_products_transposed(a, g):
    ab = np.hstack([a, np.ones((len(a), 1))])
    return ab @ ab.T / len(a), g @ g.T / len(g)


def kfac_not_averaged(a, g):
    ab = np.hstack([a, np.ones((len(a), 1))])
    return ab.T @ ab, g.T @ g


def kfac_centred(a, g):
    ab = np.hstack([a, np.ones((len(a), 1))])
    return np.cov(ab.T, bias=True), np.cov(g.T, bias=True)


WRONG = {
    "damped_newton_step": [
        newton_ignores_damping,
        newton_damping_added_everywhere,
        newton_wrong_sign,
        newton_diagonal_only,
    ],
    "cauchy_point": [cauchy_always_on_boundary, cauchy_unclipped, cauchy_ignores_negative_curvature],
    "lbfgs_two_loop": [
        two_loop_orders_swapped,
        two_loop_both_oldest_first,
        two_loop_forgets_gamma,
        two_loop_returns_direction,
    ],
    "softmax_fisher": [
        fisher_is_empirical,
        fisher_without_outer_term,
        fisher_not_averaged,
        fisher_jacobian_outer_product,
    ],
    "kfac_layer_factors": [
        kfac_factors_swapped,
        kfac_no_bias_column,
        kfac_outer_products_transposed,
        kfac_not_averaged,
        kfac_centred,
    ],
}
