r"""Adaptive gradient transformations: a per-coordinate step size from past gradients.

Each function here returns a :class:`~lib.optim.GradientTransformation` that turns the
gradient into a *direction* scaled per coordinate; the learning rate and the sign come later,
from :func:`lib.optim.scale_by_learning_rate`. The named optimizers
(:func:`lib.optim.adam`, :func:`lib.optim.rmsprop`, ...) are chains of these links::

    adam(lr, betas, eps)  ==  chain(scale_by_adam(b1, b2, eps), scale_by_learning_rate(lr))

Conventions (the same in every transform):

* the step counter :math:`t` starts at 1 for the first update (so bias corrections
  :math:`1-\beta^t` are never 0);
* the state is a ``NamedTuple`` of fresh arrays; ``update`` never modifies ``grads``,
  ``params`` or the old state in place and never stores a reference to a gradient (it does
  modify, in place, arrays it has just allocated itself: that is what makes it fast);
* arithmetic follows ``torch.optim`` (or ``optax`` for AdaBelief) operation for operation
  where that matters for exact agreement; float32 parameters give float32 states and updates.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from lib.optim.base import GradientTransformation, check_grads, owning
from lib.optim.transforms import _check_nonnegative
from lib.tree import tree_map

__all__ = [
    "ScaleByAdagradState",
    "ScaleByRmsState",
    "ScaleByAdamState",
    "ScaleByAdamaxState",
    "ScaleByNadamState",
    "ScaleByRadamState",
    "ScaleByBeliefState",
    "scale_by_adagrad",
    "scale_by_rms",
    "scale_by_adam",
    "scale_by_adamax",
    "scale_by_nadam",
    "scale_by_radam",
    "scale_by_belief",
]


# --------------------------------------------------------------------------- helpers


def _check_beta(index: int, value: Any) -> float:
    """torch's check ``0 <= beta < 1`` with torch's message."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"beta parameter at index {index} must be a real number, got {value!r}")
    value = float(value)
    if not 0.0 <= value < 1.0:  # also rejects nan
        raise ValueError(f"Invalid beta parameter at index {index}: {value}. Each beta must be in [0, 1).")
    return value


def _own(x: Any) -> np.ndarray:
    """``x`` as an ndarray (NumPy returns 0-d results as scalars, which ``out=`` rejects)."""
    return x if isinstance(x, np.ndarray) else np.asarray(x)


def _zeros(params: Any) -> Any:
    return tree_map(lambda p: np.zeros_like(np.asarray(p)), params)


class _Results:
    """A leaf holding the several arrays one leaf function returns (not a tuple, so that
    :func:`lib.tree.tree_map` treats it as a leaf)."""

    __slots__ = ("values",)

    def __init__(self, values):
        self.values = values


def _as_float(g: Any, like: Any) -> np.ndarray:
    """The gradient as a floating array (integer gradients take the state's float dtype), so that
    the in-place updates below never have to cast a float into an integer array."""
    g = np.asarray(g)
    if g.dtype.kind != "f":
        like = np.asarray(like)
        g = g.astype(like.dtype if like.dtype.kind == "f" else np.float64)
    return g


def _map_leaves(fn, n_out: int, grads: Any, *states: Any) -> tuple:
    """``fn(g, *state_leaves) -> (a_1, ..., a_n)`` leaf by leaf; returns ``n_out`` trees like ``grads``."""
    if isinstance(grads, np.ndarray) and all(isinstance(s, np.ndarray) for s in states):
        out = fn(_as_float(grads, states[0] if states else grads), *states)  # one array: no tree to walk
        return tuple(out[i] for i in range(n_out))
    results = tree_map(
        lambda g, *leaves: _Results(fn(_as_float(g, leaves[0] if leaves else g), *map(np.asarray, leaves))),
        grads,
        *states,
    )
    return tuple(tree_map(lambda r, i=i: r.values[i], results) for i in range(n_out))


def _check(grads: Any, like: Any) -> None:
    """Same structure and shapes as the state (which mirrors the parameters), or a clear error."""
    check_grads(grads, like)


def _lerp(old: np.ndarray, g: np.ndarray, weight: float) -> np.ndarray:
    r"""A fresh :math:`\text{old} + w\,(g - \text{old}) = (1-w)\,\text{old} + w\,g` (torch's ``lerp_``)."""
    new = _own(g - old)
    new *= weight
    new += old
    return new


def _ema_square(old: np.ndarray, g: np.ndarray, decay: float) -> tuple[np.ndarray, np.ndarray]:
    r"""A fresh :math:`\beta\,v + (1-\beta)\,g^2` (torch's ``v.mul_(β).addcmul_(g, g, value=1-β)``),
    and a spare array of the same shape that the caller may overwrite (it held :math:`\beta v`)."""
    spare = _own(old * decay)
    if g.dtype != spare.dtype:  # mixed precision: the result takes the wider type, as before
        sq = _own(g * g)
        sq *= 1.0 - decay
        new = _own(spare + sq)
        return new, np.empty_like(new)
    new = _own(g * g)
    new *= 1.0 - decay
    new += spare  # (1-β) g² + β v: the same sum as β v + (1-β) g²
    return new, spare


# --------------------------------------------------------------------------- Adagrad


class ScaleByAdagradState(NamedTuple):
    sum_of_squares: Any  # G_t = G_0 + sum of g_s^2, a tree like params (torch: state["sum"])


def scale_by_adagrad(eps: float = 1e-10, initial_accumulator_value: float = 0.0) -> GradientTransformation:
    r"""Adagrad's scaling: divide by the root of the sum of all past squared gradients.

    .. math::
        G_t = G_{t-1} + g_t^2 \quad (G_0 = \texttt{initial\_accumulator\_value}), \qquad
        u_t = \frac{g_t}{\sqrt{G_t} + \varepsilon}

    (all operations per coordinate). Coordinates with large or frequent gradients get small
    steps, rare ones large steps :cite:p:`duchi2011adaptive`; because :math:`G_t` only grows,
    the effective step :math:`\eta/\sqrt{G_t}` shrinks forever. The paper's diagonal version
    has no :math:`\varepsilon`; torch adds it outside the root.

    torch: the scaling inside ``torch.optim.Adagrad`` (``state["sum"]``); the named
    optimizer :func:`lib.optim.adagrad` adds weight decay and ``lr_decay``. optax:
    ``optax.scale_by_rss(initial_accumulator_value, eps)`` puts :math:`\varepsilon` *inside*
    the root (``1/sqrt(G + eps)``) and defaults ``initial_accumulator_value=0.1``.

    >>> import numpy as np
    >>> tx = scale_by_adagrad()
    >>> u, state = tx.update(np.array([3.0, -0.5]), tx.init(np.zeros(2)))
    >>> np.round(u, 6)          # the first step is g/|g|: every coordinate moves by the same lr
    array([ 1., -1.])
    """
    eps = _check_nonnegative("epsilon", eps)
    initial_accumulator_value = _check_nonnegative("initial_accumulator_value", initial_accumulator_value)

    def init(params):
        return ScaleByAdagradState(tree_map(lambda p: np.full_like(np.asarray(p), initial_accumulator_value), params))

    def leaf(g, s_old):
        s = _own(g * g)
        s += s_old
        denom = _own(np.sqrt(s))
        denom += eps
        return np.divide(g, denom, out=denom), s

    @owning  # the updates are fresh arrays (see lib.optim.chain)
    def update(grads, state, params=None):
        _check(grads, state.sum_of_squares)
        updates, sums = _map_leaves(leaf, 2, grads, state.sum_of_squares)
        return updates, ScaleByAdagradState(sums)

    return GradientTransformation(init, update)


# --------------------------------------------------------------------------- RMSprop


class ScaleByRmsState(NamedTuple):
    square_avg: Any  # v_t, a tree like params (torch: state["square_avg"])
    grad_avg: Any  # \bar g_t when centered, else None (torch: state["grad_avg"])


def scale_by_rms(alpha: float = 0.99, eps: float = 1e-8, centered: bool = False) -> GradientTransformation:
    r"""RMSprop's scaling: divide by the root of a leaky average of squared gradients.

    .. math::
        v_t = \alpha\, v_{t-1} + (1-\alpha)\, g_t^2 \quad (v_0 = 0), \qquad
        u_t = \frac{g_t}{\sqrt{v_t} + \varepsilon}

    and with ``centered=True`` the (estimated) variance replaces the second moment:
    :math:`\bar g_t = \alpha \bar g_{t-1} + (1-\alpha) g_t`,
    :math:`u_t = g_t / (\sqrt{v_t - \bar g_t^2} + \varepsilon)`. RMSprop is "Adagrad with a
    leaky sum" :cite:p:`tieleman2012lecture`; the *current* :math:`v_t` (already including
    :math:`g_t`) divides :math:`g_t`. There is no bias correction: :math:`v_1 = (1-\alpha)
    g_1^2` is small, so the first steps are about :math:`1/\sqrt{1-\alpha} = 10` times larger
    than later ones (compare :func:`scale_by_adam`).

    torch: the scaling inside ``torch.optim.RMSprop(alpha, eps, centered)``; its
    ``momentum`` is :func:`lib.optim.trace` after this link (see :func:`lib.optim.rmsprop`).
    optax: ``optax.scale_by_rms(decay=alpha, eps, initial_scale=0.)`` puts
    :math:`\varepsilon` inside the root (``g / sqrt(v + eps)``), and
    ``optax.scale_by_stddev`` is the centred version.

    >>> import numpy as np
    >>> tx = scale_by_rms(alpha=0.9)
    >>> u, state = tx.update(np.array([2.0, -0.1]), tx.init(np.zeros(2)))
    >>> np.round(u, 4)           # g / sqrt(0.1 g^2) = sign(g) * sqrt(10)
    array([ 3.1623, -3.1623])
    """
    alpha = _check_nonnegative("alpha", alpha)
    eps = _check_nonnegative("epsilon", eps)

    def init(params):
        return ScaleByRmsState(_zeros(params), _zeros(params) if centered else None)

    def leaf(g, v_old, m_old=None):
        v, denom = _ema_square(v_old, g, alpha)
        if centered:
            m = _lerp(m_old, g, 1.0 - alpha)
            np.multiply(m, m, out=denom)
            np.subtract(v, denom, out=denom)
            np.sqrt(denom, out=denom)
        else:
            m = None
            np.sqrt(v, out=denom)
        denom += eps
        return np.divide(g, denom, out=denom), v, m

    @owning
    def update(grads, state, params=None):
        _check(grads, state.square_avg)
        if centered:
            updates, v, m = _map_leaves(leaf, 3, grads, state.square_avg, state.grad_avg)
            return updates, ScaleByRmsState(v, m)
        updates, v = _map_leaves(lambda g, v_old: leaf(g, v_old)[:2], 2, grads, state.square_avg)
        return updates, ScaleByRmsState(v, None)

    return GradientTransformation(init, update)


# --------------------------------------------------------------------------- Adam / AMSGrad


class ScaleByAdamState(NamedTuple):
    count: int  # updates so far (torch: state["step"]); the next update has t = count + 1
    mu: Any  # m_t, first moment (torch: state["exp_avg"])
    nu: Any  # v_t, second moment (torch: state["exp_avg_sq"])
    nu_max: Any  # max_{s<=t} v_s with amsgrad=True, else None (torch: state["max_exp_avg_sq"])


def scale_by_adam(
    b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, eps_root: float = 0.0, amsgrad: bool = False
) -> GradientTransformation:
    r"""Adam's scaling: a bias-corrected first moment over the root of a bias-corrected second.

    With :math:`t = 1, 2, \ldots` (the first update has :math:`t = 1`):

    .. math::
        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \qquad (m_0 = v_0 = 0) \\
        \hat m_t &= \frac{m_t}{1-\beta_1^t}, \qquad \hat v_t = \frac{v_t}{1-\beta_2^t}, \qquad
        u_t = \frac{\hat m_t}{\sqrt{\hat v_t + \varepsilon_{\text{root}}} + \varepsilon}

    :cite:p:`kingma2015adam` (Algorithm 1; :math:`\varepsilon` outside the root, as in the
    paper and torch; :math:`\varepsilon_{\text{root}} = 0` by default). With
    ``amsgrad=True`` the denominator uses :math:`\max_{s \le t} v_s` instead of :math:`v_t`, so
    the effective step never grows :cite:p:`reddi2018convergence` (torch's variant: the
    maximum of the *uncorrected* :math:`v`, then divided by :math:`1-\beta_2^t`).

    torch: the scaling inside ``torch.optim.Adam(betas=(b1, b2), eps, amsgrad)``, step for
    step (``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq``). optax:
    ``optax.scale_by_adam(b1, b2, eps, eps_root)`` (``optax.scale_by_amsgrad`` takes the
    maximum of the *bias-corrected* :math:`\hat v`, a slightly different AMSGrad).

    >>> import numpy as np
    >>> tx = scale_by_adam()
    >>> u, state = tx.update(np.array([0.5, -50.0]), tx.init(np.zeros(2)))
    >>> np.round(u, 6)       # first step: m̂/sqrt(v̂) = g/|g|, whatever the gradient's scale
    array([ 1., -1.])
    """
    b1, b2 = _check_beta(0, b1), _check_beta(1, b2)
    eps = _check_nonnegative("epsilon", eps)
    eps_root = _check_nonnegative("eps_root", eps_root)

    def init(params):
        return ScaleByAdamState(0, _zeros(params), _zeros(params), _zeros(params) if amsgrad else None)

    def update(grads, state, params=None):
        _check(grads, state.mu)
        t = state.count + 1
        bc1, bc2 = 1.0 - b1**t, 1.0 - b2**t

        def leaf(g, m_old, v_old, vmax_old=None):
            m = _lerp(m_old, g, 1.0 - b1)
            v, denom = _ema_square(v_old, g, b2)  # denom: a spare array, overwritten below
            vmax = np.maximum(vmax_old, v) if amsgrad else None
            second = vmax if amsgrad else v
            if eps_root:  # optax's form: sqrt(v̂ + eps_root) + eps
                np.divide(second, bc2, out=denom)
                denom += eps_root
                np.sqrt(denom, out=denom)
                denom += eps
                denom *= bc1
            else:  # torch's form, with the 1/bc1 of m̂ folded in (one pass less):
                # m̂ / (sqrt(v)/sqrt(bc2) + eps) = m / (bc1 * (sqrt(v)/sqrt(bc2) + eps))
                np.sqrt(second, out=denom)
                denom *= bc1 / math.sqrt(bc2)
                denom += bc1 * eps
            return np.divide(m, denom, out=denom), m, v, vmax

        if amsgrad:
            updates, mu, nu, nu_max = _map_leaves(leaf, 4, grads, state.mu, state.nu, state.nu_max)
        else:
            updates, mu, nu = _map_leaves(lambda *a: leaf(*a)[:3], 3, grads, state.mu, state.nu)
            nu_max = None
        return updates, ScaleByAdamState(t, mu, nu, nu_max)

    return GradientTransformation(init, owning(update))


# --------------------------------------------------------------------------- AdaMax


class ScaleByAdamaxState(NamedTuple):
    count: int  # updates so far (torch: state["step"])
    mu: Any  # m_t (torch: state["exp_avg"])
    u_inf: Any  # u_t, the exponentially weighted infinity norm (torch: state["exp_inf"])


def scale_by_adamax(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> GradientTransformation:
    r"""AdaMax's scaling: Adam with the :math:`L^\infty` norm of past gradients.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
        u^\infty_t = \max\!\left(\beta_2\, u^\infty_{t-1},\ |g_t| + \varepsilon\right), \qquad
        \text{update}_t = \frac{m_t}{(1-\beta_1^t)\, u^\infty_t}

    the :math:`p \to \infty` limit of Adam with an :math:`L^p` second moment
    (:cite:t:`kingma2015adam`, Algorithm 2). The paper has
    :math:`u_t = \max(\beta_2 u_{t-1}, |g_t|)` and no :math:`\varepsilon`; torch puts
    :math:`\varepsilon` inside the maximum (which keeps :math:`u_t > 0` for zero gradients).
    No bias correction is needed for :math:`u_t`.

    torch: the scaling inside ``torch.optim.Adamax(betas, eps)``. optax:
    ``optax.scale_by_adamax(b1, b2, eps)`` adds :math:`\varepsilon` outside, to the divisor.

    >>> import numpy as np
    >>> tx = scale_by_adamax()
    >>> u, state = tx.update(np.array([4.0, -0.25]), tx.init(np.zeros(2)))
    >>> np.round(u, 6)
    array([ 1., -1.])
    """
    b1, b2 = _check_beta(0, b1), _check_beta(1, b2)
    eps = _check_nonnegative("epsilon", eps)

    def init(params):
        return ScaleByAdamaxState(0, _zeros(params), _zeros(params))

    def update(grads, state, params=None):
        _check(grads, state.mu)
        t = state.count + 1
        bc1 = 1.0 - b1**t

        def leaf(g, m_old, u_old):
            m = _lerp(m_old, g, 1.0 - b1)
            u_inf = _own(u_old * b2)
            denom = _own(np.abs(g))
            denom += eps
            np.maximum(u_inf, denom, out=u_inf)
            np.multiply(u_inf, bc1, out=denom)
            return np.divide(m, denom, out=denom), m, u_inf

        updates, mu, u_inf = _map_leaves(leaf, 3, grads, state.mu, state.u_inf)
        return updates, ScaleByAdamaxState(t, mu, u_inf)

    return GradientTransformation(init, owning(update))


# --------------------------------------------------------------------------- NAdam


class ScaleByNadamState(NamedTuple):
    count: int  # updates so far (torch: state["step"])
    mu: Any  # m_t (torch: state["exp_avg"])
    nu: Any  # v_t (torch: state["exp_avg_sq"])
    mu_product: float  # prod_{s<=t} mu_s (torch: state["mu_product"], one per tensor, all equal)


def scale_by_nadam(
    b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, momentum_decay: float = 4e-3
) -> GradientTransformation:
    r"""NAdam's scaling: Adam with a Nesterov look-ahead and torch's momentum schedule.

    With the momentum schedule :math:`\mu_t = \beta_1\,(1 - \tfrac12\, 0.96^{t\,\psi})`
    (:math:`\psi` = ``momentum_decay``) and its running product
    :math:`\Pi_t = \prod_{s \le t} \mu_s`:

    .. math::
        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2, \qquad
        d_t = \sqrt{v_t / (1-\beta_2^t)} + \varepsilon \\
        u_t &= \frac{1-\mu_t}{1-\Pi_t}\, \frac{g_t}{d_t}
              + \frac{\mu_{t+1}}{1-\Pi_t\,\mu_{t+1}}\, \frac{m_t}{d_t}

    :cite:p:`dozat2016incorporating`: the momentum part of the step uses the *next*
    :math:`\mu_{t+1}` (the look-ahead of Nesterov momentum) and the bias correction of
    :math:`m` is the product of the :math:`\mu_s`, not :math:`\beta_1^t`. The
    :math:`0.96^{t\psi}` warm-up of :math:`\mu_t` is Dozat's (torch's default
    :math:`\psi = 0.004`); with :math:`\psi = 0` the schedule is constant,
    :math:`\mu_t = \beta_1/2`.

    torch: the scaling inside ``torch.optim.NAdam(betas, eps, momentum_decay)``, including its
    ``mu_product`` state. optax: ``optax.nadam`` is ``optax.adam(..., nesterov=True)``, a
    different NAdam (constant :math:`\beta_1`, no :math:`\mu_t` schedule).

    >>> import numpy as np
    >>> tx = scale_by_nadam()
    >>> u, state = tx.update(np.array([1.0]), tx.init(np.zeros(1)))
    >>> round(state.mu_product, 6)        # mu_1 = 0.9 * (1 - 0.5 * 0.96**0.004)
    0.450073
    """
    b1, b2 = _check_beta(0, b1), _check_beta(1, b2)
    eps = _check_nonnegative("epsilon", eps)
    momentum_decay = _check_nonnegative("momentum_decay", momentum_decay)

    def init(params):
        return ScaleByNadamState(0, _zeros(params), _zeros(params), 1.0)

    def update(grads, state, params=None):
        _check(grads, state.mu)
        t = state.count + 1
        bc2 = 1.0 - b2**t
        mu_t = b1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        mu_product = state.mu_product * mu_t
        coef_g = (1.0 - mu_t) / (1.0 - mu_product)
        coef_m = mu_next / (1.0 - mu_product * mu_next)

        def leaf(g, m_old, v_old):
            m = _lerp(m_old, g, 1.0 - b1)
            v, spare = _ema_square(v_old, g, b2)
            u = _own(g * coef_g)
            u += np.multiply(m, coef_m, out=spare)
            denom = np.divide(v, bc2, out=spare)
            np.sqrt(denom, out=denom)
            denom += eps
            u /= denom
            return u, m, v

        updates, mu, nu = _map_leaves(leaf, 3, grads, state.mu, state.nu)
        return updates, ScaleByNadamState(t, mu, nu, mu_product)

    return GradientTransformation(init, owning(update))


# --------------------------------------------------------------------------- RAdam


class ScaleByRadamState(NamedTuple):
    count: int  # updates so far (torch: state["step"])
    mu: Any  # m_t (torch: state["exp_avg"])
    nu: Any  # v_t (torch: state["exp_avg_sq"])


def scale_by_radam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> GradientTransformation:
    r"""RAdam's scaling: Adam whose adaptive factor is switched on gradually (rectified).

    With :math:`\rho_\infty = 2/(1-\beta_2) - 1` and
    :math:`\rho_t = \rho_\infty - 2t\beta_2^t/(1-\beta_2^t)` (the length of the
    approximated simple moving average):

    .. math::
        \hat m_t = \frac{m_t}{1-\beta_1^t}, \qquad
        u_t = \begin{cases}
          r_t\, \hat m_t\, \dfrac{\sqrt{1-\beta_2^t}}{\sqrt{v_t} + \varepsilon}, &
            r_t = \sqrt{\dfrac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}},
            \quad \rho_t > 5 \\
          \hat m_t & \rho_t \le 5 \text{ (momentum SGD)}
        \end{cases}

    with :math:`m_t, v_t` as in :func:`scale_by_adam` :cite:p:`liu2020variance`. The
    variance of the adaptive factor is infinite for the first few steps; RAdam uses plain
    momentum there (:math:`\rho_t \le 5`: the first 5 steps for :math:`\beta_2 = 0.999`) and
    then multiplies Adam's step by :math:`r_t \uparrow 1`, an automatic learning-rate warm-up.
    Note torch's :math:`\varepsilon` placement: added to :math:`\sqrt{v_t}` *before* the bias
    correction (Adam adds it after).

    torch: the scaling inside ``torch.optim.RAdam(betas, eps)`` (threshold 5, as here).
    optax: ``optax.scale_by_radam(b1, b2, eps, threshold=5.0)`` (:math:`\varepsilon` added to
    :math:`\sqrt{\hat v_t}`, after the bias correction).

    >>> import numpy as np
    >>> tx = scale_by_radam()
    >>> u, state = tx.update(np.array([4.0, -0.25]), tx.init(np.zeros(2)))
    >>> u                   # rho_1 = 1 <= 5: the first step is the bias-corrected gradient
    array([ 4.  , -0.25])
    """
    b1, b2 = _check_beta(0, b1), _check_beta(1, b2)
    eps = _check_nonnegative("epsilon", eps)
    rho_inf = 2.0 / (1.0 - b2) - 1.0

    def init(params):
        return ScaleByRadamState(0, _zeros(params), _zeros(params))

    def update(grads, state, params=None):
        _check(grads, state.mu)
        t = state.count + 1
        bc1, bc2 = 1.0 - b1**t, 1.0 - b2**t
        rho_t = rho_inf - 2.0 * t * b2**t / bc2
        rectified = rho_t > 5.0
        if rectified:
            r_t = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))

        def leaf(g, m_old, v_old):
            m = _lerp(m_old, g, 1.0 - b1)
            v, spare = _ema_square(v_old, g, b2)
            u = np.divide(m, bc1, out=spare)
            if rectified:
                denom = _own(np.sqrt(v))
                denom += eps
                np.divide(u, denom, out=u)
                u *= math.sqrt(bc2) * r_t
            return u, m, v

        updates, mu, nu = _map_leaves(leaf, 3, grads, state.mu, state.nu)
        return updates, ScaleByRadamState(t, mu, nu)

    return GradientTransformation(init, owning(update))


# --------------------------------------------------------------------------- AdaBelief


class ScaleByBeliefState(NamedTuple):
    count: int  # updates so far (optax: count)
    mu: Any  # m_t (optax: mu)
    nu: Any  # s_t, EMA of the squared prediction error (g_t - m_t)^2, plus eps_root (optax: nu)


def scale_by_belief(
    b1: float = 0.9, b2: float = 0.999, eps: float = 1e-16, eps_root: float = 1e-16, nesterov: bool = False
) -> GradientTransformation:
    r"""AdaBelief's scaling: Adam with the *centred* second moment ("belief" in the gradient).

    Exactly ``optax.scale_by_belief``:

    .. math::
        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
        s_t &= \beta_2 s_{t-1} + (1-\beta_2)\, (g_t - m_t)^2 + \varepsilon_{\text{root}} \\
        u_t &= \frac{m_t / (1-\beta_1^t)}{\sqrt{s_t / (1-\beta_2^t)} + \varepsilon}

    :cite:p:`zhuang2020adabelief`. Where a gradient agrees with its prediction :math:`m_t`,
    :math:`s_t` is small and the step large; a surprising gradient gives a small step.
    Placement of the two epsilons: the paper's Algorithm 2 adds :math:`\epsilon` *inside*
    :math:`s_t` (``eps_root`` here, stored in the state and so accumulated over steps) and
    then writes :math:`\hat m_t / (\sqrt{\hat s_t} + \epsilon)` (``eps`` here, outside the root):
    the same :math:`\epsilon` twice. optax (and this function) keeps both places with
    separate values, both :math:`10^{-16}` by default (optax's note gives the paper's
    defaults as ``eps=1e-8``, ``eps_root=0``). With ``nesterov=True`` :math:`\hat m_t` is replaced by optax's look-ahead
    :math:`\beta_1 m_t/(1-\beta_1^{t+1}) + (1-\beta_1) g_t/(1-\beta_1^t)`.

    optax: ``optax.scale_by_belief(b1, b2, eps, eps_root, nesterov=nesterov)`` (golden data
    from optax). torch has no AdaBelief in ``torch.optim`` (the authors' package
    ``adabelief-pytorch`` puts ``eps`` inside the second moment too).

    >>> import numpy as np
    >>> tx = scale_by_belief()
    >>> u, state = tx.update(np.array([2.0]), tx.init(np.zeros(1)))
    >>> np.round(u, 6)       # s_1 = (1-b2) (0.9 g)^2: the first step is g/|g| / 0.9
    array([1.111111])
    """
    b1, b2 = _check_beta(0, b1), _check_beta(1, b2)
    eps = _check_nonnegative("epsilon", eps)
    eps_root = _check_nonnegative("eps_root", eps_root)

    def init(params):
        return ScaleByBeliefState(0, _zeros(params), _zeros(params))

    def update(grads, state, params=None):
        _check(grads, state.mu)
        t = state.count + 1
        bc1, bc2 = 1.0 - b1**t, 1.0 - b2**t

        def leaf(g, m_old, s_old):
            spare = _own(m_old * b1)
            m = _own(g * (1.0 - b1))  # optax's order: (1-b1) g + b1 m
            m += spare
            s = _own(g - m)
            s *= s
            s *= 1.0 - b2
            s += np.multiply(s_old, b2, out=spare)
            s += eps_root
            if nesterov:
                m_hat = _own(m / (1.0 - b1 ** (t + 1)))
                m_hat *= b1
                m_hat += _own(g / bc1) * (1.0 - b1)
            else:
                m_hat = _own(m / bc1)
            denom = np.divide(s, bc2, out=spare)
            np.sqrt(denom, out=denom)
            denom += eps
            m_hat /= denom
            return m_hat, m, s

        updates, mu, nu = _map_leaves(leaf, 3, grads, state.mu, state.nu)
        return updates, ScaleByBeliefState(t, mu, nu)

    return GradientTransformation(init, owning(update))
