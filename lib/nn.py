r"""Small neural networks as pure functions of a parameter tree, with hand-written backward passes.

A model is a :class:`Model`: ``init(seed)`` returns the parameters, a dict of arrays
(``{"W1": ..., "b1": ..., "W2": ..., "b2": ...}``, a tree for :mod:`lib.optim`);
``loss_and_grad(params, X, y)`` returns the mean softmax cross-entropy of a batch and its
gradient, a dict with the keys of ``params``; ``predict(params, X)`` returns the logits.
Nothing is stored in the model, so the same model trains any number of parameter sets.

The building blocks are the three layers of a multi-layer perceptron, each a forward function
returning ``(output, cache)`` and a backward function mapping the gradient of the loss with
respect to the output to the gradients with respect to the inputs (the chain rule, applied
from the loss backwards: back-propagation, :cite:t:`rumelhart1986learning`):

.. math::
    \text{Linear: } Z = XW + \mathbf 1 b^\top, \quad
    \frac{\partial L}{\partial X} = \frac{\partial L}{\partial Z} W^\top,\quad
    \frac{\partial L}{\partial W} = X^\top \frac{\partial L}{\partial Z},\quad
    \frac{\partial L}{\partial b} = \Big(\frac{\partial L}{\partial Z}\Big)^\top \mathbf 1

    \text{ReLU: } H = \max(Z, 0), \quad \frac{\partial L}{\partial Z} =
    \frac{\partial L}{\partial H} \odot [Z > 0]

    \text{softmax cross-entropy: } L = \frac1n\sum_i \Big(\log\sum_c e^{z_{ic}} - z_{i y_i}\Big),
    \quad \frac{\partial L}{\partial Z} = \frac1n\big(\operatorname{softmax}(Z) - \operatorname{onehot}(y)\big)

Every gradient is verified against finite differences by :mod:`lib.gradcheck` in the tests.
Weights are stored ``(fan_in, fan_out)`` so that a batch is ``X @ W``; torch's ``nn.Linear``
stores the transpose, ``(out_features, in_features)``, and computes ``X @ W.T + b``.
torch: ``nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))`` with
``nn.CrossEntropyLoss()`` and ``loss.backward()`` (autograd writes the backward passes).

>>> model = mlp((64, 32, 10))
>>> params = model.init(seed=0)
>>> {k: v.shape for k, v in params.items()}
{'W1': (64, 32), 'b1': (32,), 'W2': (32, 10), 'b2': (10,)}
"""

from __future__ import annotations

import math
from numbers import Integral
from typing import Any, Callable, NamedTuple

import numpy as np

__all__ = [
    "Model", "softmax_regression", "mlp", "accuracy", "l2_regularized",
    "linear_forward", "linear_backward", "relu_forward", "relu_backward", "softmax_cross_entropy",
]

INITS = ("he", "glorot", "zeros")


class Model(NamedTuple):
    """A model as pure functions of a parameter dict.

    - ``init(seed) -> params``: fresh parameters, reproducible from ``seed``;
    - ``loss_and_grad(params, X, y) -> (loss, grads)``: the mean softmax cross-entropy of the
      batch (a float) and its gradient (a dict with the keys and shapes of ``params``);
    - ``predict(params, X) -> logits`` of shape ``(n, n_classes)``.

    torch: an ``nn.Module``, whose parameters live inside the object; ``loss_and_grad`` is
    ``loss = criterion(model(X), y); loss.backward()`` and ``predict`` is ``model(X)``. The
    pure-function form is JAX's (``jax.value_and_grad(loss)(params, X, y)``).
    """

    name: str
    init: Callable[[int], dict]
    loss_and_grad: Callable[[dict, np.ndarray, np.ndarray], tuple[float, dict]]
    predict: Callable[[dict, np.ndarray], np.ndarray]


# --------------------------------------------------------------------------------------------
# argument checks (shared)


def _array(name: str, a: Any, ndim: int) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {a.shape}")
    if a.dtype.kind not in "fiu" or a.dtype == bool:
        raise TypeError(f"{name} must hold numbers, got dtype {a.dtype}")
    return a


def _check_labels(y: Any, n: int, n_classes: int, name: str = "y") -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},), one class label per row, got shape {y.shape}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer class labels 0..{n_classes - 1}, got dtype {y.dtype}; "
                        f"convert with {name}.astype(int) if the values are whole numbers")
    if n and (y.min() < 0 or y.max() >= n_classes):
        bad = y[(y < 0) | (y >= n_classes)][0]
        raise ValueError(f"{name} contains the label {bad}, outside 0..{n_classes - 1} "
                         f"(the logits have {n_classes} columns)")
    return y


def _finite_or_raise(name: str, a: np.ndarray) -> None:
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinity: clean or impute the data before training")


# --------------------------------------------------------------------------------------------
# layers


def linear_forward(X, W, b) -> tuple[np.ndarray, tuple]:
    r"""A fully connected layer :math:`Z = XW + \mathbf 1 b^\top` for a batch ``X`` ``(n, d_in)``,
    weights ``W`` ``(d_in, d_out)`` and bias ``b`` ``(d_out,)``.

    Returns ``(Z, cache)``; pass the cache to :func:`linear_backward`. torch:
    ``nn.Linear(d_in, d_out)`` (whose ``weight`` is ``W.T``), i.e. ``F.linear(X, W.T, b)``
    :cite:p:`goodfellow2016deep`.

    >>> Z, _ = linear_forward(np.ones((2, 3)), np.ones((3, 1)), np.array([0.5]))
    >>> Z.ravel().tolist()
    [3.5, 3.5]
    """
    X, W, b = _array("X", X, 2), _array("W", W, 2), _array("b", b, 1)
    if X.shape[1] != W.shape[0]:
        raise ValueError(f"X has shape {X.shape} but W has shape {W.shape}: "
                         f"X's {X.shape[1]} columns must match W's {W.shape[0]} rows")
    if b.shape[0] != W.shape[1]:
        raise ValueError(f"b has shape {b.shape} but W has shape {W.shape}: b needs one entry per "
                         f"column of W ({W.shape[1]})")
    return X @ W + b, (X, W)


def linear_backward(dout, cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Gradients of a linear layer from :math:`G = \partial L/\partial Z` (``dout``, ``(n, d_out)``):

    .. math:: \frac{\partial L}{\partial X} = G W^\top, \qquad
              \frac{\partial L}{\partial W} = X^\top G, \qquad
              \frac{\partial L}{\partial b} = \textstyle\sum_i G_{i,:}

    (the sums over the batch live in :math:`X^\top G` and :math:`\sum_i`; the :math:`1/n` of a
    mean loss is already in :math:`G`). Returns ``(dX, dW, db)``. torch: what autograd runs
    for ``nn.Linear`` during ``loss.backward()`` :cite:p:`rumelhart1986learning`.

    >>> Z, cache = linear_forward(np.ones((2, 3)), np.ones((3, 1)), np.zeros(1))
    >>> [g.shape for g in linear_backward(np.ones((2, 1)), cache)]
    [(2, 3), (3, 1), (1,)]
    """
    X, W = cache
    dout = _array("dout", dout, 2)
    if dout.shape != (X.shape[0], W.shape[1]):
        raise ValueError(f"dout has shape {dout.shape} but the layer's output has shape "
                         f"{(X.shape[0], W.shape[1])}: pass the gradient with respect to Z")
    return dout @ W.T, X.T @ dout, dout.sum(axis=0)


def relu_forward(Z) -> tuple[np.ndarray, np.ndarray]:
    r"""The rectified linear unit :math:`H = \max(Z, 0)`, element-wise. Returns ``(H, cache)``.

    torch: ``nn.ReLU()`` / ``torch.relu`` :cite:p:`goodfellow2016deep`.

    >>> relu_forward(np.array([-1.0, 0.0, 2.0]))[0].tolist()
    [0.0, 0.0, 2.0]
    """
    Z = np.asarray(Z)
    if Z.dtype.kind not in "fiu" or Z.dtype == bool:
        raise TypeError(f"Z must hold numbers, got dtype {Z.dtype}")
    mask = Z > 0
    return np.where(mask, Z, 0.0), mask


def relu_backward(dout, cache) -> np.ndarray:
    r""":math:`\partial L/\partial Z = \partial L/\partial H \odot [Z > 0]`: the gradient passes
    where the unit was active and is 0 elsewhere (at the kink :math:`Z = 0` the derivative is
    taken to be 0, as in torch). torch: autograd's backward of ``torch.relu``
    :cite:p:`rumelhart1986learning`.

    >>> _, cache = relu_forward(np.array([-1.0, 2.0]))
    >>> relu_backward(np.array([5.0, 5.0]), cache).tolist()
    [0.0, 5.0]
    """
    dout = np.asarray(dout)
    if dout.shape != cache.shape:
        raise ValueError(f"dout has shape {dout.shape} but the ReLU's input had shape {cache.shape}")
    return np.where(cache, dout, 0.0)


def _softmax_cross_entropy(Z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Unchecked core of :func:`softmax_cross_entropy` (the training loop's inner path)."""
    n = Z.shape[0]
    rows = np.arange(n)
    with np.errstate(over="ignore", invalid="ignore"):
        shifted = Z - Z.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        loss = float((np.log(s[:, 0]) - shifted[rows, y]).sum()) / n
        probs = e / s
    probs[rows, y] -= 1.0
    probs /= n
    return loss, probs


def softmax_cross_entropy(logits, y) -> tuple[float, np.ndarray]:
    r"""Mean cross-entropy of the softmax of ``logits`` ``(n, C)`` against labels ``y`` ``(n,)``,
    and its gradient with respect to the logits.

    .. math::
        L = \frac1n \sum_{i=1}^n \Big(\log \sum_{c=1}^C e^{z_{ic}} - z_{i y_i}\Big), \qquad
        \frac{\partial L}{\partial z_{ic}} = \frac1n\big(\operatorname{softmax}(z_i)_c - [c = y_i]\big)

    The log-sum-exp is computed as :math:`m_i + \log\sum_c e^{z_{ic} - m_i}` with
    :math:`m_i = \max_c z_{ic}`, which never overflows :cite:p:`goodfellow2016deep`. Non-finite
    logits (a diverging run) give a NaN loss without warnings; labels outside ``0..C-1`` raise.
    torch: ``nn.CrossEntropyLoss()(logits, y)`` (mean reduction; it takes logits, not
    probabilities), i.e. ``F.cross_entropy``; optax:
    ``optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()``.

    >>> loss, g = softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
    >>> bool(np.isclose(loss, np.log(4))), g[0].tolist()
    (True, [-0.375, 0.125, 0.125, 0.125])
    """
    Z = _array("logits", logits, 2)
    if Z.shape[0] == 0 or Z.shape[1] == 0:
        raise ValueError(f"logits must have at least one row and one class, got shape {Z.shape}")
    y = _check_labels(y, Z.shape[0], Z.shape[1])
    return _softmax_cross_entropy(Z.astype(np.float64, copy=False), y)


# --------------------------------------------------------------------------------------------
# models


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
            raise ValueError(f"X has shape {X.shape} but {name} expects (n, {sizes[0]}): one example "
                             f"of {sizes[0]} features per row")
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

    def loss_and_grad(params, X, y) -> tuple[float, dict]:
        X = check(params, X)
        if X.shape[0] == 0:
            raise ValueError("X is empty: a loss needs at least one example")
        y = np.asarray(y)
        if y.shape != (X.shape[0],) or y.dtype.kind not in "iu" or y.min() < 0 or y.max() >= sizes[-1]:
            _check_labels(y, X.shape[0], sizes[-1])
        with np.errstate(over="ignore", invalid="ignore"):
            Z, hidden = forward(params, X)
            loss, G = _softmax_cross_entropy(Z, y)
            if not math.isfinite(loss):
                _finite_or_raise("X", X)       # bad data is an error; bad parameters a divergence
            grads = {}
            for l in range(L - 1, -1, -1):
                H = hidden[l]
                grads[wkeys[l]] = H.T @ G
                grads[bkeys[l]] = G.sum(axis=0)
                if l:
                    G = (G @ params[wkeys[l]].T) * (H > 0)
        return loss, {k: grads[k] for k in keys}

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
        return loss, {k: g["W1"] if k == "W" else g["b1"] for k in params}   # params' key order

    def predict(params, X):
        return inner.predict(to_inner(params), X)

    return Model(inner.name, init_fn, loss_and_grad, predict)


def mlp(sizes, *, init: str = "he") -> Model:
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
