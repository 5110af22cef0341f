"""Plausible wrong answers to the chapter 01 exercises; each must be rejected by its check.

``WRONG[exercise_id]`` lists them; the function names say what is wrong.
"""

import math

import numpy as np

# --- mse_loss_and_grad -------------------------------------------------------------------------


def mse_sum_instead_of_mean(X, y, theta):
    r = X @ theta - y
    return float(r @ r) / 2, X.T @ r


def mse_residual_sign_flipped_in_grad(X, y, theta):
    r = X @ theta - y
    return float(r @ r) / (2 * len(y)), X.T @ (y - X @ theta) / len(y)


def mse_grad_factor_two(X, y, theta):
    r = X @ theta - y
    return float(r @ r) / (2 * len(y)), 2 * X.T @ r / len(y)


def mse_returns_list_of_one(X, y, theta):
    r = X @ theta - y
    return [float(r @ r) / (2 * len(y))]


# --- gd_step -------------------------------------------------------------------------------------


def _walk(fn, params, grads):
    if isinstance(params, dict):
        return {k: _walk(fn, params[k], grads[k]) for k in params}
    if isinstance(params, (list, tuple)):
        return type(params)(_walk(fn, p, g) for p, g in zip(params, grads))
    return fn(params, grads)


def gd_step_ascent(params, grads, lr):
    return _walk(lambda p, g: p + lr * g, params, grads)


def gd_step_in_place(params, grads, lr):
    if isinstance(params, dict):
        for k in params:
            params[k] -= lr * grads[k]
    elif isinstance(params, list):
        for i in range(len(params)):
            params[i] -= lr * grads[i]
    else:
        params -= lr * grads
    return params


def gd_step_single_array_only(params, grads, lr):
    return params - lr * grads


def gd_step_returns_update(params, grads, lr):
    return _walk(lambda p, g: -lr * g, params, grads)


# --- gradient_descent ----------------------------------------------------------------------------


def gd_counts_one_too_many(grad_fn, theta0, lr, tol, max_steps):
    theta = np.array(theta0, dtype=float)
    steps = 0
    for steps in range(1, max_steps + 1):
        g = grad_fn(theta)
        if np.linalg.norm(g) <= tol:
            break
        theta = theta - lr * g
    return theta, steps


def gd_checks_after_the_step(grad_fn, theta0, lr, tol, max_steps):
    theta = np.array(theta0, dtype=float)
    steps = 0
    while steps < max_steps:
        theta = theta - lr * grad_fn(theta)
        steps += 1
        if np.linalg.norm(grad_fn(theta)) <= tol:
            break
    return theta, steps


def gd_stops_on_step_size(grad_fn, theta0, lr, tol, max_steps):
    theta = np.array(theta0, dtype=float)
    steps = 0
    while steps < max_steps:
        new = theta - lr * grad_fn(theta)
        small = np.linalg.norm(new - theta) <= tol
        theta, steps = new, steps + 1
        if small:
            break
    return theta, steps


def gd_ignores_max_steps(grad_fn, theta0, lr, tol, max_steps):
    theta = np.array(theta0, dtype=float)
    steps = 0
    while np.linalg.norm(grad_fn(theta)) > tol:
        theta = theta - lr * grad_fn(theta)
        steps += 1
    return theta, steps


def gd_mutates_theta0(grad_fn, theta0, lr, tol, max_steps):
    theta = theta0
    steps = 0
    while steps < max_steps:
        g = grad_fn(theta)
        if np.linalg.norm(g) <= tol:
            break
        theta -= lr * g
        steps += 1
    return theta, steps


# --- learning_rates --------------------------------------------------------------------------------


def lr_from_diagonal(H):
    d = np.diag(H)
    return 2 / d.max(), 2 / (d.min() + d.max())


def lr_critical_one_over_lambda_max(H):
    lam = np.linalg.eigvalsh(H)
    return 1 / lam[-1], 2 / (lam[0] + lam[-1])


def lr_lambda_min_max_swapped(H):
    lam = np.linalg.eigvalsh(H)
    return 2 / lam[0], 2 / (lam[0] + lam[-1])


def lr_unsorted_eigvals(H):
    lam = np.linalg.eigvals(H).real
    return 2 / lam[-1], 2 / (lam[0] + lam[-1])


# --- steps_to_tolerance ----------------------------------------------------------------------------


def steps_floor(kappa, tol):
    q = (kappa - 1) / (kappa + 1)
    return math.floor(math.log(tol) / math.log(q))


def steps_rate_one_minus_inverse_kappa(kappa, tol):
    q = 1 - 1 / kappa
    return math.ceil(math.log(tol) / math.log(q))


def steps_returns_float(kappa, tol):
    q = (kappa - 1) / (kappa + 1)
    return np.ceil(np.log(tol) / np.log(q))


def steps_one_too_many(kappa, tol):
    q = (kappa - 1) / (kappa + 1)
    return math.ceil(math.log(tol) / math.log(q)) + 1


WRONG = {
    "mse_loss_and_grad": [
        mse_sum_instead_of_mean,
        mse_residual_sign_flipped_in_grad,
        mse_grad_factor_two,
        mse_returns_list_of_one,
    ],
    "gd_step": [gd_step_ascent, gd_step_in_place, gd_step_single_array_only, gd_step_returns_update],
    "gradient_descent": [
        gd_counts_one_too_many,
        gd_checks_after_the_step,
        gd_stops_on_step_size,
        gd_ignores_max_steps,
        gd_mutates_theta0,
    ],
    "learning_rates": [
        lr_from_diagonal,
        lr_critical_one_over_lambda_max,
        lr_lambda_min_max_swapped,
        lr_unsorted_eigvals,
    ],
    "steps_to_tolerance": [steps_floor, steps_rate_one_minus_inverse_kappa, steps_returns_float, steps_one_too_many],
}
