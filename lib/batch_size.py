r"""How large a batch helps: gradient noise, the noise scale, scaling rules, warmup, sharpness.

* The gradient of a batch of :math:`B` independent examples has covariance :math:`\Sigma/B`
  (chapter 03), so :math:`\mathbb E\lVert G_B\rVert^2 = \lVert G\rVert^2 + \operatorname{tr}\Sigma/B`.
  The *simple gradient noise scale* :math:`\mathcal B_{\text{simple}} = \operatorname{tr}\Sigma/\lVert G\rVert^2`
  is the batch size at which noise and signal are equal; :cite:t:`mccandlish2018empirical`
  predict that it separates *perfect scaling* (doubling :math:`B` halves the steps) from
  *diminishing returns*, with steps and examples to a target trading off as
  :math:`(S/S_{\min} - 1)(E/E_{\min} - 1) = 1`, :math:`B_{\text{crit}} = E_{\min}/S_{\min}`.
* The *linear scaling rule* :cite:p:`goyal2017accurate`: multiply the learning rate by :math:`k`
  when the batch grows by :math:`k`, after a warmup.
* *Sharpness*: the top eigenvalue of the Hessian, by power iteration on Hessian-vector products
  :cite:p:`pearlmutter1994fast,keskar2017large`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "gradient_noise_scale",
    "noise_scale_from_two_batches",
    "NoiseScale",
    "steps_to_target_model",
    "fit_critical_batch_size",
    "linear_scaling",
    "sqrt_scaling",
    "warmup_steps",
    "linear_warmup",
    "hvp_finite_difference",
    "top_hessian_eigenvalue",
    "PowerIteration",
    "steps_to_target",
]


class NoiseScale(NamedTuple):
    grad_norm_sq: float  # |G|^2, the squared norm of the true (full-data) gradient
    trace_cov: float  # tr(Σ), the total variance of one example's gradient
    b_simple: float  # tr(Σ) / |G|^2


def gradient_noise_scale(per_example_grads: np.ndarray) -> NoiseScale:
    r"""The simple noise scale from per-example gradients (rows of an ``(n, d)`` array).

    .. math::
        G = \frac1n\sum_i g_i, \qquad
        \operatorname{tr}\Sigma = \frac{1}{n-1}\sum_i \lVert g_i - G\rVert^2, \qquad
        \mathcal B_{\text{simple}} = \frac{\operatorname{tr}\Sigma}{\lVert G\rVert^2}

    :cite:t:`mccandlish2018empirical` (eq. 2.8). Neither torch nor optax computes it (per-example
    gradients: ``torch.func.vmap(grad(...))`` / ``jax.vmap(jax.grad(...))``).
    """
    g = np.asarray(per_example_grads, dtype=float)
    if g.ndim != 2 or len(g) < 2:
        raise ValueError(f"per_example_grads must be an (n, d) array with n >= 2, got shape {g.shape}")
    if not np.all(np.isfinite(g)):
        raise ValueError("per_example_grads contains NaN or inf")
    G = g.mean(axis=0)
    tr = float(np.sum((g - G) ** 2) / (len(g) - 1))
    gn = float(G @ G)
    return NoiseScale(gn, tr, tr / gn if gn > 0 else math.inf)


def noise_scale_from_two_batches(norm_sq_small: float, norm_sq_big: float, b_small: int, b_big: int) -> NoiseScale:
    r"""Unbiased :math:`\lVert G\rVert^2`, :math:`\operatorname{tr}\Sigma` and :math:`\mathcal B_{\text{simple}}`
    from the squared gradient norms measured at two batch sizes.

    From :math:`\mathbb E\lVert G_B\rVert^2 = \lVert G\rVert^2 + \operatorname{tr}\Sigma/B`:

    .. math::
        \lVert G\rVert^2 \approx \frac{B_{\text{big}}\lVert G_{B_{\text{big}}}\rVert^2 - B_{\text{small}}\lVert G_{B_{\text{small}}}\rVert^2}{B_{\text{big}} - B_{\text{small}}},
        \qquad
        \operatorname{tr}\Sigma \approx \frac{\lVert G_{B_{\text{small}}}\rVert^2 - \lVert G_{B_{\text{big}}}\rVert^2}{1/B_{\text{small}} - 1/B_{\text{big}}}

    the estimator of :cite:t:`mccandlish2018empirical` (appendix A), which needs no per-example
    gradients: data-parallel training already has the worker (small) and the averaged (big) gradient.
    """
    if not 0 < b_small < b_big:
        raise ValueError(f"need 0 < b_small < b_big, got {b_small}, {b_big}")
    g2 = (b_big * norm_sq_big - b_small * norm_sq_small) / (b_big - b_small)
    tr = (norm_sq_small - norm_sq_big) / (1.0 / b_small - 1.0 / b_big)
    return NoiseScale(float(g2), float(tr), float(tr / g2) if g2 > 0 else math.inf)


def steps_to_target_model(batch_size, s_min: float, b_crit: float):
    r"""McCandlish et al.'s model of the steps to a target: :math:`S(B) = S_{\min}\,(1 + B_{\text{crit}}/B)`.

    .. math:: S(B) = S_{\min}\Big(1 + \frac{B_{\text{crit}}}{B}\Big), \qquad
              E(B) = B\,S(B) = E_{\min}\Big(1 + \frac{B}{B_{\text{crit}}}\Big), \quad E_{\min} = S_{\min} B_{\text{crit}}

    Perfect scaling (:math:`S \propto 1/B`) for :math:`B \ll B_{\text{crit}}`, no gain for
    :math:`B \gg B_{\text{crit}}` :cite:p:`mccandlish2018empirical`.
    """
    b = np.asarray(batch_size, dtype=float)
    return s_min * (1.0 + b_crit / b)


def fit_critical_batch_size(batch_sizes, steps) -> tuple[float, float]:
    r"""Least-squares fit of :math:`S = S_{\min} + (S_{\min}B_{\text{crit}})/B` to measured steps to a target.

    Linear in :math:`1/B`: :math:`S = a + c/B` gives :math:`S_{\min} = a`,
    :math:`B_{\text{crit}} = c/a`. Returns ``(s_min, b_crit)`` :cite:p:`mccandlish2018empirical`.
    Batch sizes whose run never reached the target (``steps`` NaN or inf) are left out.
    """
    b, s = np.asarray(batch_sizes, dtype=float), np.asarray(steps, dtype=float)
    ok = np.isfinite(s)
    if ok.sum() < 2:
        raise ValueError("need at least two batch sizes that reached the target")
    A = np.stack([np.ones(ok.sum()), 1.0 / b[ok]], axis=1)
    (a, c), *_ = np.linalg.lstsq(A, s[ok], rcond=None)
    return float(a), float(c / a)


def linear_scaling(base_lr: float, base_batch_size: int, batch_size: int) -> float:
    r"""The linear scaling rule :math:`\eta = \eta_0\, B / B_0` :cite:p:`goyal2017accurate`.

    From the SGD-noise argument: :math:`k` steps of :math:`\eta_0` on batches of :math:`B_0` move
    by about :math:`-\eta_0 \sum_j g_j`; one step of :math:`\eta` on the union (a batch of
    :math:`kB_0`) moves by :math:`-\eta\,\frac1k\sum_j g_j`; equal when :math:`\eta = k\eta_0`,
    as long as the gradient barely changes over the :math:`k` small steps.
    """
    if base_batch_size <= 0 or batch_size <= 0 or base_lr < 0:
        raise ValueError("batch sizes must be positive and base_lr >= 0")
    return base_lr * batch_size / base_batch_size


def sqrt_scaling(base_lr: float, base_batch_size: int, batch_size: int) -> float:
    r"""Square-root scaling :math:`\eta = \eta_0\sqrt{B/B_0}`: keeps the *variance* of the step,
    :math:`\eta^2 \operatorname{tr}\Sigma/B`, fixed (:cite:t:`hoffer2017train`; often used with Adam)."""
    if base_batch_size <= 0 or batch_size <= 0 or base_lr < 0:
        raise ValueError("batch sizes must be positive and base_lr >= 0")
    return base_lr * math.sqrt(batch_size / base_batch_size)


def warmup_steps(n: int, batch_size: int, warmup_epochs: float) -> int:
    r"""The number of steps of a warmup that lasts ``warmup_epochs`` epochs: :math:`\lceil e\,n/B\rceil`.

    :cite:t:`goyal2017accurate` fix the warmup in *epochs* (5 in their ImageNet runs), so a
    larger batch warms up over fewer steps.
    """
    if n <= 0 or batch_size <= 0 or warmup_epochs < 0:
        raise ValueError("n and batch_size must be positive and warmup_epochs >= 0")
    return math.ceil(warmup_epochs * n / batch_size)


def linear_warmup(lr: float, warmup: int, start_factor: float = 0.0) -> Callable[[int], float]:
    r"""A schedule ``step -> lr`` rising linearly to ``lr`` over ``warmup`` steps, then constant.

    .. math:: \eta_t = \eta\,\Big(f + (1-f)\min\big(1, \tfrac{t+1}{w}\big)\Big)

    (:math:`f` = ``start_factor``; the first update, :math:`t = 0`, already uses
    :math:`\eta(f + (1-f)/w)`). :cite:t:`goyal2017accurate`'s gradual warmup; torch:
    ``LinearLR``; optax: ``optax.linear_schedule`` (chapter 07 has the full schedule family).
    """
    if warmup < 1:
        raise ValueError(f"warmup must be >= 1 step, got {warmup}")
    return lambda t: lr * (start_factor + (1.0 - start_factor) * min(1.0, (t + 1) / warmup))


def hvp_finite_difference(
    grad_fn: Callable[[np.ndarray], np.ndarray], theta: np.ndarray, v: np.ndarray, eps: float = 1e-5
) -> np.ndarray:
    r"""A Hessian-vector product from two gradients (central difference).

    .. math:: H v \approx \frac{\nabla L(\theta + \epsilon v) - \nabla L(\theta - \epsilon v)}{2\epsilon}

    with error :math:`O(\epsilon^2)` (chapter 02); exact products come from forward-over-reverse
    autodiff :cite:p:`pearlmutter1994fast` (``torch.autograd.functional.hvp``, ``jax.jvp(jax.grad(f))``).
    ``eps`` is relative to :math:`\lVert v\rVert`.
    """
    v = np.asarray(v, dtype=float)
    nv = float(np.linalg.norm(v))
    if nv == 0:
        return np.zeros_like(v)
    h = eps / nv
    return (np.asarray(grad_fn(theta + h * v)) - np.asarray(grad_fn(theta - h * v))) / (2 * h)


class PowerIteration(NamedTuple):
    eigenvalue: float  # the Rayleigh quotient v·Hv at the last iterate
    vector: np.ndarray  # the unit eigenvector estimate
    history: np.ndarray  # the Rayleigh quotient after each iteration
    converged: bool


def top_hessian_eigenvalue(
    hvp: Callable[[np.ndarray], np.ndarray], dim: int, *, iters: int = 100, tol: float = 1e-6, seed: int = 0
) -> PowerIteration:
    r"""The eigenvalue of largest magnitude of a symmetric :math:`H`, given only :math:`v \mapsto Hv`.

    .. math:: v_{k+1} = \frac{H v_k}{\lVert H v_k\rVert}, \qquad \lambda_k = v_k^\top H v_k

    from a random unit :math:`v_0`; stops when :math:`|\lambda_k - \lambda_{k-1}| \le \text{tol}\,|\lambda_k|`.
    Converges at rate :math:`|\lambda_2/\lambda_1|`; near a minimum the largest-magnitude
    eigenvalue is the top one, the *sharpness* of :cite:t:`keskar2017large`. torch / jax: the same
    loop around ``hvp`` (e.g. PyHessian); neither library ships it.
    """
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(dim)
    v /= np.linalg.norm(v)
    hist, lam, converged = [], 0.0, False
    for _ in range(iters):
        hv = np.asarray(hvp(v), dtype=float)
        if hv.shape != v.shape:
            raise ValueError(f"hvp returned shape {hv.shape}, expected ({dim},)")
        new = float(v @ hv)
        hist.append(new)
        n = float(np.linalg.norm(hv))
        if n == 0:
            lam, converged = 0.0, True
            break
        v = hv / n
        if len(hist) > 1 and abs(new - lam) <= tol * abs(new):
            lam, converged = new, True
            break
        lam = new
    return PowerIteration(lam, v, np.array(hist), converged)


def steps_to_target(
    loss_and_grad: Callable,
    predict: Callable,
    params: Any,
    tx,
    X: np.ndarray,
    y: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    *,
    batch_size: int,
    target: float,
    max_steps: int,
    seed: int = 0,
) -> float:
    r"""Training steps until the validation accuracy first reaches ``target`` (``inf`` if never).

    The measurement of :cite:t:`shallue2019measuring`: at each batch size, the number of steps
    :math:`S(B)` to reach a target out-of-sample performance, with mini-batches drawn without
    replacement (a new permutation each epoch, the last partial batch dropped). The accuracy is
    checked after every update; a run that goes non-finite counts as never arriving.
    torch / optax: the same loop around ``optimizer.step()`` / ``tx.update``.
    """
    from lib.optim import apply_updates
    from lib.tree import tree_leaves

    n = len(X)
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be between 1 and {n}, got {batch_size}")
    rng = np.random.default_rng(seed)
    state, perm, pos = tx.init(params), rng.permutation(n), 0
    with np.errstate(all="ignore"):
        for t in range(max_steps):
            if pos + batch_size > n:
                perm, pos = rng.permutation(n), 0
            idx = perm[pos : pos + batch_size]
            pos += batch_size
            _, g = loss_and_grad(params, X[idx], y[idx])
            updates, state = tx.update(g, state, params)
            params = apply_updates(params, updates)
            if not all(np.all(np.isfinite(p)) for p in tree_leaves(params)):
                return math.inf
            if np.mean(np.argmax(predict(params, X_val), axis=1) == y_val) >= target:
                return float(t + 1)
    return math.inf
