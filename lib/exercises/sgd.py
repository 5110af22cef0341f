r"""Chapter 03 (stochastic and mini-batch gradient descent): the graded exercises.

Notebook: ``exercises/source/03-stochastic-gradient-descent.ipynb``. Conventions: the loss is a
*mean* over the examples of a batch, :math:`B` = ``batch_size``, :math:`t` counts updates from 1.

==================================  ======  ==================================================
id                                  points  the student writes
==================================  ======  ==================================================
``minibatch_indices``               2       one shuffled pass per epoch (``rng.permutation``),
                                            cut into batches of ``batch_size``, ``drop_last``
``softmax_cross_entropy``           2       mean cross-entropy of softmax(logits) and its
                                            gradient with respect to the logits, stably
``softmax_regression_grad``         2       the loss of softmax regression and its gradient
                                            for ``W`` and ``b`` (checked by finite differences)
``gradient_noise``                  2       E‖ĝ_B − ∇L‖² estimated from given batches, and
                                            the prediction tr(Σ)/B
``robbins_monro``                   2       η_t = η₀ / (1 + t/t₀)^p for t = 1..T, and whether
                                            p satisfies Σ η_t = ∞, Σ η_t² < ∞
==================================  ======  ==================================================
"""

from __future__ import annotations

import numpy as np

from lib.exercises import Case, Exercise, Lazy
from lib.gradcheck import numerical_gradient

__all__ = [
    "EXERCISES",
    "minibatch_indices",
    "softmax_cross_entropy",
    "softmax_regression_grad",
    "gradient_noise",
    "robbins_monro",
    "seeded_rng",
]

CHAPTER = "03-stochastic-gradient-descent"


# --- reference solutions ---------------------------------------------------------------------


def minibatch_indices(n, batch_size, epochs, rng, drop_last=False):
    r"""The indices of the mini-batches of ``epochs`` passes over ``n`` examples.

    Each epoch draws one new order ``rng.permutation(n)`` and cuts it into consecutive batches
    of ``batch_size`` (the last one smaller, or dropped when ``drop_last``): every example is
    used exactly once per epoch (sampling *without* replacement). Returns a list with one list
    of integer arrays per epoch. torch: ``DataLoader(..., batch_size, shuffle=True, drop_last)``.
    """
    out = []
    for _ in range(epochs):
        order = rng.permutation(n)
        stop = n - n % batch_size if drop_last else n
        out.append([order[i : i + batch_size] for i in range(0, stop, batch_size)])
    return out


def softmax_cross_entropy(logits, y):
    r"""Mean cross-entropy of :math:`p = \mathrm{softmax}(z)` and its gradient in the logits.

    .. math:: L = \frac1n\sum_i \Big(\log\sum_c e^{z_{ic}} - z_{i y_i}\Big), \qquad
              \frac{\partial L}{\partial z} = \frac1n\,(p - Y)

    with :math:`Y` the one-hot labels; the log-sum-exp is computed after subtracting the
    row maximum, so large logits do not overflow.
    """
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(shifted).sum(axis=1))
    log_p = shifted - log_z[:, None]
    loss = -float(log_p[np.arange(n), y].mean())
    grad = np.exp(log_p)
    grad[np.arange(n), y] -= 1.0
    return loss, grad / n


def _softmax_regression_loss(params, X, y):
    return softmax_cross_entropy(X @ params["W"] + params["b"], y)[0]


def softmax_regression_grad(params, X, y):
    r"""The loss of softmax regression, logits :math:`z = XW + b`, and its gradient.

    The reference *loss* is the formula; the reference *gradient* is a central finite
    difference of that loss (:func:`lib.gradcheck.numerical_gradient`), so the check is a
    gradient check. The analytic answer is :math:`\nabla_W L = X^\top \frac{\partial L}{\partial z}`
    and :math:`\nabla_b L = \sum_i \frac{\partial L}{\partial z_i}`.
    """
    loss = _softmax_regression_loss(params, X, y)
    grads = numerical_gradient(lambda p: _softmax_regression_loss(p, X, y), params)
    return loss, grads


def gradient_noise(per_example_grads, batches):
    r"""Estimated and predicted variance of the mini-batch gradient.

    ``per_example_grads`` is :math:`G` of shape ``(n, d)`` (row :math:`i` is
    :math:`\nabla\ell_i`), ``batches`` an integer array ``(R, B)`` of indices drawn with
    replacement. Returns

    .. math:: \Big(\frac1R\sum_r \big\lVert \hat g_r - \bar g\big\rVert^2,\;
              \frac{1}{B}\cdot\frac1n\sum_i \lVert \nabla\ell_i - \bar g\rVert^2\Big)

    where :math:`\hat g_r` is the mean of the rows of batch :math:`r` and :math:`\bar g` the
    mean of all rows, the full gradient; the second number is :math:`\mathrm{tr}(\Sigma)/B`.
    """
    G = np.asarray(per_example_grads, dtype=float)
    full = G.mean(axis=0)
    batch_means = G[batches].mean(axis=1)  # (R, d)
    estimate = float(np.mean(np.sum((batch_means - full) ** 2, axis=1)))
    trace = float(np.mean(np.sum((G - full) ** 2, axis=1)))
    return estimate, trace / batches.shape[1]


def robbins_monro(eta0, t0, power, T):
    r"""The schedule :math:`\eta_t = \eta_0 / (1 + t/t_0)^p` for :math:`t = 1, \dots, T`, and
    whether it satisfies the Robbins–Monro conditions :math:`\sum_t\eta_t = \infty` and
    :math:`\sum_t\eta_t^2 < \infty` (for :math:`p > 0`: exactly when :math:`\tfrac12 < p \le 1`).
    """
    t = np.arange(1, T + 1)
    return eta0 / (1.0 + t / t0) ** power, bool(0.5 < power <= 1.0)


# --- case inputs -----------------------------------------------------------------------------


def seeded_rng(seed: int) -> Lazy:
    """A fresh ``np.random.default_rng(seed)`` for each call, as a case input."""
    return Lazy(lambda: np.random.default_rng(seed), f"np.random.default_rng({seed})")


def _random_split(rng):
    """``(n, batch_size)`` with a last batch shorter than the others."""
    batch_size = int(rng.integers(2, 9))
    return batch_size * int(rng.integers(1, 6)) + int(rng.integers(1, batch_size)), batch_size


def _minibatch_cases(rng):
    (n1, b1), (n2, b2) = _random_split(rng), _random_split(rng)
    s1, s2 = (int(s) for s in rng.integers(0, 2**31, size=2))
    return [
        Case((10, 3, 2, seeded_rng(0)), note="10 examples in batches of 3: the last batch has 1"),
        Case((10, 3, 2, seeded_rng(1)), {"drop_last": True}, note="drop_last drops the batch of 1"),
        Case((12, 4, 3, seeded_rng(2)), note="three epochs: a new order each epoch"),
        Case((7, 1, 1, seeded_rng(3)), note="batch_size = 1: plain SGD"),
        Case((6, 6, 2, seeded_rng(4)), note="batch_size = n: one batch per epoch"),
        Case((5, 8, 1, seeded_rng(5)), note="batch_size > n: one short batch"),
        Case((5, 8, 1, seeded_rng(6)), {"drop_last": True}, note="batch_size > n with drop_last: no batch"),
        Case((100, 32, 2, seeded_rng(7)), note="100 examples in batches of 32"),
        Case((n1, b1, 2, seeded_rng(s1)), note=f"{n1} examples in batches of {b1}"),
        Case((n2, b2, 2, seeded_rng(s2)), {"drop_last": True}, note=f"{n2} examples in batches of {b2}, drop_last"),
    ]


def _labels(rng, n, c):
    y = rng.integers(0, c, size=n)
    y[:c] = np.arange(c)[: min(c, n)]  # every class at least once when n >= c
    return y


def _softmax_cases(rng):
    return [
        Case((np.array([[2.0, 1.0, 0.1]]), np.array([0])), note="one example"),
        Case((rng.normal(size=(5, 3)), _labels(rng, 5, 3)), note="five examples, three classes"),
        Case((np.zeros((4, 10)), np.array([0, 3, 7, 9])), note="all logits equal: loss = log 10"),
        Case((rng.normal(size=(8, 4)) * 3, _labels(rng, 8, 4)), note="eight examples"),
        Case(
            (np.array([[1000.0, 0.0], [0.0, 1000.0], [-1000.0, 1000.0]]), np.array([0, 0, 1])),
            note="large logits: exp(1000) overflows unless you subtract the row maximum",
        ),
    ]


def _softmax_regression_cases(rng):
    def case(n, d, c, scale, note):
        params = {"W": rng.normal(scale=scale, size=(d, c)), "b": rng.normal(scale=scale, size=c)}
        return Case((params, rng.normal(size=(n, d)), _labels(rng, n, c)), note=note)

    return [
        case(6, 4, 3, 0.5, "six examples, four features, three classes"),
        Case(
            ({"W": np.zeros((3, 5)), "b": np.zeros(5)}, rng.normal(size=(7, 3)), _labels(rng, 7, 5)),
            note="zero parameters",
        ),
        case(1, 2, 3, 1.0, "one example"),
        case(20, 5, 4, 1.0, "twenty examples"),
    ]


def _noise_cases(rng):
    def case(n, d, R, B, note):
        G = rng.normal(size=(n, d)) + rng.normal(size=d)  # a non-zero mean gradient
        return Case((G, rng.integers(0, n, size=(R, B))), note=note)

    return [
        case(8, 3, 50, 1, "B = 1"),
        case(8, 3, 50, 4, "B = 4"),
        case(6, 2, 20, 16, "B = 16, larger than n (drawn with replacement)"),
        case(30, 5, 100, 8, "thirty examples in five dimensions"),
        case(5, 1, 10, 2, "one dimension"),
    ]


def _robbins_monro_cases(rng):
    return [
        Case((0.5, 10.0, 1.0, 5), note="p = 1: the classic 1/t schedule"),
        Case((1.0, 1.0, 0.75, 4), note="p = 3/4"),
        Case((0.1, 100.0, 0.5, 3), note="p = 1/2: Σ η_t² diverges like Σ 1/t"),
        Case((0.1, 5.0, 2.0, 6), note="p = 2: Σ η_t converges, so the steps stop too soon"),
        Case((0.3, 2.0, 0.25, 3), note="p = 1/4"),
        Case((0.3, 50.0, 1.5, 3), note="p = 3/2"),
        Case((0.2, 20.0, 0.0, 3), note="p = 0: a constant step"),
        Case(
            (
                float(rng.uniform(0.05, 1.0)),
                float(rng.uniform(1.0, 100.0)),
                float(rng.uniform(0.55, 0.95)),
                int(rng.integers(3, 9)),
            ),
            note="a random p between 1/2 and 1",
        ),
        Case(
            (
                float(rng.uniform(0.05, 1.0)),
                float(rng.uniform(1.0, 100.0)),
                float(rng.choice([rng.uniform(0.05, 0.45), rng.uniform(1.05, 2.5)])),
                int(rng.integers(3, 9)),
            ),
            note="a random p outside (1/2, 1]",
        ),
    ]


# --- the exercises ---------------------------------------------------------------------------

EXERCISES = (
    Exercise(
        id="minibatch_indices",
        chapter=CHAPTER,
        points=2,
        function="minibatch_indices",
        cases=_minibatch_cases,
        reference=minibatch_indices,
        hint="For each epoch call order = rng.permutation(n) ONCE (a new order every epoch, "
        "from the rng you are given: never np.random.default_rng inside), then slice "
        "order[i:i + batch_size] for i = 0, batch_size, 2*batch_size, ...; with drop_last "
        "leave out a last batch shorter than batch_size. Sampling with rng.integers or "
        "rng.choice(replace=True) repeats some examples and misses others.",
    ),
    Exercise(
        id="softmax_cross_entropy",
        chapter=CHAPTER,
        points=2,
        function="softmax_cross_entropy",
        cases=_softmax_cases,
        reference=softmax_cross_entropy,
        hint="Subtract each row's maximum before np.exp (the softmax does not change). The loss "
        "is the MEAN over the n rows of logsumexp(z_i) - z_i[y_i], and the gradient is "
        "(softmax(z) - onehot(y)) / n: divide by n in both.",
    ),
    Exercise(
        id="softmax_regression_grad",
        chapter=CHAPTER,
        points=2,
        function="softmax_regression_grad",
        cases=_softmax_regression_cases,
        reference=softmax_regression_grad,
        rtol=1e-5,
        atol=1e-8,
        hint="Logits z = X @ W + b; with dz = (softmax(z) - onehot(y)) / n (your "
        "softmax_cross_entropy), the gradients are X.T @ dz for W (shape of W) and "
        "dz.sum(axis=0) for b. The expected gradient here is a finite-difference gradient "
        "of the loss: a mismatch means your formula is not the derivative of your loss.",
    ),
    Exercise(
        id="gradient_noise",
        chapter=CHAPTER,
        points=2,
        function="gradient_noise",
        cases=_noise_cases,
        reference=gradient_noise,
        hint="The full gradient is g_bar = G.mean(axis=0). For each row of batches, the "
        "mini-batch gradient is the MEAN of G over those indices; average "
        "||g_hat - g_bar||^2 over the rows. The prediction is tr(Sigma) / B with "
        "tr(Sigma) = mean over i of ||G[i] - g_bar||^2 (divide by n, not n - 1).",
    ),
    Exercise(
        id="robbins_monro",
        chapter=CHAPTER,
        points=2,
        function="robbins_monro",
        cases=_robbins_monro_cases,
        reference=robbins_monro,
        hint="t runs from 1 to T (np.arange(1, T + 1)). Sum of t**-p diverges exactly when "
        "p <= 1, and the sum of (t**-p)**2 = t**(-2p) converges exactly when 2p > 1; "
        "return a Python bool for 1/2 < p <= 1.",
    ),
)
