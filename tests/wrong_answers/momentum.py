"""Plausible wrong answers to the chapter 4 exercises; each must be rejected by its check.

``WRONG[exercise_id]`` lists them; the function names say what is wrong.
"""

import numpy as np

# --- sgd_momentum_step ---------------------------------------------------------------------------


def step_dampens_the_first_buffer(theta, buf, g, lr, momentum, dampening):
    buf = (1 - dampening) * g if buf is None else momentum * buf + (1 - dampening) * g
    return theta - lr * buf, buf


def step_lr_inside_the_buffer(theta, buf, g, lr, momentum, dampening):
    buf = lr * g if buf is None else momentum * buf + (1 - dampening) * lr * g
    return theta - buf, buf


def step_ema_always(theta, buf, g, lr, momentum, dampening):
    buf = np.zeros_like(g) if buf is None else buf
    buf = momentum * buf + (1 - momentum) * g
    return theta - lr * buf, buf


def step_ascends(theta, buf, g, lr, momentum, dampening):
    buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
    return theta + lr * buf, buf


def step_modifies_buffer_in_place(theta, buf, g, lr, momentum, dampening):
    if buf is None:
        buf = g.copy()
    else:
        buf *= momentum
        buf += (1 - dampening) * g
    return theta - lr * buf, buf


# --- torch_momentum_hparams ------------------------------------------------------------------------


def hparams_ema_divides(form, lr, beta):
    return (lr / (1 - beta), beta) if form == "ema" else (lr, beta)


def hparams_ema_unchanged(form, lr, beta):
    return lr, beta


def hparams_lr_inside_divides(form, lr, beta):
    if form == "ema":
        return lr * (1 - beta), beta
    if form == "lr_inside":
        return lr / (1 - beta), beta
    return lr, beta


def hparams_ema_one_minus_beta_as_momentum(form, lr, beta):
    return (lr * (1 - beta), 1 - beta) if form == "ema" else (lr, beta)


# --- nesterov_step ---------------------------------------------------------------------------------


def nesterov_is_classical_momentum(theta, buf, g, lr, momentum):
    """The source's "NAG" code: the gradient at θ, a step along the buffer alone."""
    buf = g.copy() if buf is None else momentum * buf + g
    return theta - lr * buf, buf


def nesterov_uses_the_old_buffer(theta, buf, g, lr, momentum):
    old = np.zeros_like(g) if buf is None else buf
    new = g.copy() if buf is None else momentum * buf + g
    return theta - lr * (g + momentum * old), new


def nesterov_steps_along_one_plus_mu_g(theta, buf, g, lr, momentum):
    new = g.copy() if buf is None else momentum * buf + g
    return theta - lr * (1 + momentum) * g, new


# --- optimal_momentum ------------------------------------------------------------------------------


def optimal_uses_gd_learning_rate(eigenvalues):
    lam = np.sort(np.asarray(eigenvalues, dtype=float))
    k = np.sqrt(lam[-1] / lam[0])
    return 2 / (lam[0] + lam[-1]), ((k - 1) / (k + 1)) ** 2


def optimal_momentum_not_squared(eigenvalues):
    lam = np.sort(np.asarray(eigenvalues, dtype=float))
    s0, s1 = np.sqrt(lam[0]), np.sqrt(lam[-1])
    return (2 / (s0 + s1)) ** 2, (s1 - s0) / (s1 + s0)


def optimal_kappa_without_square_root(eigenvalues):
    lam = np.sort(np.asarray(eigenvalues, dtype=float))
    k = lam[-1] / lam[0]
    return (2 / (np.sqrt(lam[0]) + np.sqrt(lam[-1]))) ** 2, ((k - 1) / (k + 1)) ** 2


def optimal_first_and_last_unsorted(eigenvalues):
    lam = np.asarray(eigenvalues, dtype=float)
    s0, s1 = np.sqrt(lam[0]), np.sqrt(lam[-1])
    return (2 / (s0 + s1)) ** 2, ((s1 - s0) / (s1 + s0)) ** 2


# --- momentum_rate ---------------------------------------------------------------------------------


def rate_always_sqrt_mu(lr, momentum, eigenvalues):
    return float(np.sqrt(momentum))


def rate_gradient_descent(lr, momentum, eigenvalues):
    lam = np.asarray(eigenvalues, dtype=float)
    return float(np.max(np.abs(1 - lr * lam)))


def rate_lambda_max_only(lr, momentum, eigenvalues):
    lam = float(np.max(eigenvalues))
    return float(np.max(np.abs(np.roots([1.0, -(1 + momentum - lr * lam), momentum]))))


def rate_real_part_only(lr, momentum, eigenvalues):
    worst = 0.0
    for lam in np.asarray(eigenvalues, dtype=float):
        worst = max(worst, float(np.max(np.abs(np.roots([1.0, -(1 + momentum - lr * lam), momentum]).real))))
    return worst


WRONG = {
    "sgd_momentum_step": [
        step_dampens_the_first_buffer,
        step_lr_inside_the_buffer,
        step_ema_always,
        step_ascends,
        step_modifies_buffer_in_place,
    ],
    "torch_momentum_hparams": [
        hparams_ema_divides,
        hparams_ema_unchanged,
        hparams_lr_inside_divides,
        hparams_ema_one_minus_beta_as_momentum,
    ],
    "nesterov_step": [nesterov_is_classical_momentum, nesterov_uses_the_old_buffer, nesterov_steps_along_one_plus_mu_g],
    "optimal_momentum": [
        optimal_uses_gd_learning_rate,
        optimal_momentum_not_squared,
        optimal_kappa_without_square_root,
        optimal_first_and_last_unsorted,
    ],
    "momentum_rate": [rate_always_sqrt_mu, rate_gradient_descent, rate_lambda_max_only, rate_real_part_only],
}
