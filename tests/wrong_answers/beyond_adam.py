"""Plausible wrong answers to the chapter 11 exercises; each must be rejected by its check.

The mistakes the issue names are here: Lion's two betas swapped, Adafactor factored over the
wrong axis, Newton–Schulz without the initial normalisation, Muon applied to a 1-D bias.
"""

import numpy as np

# --- adadelta_step -------------------------------------------------------------------------------


def adadelta_new_acc_in_numerator(theta, g, sq, acc, lr, rho, eps):
    sq = rho * sq + (1 - rho) * g**2
    delta0 = np.sqrt(acc + eps) / np.sqrt(sq + eps) * g
    acc = rho * acc + (1 - rho) * delta0**2
    delta = np.sqrt(acc + eps) / np.sqrt(sq + eps) * g
    return theta - lr * delta, sq, acc


def adadelta_no_eps_in_numerator(theta, g, sq, acc, lr, rho, eps):
    sq = rho * sq + (1 - rho) * g**2
    delta = np.sqrt(acc) / np.sqrt(sq + eps) * g
    acc = rho * acc + (1 - rho) * delta**2
    return theta - lr * delta, sq, acc


def adadelta_ratio_inverted(theta, g, sq, acc, lr, rho, eps):
    sq = rho * sq + (1 - rho) * g**2
    delta = np.sqrt(sq + eps) / np.sqrt(acc + eps) * g
    acc = rho * acc + (1 - rho) * delta**2
    return theta - lr * delta, sq, acc


def adadelta_old_square_avg(theta, g, sq_old, acc, lr, rho, eps):
    sq = rho * sq_old + (1 - rho) * g**2
    delta = np.sqrt(acc + eps) / np.sqrt(sq_old + eps) * g
    acc = rho * acc + (1 - rho) * delta**2
    return theta - lr * delta, sq, acc


# --- adafactor_second_moment ---------------------------------------------------------------------


def factored_wrong_axis(V):
    R, C = V.sum(axis=0), V.sum(axis=1)  # rows and columns swapped
    return np.outer(R, C) / R.sum()


def factored_wrong_axis_transposed(V):
    R, C = V.sum(axis=0), V.sum(axis=1)
    return (np.outer(R, C) / R.sum()).T[: V.shape[0], : V.shape[1]] if V.shape[0] == V.shape[1] else np.outer(C, R).T


def factored_not_normalised(V):
    return np.outer(V.sum(axis=1), V.sum(axis=0))


def factored_means_not_normalised(V):
    return np.outer(V.mean(axis=1), V.mean(axis=0))


def factored_divides_by_mean_of_sums(V):
    R, C = V.sum(axis=1), V.sum(axis=0)
    return np.outer(R, C) / R.mean()


# --- lion_step -----------------------------------------------------------------------------------


def lion_betas_swapped(theta, g, m, lr, betas, weight_decay):
    b1, b2 = betas
    c = b2 * m + (1 - b2) * g
    return theta - lr * (np.sign(c) + weight_decay * theta), b1 * m + (1 - b1) * g


def lion_sign_of_new_momentum(theta, g, m, lr, betas, weight_decay):
    b1, b2 = betas
    m = b2 * m + (1 - b2) * g
    return theta - lr * (np.sign(m) + weight_decay * theta), m


def lion_decay_without_lr(theta, g, m, lr, betas, weight_decay):
    b1, b2 = betas
    c = b1 * m + (1 - b1) * g
    return theta - lr * np.sign(c) - weight_decay * theta, b2 * m + (1 - b2) * g


def lion_weights_swapped(theta, g, m, lr, betas, weight_decay):
    b1, b2 = betas
    c = (1 - b1) * m + b1 * g
    return theta - lr * (np.sign(c) + weight_decay * theta), (1 - b2) * m + b2 * g


def lion_no_sign(theta, g, m, lr, betas, weight_decay):
    b1, b2 = betas
    c = b1 * m + (1 - b1) * g
    return theta - lr * (c + weight_decay * theta), b2 * m + (1 - b2) * g


# --- newton_schulz_orthogonalize ------------------------------------------------------------------


def _iterate(X, steps, coefficients):
    a, b, c = coefficients
    for _ in range(steps):
        A = X @ X.T
        X = a * X + (b * A + c * A @ A) @ X
    return X


def ns_without_normalisation(G, steps, coefficients):
    with np.errstate(over="ignore", invalid="ignore"):
        return _iterate(np.array(G, dtype=float), steps, coefficients)


def ns_spectral_normalisation(G, steps, coefficients):
    return _iterate(G / np.linalg.norm(G, 2), steps, coefficients)


def ns_one_step_short(G, steps, coefficients):
    return _iterate(G / np.linalg.norm(G), steps - 1, coefficients)


def ns_coefficients_reversed(G, steps, coefficients):
    with np.errstate(over="ignore", invalid="ignore"):
        return _iterate(G / np.linalg.norm(G), steps, coefficients[::-1])


def ns_exact_polar_factor(G, steps, coefficients):
    U, _, Vt = np.linalg.svd(G, full_matrices=False)
    return U @ Vt


# --- muon_step -----------------------------------------------------------------------------------


def _muon_matrix(W, g, buf, lr, momentum, weight_decay, nesterov=True, adjust=True):
    buf = momentum * buf + (1 - momentum) * g
    d = (1 - momentum) * g + momentum * buf if nesterov else buf
    O = _iterate(d / np.linalg.norm(d), 5, (3.4445, -4.775, 2.0315))
    scale = np.sqrt(max(1, W.shape[0] / W.shape[1])) if adjust else 1.0
    return (1 - lr * weight_decay) * W - lr * scale * O, buf


def muon_applied_to_bias(params, grads, bufs, lr, momentum, weight_decay):
    new_p, new_b = {}, {}
    for k, W in params.items():
        W2, g2, b2 = (np.atleast_2d(np.asarray(x, dtype=float)) for x in (W, grads[k], bufs[k]))
        p, b = _muon_matrix(W2, g2, b2, lr, momentum, weight_decay)
        new_p[k], new_b[k] = p.reshape(np.shape(W)), b.reshape(np.shape(W))
    return new_p, new_b


def muon_without_nesterov(params, grads, bufs, lr, momentum, weight_decay):
    new_p, new_b = {}, {}
    for k, W in params.items():
        if np.ndim(W) != 2:
            new_p[k], new_b[k] = np.array(W, dtype=float), np.array(bufs[k], dtype=float)
        else:
            new_p[k], new_b[k] = _muon_matrix(W, grads[k], bufs[k], lr, momentum, weight_decay, nesterov=False)
    return new_p, new_b


def muon_without_shape_adjustment(params, grads, bufs, lr, momentum, weight_decay):
    new_p, new_b = {}, {}
    for k, W in params.items():
        if np.ndim(W) != 2:
            new_p[k], new_b[k] = np.array(W, dtype=float), np.array(bufs[k], dtype=float)
        else:
            new_p[k], new_b[k] = _muon_matrix(W, grads[k], bufs[k], lr, momentum, weight_decay, adjust=False)
    return new_p, new_b


def muon_sgd_momentum_buffer(params, grads, bufs, lr, momentum, weight_decay):
    new_p, new_b = {}, {}
    for k, W in params.items():
        if np.ndim(W) != 2:
            new_p[k], new_b[k] = np.array(W, dtype=float), np.array(bufs[k], dtype=float)
            continue
        buf = momentum * bufs[k] + grads[k]  # torch's docstring form, not its code
        d = grads[k] + momentum * buf
        O = _iterate(d / np.linalg.norm(d), 5, (3.4445, -4.775, 2.0315))
        new_p[k] = (1 - lr * weight_decay) * W - lr * np.sqrt(max(1, W.shape[0] / W.shape[1])) * O
        new_b[k] = buf
    return new_p, new_b


WRONG = {
    "adadelta_step": [
        adadelta_new_acc_in_numerator,
        adadelta_no_eps_in_numerator,
        adadelta_ratio_inverted,
        adadelta_old_square_avg,
    ],
    "adafactor_second_moment": [
        factored_wrong_axis,
        factored_wrong_axis_transposed,
        factored_not_normalised,
        factored_means_not_normalised,
        factored_divides_by_mean_of_sums,
    ],
    "lion_step": [
        lion_betas_swapped,
        lion_sign_of_new_momentum,
        lion_decay_without_lr,
        lion_weights_swapped,
        lion_no_sign,
    ],
    "newton_schulz_orthogonalize": [
        ns_without_normalisation,
        ns_spectral_normalisation,
        ns_one_step_short,
        ns_coefficients_reversed,
        ns_exact_polar_factor,
    ],
    "muon_step": [muon_applied_to_bias, muon_without_nesterov, muon_without_shape_adjustment, muon_sgd_momentum_buffer],
}
