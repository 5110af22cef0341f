"""Plausible wrong answers to the chapter 08 exercises; each must be rejected by its check.

``WRONG[exercise_id]`` lists them; the function names say what is wrong. The mistakes the
issue names are all here: scaling at eval time instead of train time, the keep probability used
as the drop probability, biased / unbiased variance swapped, running statistics used in
training, forgetting to restore the best parameters.
"""

import numpy as np

# --- dropout_forward_backward ------------------------------------------------------------------


def dropout_scales_at_eval_time(x, mask, p, dout, training):
    if training:
        return x * mask, dout * mask
    return x * (1 - p), dout * (1 - p)


def dropout_keep_probability_as_drop(x, mask, p, dout, training):
    if not training:
        return x, dout
    return x * mask / p, dout * mask / p


def dropout_no_rescaling(x, mask, p, dout, training):
    if not training:
        return x, dout
    return x * mask, dout * mask


def dropout_also_at_eval(x, mask, p, dout, training):
    return x * mask / (1 - p), dout * mask / (1 - p)


def dropout_gradient_not_masked(x, mask, p, dout, training):
    if not training:
        return x, dout
    return x * mask / (1 - p), dout / (1 - p)


# --- batchnorm_forward_modes ---------------------------------------------------------------------


def _bn(x, gamma, beta, mean, var, eps):
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def bn_variances_swapped(x, gamma, beta, rm, rv, momentum, eps, training):
    if not training:
        return _bn(x, gamma, beta, rm, rv, eps), rm, rv
    mean, var_u, var_b = x.mean(0), x.var(0, ddof=1), x.var(0)
    return (
        _bn(x, gamma, beta, mean, var_u, eps),
        (1 - momentum) * rm + momentum * mean,
        (1 - momentum) * rv + momentum * var_b,
    )


def bn_biased_running_variance(x, gamma, beta, rm, rv, momentum, eps, training):
    if not training:
        return _bn(x, gamma, beta, rm, rv, eps), rm, rv
    mean, var_b = x.mean(0), x.var(0)
    return (
        _bn(x, gamma, beta, mean, var_b, eps),
        (1 - momentum) * rm + momentum * mean,
        (1 - momentum) * rv + momentum * var_b,
    )


def bn_running_stats_in_training(x, gamma, beta, rm, rv, momentum, eps, training):
    if not training:
        return _bn(x, gamma, beta, rm, rv, eps), rm, rv
    mean, var_u = x.mean(0), x.var(0, ddof=1)
    return (
        _bn(x, gamma, beta, rm, rv, eps),
        (1 - momentum) * rm + momentum * mean,
        (1 - momentum) * rv + momentum * var_u,
    )


def bn_momentum_weights_swapped(x, gamma, beta, rm, rv, momentum, eps, training):
    if not training:
        return _bn(x, gamma, beta, rm, rv, eps), rm, rv
    mean, var_b, var_u = x.mean(0), x.var(0), x.var(0, ddof=1)
    return (
        _bn(x, gamma, beta, mean, var_b, eps),
        momentum * rm + (1 - momentum) * mean,
        momentum * rv + (1 - momentum) * var_u,
    )


def bn_batch_stats_in_eval(x, gamma, beta, rm, rv, momentum, eps, training):
    mean, var_b, var_u = x.mean(0), x.var(0), x.var(0, ddof=1)
    out = _bn(x, gamma, beta, mean, var_b, eps)
    if not training:
        return out, rm, rv
    return out, (1 - momentum) * rm + momentum * mean, (1 - momentum) * rv + momentum * var_u


def bn_updates_running_stats_in_eval(x, gamma, beta, rm, rv, momentum, eps, training):
    mean, var_b, var_u = x.mean(0), x.var(0), x.var(0, ddof=1)
    new_rm, new_rv = (1 - momentum) * rm + momentum * mean, (1 - momentum) * rv + momentum * var_u
    if not training:
        return _bn(x, gamma, beta, rm, rv, eps), new_rm, new_rv
    return _bn(x, gamma, beta, mean, var_b, eps), new_rm, new_rv


# --- batchnorm_backward_train --------------------------------------------------------------------


def bnb_ignores_batch_statistics(dout, x, gamma, eps):
    xhat = (x - x.mean(0)) / np.sqrt(x.var(0) + eps)
    return dout * gamma / np.sqrt(x.var(0) + eps), (dout * xhat).sum(0), dout.sum(0)


def bnb_forgets_variance_path(dout, x, gamma, eps):
    n = x.shape[0]
    xhat = (x - x.mean(0)) / np.sqrt(x.var(0) + eps)
    dx = gamma / (n * np.sqrt(x.var(0) + eps)) * (n * dout - dout.sum(0))
    return dx, (dout * xhat).sum(0), dout.sum(0)


def bnb_unbiased_variance(dout, x, gamma, eps):
    n = x.shape[0]
    var = x.var(0, ddof=1)
    xhat = (x - x.mean(0)) / np.sqrt(var + eps)
    dx = gamma / (n * np.sqrt(var + eps)) * (n * dout - dout.sum(0) - xhat * (dout * xhat).sum(0))
    return dx, (dout * xhat).sum(0), dout.sum(0)


def bnb_dgamma_without_xhat(dout, x, gamma, eps):
    n = x.shape[0]
    xhat = (x - x.mean(0)) / np.sqrt(x.var(0) + eps)
    dx = gamma / (n * np.sqrt(x.var(0) + eps)) * (n * dout - dout.sum(0) - xhat * (dout * xhat).sum(0))
    return dx, (dout * x).sum(0), dout.sum(0)


# --- l1_prox_step --------------------------------------------------------------------------------


def prox_subgradient_instead(theta, g, lr, l1):
    return theta - lr * (g + l1 * np.sign(theta))


def prox_threshold_without_lr(theta, g, lr, l1):
    v = theta - lr * g
    return np.sign(v) * np.maximum(np.abs(v) - l1, 0)


def prox_hard_threshold(theta, g, lr, l1):
    v = theta - lr * g
    return np.where(np.abs(v) > lr * l1, v, 0.0)


def prox_before_gradient_step(theta, g, lr, l1):
    return np.sign(theta) * np.maximum(np.abs(theta) - lr * l1, 0) - lr * g


# --- early_stopping_rule -------------------------------------------------------------------------


def _rule(val_losses, patience, min_delta, off_by_one=False, use_delta=True, restore=True):
    best, best_epoch, wait, epoch = np.inf, 0, 0, 0
    for epoch, v in enumerate(val_losses, start=1):
        if v < best - (min_delta if use_delta else 0.0):
            best, best_epoch, wait = v, epoch, 0
        else:
            wait += 1
        if wait > patience if off_by_one else wait >= patience:
            break
    return epoch, (best_epoch if restore else epoch)


def es_forgets_to_restore(val_losses, patience, min_delta):
    return _rule(val_losses, patience, min_delta, restore=False)


def es_patience_off_by_one(val_losses, patience, min_delta):
    return _rule(val_losses, patience, min_delta, off_by_one=True)


def es_ignores_min_delta(val_losses, patience, min_delta):
    return _rule(val_losses, patience, min_delta, use_delta=False)


def es_global_minimum(val_losses, patience, min_delta):
    return len(val_losses), int(np.argmin(val_losses)) + 1


WRONG = {
    "dropout_forward_backward": [
        dropout_scales_at_eval_time,
        dropout_keep_probability_as_drop,
        dropout_no_rescaling,
        dropout_also_at_eval,
        dropout_gradient_not_masked,
    ],
    "batchnorm_forward_modes": [
        bn_variances_swapped,
        bn_biased_running_variance,
        bn_running_stats_in_training,
        bn_momentum_weights_swapped,
        bn_batch_stats_in_eval,
        bn_updates_running_stats_in_eval,
    ],
    "batchnorm_backward_train": [
        bnb_ignores_batch_statistics,
        bnb_forgets_variance_path,
        bnb_unbiased_variance,
        bnb_dgamma_without_xhat,
    ],
    "l1_prox_step": [
        prox_subgradient_instead,
        prox_threshold_without_lr,
        prox_hard_threshold,
        prox_before_gradient_step,
    ],
    "early_stopping_rule": [es_forgets_to_restore, es_patience_off_by_one, es_ignores_min_delta, es_global_minimum],
}
