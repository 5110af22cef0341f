"""Plausible wrong answers to the chapter 03 exercises; each must be rejected by its check.

``WRONG[exercise_id]`` lists them; the function names say what is wrong.
"""

import numpy as np

# --- minibatch_indices -------------------------------------------------------------------------


def batches_with_replacement(n, batch_size, epochs, rng, drop_last=False):
    out = []
    for _ in range(epochs):
        sizes = [batch_size] * (n // batch_size)
        if n % batch_size and not drop_last:
            sizes.append(n % batch_size)
        out.append([rng.integers(0, n, size=s) for s in sizes])
    return out


def batches_same_order_every_epoch(n, batch_size, epochs, rng, drop_last=False):
    order = rng.permutation(n)
    stop = n - n % batch_size if drop_last else n
    return [[order[i : i + batch_size] for i in range(0, stop, batch_size)] for _ in range(epochs)]


def batches_without_shuffling(n, batch_size, epochs, rng, drop_last=False):
    order = np.arange(n)
    stop = n - n % batch_size if drop_last else n
    return [[order[i : i + batch_size] for i in range(0, stop, batch_size)] for _ in range(epochs)]


def batches_ignore_drop_last(n, batch_size, epochs, rng, drop_last=False):
    out = []
    for _ in range(epochs):
        order = rng.permutation(n)
        out.append([order[i : i + batch_size] for i in range(0, n, batch_size)])
    return out


def batches_always_drop_last(n, batch_size, epochs, rng, drop_last=False):
    out = []
    for _ in range(epochs):
        order = rng.permutation(n)
        out.append([order[i : i + batch_size] for i in range(0, n - batch_size + 1, batch_size)])
    return out


def batches_own_seed(n, batch_size, epochs, rng, drop_last=False):
    own = np.random.default_rng(0)
    out = []
    for _ in range(epochs):
        order = own.permutation(n)
        stop = n - n % batch_size if drop_last else n
        out.append([order[i : i + batch_size] for i in range(0, stop, batch_size)])
    return out


# --- softmax_cross_entropy ---------------------------------------------------------------------


def _onehot(y, c):
    Y = np.zeros((len(y), c))
    Y[np.arange(len(y)), y] = 1.0
    return Y


def xent_sum_not_mean(logits, y):
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    loss = -float(np.sum(np.log(p[np.arange(len(y)), y])))
    return loss, p - _onehot(y, logits.shape[1])


def xent_gradient_not_divided_by_n(logits, y):
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -float(log_p[np.arange(len(y)), y].mean()), np.exp(log_p) - _onehot(y, logits.shape[1])


def xent_no_max_subtraction(logits, y):
    e = np.exp(logits)
    p = e / e.sum(axis=1, keepdims=True)
    loss = -float(np.mean(np.log(p[np.arange(len(y)), y])))
    return loss, (p - _onehot(y, logits.shape[1])) / len(y)


def xent_gradient_sign_flipped(logits, y):
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return (-float(log_p[np.arange(len(y)), y].mean()), (_onehot(y, logits.shape[1]) - np.exp(log_p)) / len(y))


# --- softmax_regression_grad -------------------------------------------------------------------


def _dz(params, X, y):
    z = X @ params["W"] + params["b"]
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = -float(log_p[np.arange(len(y)), y].mean())
    return loss, (np.exp(log_p) - _onehot(y, z.shape[1])) / len(y)


def softreg_bias_gradient_mean(params, X, y):
    loss, dz = _dz(params, X, y)
    return loss, {"W": X.T @ dz, "b": dz.mean(axis=0)}


def softreg_weights_not_divided_by_n(params, X, y):
    loss, dz = _dz(params, X, y)
    return loss, {"W": X.T @ dz * len(y), "b": dz.sum(axis=0)}


def softreg_forgets_bias_in_logits(params, X, y):
    loss, dz = _dz({"W": params["W"], "b": np.zeros_like(params["b"])}, X, y)
    return _dz(params, X, y)[0], {"W": X.T @ dz, "b": dz.sum(axis=0)}


def softreg_gradient_of_probabilities(params, X, y):
    loss, dz = _dz(params, X, y)
    z = X @ params["W"] + params["b"]
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    dz = p / len(y)  # forgot "- onehot(y)"
    return loss, {"W": X.T @ dz, "b": dz.sum(axis=0)}


# --- gradient_noise ----------------------------------------------------------------------------


def noise_forgets_the_mean(G, batches):
    g_hat = G[batches].mean(axis=1)
    full = G.mean(axis=0)
    return float(np.mean(np.sum(g_hat**2, axis=1))), float(np.mean(np.sum((G - full) ** 2, axis=1))) / batches.shape[1]


def noise_batch_sum_not_mean(G, batches):
    full = G.mean(axis=0)
    g_hat = G[batches].sum(axis=1)
    return (
        float(np.mean(np.sum((g_hat - full) ** 2, axis=1))),
        float(np.mean(np.sum((G - full) ** 2, axis=1))) / batches.shape[1],
    )


def noise_sample_variance_n_minus_1(G, batches):
    full = G.mean(axis=0)
    g_hat = G[batches].mean(axis=1)
    trace = float(np.sum((G - full) ** 2)) / (len(G) - 1)
    return float(np.mean(np.sum((g_hat - full) ** 2, axis=1))), trace / batches.shape[1]


def noise_prediction_times_b(G, batches):
    full = G.mean(axis=0)
    g_hat = G[batches].mean(axis=1)
    return (
        float(np.mean(np.sum((g_hat - full) ** 2, axis=1))),
        float(np.mean(np.sum((G - full) ** 2, axis=1))) * batches.shape[1],
    )


def noise_mean_over_coordinates(G, batches):
    full = G.mean(axis=0)
    g_hat = G[batches].mean(axis=1)
    return (float(np.mean((g_hat - full) ** 2)), float(np.mean((G - full) ** 2)) / batches.shape[1])


# --- robbins_monro -----------------------------------------------------------------------------


def rm_t_from_zero(eta0, t0, power, T):
    t = np.arange(T)
    return eta0 / (1.0 + t / t0) ** power, bool(0.5 < power <= 1.0)


def rm_accepts_inverse_square(eta0, t0, power, T):
    """Thinks any decaying schedule works, so 1/t² (whose sum is finite) passes."""
    t = np.arange(1, T + 1)
    return eta0 / (1.0 + t / t0) ** power, bool(power > 0.5)


def rm_excludes_one_over_t(eta0, t0, power, T):
    t = np.arange(1, T + 1)
    return eta0 / (1.0 + t / t0) ** power, bool(0.5 < power < 1.0)


def rm_accepts_inverse_sqrt(eta0, t0, power, T):
    t = np.arange(1, T + 1)
    return eta0 / (1.0 + t / t0) ** power, bool(0.5 <= power <= 1.0)


def rm_ignores_power(eta0, t0, power, T):
    t = np.arange(1, T + 1)
    return eta0 * t0 / (t0 + t), bool(0.5 < power <= 1.0)


WRONG = {
    "minibatch_indices": [
        batches_with_replacement,
        batches_same_order_every_epoch,
        batches_without_shuffling,
        batches_ignore_drop_last,
        batches_always_drop_last,
        batches_own_seed,
    ],
    "softmax_cross_entropy": [
        xent_sum_not_mean,
        xent_gradient_not_divided_by_n,
        xent_no_max_subtraction,
        xent_gradient_sign_flipped,
    ],
    "softmax_regression_grad": [
        softreg_bias_gradient_mean,
        softreg_weights_not_divided_by_n,
        softreg_forgets_bias_in_logits,
        softreg_gradient_of_probabilities,
    ],
    "gradient_noise": [
        noise_forgets_the_mean,
        noise_batch_sum_not_mean,
        noise_sample_variance_n_minus_1,
        noise_prediction_times_b,
        noise_mean_over_coordinates,
    ],
    "robbins_monro": [
        rm_t_from_zero,
        rm_accepts_inverse_square,
        rm_excludes_one_over_t,
        rm_accepts_inverse_sqrt,
        rm_ignores_power,
    ],
}
