r"""Chapter 09 (large-batch training): the graded exercises and their reference solutions.

Notebook: ``exercises/source/09-large-batch.ipynb``. The reference solutions call
:mod:`lib.optim` and :mod:`lib.batch_size`, so the exercises and the library agree.

=========================  ======  =====================================================================
id                         points  the student writes
=========================  ======  =====================================================================
``lars_trust_ratio``       2       c‖θ‖/(‖g + λθ‖ + ε), and 1 when a norm is 0 (optax's LARS)
``lamb_step``              3       one LAMB update on a dict of tensors, one ratio per tensor
``accumulate_gradients``   2       the mean of k micro-batch gradients (not the sum)
``scaled_lr_and_warmup``   1       η·B/B₀ and ⌈e·n/B⌉ warmup steps
``top_eigenvalue``         2       power iteration with the Rayleigh quotient, given only v ↦ Hv
=========================  ======  =====================================================================
"""

from __future__ import annotations

import numpy as np

from lib import optim
from lib.batch_size import linear_scaling, top_hessian_eigenvalue, warmup_steps
from lib.exercises import Case, Exercise, Lazy
from lib.optim.large_batch import _add_decayed_weights

__all__ = [
    "EXERCISES",
    "lars_trust_ratio",
    "lamb_step",
    "accumulate_gradients",
    "scaled_lr_and_warmup",
    "top_eigenvalue",
]

CHAPTER = "09-large-batch"


# --- reference solutions ------------------------------------------------------------------------


def lars_trust_ratio(param, grad, weight_decay, trust_coefficient, eps):
    r"""The trust ratio optax's LARS applies to one tensor.

    .. math:: r = c\,\frac{\lVert\theta\rVert}{\lVert g + \lambda\theta\rVert + \varepsilon},
              \quad r = 1 \text{ if } \lVert\theta\rVert = 0 \text{ or } \lVert g + \lambda\theta\rVert = 0
    """
    param, grad = np.asarray(param, dtype=float), np.asarray(grad, dtype=float)
    return float(optim.trust_ratio(grad + weight_decay * param, param, trust_coefficient, eps))


def lamb_step(params, grads, m, v, t, lr, betas, eps, weight_decay):
    r"""Update number ``t`` (1 for the first) of LAMB on a dict of tensors; returns ``(params, m, v)``.

    .. math:: u_l = \frac{\hat m_l}{\sqrt{\hat v_l} + \varepsilon} + \lambda\theta_l, \qquad
              \theta_l \leftarrow \theta_l - \eta\,\frac{\lVert\theta_l\rVert}{\lVert u_l\rVert}\,u_l

    (ratio 1 if a norm is 0); ``m`` and ``v`` are Adam's uncorrected moments.
    """
    b1, b2 = betas
    params = {k: np.asarray(p, dtype=float) for k, p in params.items()}
    grads = {k: np.asarray(g, dtype=float) for k, g in grads.items()}
    adam = optim.scale_by_adam(b1=b1, b2=b2, eps=eps)
    state = optim.ScaleByAdamState(
        int(t) - 1,
        {k: np.asarray(x, dtype=float) for k, x in m.items()},
        {k: np.asarray(x, dtype=float) for k, x in v.items()},
        None,
    )
    u, state = adam.update(grads, state, params)
    u, _ = _add_decayed_weights(weight_decay, True).update(u, (), params)
    u, _ = optim.scale_by_trust_ratio().update(u, (), params)
    return optim.apply_updates(params, {k: -lr * x for k, x in u.items()}), state.mu, state.nu


def accumulate_gradients(grad_fn, params, X, y, k):
    r"""The gradient of the mean loss over ``(X, y)`` from ``k`` equal micro-batches.

    .. math:: g = \frac1k \sum_{j=1}^k \texttt{grad\_fn}(\theta, X_j, y_j)
    """
    parts = optim.split_batch(X, y, k)
    return sum(np.asarray(grad_fn(params, Xj, yj), dtype=float) for Xj, yj in parts) / k


def scaled_lr_and_warmup(base_lr, base_batch_size, batch_size, n, warmup_epochs):
    r"""The linear scaling rule :math:`\eta = \eta_0 B/B_0` and a warmup of
    :math:`\lceil e\,n/B\rceil` steps; returns ``(lr, warmup_steps)``."""
    return linear_scaling(base_lr, base_batch_size, batch_size), warmup_steps(n, batch_size, warmup_epochs)


def top_eigenvalue(hvp, dim, iters, seed):
    r"""The largest-magnitude eigenvalue of a symmetric :math:`H` by power iteration from a random
    start: :math:`v \leftarrow Hv/\lVert Hv\rVert`, then :math:`\lambda = v^\top H v`."""
    return float(top_hessian_eigenvalue(hvp, dim, iters=iters, tol=0.0, seed=seed).eigenvalue)


# --- cases --------------------------------------------------------------------------------------


def _trust_cases(rng):
    return [
        Case((np.array([3.0, 4.0]), np.array([0.6, 0.8]), 0.0, 1e-3, 0.0), note="‖θ‖ = 5, ‖g‖ = 1"),
        Case((np.zeros(3), np.array([1.0, -2.0, 0.5]), 0.0, 1e-3, 0.0), note="a zero-initialised bias: ‖θ‖ = 0"),
        Case((np.array([1.0, 2.0]), np.zeros(2), 0.0, 1e-3, 0.0), note="an all-zero gradient"),
        Case(
            (np.array([[1.0, -1.0], [2.0, 0.5]]), np.array([[0.1, 0.2], [-0.3, 0.0]]), 0.1, 0.02, 0.0),
            note="a matrix with weight decay",
        ),
        Case(
            (np.array([1.0, 0.0, -1.0]), np.array([-0.2, 0.4, 0.2]), 0.5, 1e-3, 0.0),
            note="weight decay partly cancels the gradient: ‖g + λθ‖ ≠ ‖g‖ + λ‖θ‖",
        ),
        Case((rng.normal(size=5), 0.01 * rng.normal(size=5), 0.0, 1e-3, 1e-3), note="a small gradient and eps"),
        Case(
            (rng.normal(size=(3, 2)), rng.normal(size=(3, 2)), float(rng.uniform(0, 0.1)), 1e-3, 0.0),
            note="random tensors",
        ),
    ]


def _tree(rng, zero_bias=True):
    return {"W": rng.normal(size=(3, 2)), "b": np.zeros(2) if zero_bias else rng.normal(size=2)}


def _lamb_cases(rng):
    fixed = np.random.default_rng(0)
    p, g = _tree(fixed), {"W": fixed.normal(size=(3, 2)), "b": fixed.normal(size=2)}
    zeros = {"W": np.zeros((3, 2)), "b": np.zeros(2)}
    p2, g2 = _tree(rng, zero_bias=False), {"W": 10 * rng.normal(size=(3, 2)), "b": 0.01 * rng.normal(size=2)}
    m2 = {"W": rng.normal(size=(3, 2)), "b": 0.01 * rng.normal(size=2)}
    v2 = {"W": rng.uniform(1, 100, size=(3, 2)), "b": rng.uniform(1e-5, 1e-4, size=2)}
    return [
        Case(
            (p, g, zeros, zeros, 1, 0.01, (0.9, 0.999), 1e-6, 0.0), note="the first update, a zero bias (ratio 1 there)"
        ),
        Case((p, g, zeros, zeros, 1, 0.01, (0.9, 0.999), 1e-6, 0.1), note="the first update with weight decay"),
        Case(
            (p2, g2, m2, v2, 7, 0.005, (0.9, 0.999), 1e-6, 0.01),
            note="t = 7; the two tensors' gradients differ by 1000x",
        ),
        Case(
            (
                _tree(rng, False),
                {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2)},
                zeros,
                zeros,
                1,
                0.02,
                (0.8, 0.99),
                1e-8,
                0.0,
            ),
            note="other betas, random tensors",
        ),
    ]


def _mse_grad(theta, X, y):
    return 2 * X.T @ (X @ theta - y) / len(y)


def _accumulate_cases(rng):
    grad_fn = Lazy(lambda: _mse_grad, "the gradient of the mean squared error, 2 Xᵀ(Xθ − y)/len(y)")
    X, y = np.arange(24.0).reshape(12, 2) / 10, np.linspace(-1, 1, 12)
    Xr, yr = rng.normal(size=(30, 3)), rng.normal(size=30)
    return [
        Case((grad_fn, np.array([0.5, -0.5]), X, y, 1), note="k = 1: the batch gradient"),
        Case((grad_fn, np.array([0.5, -0.5]), X, y, 3), note="k = 3 micro-batches of 4"),
        Case((grad_fn, np.array([1.0, 2.0]), X, y, 4), note="k = 4 micro-batches of 3"),
        Case((grad_fn, rng.normal(size=3), Xr, yr, 5), note="random data, k = 5"),
        Case((grad_fn, rng.normal(size=3), Xr, yr, 6), note="random data, k = 6"),
    ]


def _scaling_cases(rng):
    return [
        Case((0.1, 256, 1024, 50_000, 5), note="batch ×4 → η ×4, 5 epochs at batch 1024"),
        Case((0.1, 256, 8192, 1_281_167, 5), note="Goyal et al.'s setting: 8192 = 32 × 256"),
        Case((0.05, 128, 64, 1000, 1), note="a smaller batch: η halves"),
        Case((0.2, 32, 96, 1000, 2), note="2000/96 is not an integer: round the steps up"),
        Case(
            (
                float(rng.uniform(0.01, 1)),
                int(rng.choice([16, 32, 64])),
                int(rng.choice([128, 384, 1000])),
                int(rng.integers(1000, 100_000)),
                int(rng.integers(1, 6)),
            ),
            note="random settings",
        ),
        Case(
            (
                float(rng.uniform(0.01, 1)),
                256,
                int(rng.integers(257, 5000)),
                int(rng.integers(1000, 100_000)),
                float(rng.uniform(0.5, 3)),
            ),
            note="random settings, fractional epochs",
        ),
    ]


def _matrix_hvp(eigenvalues, rng, label=None):
    n = len(eigenvalues)
    label = label or ", ".join(f"{e:.3g}" for e in eigenvalues)
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    H = (q * np.asarray(eigenvalues, dtype=float)) @ q.T
    H = (H + H.T) / 2
    return Lazy(lambda: lambda v: H @ v, f"v ↦ Hv for a {n}×{n} H with eigenvalues {label}")


def _power_cases(rng):
    fixed = np.random.default_rng(1)
    return [
        Case(
            (Lazy(lambda: lambda v: np.diag([1.0, 2.0, 5.0]) @ v, "v ↦ diag(1, 2, 5) v"), 3, 200, 0),
            note="a diagonal matrix: λ_max = 5",
        ),
        Case(
            (_matrix_hvp([-6.0, 1.0, 2.0, 3.0], fixed, "−6, 1, 2, 3"), 4, 300, 1),
            note="the largest |λ| is negative: return −6, not 6",
        ),
        Case((_matrix_hvp([0.1, 0.5, 40.0], fixed, "0.1, 0.5, 40"), 3, 100, 2), note="a large top eigenvalue"),
        Case((_matrix_hvp(np.r_[rng.uniform(0, 1, size=6), 3.0], rng), 7, 300, 3), note="random eigenvectors"),
        Case(
            (_matrix_hvp(np.r_[-rng.uniform(0, 1, size=4), 2.0 + rng.uniform()], rng), 5, 300, int(rng.integers(100))),
            note="random eigenvectors and seed",
        ),
    ]


# --- the exercises ------------------------------------------------------------------------------

EXERCISES = (
    Exercise(
        id="lars_trust_ratio",
        chapter=CHAPTER,
        points=2,
        function="lars_trust_ratio",
        cases=_trust_cases,
        reference=lars_trust_ratio,
        hint="d = grad + weight_decay * param; r = trust_coefficient * ‖param‖ / (‖d‖ + eps) with "
        "np.linalg.norm over ALL entries (Frobenius for a matrix). The norm of the SUM d, not "
        "‖grad‖ + λ‖param‖. If ‖param‖ == 0 or ‖d‖ == 0 return 1.0 (optax's guard).",
    ),
    Exercise(
        id="lamb_step",
        chapter=CHAPTER,
        points=3,
        function="lamb_step",
        cases=_lamb_cases,
        reference=lamb_step,
        hint="For EACH tensor k: m_k, v_k as in Adam; u = m̂/(√v̂ + eps) + weight_decay * θ_k "
        "(decay added AFTER Adam); r = ‖θ_k‖/‖u‖ (1 if either is 0); θ_k − lr * r * u. "
        "One ratio per tensor, not one for the whole model; t = 1 for the first update.",
    ),
    Exercise(
        id="accumulate_gradients",
        chapter=CHAPTER,
        points=2,
        function="accumulate_gradients",
        cases=_accumulate_cases,
        reference=accumulate_gradients,
        hint="Split X and y into k consecutive equal parts (len(X) // k rows each), call "
        "grad_fn(params, X_j, y_j) on each and return the MEAN of the k gradients: each "
        "micro-batch gradient is already a mean over its examples, so summing is k times too large.",
    ),
    Exercise(
        id="scaled_lr_and_warmup",
        chapter=CHAPTER,
        points=1,
        function="scaled_lr_and_warmup",
        cases=_scaling_cases,
        reference=scaled_lr_and_warmup,
        hint="lr = base_lr * batch_size / base_batch_size (linear, not square root); warmup steps = "
        "math.ceil(warmup_epochs * n / batch_size) at the NEW batch size. Return (lr, steps).",
    ),
    Exercise(
        id="top_eigenvalue",
        chapter=CHAPTER,
        points=2,
        function="top_eigenvalue",
        cases=_power_cases,
        reference=top_eigenvalue,
        rtol=1e-6,
        atol=1e-8,
        hint="Start from a random unit vector (np.random.default_rng(seed)); repeat `iters` times "
        "v = hvp(v); v = v / np.linalg.norm(v); finally return v @ hvp(v) (the Rayleigh "
        "quotient, which keeps the sign; ‖Hv‖ loses it).",
    ),
)
