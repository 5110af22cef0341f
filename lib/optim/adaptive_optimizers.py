r"""Named adaptive optimizers with PyTorch's names, defaults and argument checks.

Each is a :func:`~lib.optim.chain` of small links from :mod:`lib.optim.adaptive` and
:mod:`lib.optim.transforms`, ending with :func:`~lib.optim.scale_by_learning_rate` (the only
place the sign flips), and reproduces ``torch.optim`` step for step (golden trajectories in
``tests/data/adaptive_torch.npz``); :func:`adabelief` reproduces ``optax.adabelief``.
The weight decay is a link too, and *where* it sits is the whole difference between L2
regularisation and decoupled weight decay::

    adam(lr, weight_decay=λ)   = chain(add_decayed_weights(λ), scale_by_adam(), scale_by_learning_rate(lr))
    adamw(lr, weight_decay=λ)  = chain(scale_by_adam(), add_decayed_weights(λ), scale_by_learning_rate(lr))

In the first, :math:`\lambda\theta` is added to the gradient and then rescaled by Adam; in the
second it bypasses Adam: :math:`\theta \leftarrow \theta - \eta\,(\text{Adam step} + \lambda\theta)`,
which is torch's ``param.mul_(1 - lr * weight_decay)`` followed by the Adam step.
"""

from __future__ import annotations

from collections.abc import Sequence

from lib.optim.adaptive import (
    _check_beta,
    scale_by_adagrad,
    scale_by_adam,
    scale_by_adamax,
    scale_by_belief,
    scale_by_nadam,
    scale_by_radam,
    scale_by_rms,
)
from lib.optim.base import GradientTransformation, chain
from lib.optim.transforms import (
    LearningRate,
    _check_nonnegative,
    add_decayed_weights,
    learning_rate_at,
    scale_by_learning_rate,
    trace,
)

__all__ = ["adagrad", "rmsprop", "adam", "adamw", "adamax", "nadam", "radam", "adabelief"]


def _check_lr(lr: LearningRate) -> None:
    if not callable(lr):
        _check_nonnegative("learning rate", lr)


def _check_betas(betas: Sequence[float]) -> tuple[float, float]:
    try:
        b1, b2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}") from None
    return _check_beta(0, b1), _check_beta(1, b2)


def _with_weight_decay(
    scaling: GradientTransformation, lr: LearningRate, weight_decay: float, decoupled: bool, mask=None
) -> GradientTransformation:
    """L2: decay → scaling → lr.  Decoupled: scaling → decay → lr (the decay is not rescaled)."""
    if not weight_decay:
        return chain(scaling, scale_by_learning_rate(lr))
    if decoupled:
        return chain(scaling, add_decayed_weights(weight_decay, mask), scale_by_learning_rate(lr))
    return chain(add_decayed_weights(weight_decay, mask), scaling, scale_by_learning_rate(lr))


def adagrad(
    lr: LearningRate = 1e-2,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    initial_accumulator_value: float = 0.0,
    eps: float = 1e-10,
) -> GradientTransformation:
    r"""Adagrad, exactly as ``torch.optim.Adagrad``.

    .. math::
        g_t \leftarrow g_t + \lambda\theta_{t-1}, \qquad G_t = G_{t-1} + g_t^2, \qquad
        \theta_t = \theta_{t-1} - \frac{\eta_t}{1 + (t-1)\,\delta}\,\frac{g_t}{\sqrt{G_t} + \varepsilon}

    with :math:`\delta` = ``lr_decay``, :math:`G_0` = ``initial_accumulator_value``,
    :math:`t = 1, 2, \ldots` :cite:p:`duchi2011adaptive`. The chain is
    ``add_decayed_weights(λ) → scale_by_adagrad(eps, G_0) → scale_by_learning_rate(η_t/(1+(t-1)δ))``:
    torch's ``lr_decay`` is a learning-rate schedule, applied on top of a schedule ``lr``.

    torch: ``torch.optim.Adagrad(params, lr, lr_decay, weight_decay, initial_accumulator_value,
    eps)`` with torch's argument checks. optax: ``optax.adagrad(learning_rate,
    initial_accumulator_value=0.1, eps=1e-7)`` has ε inside the root and no ``lr_decay``.

    >>> import numpy as np
    >>> from lib.optim import apply_updates
    >>> tx = adagrad(lr=0.5)
    >>> p = np.array([1.0, 1.0])
    >>> u, s = tx.update(np.array([10.0, 0.1]), tx.init(p), p)
    >>> apply_updates(p, u)          # the first step moves every coordinate by lr
    array([0.5, 0.5])
    """
    _check_lr(lr)
    lr_decay = _check_nonnegative("lr_decay", lr_decay)
    weight_decay = _check_nonnegative("weight_decay", weight_decay)
    scaling = scale_by_adagrad(eps=eps, initial_accumulator_value=initial_accumulator_value)
    if lr_decay:
        base = lr
        lr = lambda t: learning_rate_at(base, t) / (1.0 + t * lr_decay)  # noqa: E731 (t = step - 1)
    return _with_weight_decay(scaling, lr, weight_decay, decoupled=False)


def rmsprop(
    lr: LearningRate = 1e-2,
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
) -> GradientTransformation:
    r"""RMSprop, exactly as ``torch.optim.RMSprop``.

    .. math::
        g_t &\leftarrow g_t + \lambda\theta_{t-1}, \qquad
        v_t = \alpha v_{t-1} + (1-\alpha) g_t^2, \qquad
        d_t = g_t / (\sqrt{v_t} + \varepsilon) \\
        b_t &= \mu\, b_{t-1} + d_t \quad (b_0 = 0), \qquad \theta_t = \theta_{t-1} - \eta_t\, b_t

    (without momentum, :math:`\theta_t = \theta_{t-1} - \eta_t d_t`; ``centered=True`` uses
    :math:`\sqrt{v_t - \bar g_t^2}`, see :func:`lib.optim.scale_by_rms`)
    :cite:p:`tieleman2012lecture`. The chain is ``add_decayed_weights(λ) →
    scale_by_rms(α, ε, centered) → trace(μ) → scale_by_learning_rate(η)``: torch's
    momentum acts on the *rescaled* gradient, with the learning rate outside the buffer.

    torch: ``torch.optim.RMSprop(params, lr, alpha, eps, weight_decay, momentum, centered)``.
    optax: ``optax.rmsprop(learning_rate, decay=alpha, eps, centered, momentum)`` with ε
    inside the root.

    >>> import numpy as np
    >>> tx = rmsprop(lr=0.01, alpha=0.99)
    >>> u, s = tx.update(np.array([5.0]), tx.init(np.zeros(1)), np.zeros(1))
    >>> np.round(u, 6)         # -lr / sqrt(1 - alpha): no bias correction, a 10x first step
    array([-0.1])
    """
    _check_lr(lr)
    momentum = _check_nonnegative("momentum", momentum)
    weight_decay = _check_nonnegative("weight_decay", weight_decay)
    links = []
    if weight_decay:
        links.append(add_decayed_weights(weight_decay))
    links.append(scale_by_rms(alpha=alpha, eps=eps, centered=centered))
    if momentum:
        links.append(trace(momentum))
    links.append(scale_by_learning_rate(lr))
    return chain(*links)


def adam(
    lr: LearningRate = 1e-3,
    betas: Sequence[float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
    decoupled_weight_decay: bool = False,
    *,
    mask=None,
) -> GradientTransformation:
    r"""Adam (and AMSGrad, AdamW), exactly as ``torch.optim.Adam``.

    .. math::
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \theta_t &= \theta_{t-1} - \eta_t\, \frac{m_t / (1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)} + \varepsilon}

    :cite:p:`kingma2015adam` with :math:`t = 1, 2, \ldots`. ``weight_decay`` λ adds
    :math:`\lambda\theta` to :math:`g_t` (L2, rescaled by Adam) or, with
    ``decoupled_weight_decay=True`` (= :func:`adamw`), subtracts :math:`\eta_t\lambda\theta`
    directly :cite:p:`loshchilov2019decoupled`; ``mask`` (keyword only, see
    :mod:`lib.optim.masking`) limits the decay to some parameters, like torch's parameter
    groups with ``weight_decay=0``. ``amsgrad=True`` uses
    :math:`\max_{s\le t} v_s` :cite:p:`reddi2018convergence`. Chains:
    ``add_decayed_weights(λ) → scale_by_adam → scale_by_learning_rate`` (L2) and
    ``scale_by_adam → add_decayed_weights(λ) → scale_by_learning_rate`` (decoupled).

    torch: ``torch.optim.Adam(params, lr, betas, eps, weight_decay, amsgrad,
    decoupled_weight_decay=...)`` with torch's argument checks. optax: ``optax.adam(learning_rate,
    b1, b2, eps)`` (and ``optax.amsgrad``, ``optax.adamw``).

    >>> import numpy as np
    >>> tx = adam(lr=0.1)
    >>> u, s = tx.update(np.array([1e-2, 1e4]), tx.init(np.zeros(2)), np.zeros(2))
    >>> np.round(u, 6)         # the first step is -lr * sign(g) for any gradient scale
    array([-0.1, -0.1])
    """
    _check_lr(lr)
    b1, b2 = _check_betas(betas)
    weight_decay = _check_nonnegative("weight_decay", weight_decay)
    scaling = scale_by_adam(b1=b1, b2=b2, eps=eps, amsgrad=amsgrad)
    return _with_weight_decay(scaling, lr, weight_decay, decoupled_weight_decay, mask)


def adamw(
    lr: LearningRate = 1e-3,
    betas: Sequence[float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 1e-2,
    amsgrad: bool = False,
    *,
    mask=None,
) -> GradientTransformation:
    r"""AdamW: Adam with decoupled weight decay, exactly as ``torch.optim.AdamW``.

    .. math::
        \theta_t = \theta_{t-1} - \eta_t \left( \frac{\hat m_t}{\sqrt{\hat v_t} + \varepsilon}
                   + \lambda\, \theta_{t-1} \right)

    :cite:p:`loshchilov2019decoupled`, with :math:`\hat m_t, \hat v_t` from the *raw* gradient
    (see :func:`adam`). The decay is multiplied by the learning rate, as in torch
    (``param.mul_(1 - lr * weight_decay)``) and optax; the paper's Algorithm 2 writes
    :math:`\eta_t(\alpha\,\hat m_t/(\sqrt{\hat v_t}+\epsilon) + \lambda\theta)` with a separate
    schedule multiplier :math:`\eta_t`. Note the default ``weight_decay=1e-2`` (Adam's is 0).
    The chain is ``scale_by_adam → add_decayed_weights(λ, mask) → scale_by_learning_rate(η)``;
    ``mask`` (see :mod:`lib.optim.masking`) exempts parameters from the decay, e.g.
    ``mask=lib.optim.weight_decay_mask`` for biases.

    torch: ``torch.optim.AdamW(params, lr, betas, eps, weight_decay, amsgrad)`` (=
    ``Adam(..., decoupled_weight_decay=True)``; a mask = parameter groups with
    ``weight_decay=0``). optax: ``optax.adamw(learning_rate, b1, b2, eps, weight_decay=1e-4,
    mask=mask)`` (a different default decay).

    >>> import numpy as np
    >>> tx = adamw(lr=0.1, weight_decay=0.5)
    >>> p = np.array([2.0])
    >>> u, s = tx.update(np.array([0.0]), tx.init(p), p)
    >>> u                      # zero gradient: only the decay -lr * λ * θ
    array([-0.1])
    """
    return adam(
        lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, decoupled_weight_decay=True, mask=mask
    )


def adamax(
    lr: LearningRate = 2e-3, betas: Sequence[float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0
) -> GradientTransformation:
    r"""AdaMax, exactly as ``torch.optim.Adamax``.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        u_t = \max(\beta_2 u_{t-1}, |g_t| + \varepsilon), \qquad
        \theta_t = \theta_{t-1} - \frac{\eta_t}{1-\beta_1^t}\, \frac{m_t}{u_t}

    (:math:`g_t` including the L2 term :math:`\lambda\theta_{t-1}`) :cite:p:`kingma2015adam`.
    The chain is ``add_decayed_weights(λ) → scale_by_adamax → scale_by_learning_rate``.

    torch: ``torch.optim.Adamax(params, lr, betas, eps, weight_decay)``. optax:
    ``optax.adamax(learning_rate, b1, b2, eps)`` (ε outside the maximum).

    >>> import numpy as np
    >>> tx = adamax(lr=0.1)
    >>> u, s = tx.update(np.array([3.0]), tx.init(np.zeros(1)), np.zeros(1))
    >>> np.round(u, 6)
    array([-0.1])
    """
    _check_lr(lr)
    b1, b2 = _check_betas(betas)
    weight_decay = _check_nonnegative("weight_decay", weight_decay)
    return _with_weight_decay(scale_by_adamax(b1=b1, b2=b2, eps=eps), lr, weight_decay, decoupled=False)


def nadam(
    lr: LearningRate = 2e-3,
    betas: Sequence[float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum_decay: float = 4e-3,
    decoupled_weight_decay: bool = False,
) -> GradientTransformation:
    r"""NAdam (Adam with Nesterov momentum), exactly as ``torch.optim.NAdam``.

    .. math::
        \theta_t = \theta_{t-1} - \eta_t \left( \frac{1-\mu_t}{1-\Pi_t}\,\frac{g_t}{d_t}
                   + \frac{\mu_{t+1}}{1-\Pi_t\mu_{t+1}}\,\frac{m_t}{d_t} \right), \qquad
        \mu_t = \beta_1 \left(1 - \tfrac12\, 0.96^{t\psi}\right), \quad \Pi_t = \prod_{s\le t}\mu_s

    with :math:`d_t = \sqrt{v_t/(1-\beta_2^t)} + \varepsilon` and :math:`\psi` =
    ``momentum_decay`` (see :func:`lib.optim.scale_by_nadam`) :cite:p:`dozat2016incorporating`.
    Weight decay as in :func:`adam` (L2, or decoupled :cite:p:`loshchilov2019decoupled`).

    torch: ``torch.optim.NAdam(params, lr, betas, eps, weight_decay, momentum_decay,
    decoupled_weight_decay)``. optax: ``optax.nadam(learning_rate, b1, b2, eps)`` is Adam with
    a Nesterov look-ahead but without the :math:`\mu_t` schedule (it does not match torch).

    >>> import numpy as np
    >>> tx = nadam()
    >>> u, s = tx.update(np.array([1.0]), tx.init(np.zeros(1)), np.zeros(1))
    >>> float(u[0]) < 0
    True
    """
    _check_lr(lr)
    b1, b2 = _check_betas(betas)
    weight_decay = _check_nonnegative("weight_decay", weight_decay)
    scaling = scale_by_nadam(b1=b1, b2=b2, eps=eps, momentum_decay=momentum_decay)
    return _with_weight_decay(scaling, lr, weight_decay, decoupled_weight_decay)


def radam(
    lr: LearningRate = 1e-3,
    betas: Sequence[float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False,
) -> GradientTransformation:
    r"""RAdam (rectified Adam), exactly as ``torch.optim.RAdam``.

    .. math::
        \theta_t = \theta_{t-1} - \eta_t \begin{cases}
            r_t\, \hat m_t \sqrt{1-\beta_2^t} / (\sqrt{v_t} + \varepsilon) & \rho_t > 5 \\
            \hat m_t & \text{otherwise}
        \end{cases}

    (:math:`r_t, \rho_t` in :func:`lib.optim.scale_by_radam`) :cite:p:`liu2020variance`.
    Weight decay as in :func:`adam` (L2, or decoupled :cite:p:`loshchilov2019decoupled`).

    torch: ``torch.optim.RAdam(params, lr, betas, eps, weight_decay, decoupled_weight_decay)``.
    optax: ``optax.radam(learning_rate, b1, b2, eps, eps_root, threshold=5.0)`` (ε after the
    bias correction, so not identical).

    >>> import numpy as np
    >>> tx = radam(lr=0.1)
    >>> u, s = tx.update(np.array([3.0]), tx.init(np.zeros(1)), np.zeros(1))
    >>> u                      # the first steps are momentum SGD: -lr * m̂ = -lr * g
    array([-0.3])
    """
    _check_lr(lr)
    b1, b2 = _check_betas(betas)
    weight_decay = _check_nonnegative("weight_decay", weight_decay)
    scaling = scale_by_radam(b1=b1, b2=b2, eps=eps)
    return _with_weight_decay(scaling, lr, weight_decay, decoupled_weight_decay)


def adabelief(
    lr: LearningRate,
    betas: Sequence[float] = (0.9, 0.999),
    eps: float = 1e-16,
    eps_root: float = 1e-16,
    nesterov: bool = False,
) -> GradientTransformation:
    r"""AdaBelief, exactly as ``optax.adabelief`` (with torch's spelling ``lr``, ``betas``).

    .. math::
        s_t = \beta_2 s_{t-1} + (1-\beta_2)(g_t - m_t)^2 + \varepsilon_{\text{root}}, \qquad
        \theta_t = \theta_{t-1} - \eta_t\, \frac{m_t/(1-\beta_1^t)}{\sqrt{s_t/(1-\beta_2^t)} + \varepsilon}

    :cite:p:`zhuang2020adabelief`; see :func:`lib.optim.scale_by_belief` for where ``eps``
    and ``eps_root`` sit compared with the paper's Algorithm 2 (which uses one
    :math:`\epsilon = 10^{-8}` in both places). The chain is
    ``scale_by_belief → scale_by_learning_rate``; ``lr`` is required, as in optax.

    optax: ``optax.adabelief(learning_rate=lr, b1=betas[0], b2=betas[1], eps, eps_root,
    nesterov=nesterov)``, step for step. torch has no AdaBelief.

    >>> import numpy as np
    >>> tx = adabelief(lr=0.1)
    >>> u, s = tx.update(np.array([1.0]), tx.init(np.zeros(1)), np.zeros(1))
    >>> np.round(u, 6)
    array([-0.111111])
    """
    _check_lr(lr)
    b1, b2 = _check_betas(betas)
    return chain(
        scale_by_belief(b1=b1, b2=b2, eps=eps, eps_root=eps_root, nesterov=nesterov), scale_by_learning_rate(lr)
    )
