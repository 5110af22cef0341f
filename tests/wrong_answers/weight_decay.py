"""Plausible wrong answers to the chapter 06 exercises; each must be rejected by its check.

The mistakes the chapter warns about: decay not scaled by the learning rate, decay applied after
the Adam step, decay sent through m and v (that is Adam + L2), the factor 2 of a λ‖θ‖² penalty,
a forgotten bias correction, and masks that decay scalars or normalisation parameters.
"""

import numpy as np


def _adam(theta, g, m, v, t, lr, betas, eps):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g**2
    return theta - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps), m, v


# --- adamw_step ----------------------------------------------------------------------------------


def adamw_decay_not_scaled_by_lr(theta, g, m, v, t, lr, betas, eps, weight_decay):
    return _adam(theta * (1 - weight_decay), g, m, v, t, lr, betas, eps)


def adamw_decay_after_adam_step(theta, g, m, v, t, lr, betas, eps, weight_decay):
    theta, m, v = _adam(theta, g, m, v, t, lr, betas, eps)
    return theta * (1 - lr * weight_decay), m, v


def adamw_decay_through_moments(theta, g, m, v, t, lr, betas, eps, weight_decay):
    return _adam(theta, g + weight_decay * theta, m, v, t, lr, betas, eps)


def adamw_no_bias_correction(theta, g, m, v, t, lr, betas, eps, weight_decay):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g**2
    return theta * (1 - lr * weight_decay) - lr * m / (np.sqrt(v) + eps), m, v


def adamw_no_decay(theta, g, m, v, t, lr, betas, eps, weight_decay):
    return _adam(theta, g, m, v, t, lr, betas, eps)


# --- l2_to_decoupled -----------------------------------------------------------------------------


def l2_divided_by_lr(l2, lr):
    return l2 / lr


def l2_unchanged(l2, lr):
    return l2


def l2_factor_two(l2, lr):
    return 2 * lr * l2


# --- adam_l2_effective_decay ---------------------------------------------------------------------


def effective_no_bias_correction(v, t, lr, weight_decay, beta2, eps):
    return lr * weight_decay / (np.sqrt(v) + eps)


def effective_same_for_all(v, t, lr, weight_decay, beta2, eps):
    return lr * weight_decay + 0 * v


def effective_eps_inside_root(v, t, lr, weight_decay, beta2, eps):
    return lr * weight_decay / np.sqrt(v / (1 - beta2**t) + eps)


def effective_forgets_lr(v, t, lr, weight_decay, beta2, eps):
    return weight_decay / (np.sqrt(v / (1 - beta2**t)) + eps)


def effective_times_root(v, t, lr, weight_decay, beta2, eps):
    return lr * weight_decay * np.sqrt(v / (1 - beta2**t))


# --- decay_mask ----------------------------------------------------------------------------------


def mask_everything(params):
    return {k: True for k in params}


def mask_ndim_not_one(params):  # optax's documented example: also decays scalars
    return {k: bool(np.ndim(p) != 1 and not k.startswith("norm")) for k, p in params.items()}


def mask_ignores_norm(params):
    return {k: bool(np.ndim(p) >= 2) for k, p in params.items()}


def mask_inverted(params):
    return {k: not (np.ndim(p) >= 2 and not k.startswith("norm")) for k, p in params.items()}


def mask_by_name_only(params):  # "decay what is called W"
    return {k: k.startswith("W") for k in params}


WRONG = {
    "adamw_step": [
        adamw_decay_not_scaled_by_lr,
        adamw_decay_after_adam_step,
        adamw_decay_through_moments,
        adamw_no_bias_correction,
        adamw_no_decay,
    ],
    "l2_to_decoupled": [l2_divided_by_lr, l2_unchanged, l2_factor_two],
    "adam_l2_effective_decay": [
        effective_no_bias_correction,
        effective_same_for_all,
        effective_eps_inside_root,
        effective_forgets_lr,
        effective_times_root,
    ],
    "decay_mask": [mask_everything, mask_ndim_not_one, mask_ignores_norm, mask_inverted, mask_by_name_only],
}
