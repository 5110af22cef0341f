r"""The ways momentum is written in the literature, as tiny reference steps (chapter 4).

These functions exist to **prove things**, not to train: the lesson and ``tests/test_momentum.py``
use them to show that the four conventions of the sources give the same iterates for a
constant learning rate, that they part ways when the learning rate changes, and that
Sutskever's look-ahead Nesterov and torch's ``g + μb`` are the same method. The optimizer to
use is :func:`lib.optim.sgd` (torch-exact); nothing here is a second production path.

Every step has the signature ``step(theta, state, grad_fn, lr, momentum) -> (theta, state)``
and uses only ``+``, ``-`` and ``*``, so ``theta`` may be a NumPy array **or a SymPy
expression** (``grad_fn`` then returns SymPy expressions too). The state is the velocity of
the form, zero at the start (:func:`initial_state`); the heavy ball's state is the previous
iterate :math:`\theta_{t-1}`, equal to :math:`\theta_0` at the start.

==================  ================================================================  ==========================
form                update (gradient :math:`g_t = \nabla L(\theta_{t-1})`)            the same as torch with
==================  ================================================================  ==========================
``"torch"``         :math:`b_t = \mu b_{t-1} + g_t,\ \theta_t = \theta_{t-1} - \eta b_t`  ``SGD(lr=η, momentum=μ)``
``"ema"``           :math:`v_t = \beta v_{t-1} + (1-\beta) g_t,\ \theta_t = \theta_{t-1} - \alpha v_t`  ``lr = α(1−β)``, ``momentum = β``
``"sign_flipped"``  :math:`m_t = \beta m_{t-1} - g_t,\ \theta_t = \theta_{t-1} + \eta m_t`  ``lr = η``, ``momentum = β``
``"lr_inside"``     :math:`v_t = \beta v_{t-1} + \eta g_t,\ \theta_t = \theta_{t-1} - v_t`  ``lr = η``, ``momentum = β`` (constant η only)
``"heavy_ball"``    :math:`\theta_t = \theta_{t-1} - \eta g_t + \mu(\theta_{t-1} - \theta_{t-2})`  ``lr = η``, ``momentum = μ`` (constant η only)
==================  ================================================================  ==========================

>>> import numpy as np
>>> grad = lambda theta: 2 * theta                      # L(θ) = θ²
>>> ema = run("ema", grad, np.array([1.0]), lr=0.5, momentum=0.8, steps=5)
>>> pytorch = run("torch", grad, np.array([1.0]), lr=0.5 * (1 - 0.8), momentum=0.8, steps=5)
>>> np.allclose(ema, pytorch)                           # EMA with α = torch with η = α(1 − β)
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from lib.optim.transforms import LearningRate, learning_rate_at

__all__ = [
    "torch_step",
    "ema_step",
    "sign_flipped_step",
    "lr_inside_step",
    "heavy_ball_step",
    "corrected_lr_inside_step",
    "classical_momentum_step",
    "nesterov_lookahead_step",
    "FORMS",
    "initial_state",
    "run",
]


def torch_step(theta, b, grad_fn: Callable, lr, momentum):
    r"""One step in PyTorch's convention: the learning rate sits **outside** the buffer.

    .. math:: b_t = \mu\, b_{t-1} + g_t, \qquad \theta_t = \theta_{t-1} - \eta\, b_t

    With :math:`b_0 = 0` the first buffer is :math:`g_1`, as in torch. torch:
    ``torch.optim.SGD(lr=η, momentum=μ)``; optax: ``optax.sgd(η, momentum=μ)`` (the chain
    ``trace(μ)`` then ``scale(-η)``). Reference: :cite:t:`polyak1964some`.
    """
    b = momentum * b + grad_fn(theta)
    return theta - lr * b, b


def ema_step(theta, v, grad_fn: Callable, lr, momentum):
    r"""One step of "EMA" (dampened) momentum, the form of Ng's course and source S0.

    .. math:: v_t = \beta\, v_{t-1} + (1-\beta)\, g_t, \qquad \theta_t = \theta_{t-1} - \alpha\, v_t

    with :math:`\alpha` = ``lr`` and :math:`\beta` = ``momentum``. Since :math:`v_t = (1-\beta) b_t`
    exactly (both start at 0), it is :func:`torch_step` with :math:`\eta = \alpha(1-\beta)`. torch:
    ``SGD(lr=α(1−β), momentum=β)``; ``SGD(lr=α, momentum=β, dampening=β)`` differs at the first
    step, where torch does not dampen. optax: ``optax.sgd(α(1−β), momentum=β)``.
    Reference: :cite:t:`goh2017why`.
    """
    v = momentum * v + (1 - momentum) * grad_fn(theta)
    return theta - lr * v, v


def sign_flipped_step(theta, m, grad_fn: Callable, lr, momentum):
    r"""One step with the sign inside the buffer (source S2's form).

    .. math:: m_t = \beta\, m_{t-1} - g_t, \qquad \theta_t = \theta_{t-1} + \eta\, m_t

    :math:`m_t = -b_t`, so this is :func:`torch_step` with the same :math:`\eta` and
    :math:`\mu = \beta`. torch: ``SGD(lr=η, momentum=β)``; optax: ``optax.sgd(η, momentum=β)``.
    Reference: :cite:t:`polyak1964some`.
    """
    m = momentum * m - grad_fn(theta)
    return theta + lr * m, m


def lr_inside_step(theta, v, grad_fn: Callable, lr, momentum):
    r"""One step with the learning rate **inside** the velocity (source S3; Sutskever's CM with
    the sign flipped).

    .. math:: v_t = \beta\, v_{t-1} + \eta_t\, g_t, \qquad \theta_t = \theta_{t-1} - v_t

    For a constant :math:`\eta`, :math:`v_t = \eta b_t` and this is :func:`torch_step`. When
    :math:`\eta` changes, the old velocity keeps the old learning rate and the two forms
    differ (see :func:`corrected_lr_inside_step`). torch: ``SGD(lr=η, momentum=β)`` for a
    constant ``lr`` only. Reference: :cite:t:`sutskever2013importance`.
    """
    v = momentum * v + lr * grad_fn(theta)
    return theta - v, v


def heavy_ball_step(theta, theta_prev, grad_fn: Callable, lr, momentum):
    r"""One step of Polyak's heavy ball, written with the previous iterate instead of a velocity.

    .. math:: \theta_t = \theta_{t-1} - \eta\, g_t + \mu\,(\theta_{t-1} - \theta_{t-2})

    The state is :math:`\theta_{t-2}`; start it at :math:`\theta_0` (no initial motion). The
    previous *step* :math:`\theta_{t-1} - \theta_{t-2} = -v_{t-1}` carries its own learning rate,
    so under a schedule this is :func:`lr_inside_step`; for a constant :math:`\eta` it is
    :func:`torch_step`. torch: ``SGD(lr=η, momentum=μ)`` for a constant ``lr``.
    Reference: :cite:t:`polyak1964some`.
    """
    new = theta - lr * grad_fn(theta) + momentum * (theta - theta_prev)
    return new, theta


def corrected_lr_inside_step(theta, state, grad_fn: Callable, lr, momentum):
    r"""The lr-inside form with Goyal et al.'s *momentum correction*.

    .. math:: v_t = \beta\,\frac{\eta_t}{\eta_{t-1}}\, v_{t-1} + \eta_t\, g_t,
              \qquad \theta_t = \theta_{t-1} - v_t

    The factor :math:`\eta_t/\eta_{t-1}` rescales the old velocity to the new learning rate, so
    :math:`v_t = \eta_t b_t` holds at every step and the iterates are torch's under **any**
    schedule. The state is the pair ``(v, previous lr)``; at the start ``(0, None)``.
    torch: ``SGD(lr=η_t, momentum=β)`` with a scheduler. Reference: :cite:t:`goyal2017accurate` (§3).
    """
    v, lr_prev = state
    scale = 1 if lr_prev is None else lr / lr_prev
    v = momentum * scale * v + lr * grad_fn(theta)
    return theta - v, (v, lr)


def classical_momentum_step(theta, v, grad_fn: Callable, lr, momentum):
    r"""Classical momentum (CM) as written by Sutskever et al. (their eq. 1–2).

    .. math:: v_{t} = \mu\, v_{t-1} - \varepsilon\, \nabla L(\theta_{t-1}), \qquad \theta_t = \theta_{t-1} + v_t

    with :math:`\varepsilon` = ``lr``. This is also the code that one source of the course
    labels "NAG": the gradient is taken at :math:`\theta_{t-1}`, not at the look-ahead point,
    so it is plain momentum. torch: ``SGD(lr=ε, momentum=μ)`` (``nesterov=False``) for a
    constant learning rate. Reference: :cite:t:`sutskever2013importance`.
    """
    v = momentum * v - lr * grad_fn(theta)
    return theta + v, v


def nesterov_lookahead_step(theta, v, grad_fn: Callable, lr, momentum):
    r"""Nesterov's accelerated gradient in Sutskever et al.'s look-ahead form (their eq. 3–4).

    .. math:: v_{t} = \mu\, v_{t-1} - \varepsilon\, \nabla L(\theta_{t-1} + \mu v_{t-1}),
              \qquad \theta_t = \theta_{t-1} + v_t

    The gradient is evaluated at the point the velocity is about to carry us to. torch's
    ``SGD(nesterov=True)`` computes the same method in other variables: its parameters are the
    look-ahead points :math:`\phi_t = \theta_t + \mu v_t`, its buffer is :math:`b_t = -v_t/\varepsilon`,
    and it updates :math:`\phi_t = \phi_{t-1} - \varepsilon\,(g_t + \mu b_t)` with
    :math:`g_t = \nabla L(\phi_{t-1})` (proved in chapter 4). optax: ``optax.sgd(ε, momentum=μ,
    nesterov=True)``. References: :cite:t:`nesterov1983method`, :cite:t:`sutskever2013importance`.
    """
    v = momentum * v - lr * grad_fn(theta + momentum * v)
    return theta + v, v


#: name -> step function, for :func:`run` and the lesson's tables.
FORMS: dict[str, Callable] = {
    "torch": torch_step,
    "ema": ema_step,
    "sign_flipped": sign_flipped_step,
    "lr_inside": lr_inside_step,
    "heavy_ball": heavy_ball_step,
    "corrected_lr_inside": corrected_lr_inside_step,
    "classical_momentum": classical_momentum_step,
    "nesterov_lookahead": nesterov_lookahead_step,
}


def initial_state(form: str, theta0: Any) -> Any:
    """The state of ``form`` before the first step: zero velocity (the heavy ball: θ₀ itself;
    the corrected form: ``(0, None)``), shaped like ``theta0``."""
    if form not in FORMS:
        raise ValueError(f"unknown momentum form {form!r}; choose one of {', '.join(FORMS)}")
    if form == "heavy_ball":
        return theta0
    zero = 0 * theta0
    return (zero, None) if form == "corrected_lr_inside" else zero


def run(form: str, grad_fn: Callable, theta0, lr: LearningRate, momentum: float, steps: int) -> np.ndarray:
    r"""The iterates :math:`\theta_0, \dots, \theta_k` of ``steps`` steps of ``form`` (a key of
    :data:`FORMS`), as an array of shape ``(steps + 1, *theta0.shape)``.

    ``lr`` is a number or a schedule ``step -> lr`` (the first step uses ``lr(0)``), as in
    :func:`lib.optim.run`, which is the function to use for training. The run stops early if
    an iterate is not finite. Reference: :cite:t:`sutskever2013importance`.

    >>> import numpy as np
    >>> a = run("torch", lambda p: p, np.array([1.0]), lr=0.1, momentum=0.9, steps=2)
    >>> b = run("lr_inside", lambda p: p, np.array([1.0]), lr=0.1, momentum=0.9, steps=2)
    >>> np.allclose(a, b)
    True
    """
    if form not in FORMS:
        raise ValueError(f"unknown momentum form {form!r}; choose one of {', '.join(FORMS)}")
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    if not (isinstance(momentum, (int, float)) and math.isfinite(momentum) and 0 <= momentum):
        raise ValueError(f"momentum must be a finite number >= 0, got {momentum!r}")
    step = FORMS[form]
    theta = np.array(theta0, dtype=float)
    state = initial_state(form, theta)
    path = [theta]
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(int(steps)):
            theta, state = step(theta, state, grad_fn, learning_rate_at(lr, t), momentum)
            path.append(theta)
            if not np.all(np.isfinite(theta)):
                break
    return np.stack(path)
