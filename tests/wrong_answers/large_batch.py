"""Plausible wrong answers to the chapter 09 exercises; each must be rejected by its check.

The mistakes the chapter warns about: the trust ratio of the wrong norms (gradient over weight),
the trust ratio without its zero-norm guard, the paper's denominator where optax's is asked,
summing micro-batch gradients instead of averaging, one global ratio instead of one per tensor,
square-root instead of linear scaling, and ‖Hv‖ instead of the Rayleigh quotient.
"""

import math

import numpy as np

# --- lars_trust_ratio ---------------------------------------------------------------------------


def trust_ratio_wrong_norms(param, grad, weight_decay, trust_coefficient, eps):
    d = grad + weight_decay * param
    pn, dn = np.linalg.norm(param), np.linalg.norm(d)
    return 1.0 if pn == 0 or dn == 0 else trust_coefficient * dn / (pn + eps)


def trust_ratio_no_guard(param, grad, weight_decay, trust_coefficient, eps):
    d = grad + weight_decay * param
    with np.errstate(all="ignore"):
        return float(trust_coefficient * np.linalg.norm(param) / (np.linalg.norm(d) + eps))


def trust_ratio_paper_denominator(param, grad, weight_decay, trust_coefficient, eps):
    pn = np.linalg.norm(param)
    den = np.linalg.norm(grad) + weight_decay * pn
    return 1.0 if pn == 0 or den == 0 else trust_coefficient * pn / (den + eps)


def trust_ratio_ignores_weight_decay(param, grad, weight_decay, trust_coefficient, eps):
    pn, gn = np.linalg.norm(param), np.linalg.norm(grad)
    return 1.0 if pn == 0 or gn == 0 else trust_coefficient * pn / (gn + eps)


def trust_ratio_zero_guard_returns_zero(param, grad, weight_decay, trust_coefficient, eps):
    d = grad + weight_decay * param
    pn, dn = np.linalg.norm(param), np.linalg.norm(d)
    return 0.0 if pn == 0 or dn == 0 else trust_coefficient * pn / (dn + eps)


def trust_ratio_no_coefficient(param, grad, weight_decay, trust_coefficient, eps):
    d = grad + weight_decay * param
    pn, dn = np.linalg.norm(param), np.linalg.norm(d)
    return 1.0 if pn == 0 or dn == 0 else pn / (dn + eps)


# --- lamb_step ----------------------------------------------------------------------------------


def _adam(g, m, v, t, betas, eps, correct=True):
    b1, b2 = betas
    m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
    if correct:
        return m / (1 - b1**t) / (np.sqrt(v / (1 - b2**t)) + eps), m, v
    return m / (np.sqrt(v) + eps), m, v


def _ratio(p, u):
    pn, un = np.linalg.norm(p), np.linalg.norm(u)
    return 1.0 if pn == 0 or un == 0 else pn / un


def _lamb(
    params,
    grads,
    m,
    v,
    t,
    lr,
    betas,
    eps,
    weight_decay,
    *,
    correct=True,
    ratio=_ratio,
    decay_first=False,
    global_ratio=False,
):
    out_p, out_m, out_v, us = {}, {}, {}, {}
    for k in params:
        g = grads[k] + weight_decay * params[k] if decay_first else grads[k]
        u, out_m[k], out_v[k] = _adam(g, m[k], v[k], t, betas, eps, correct)
        us[k] = u if decay_first else u + weight_decay * params[k]
    if global_ratio:
        pn = math.sqrt(sum(np.sum(p * p) for p in params.values()))
        un = math.sqrt(sum(np.sum(u * u) for u in us.values()))
        r = {k: pn / un for k in params}
    else:
        r = {k: ratio(params[k], us[k]) for k in params}
    for k in params:
        out_p[k] = params[k] - lr * r[k] * us[k]
    return out_p, out_m, out_v


def lamb_one_global_ratio(*args):
    return _lamb(*args, global_ratio=True)


def lamb_ratio_of_gradient_norm(params, grads, m, v, t, lr, betas, eps, weight_decay):
    return _lamb(
        params, grads, m, v, t, lr, betas, eps, weight_decay, ratio=lambda p, u, g=None: 1.0
    )  # no trust ratio at all: AdamW


def lamb_no_bias_correction(*args):
    return _lamb(*args, correct=False)


def lamb_decay_before_adam(*args):
    return _lamb(*args, decay_first=True)


def lamb_no_zero_guard(*args):
    def ratio(p, u):
        un = np.linalg.norm(u)
        return np.linalg.norm(p) / un if un else 0.0

    return _lamb(*args, ratio=ratio)


# --- accumulate_gradients -----------------------------------------------------------------------


def accumulate_sum_not_mean(grad_fn, params, X, y, k):
    m = len(X) // k
    return sum(grad_fn(params, X[j * m : (j + 1) * m], y[j * m : (j + 1) * m]) for j in range(k))


def accumulate_last_micro_batch_only(grad_fn, params, X, y, k):
    m = len(X) // k
    return grad_fn(params, X[-m:], y[-m:])


def accumulate_divides_twice(grad_fn, params, X, y, k):
    m = len(X) // k
    return sum(grad_fn(params, X[j * m : (j + 1) * m], y[j * m : (j + 1) * m]) for j in range(k)) / (k * m)


def accumulate_first_micro_batch_only(grad_fn, params, X, y, k):
    m = len(X) // k
    return grad_fn(params, X[:m], y[:m])


# --- scaled_lr_and_warmup -----------------------------------------------------------------------


def scaling_square_root(base_lr, base_batch_size, batch_size, n, warmup_epochs):
    return base_lr * math.sqrt(batch_size / base_batch_size), math.ceil(warmup_epochs * n / batch_size)


def scaling_inverted(base_lr, base_batch_size, batch_size, n, warmup_epochs):
    return base_lr * base_batch_size / batch_size, math.ceil(warmup_epochs * n / batch_size)


def scaling_warmup_at_old_batch(base_lr, base_batch_size, batch_size, n, warmup_epochs):
    return base_lr * batch_size / base_batch_size, math.ceil(warmup_epochs * n / base_batch_size)


def scaling_warmup_floor(base_lr, base_batch_size, batch_size, n, warmup_epochs):
    return base_lr * batch_size / base_batch_size, int(warmup_epochs * n // batch_size)


def scaling_warmup_in_epochs(base_lr, base_batch_size, batch_size, n, warmup_epochs):
    return base_lr * batch_size / base_batch_size, warmup_epochs


# --- top_eigenvalue -----------------------------------------------------------------------------


def _iterate(hvp, dim, iters, seed):
    v = np.random.default_rng(seed).normal(size=dim)
    v /= np.linalg.norm(v)
    for _ in range(iters):
        v = hvp(v)
        v /= np.linalg.norm(v)
    return v


def power_norm_loses_sign(hvp, dim, iters, seed):
    return float(np.linalg.norm(hvp(_iterate(hvp, dim, iters, seed))))


def power_one_iteration(hvp, dim, iters, seed):
    v = _iterate(hvp, dim, 1, seed)
    return float(v @ hvp(v))


def power_unnormalised_rayleigh(hvp, dim, iters, seed):
    v = np.random.default_rng(seed).normal(size=dim)
    for _ in range(iters):
        v = hvp(v) / 2.0  # rescaled, but not to unit length
    return float(v @ hvp(v))


WRONG = {
    "lars_trust_ratio": [
        trust_ratio_wrong_norms,
        trust_ratio_no_guard,
        trust_ratio_paper_denominator,
        trust_ratio_ignores_weight_decay,
        trust_ratio_zero_guard_returns_zero,
        trust_ratio_no_coefficient,
    ],
    "lamb_step": [
        lamb_one_global_ratio,
        lamb_ratio_of_gradient_norm,
        lamb_no_bias_correction,
        lamb_decay_before_adam,
        lamb_no_zero_guard,
    ],
    "accumulate_gradients": [
        accumulate_sum_not_mean,
        accumulate_last_micro_batch_only,
        accumulate_divides_twice,
        accumulate_first_micro_batch_only,
    ],
    "scaled_lr_and_warmup": [
        scaling_square_root,
        scaling_inverted,
        scaling_warmup_at_old_batch,
        scaling_warmup_floor,
        scaling_warmup_in_epochs,
    ],
    "top_eigenvalue": [power_norm_loses_sign, power_one_iteration, power_unnormalised_rayleigh],
}
