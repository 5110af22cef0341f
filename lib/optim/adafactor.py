r"""Adafactor: Adam's second moment in sublinear memory, with a step relative to the weights.

For a matrix gradient :math:`G \in \mathbb R^{n\times m}`, Adafactor :cite:p:`shazeer2018adafactor`
keeps only leaky averages of the row means :math:`r \in \mathbb R^{n}` and the column means
:math:`c \in \mathbb R^{m}` of :math:`G^2` (:math:`n + m` numbers instead of :math:`nm`) and
rebuilds the second moment as the rank-1 matrix

.. math:: \hat V = \frac{r\, c^\top}{\operatorname{mean}(r)},

the minimiser of the generalised KL divergence to the full :math:`V` among nonnegative rank-1
matrices (derived and checked in chapter 11). :func:`factored_second_moment` is that formula.
Vectors and scalars keep an unfactored second moment, as in RMSprop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from lib.optim._leaves import as_like, rebuild
from lib.optim.base import GradientTransformation, check_grads
from lib.optim.transforms import LearningRate, learning_rate_at
from lib.tree import tree_leaves

__all__ = ["AdafactorState", "adafactor", "factored_second_moment"]


class AdafactorState(NamedTuple):
    count: int  # updates so far (torch: state["step"])
    row_var: Any  # per leaf: (..., n, 1) leaky row means of g^2 for ndim >= 2, else None
    col_var: Any  # per leaf: (..., 1, m) leaky column means of g^2 for ndim >= 2, else None
    variance: Any  # per leaf: the full leaky average of g^2 for ndim <= 1, else None


def factored_second_moment(row_var: np.ndarray, col_var: np.ndarray, eps1: float = 0.0) -> np.ndarray:
    r"""Adafactor's rank-1 estimate of :math:`E[G^2]` from its row and column means.

    .. math:: \hat V = \frac{r\,c^\top}{\max(\operatorname{mean}_i r_i,\ \varepsilon_1)}
        \qquad (r: (\ldots, n, 1),\ c: (\ldots, 1, m))

    With row *sums* :math:`R = m r` and column sums :math:`C = n c` this is the paper's
    :math:`R C / (1^\top R)` :cite:p:`shazeer2018adafactor`. torch: the ``var_estimate`` inside
    ``torch.optim.Adafactor`` (``row_var @ col_var / row_var.mean(-2).clamp(min=eps1)``); optax:
    ``optax.scale_by_factored_rms`` stores the same two factors.

    >>> import numpy as np
    >>> g2 = np.outer([1.0, 4.0], [1.0, 2.0, 3.0])       # an exactly rank-1 G^2
    >>> r, c = g2.mean(axis=1, keepdims=True), g2.mean(axis=0, keepdims=True)
    >>> bool(np.allclose(factored_second_moment(r, c), g2))
    True
    """
    r, c = np.asarray(row_var), np.asarray(col_var)
    if r.ndim < 2 or r.shape[-1] != 1 or c.ndim < 2 or c.shape[-2] != 1:
        raise ValueError(f"row_var must have shape (..., n, 1) and col_var (..., 1, m); got {r.shape} and {c.shape}")
    est = r @ c
    return est / np.maximum(r.mean(axis=-2, keepdims=True), eps1)


def _check_args(lr, beta2_decay, eps, d, weight_decay):
    if not callable(lr) and not 0.0 <= lr:
        raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
    if not 0.0 >= beta2_decay:
        raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
    try:
        eps1, eps2 = eps
    except (TypeError, ValueError):
        raise ValueError(f"eps must be a pair (eps1, eps2) with eps1 possibly None, got {eps!r}") from None
    if eps1 is not None and not 0.0 <= eps1:
        raise ValueError(f"epsilon1 should be >= 0 but is: {eps1}")
    if not 0.0 <= eps2:
        raise ValueError(f"epsilon2 should be >= 0 but is: {eps2}")
    if not 1.0 <= d:
        raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
    return eps1, float(eps2)


def adafactor(
    lr: LearningRate = 1e-2,
    beta2_decay: float = -0.8,
    eps: Sequence = (None, 1e-3),
    d: float = 1.0,
    weight_decay: float = 0.0,
    *,
    maximize: bool = False,
) -> GradientTransformation:
    r"""Adafactor, exactly as ``torch.optim.Adafactor``.

    With :math:`t = 1, 2, \ldots`, :math:`\hat\beta_{2,t} = 1 - t^{c}` (:math:`c` = ``beta2_decay``),
    for a parameter :math:`X` of two or more dimensions (factored over the last two):

    .. math::
        \rho_t &= \min(\eta,\ 1/\sqrt t), \qquad
        \alpha_t = \max(\varepsilon_2,\ \operatorname{RMS}(X_{t-1}))\,\rho_t \\
        r_t &= \hat\beta_{2,t} r_{t-1} + (1-\hat\beta_{2,t})\operatorname{mean}_{\text{cols}}(G_t^2),
        \quad c_t = \hat\beta_{2,t} c_{t-1} + (1-\hat\beta_{2,t})\operatorname{mean}_{\text{rows}}(G_t^2) \\
        \hat V_t &= r_t c_t^\top / \max(\operatorname{mean}(r_t), \varepsilon_1), \qquad
        U_t = G_t / \sqrt{\max(\hat V_t, \varepsilon_1^2)} \\
        X_t &= (1 - \eta\lambda)\,X_{t-1} - \frac{\alpha_t}{\max(1, \operatorname{RMS}(U_t)/d)}\, U_t

    and for vectors and scalars :math:`\hat V_t = v_t`, the unfactored leaky average of
    :math:`G_t^2`. :math:`\varepsilon_1` = ``None`` means the machine epsilon of the parameter's
    dtype (torch takes it from the first parameter of a group and keeps it for the others; here each
    parameter uses its own dtype's, the same when all parameters share one dtype). This is the final
    algorithm of :cite:t:`shazeer2018adafactor` (matrices and vectors) with three departures, all
    torch's: :math:`\eta` replaces the paper's constant :math:`10^{-2}` in :math:`\rho_t`;
    :math:`\varepsilon_1` is a floor on :math:`\hat V` (the paper adds it to :math:`G^2`); and
    decoupled weight decay :math:`\eta\lambda` is added. There is no momentum (:math:`\beta_1 = 0`).

    torch: ``torch.optim.Adafactor(params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
    weight_decay=0.0, maximize=False)`` with torch's checks. optax: ``optax.adafactor`` (different
    defaults: a fixed ``learning_rate``, ``multiply_by_parameter_scale``, factoring only above
    ``min_dim_size_to_factor=128``).

    >>> import numpy as np
    >>> tx = adafactor(lr=0.01)
    >>> p = np.ones((2, 3))
    >>> u, s = tx.update(np.full((2, 3), 5.0), tx.init(p), p)
    >>> float(u[0, 0])               # first step: -lr * RMS(p) * sign(g)
    -0.01
    >>> s.row_var.shape, s.col_var.shape     # n + m numbers instead of n * m
    ((2, 1), (1, 3))
    """
    eps1_arg, eps2 = _check_args(lr, beta2_decay, eps, d, weight_decay)
    beta2_decay, d, weight_decay = float(beta2_decay), float(d), float(weight_decay)

    def init(params):
        rows, cols, var = [], [], []
        for p in tree_leaves(params):
            p = np.asarray(p)
            dt = p.dtype if p.dtype.kind == "f" else np.float64
            if p.ndim > 1:
                rows.append(np.zeros(p.shape[:-1] + (1,), dt))
                cols.append(np.zeros(p.shape[:-2] + (1, p.shape[-1]), dt))
                var.append(None)
            else:
                rows.append(None)
                cols.append(None)
                var.append(np.zeros(p.shape, dt))
        return AdafactorState(0, rebuild(params, rows), rebuild(params, cols), rebuild(params, var))

    def update(grads, state, params=None):
        if params is None:
            raise ValueError(
                "adafactor needs the parameters (its step is relative to their RMS): call update(grads, state, params)"
            )
        check_grads(grads, params)
        t = state.count + 1
        eta = learning_rate_at(lr, state.count)
        one_minus_beta2_t = float(t) ** beta2_decay
        rho_t = min(eta, 1 / (float(t) ** 0.5))
        leaves = zip(
            tree_leaves(grads),
            tree_leaves(params),
            tree_leaves(state.row_var),
            tree_leaves(state.col_var),
            tree_leaves(state.variance),
        )
        out, rows, cols, var = [], [], [], []
        for g, p, r, c, v in leaves:
            p = np.asarray(p)
            like = v if r is None else r
            g = as_like(g, like)
            if maximize:
                g = -g
            eps1 = np.finfo(like.dtype).eps if eps1_arg is None else eps1_arg
            alpha = max(eps2, float(np.linalg.norm(p.ravel())) / (p.size**0.5)) * rho_t
            if g.ndim > 1:
                g2 = g * g
                r = r + one_minus_beta2_t * (g2.mean(axis=-1, keepdims=True) - r)
                c = c + one_minus_beta2_t * (g2.mean(axis=-2, keepdims=True) - c)
                # factored_second_moment(r, c, eps1), written into g2 (no longer needed)
                v_hat = np.matmul(r, c, out=g2) if g2.shape == np.broadcast_shapes(r.shape, c.shape) else r @ c
                v_hat /= np.maximum(r.mean(axis=-2, keepdims=True), eps1)
                u = np.maximum(v_hat, eps1 * eps1, out=v_hat)
            else:
                v = v + one_minus_beta2_t * (g * g - v)
                u = np.asarray(np.maximum(v, eps1 * eps1))  # a fresh array (0-d for a scalar)
            np.sqrt(u, out=u)
            np.divide(g, u, out=u)  # u = g / sqrt(max(v_hat, eps1²))
            denom = max(1.0, float(np.linalg.norm(u.ravel())) / ((u.size**0.5) * d))
            step = np.multiply(u, -alpha / denom, out=u)
            if weight_decay:
                step = step - (eta * weight_decay) * p.astype(step.dtype, copy=False)
            out.append(np.asarray(step))
            rows.append(r)
            cols.append(c)
            var.append(v if g.ndim <= 1 else None)
        return rebuild(grads, out), AdafactorState(t, rebuild(grads, rows), rebuild(grads, cols), rebuild(grads, var))

    return GradientTransformation(init, update)
