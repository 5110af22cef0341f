"""Plausible wrong answers to the chapter 05 exercises; each must be rejected by its check.

``WRONG[exercise_id]`` lists them; the function names say what is wrong. The mistakes the
chapter warns about are all here: bias correction with t starting at 0, ε inside the square
root, the un-updated (stale) second moment, AdaBelief without its ε in s.
"""

import numpy as np

# --- rmsprop_step --------------------------------------------------------------------------------


def rmsprop_stale_v(theta, g, v, lr, alpha, eps):
    v_new = alpha * v + (1 - alpha) * g**2
    return theta - lr * g / (np.sqrt(v) + eps), v_new


def rmsprop_eps_inside_root(theta, g, v, lr, alpha, eps):
    v_new = alpha * v + (1 - alpha) * g**2
    return theta - lr * g / np.sqrt(v_new + eps), v_new


def rmsprop_weights_swapped(theta, g, v, lr, alpha, eps):
    v_new = (1 - alpha) * v + alpha * g**2
    return theta - lr * g / (np.sqrt(v_new) + eps), v_new


def rmsprop_no_square_root(theta, g, v, lr, alpha, eps):
    v_new = alpha * v + (1 - alpha) * g**2
    return theta - lr * g / (v_new + eps), v_new


# --- adam_step -----------------------------------------------------------------------------------


def _moments(g, m, v, betas):
    b1, b2 = betas
    return b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g**2


def adam_t_starts_at_zero(theta, g, m, v, t, lr, betas, eps):
    b1, b2 = betas
    m, v = _moments(g, m, v, betas)
    m_hat, v_hat = m / (1 - b1 ** (t - 1)), v / (1 - b2 ** (t - 1))
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def adam_no_bias_correction(theta, g, m, v, t, lr, betas, eps):
    m, v = _moments(g, m, v, betas)
    return theta - lr * m / (np.sqrt(v) + eps), m, v


def adam_eps_inside_root(theta, g, m, v, t, lr, betas, eps):
    b1, b2 = betas
    m, v = _moments(g, m, v, betas)
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    return theta - lr * m_hat / np.sqrt(v_hat + eps), m, v


def adam_stale_v(theta, g, m, v_old, t, lr, betas, eps):
    b1, b2 = betas
    m, v = _moments(g, m, v_old, betas)
    m_hat, v_hat = m / (1 - b1**t), v_old / (1 - b2**t)
    with np.errstate(divide="ignore", invalid="ignore"):
        return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def adam_returns_corrected_moments(theta, g, m, v, t, lr, betas, eps):
    b1, b2 = betas
    m, v = _moments(g, m, v, betas)
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m_hat, v_hat


# --- adamax_step ---------------------------------------------------------------------------------


def adamax_sum_not_max(theta, g, m, u, t, lr, betas):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * g
    u = b2 * u + np.abs(g)
    return theta - lr / (1 - b1**t) * m / u, m, u


def adamax_corrects_u_too(theta, g, m, u, t, lr, betas):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * g
    u = np.maximum(b2 * u, np.abs(g))
    return theta - lr / (1 - b1**t) * m / (u / (1 - b2**t)), m, u


def adamax_t_starts_at_zero(theta, g, m, u, t, lr, betas):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * g
    u = np.maximum(b2 * u, np.abs(g))
    return theta - lr / (1 - b1 ** (t - 1)) * m / u, m, u


def adamax_max_without_decay(theta, g, m, u, t, lr, betas):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * g
    u = np.maximum(u, np.abs(g))
    return theta - lr / (1 - b1**t) * m / u, m, u


# --- adabelief_step ------------------------------------------------------------------------------


def _belief_step(theta, g, m, s, t, lr, betas, eps, *, eps_in_s=True, stale_m=False, centred=True):
    b1, b2 = betas
    m_new = b1 * m + (1 - b1) * g
    pred = m if stale_m else m_new
    dev = (g - pred) if centred else g
    s_new = b2 * s + (1 - b2) * dev**2 + (eps if eps_in_s else 0.0)
    m_hat, s_hat = m_new / (1 - b1**t), s_new / (1 - b2**t)
    return theta - lr * m_hat / (np.sqrt(s_hat) + eps), m_new, s_new


def adabelief_without_eps_in_s(theta, g, m, s, t, lr, betas, eps):
    return _belief_step(theta, g, m, s, t, lr, betas, eps, eps_in_s=False)


def adabelief_uses_old_m(theta, g, m, s, t, lr, betas, eps):
    return _belief_step(theta, g, m, s, t, lr, betas, eps, stale_m=True)


def adabelief_uncentred(theta, g, m, s, t, lr, betas, eps):
    return _belief_step(theta, g, m, s, t, lr, betas, eps, centred=False)


# --- adam_first_step -----------------------------------------------------------------------------


def first_step_ignores_flag(g, lr, betas, eps, bias_correction):
    return -lr * g / (np.abs(g) + eps)


def first_step_forgets_root(g, lr, betas, eps, bias_correction):
    b1, b2 = betas
    if bias_correction:
        return -lr * g / (np.abs(g) + eps)
    return -lr * (1 - b1) * g / ((1 - b2) * np.abs(g) + eps)


def first_step_positive_sign(g, lr, betas, eps, bias_correction):
    b1, b2 = betas
    if bias_correction:
        return lr * g / (np.abs(g) + eps)
    return lr * (1 - b1) * g / (np.sqrt(1 - b2) * np.abs(g) + eps)


def first_step_eps_inside_root(g, lr, betas, eps, bias_correction):
    b1, b2 = betas
    if bias_correction:
        return -lr * g / np.sqrt(g**2 + eps)
    return -lr * (1 - b1) * g / np.sqrt((1 - b2) * g**2 + eps)


WRONG = {
    "rmsprop_step": [rmsprop_stale_v, rmsprop_eps_inside_root, rmsprop_weights_swapped, rmsprop_no_square_root],
    "adam_step": [
        adam_t_starts_at_zero,
        adam_no_bias_correction,
        adam_eps_inside_root,
        adam_stale_v,
        adam_returns_corrected_moments,
    ],
    "adamax_step": [adamax_sum_not_max, adamax_corrects_u_too, adamax_t_starts_at_zero, adamax_max_without_decay],
    "adabelief_step": [adabelief_without_eps_in_s, adabelief_uses_old_m, adabelief_uncentred],
    "adam_first_step": [
        first_step_ignores_flag,
        first_step_forgets_root,
        first_step_positive_sign,
        first_step_eps_inside_root,
    ],
}
