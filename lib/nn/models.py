r"""Models as pure functions of a parameter dict: softmax regression and the MLP.

A :class:`Model` holds ``init``, ``loss_and_grad`` and ``predict``; nothing is stored in it,
so the same model trains any number of parameter sets (see :mod:`lib.nn`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Integral
from typing import Any, NamedTuple

import numpy as np

from lib.nn.layers import (
    _check_labels,
    _finite_or_raise,
    _softmax_cross_entropy,
)
from lib.nn.regularized import make_regularized_mlp

__all__ = ["Model", "softmax_regression", "mlp", "accuracy", "l2_regularized", "INITS"]

INITS = ("he", "glorot", "zeros")


class Model(NamedTuple):
    """A model as pure functions of a parameter dict.

    - ``init(seed) -> params``: fresh parameters, reproducible from ``seed``;
    - ``loss_and_grad(params, X, y) -> (loss, grads)``: the mean softmax cross-entropy of the
      batch (a float) and its gradient (a dict with the keys and shapes of ``params``);
    - ``predict(params, X) -> logits`` of shape ``(n, n_classes)``.

    A model with dropout or batch normalization (chapter 8) also has a ``state``
    (:class:`lib.nn.regularized.ModelState`: the mode, the batch-norm running statistics and the
    dropout generator); ``model.train()`` and ``model.eval()`` switch its mode (for a model
    without state they do nothing: it computes the same in both modes) and ``model.training``
    tells the mode. :func:`lib.train.train` trains in training mode and evaluates in eval mode.

    torch: an ``nn.Module``, whose parameters live inside the object; ``loss_and_grad`` is
    ``loss = criterion(model(X), y); loss.backward()`` and ``predict`` is ``model(X)``;
    ``model.train()`` / ``model.eval()`` as in torch. The pure-function form is JAX's
    (``jax.value_and_grad(loss)(params, X, y)``; flax keeps batch statistics in a separate
    ``batch_stats`` collection, as ``state`` does here).
    """

    name: str
    init: Callable[[int], dict]
    loss_and_grad: Callable[[dict, np.ndarray, np.ndarray], tuple[float, dict]]
    predict: Callable[[dict, np.ndarray], np.ndarray]

    @property
    def state(self) -> Any:
        """The :class:`~lib.nn.regularized.ModelState` of a model with dropout or batch norm, else None."""
        return getattr(self, "_state", None)

    def train(self, mode: bool = True) -> Model:
        """Training mode (``mode=False``: evaluation mode); returns the model (torch: ``model.train()``)."""
        if self.state is not None:
            self.state.training = bool(mode)
        return self

    def eval(self) -> Model:
        """Evaluation mode: running statistics, no dropout; returns the model (torch: ``model.eval()``)."""
        return self.train(False)

    @property
    def training(self) -> bool:
        """True in training mode (always True for a model without state)."""
        return True if self.state is None else bool(self.state.training)


class _StatefulModel(Model):
    """A :class:`Model` that carries a ``ModelState`` (its four fields are unchanged)."""

    def __new__(cls, name, init, loss_and_grad, predict, state=None):
        self = super().__new__(cls, name, init, loss_and_grad, predict)
        self._state = state
        return self

    def _replace(self, **kwargs):
        fields = dict(zip(self._fields, self), **kwargs)
        return _StatefulModel(**fields, state=self._state)

    def __repr__(self) -> str:
        return f"Model(name={self.name!r}, state={self._state!r})"


def _sizes(sizes) -> tuple[int, ...]:
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise TypeError(f"sizes must be a sequence of layer widths such as (64, 32, 10), got {sizes!r}") from None
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output width, e.g. (64, 10), got {sizes}")
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, Integral) or s < 1:
            raise ValueError(f"every layer width must be a positive integer, got sizes={sizes}")
    return tuple(int(s) for s in sizes)


def _init_weights(init: str, rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    if init == "he":
        return rng.standard_normal((fan_in, fan_out)) * math.sqrt(2.0 / fan_in)
    if init == "glorot":
        a = math.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-a, a, size=(fan_in, fan_out))
    return np.zeros((fan_in, fan_out))


def _make(name: str, sizes: tuple[int, ...], init: str) -> Model:
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    L = len(sizes) - 1
    wkeys = [f"W{l}" for l in range(1, L + 1)]
    bkeys = [f"b{l}" for l in range(1, L + 1)]
    keys = [k for pair in zip(wkeys, bkeys) for k in pair]
    shapes = {}
    for l in range(L):
        shapes[wkeys[l]] = (sizes[l], sizes[l + 1])
        shapes[bkeys[l]] = (sizes[l + 1],)

    def init_fn(seed: int = 0) -> dict:
        if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
            raise TypeError(f"seed must be a non-negative integer, got {seed!r}")
        rng = np.random.default_rng(int(seed))
        params = {}
        for l in range(L):
            params[wkeys[l]] = _init_weights(init, rng, sizes[l], sizes[l + 1])
            params[bkeys[l]] = np.zeros(sizes[l + 1])
        return params

    def check(params, X) -> np.ndarray:
        if not isinstance(params, dict):
            raise TypeError(f"params must be the dict returned by {name}.init(seed), got {type(params).__name__}")
        for k in keys:
            p = params.get(k)
            if p is None:
                raise ValueError(f"params has no entry {k!r}: {name} needs the keys {keys}")
            if np.shape(p) != shapes[k]:
                raise ValueError(f"params[{k!r}] has shape {np.shape(p)} but {name} expects {shapes[k]}")
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != sizes[0]:
            raise ValueError(
                f"X has shape {X.shape} but {name} expects (n, {sizes[0]}): one example of {sizes[0]} features per row"
            )
        return X

    def forward(params, X):
        H = X
        hidden = []
        for l in range(L):
            Z = H @ params[wkeys[l]] + params[bkeys[l]]
            if l < L - 1:
                hidden.append(H)
                H = np.maximum(Z, 0.0)
        hidden.append(H)
        return Z, hidden

    def predict(params, X) -> np.ndarray:
        X = check(params, X)
        with np.errstate(over="ignore", invalid="ignore"):
            return forward(params, X)[0]

    def unchecked(params, X, y) -> tuple[float, dict]:
        """``loss_and_grad`` without its argument checks, for a caller that has checked
        ``params``, ``X`` and ``y`` once and silences floating-point warnings itself
        (:func:`lib.train.train`, whose updates keep every parameter's shape)."""
        Z, hidden = forward(params, X)
        loss, G = _softmax_cross_entropy(Z, y)
        if not math.isfinite(loss):
            _finite_or_raise("X", X)  # bad data is an error; bad parameters a divergence
        grads = {}
        for l in range(L - 1, -1, -1):
            H = hidden[l]
            grads[wkeys[l]] = H.T @ G
            grads[bkeys[l]] = G.sum(axis=0)
            if l:
                G = (G @ params[wkeys[l]].T) * (H > 0)
        return loss, {k: grads[k] for k in keys}

    def loss_and_grad(params, X, y) -> tuple[float, dict]:
        X = check(params, X)
        if X.shape[0] == 0:
            raise ValueError("X is empty: a loss needs at least one example")
        y = np.asarray(y)
        if y.shape != (X.shape[0],) or y.dtype.kind not in "iu" or y.min() < 0 or y.max() >= sizes[-1]:
            _check_labels(y, X.shape[0], sizes[-1])
        with np.errstate(over="ignore", invalid="ignore"):
            return unchecked(params, X, y)

    loss_and_grad.unchecked = unchecked
    return Model(name, init_fn, loss_and_grad, predict)


def softmax_regression(n_features: int, n_classes: int, *, init: str = "zeros") -> Model:
    r"""Multinomial logistic regression: logits :math:`Z = XW + \mathbf 1 b^\top`, softmax
    cross-entropy loss; parameters ``{"W": (n_features, n_classes), "b": (n_classes,)}``.

    The loss is **convex** in :math:`(W, b)` (a log-sum-exp of linear functions minus a linear
    function), so gradient descent with a small enough step finds a global minimum; with
    ``init="zeros"`` (the default) every class starts equally likely and the initial loss is
    exactly :math:`\log C`. ``init="glorot"`` draws small random weights instead
    :cite:p:`goodfellow2016deep`. torch: ``nn.Linear(n_features, n_classes)`` with
    ``nn.CrossEntropyLoss()``.

    >>> model = softmax_regression(64, 10)
    >>> p = model.init(0)
    >>> loss, g = model.loss_and_grad(p, np.zeros((3, 64)), np.array([0, 1, 2]))
    >>> bool(np.isclose(loss, np.log(10))), sorted(g)
    (True, ['W', 'b'])
    """
    n_features, n_classes = _sizes((n_features, n_classes))
    inner = _make(f"softmax_regression({n_features}, {n_classes})", (n_features, n_classes), init)

    def to_inner(params):
        if not isinstance(params, dict) or set(params) != {"W", "b"}:
            got = sorted(params) if isinstance(params, dict) else type(params).__name__
            raise ValueError(f"params must be a dict with the keys ['W', 'b'] (from {inner.name}.init), got {got}")
        return {"W1": params["W"], "b1": params["b"]}

    def init_fn(seed: int = 0) -> dict:
        p = inner.init(seed)
        return {"W": p["W1"], "b": p["b1"]}

    def loss_and_grad(params, X, y):
        loss, g = inner.loss_and_grad(to_inner(params), X, y)
        return loss, {k: g["W1"] if k == "W" else g["b1"] for k in params}  # params' key order

    def unchecked(params, X, y):  # see _make: for lib.train.train, which has checked its arguments
        loss, g = inner.loss_and_grad.unchecked({"W1": params["W"], "b1": params["b"]}, X, y)
        return loss, {k: g["W1"] if k == "W" else g["b1"] for k in params}

    loss_and_grad.unchecked = unchecked

    def predict(params, X):
        return inner.predict(to_inner(params), X)

    return Model(inner.name, init_fn, loss_and_grad, predict)


def mlp(sizes, *, init: str = "he", dropout: float = 0.0, batchnorm: bool = False) -> Model:
    r"""A multi-layer perceptron Linear → ReLU → … → Linear with a softmax cross-entropy loss.

    ``sizes = (d, h_1, ..., h_k, C)`` gives :math:`k` hidden ReLU layers; the parameters are
    ``{"W1", "b1", ..., "W{k+1}", "b{k+1}"}`` with ``W_l`` of shape ``(sizes[l-1], sizes[l])``.
    Biases start at 0; weights follow ``init``:

    - ``"he"`` (He et al., 2015, *Delving deep into rectifiers*):
      :math:`W_{ij}\sim\mathcal N(0, 2/\text{fan\_in})`, which keeps the variance of the
      activations constant through ReLU layers; torch:
      ``nn.init.kaiming_normal_(w, nonlinearity="relu")``;
    - ``"glorot"`` (Glorot and Bengio, 2010, *Understanding the difficulty of training deep
      feedforward neural networks*): :math:`W_{ij}\sim\mathcal U(-a, a)`,
      :math:`a = \sqrt{6/(\text{fan\_in}+\text{fan\_out})}`; torch: ``nn.init.xavier_uniform_``;
    - ``"zeros"``: every hidden unit is identical and stays so (the symmetry that random
      initialisation breaks); only for demonstrations.

    (torch's own default for ``nn.Linear`` is :math:`\mathcal U(\pm 1/\sqrt{\text{fan\_in}})`.)
    ``dropout=p`` adds inverted dropout after every hidden ReLU and ``batchnorm=True`` a
    batch normalization before it (:mod:`lib.nn.regularized`, chapter 8); such a model has a
    ``state`` and ``train()`` / ``eval()`` modes.
    The loss is not convex in the weights :cite:p:`goodfellow2016deep`; its gradient is
    computed by back-propagation :cite:p:`rumelhart1986learning`. torch:
    ``nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))`` and
    ``nn.CrossEntropyLoss()``.

    >>> model = mlp((2, 3, 2))
    >>> loss, g = model.loss_and_grad(model.init(0), np.ones((4, 2)), np.array([0, 1, 1, 0]))
    >>> list(g), g["W1"].shape
    (['W1', 'b1', 'W2', 'b2'], (2, 3))
    """
    sizes = _sizes(sizes)
    if dropout or batchnorm:
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        name, init_fn, loss_and_grad, predict, state = make_regularized_mlp(
            sizes, _init_weights, dropout, bool(batchnorm), init
        )
        return _StatefulModel(name, init_fn, loss_and_grad, predict, state)
    return _make("mlp(" + ", ".join(map(str, sizes)) + ")", sizes, init)


def accuracy(model: Model, params: dict, X, y) -> float:
    r"""The fraction of examples whose largest logit is the true class,
    :math:`\frac1n\sum_i [\arg\max_c z_{ic} = y_i]`.

    torch: ``(model(X).argmax(dim=1) == y).float().mean().item()``
    :cite:p:`goodfellow2016deep`.

    >>> model = softmax_regression(2, 2)
    >>> accuracy(model, {"W": np.eye(2), "b": np.zeros(2)}, np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 0]))
    0.5
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a lib.nn.Model (e.g. mlp((64, 32, 10))), got {type(model).__name__}")
    logits = model.predict(params, X)
    if logits.shape[0] == 0:
        raise ValueError("X is empty: accuracy needs at least one example")
    y = _check_labels(y, logits.shape[0], logits.shape[1])
    return float(np.mean(np.argmax(logits, axis=1) == y))


def l2_regularized(model, weight_decay: float):
    r"""``model`` with the penalty :math:`\frac\lambda2\lVert\theta\rVert^2` added to its loss
    (and :math:`\lambda\theta` to its gradient), so that a convex loss becomes strongly convex
    and has one minimiser. Training it with plain SGD is SGD with ``weight_decay=λ``; the
    difference is that the recorded losses include the penalty. torch: ``SGD(...,
    weight_decay=λ)`` adds the gradient but reports the loss without it. Reference:
    :cite:p:`bottou2018optimization` (§4 studies exactly such strongly convex objectives).

    >>> m = l2_regularized(softmax_regression(2, 2), 0.5)
    >>> p = {"W": np.ones((2, 2)), "b": np.zeros(2)}
    >>> round(m.loss_and_grad(p, np.zeros((1, 2)), np.array([0]))[0], 4)   # log 2 + 0.25 · 4
    1.6931
    """
    if not weight_decay >= 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
    lam = float(weight_decay)

    def loss_and_grad(params, X, y):
        loss, grads = model.loss_and_grad(params, X, y)
        penalty = 0.5 * lam * sum(float(np.vdot(p, p)) for p in params.values())
        return loss + penalty, {k: g + lam * params[k] for k, g in grads.items()}

    return model._replace(name=f"{model.name} + L2({lam:g})", loss_and_grad=loss_and_grad)
