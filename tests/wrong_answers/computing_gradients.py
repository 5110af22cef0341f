"""Plausible wrong answers to the chapter 02 exercises; each must be rejected by its check.

``WRONG[exercise_id]`` lists them; the function names say what is wrong.
"""

import math

import numpy as np

# --- central_difference_jacobian -----------------------------------------------------------------


def _columns(f, x, h, quotient):
    x = np.asarray(x, dtype=float)
    cols = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h
        cols.append(quotient(f, x, e, h))
    return np.stack(cols, axis=1)


def jacobian_forward_difference(f, x, h):
    return _columns(f, x, h, lambda f, x, e, h: (np.asarray(f(x + e)) - np.asarray(f(x))) / h)


def jacobian_divides_by_h_not_2h(f, x, h):
    return _columns(f, x, h, lambda f, x, e, h: (np.asarray(f(x + e)) - np.asarray(f(x - e))) / h)


def jacobian_transposed(f, x, h):
    return _columns(f, x, h, lambda f, x, e, h: (np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h)).T


def jacobian_modifies_x_in_place(f, x, h):
    cols = []
    for j in range(x.size):
        x[j] += h
        plus = np.asarray(f(x), dtype=float)
        x[j] -= 2 * h
        minus = np.asarray(f(x), dtype=float)
        x[j] += h + 1e-3  # "restores" x, but not exactly
        cols.append((plus - minus) / (2 * h))
    return np.stack(cols, axis=1)


# --- dual_mul ------------------------------------------------------------------------------------


def dual_mul_multiplies_derivatives(u, w):
    return (u[0] * w[0], u[1] * w[1])


def dual_mul_one_term_only(u, w):
    return (u[0] * w[0], u[1] * w[0])


def dual_mul_adds_derivatives(u, w):
    return (u[0] * w[0], u[1] + w[1])


# --- dual_sin ------------------------------------------------------------------------------------


def dual_sin_forgets_the_tangent(u):
    return (math.sin(u[0]), math.cos(u[0]))


def dual_sin_minus_sign(u):
    return (math.sin(u[0]), -u[1] * math.cos(u[0]))


def dual_sin_of_the_tangent(u):
    return (math.sin(u[0]), math.sin(u[1]))


# --- div_backward --------------------------------------------------------------------------------


def div_backward_ignores_grad_out(grad_out, a, b):
    return 1 / b, -a / b**2


def div_backward_sign_of_b(grad_out, a, b):
    return grad_out / b, grad_out * a / b**2


def div_backward_forgets_a(grad_out, a, b):
    return grad_out / b, -grad_out / b**2


def div_backward_swapped(grad_out, a, b):
    return -grad_out * a / b**2, grad_out / b


# --- gradient_check ------------------------------------------------------------------------------


def _numerical(f, x, h, central=True):
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        out[i] = (f(x + e) - f(x - e)) / (2 * h) if central else (f(x + e) - f(x)) / h
    return out


def gradient_check_absolute_error(f, grad, x, h):
    errors = np.abs(np.asarray(grad(x)) - _numerical(f, x, h))
    return float(errors.max()), int(np.argmax(errors))


def gradient_check_forward_differences(f, grad, x, h):
    a, n = np.asarray(grad(x)), _numerical(f, x, 1e-3, central=False)
    errors = np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), 1e-12)
    return float(errors.max()), int(np.argmax(errors))


def gradient_check_max_denominator(f, grad, x, h):
    a, n = np.asarray(grad(x)), _numerical(f, x, h)
    errors = np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-12)
    return float(errors.max()), int(np.argmax(errors))


def gradient_check_one_based_index(f, grad, x, h):
    a, n = np.asarray(grad(x)), _numerical(f, x, h)
    errors = np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), 1e-12)
    return float(errors.max()), int(np.argmax(errors)) + 1


WRONG = {
    "central_difference_jacobian": [
        jacobian_forward_difference,
        jacobian_divides_by_h_not_2h,
        jacobian_transposed,
        jacobian_modifies_x_in_place,
    ],
    "dual_mul": [dual_mul_multiplies_derivatives, dual_mul_one_term_only, dual_mul_adds_derivatives],
    "dual_sin": [dual_sin_forgets_the_tangent, dual_sin_minus_sign, dual_sin_of_the_tangent],
    "div_backward": [
        div_backward_ignores_grad_out,
        div_backward_sign_of_b,
        div_backward_forgets_a,
        div_backward_swapped,
    ],
    "gradient_check": [
        gradient_check_absolute_error,
        gradient_check_forward_differences,
        gradient_check_max_denominator,
        gradient_check_one_based_index,
    ],
}
