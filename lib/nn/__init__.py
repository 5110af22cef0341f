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

Modules: :mod:`lib.nn.layers` (forward / backward functions of each layer),
:mod:`lib.nn.models` (:class:`Model`, :func:`softmax_regression`, :func:`mlp`),
:mod:`lib.nn.dropout` (inverted dropout, :class:`Dropout`) and :mod:`lib.nn.batchnorm`
(batch normalization, :class:`BatchNorm1d`) (chapter 8); everything public is importable
from ``lib.nn``.
"""

# chapter 08: regularization layers
from lib.nn.batchnorm import BatchNorm1d, BatchNormCache, batchnorm_backward, batchnorm_forward
from lib.nn.dropout import Dropout, DropoutCache, dropout_backward, dropout_forward, dropout_mask
from lib.nn.layers import linear_backward, linear_forward, relu_backward, relu_forward, softmax_cross_entropy
from lib.nn.models import INITS, Model, accuracy, l2_regularized, mlp, softmax_regression

__all__ = [
    "Model",
    "softmax_regression",
    "mlp",
    "accuracy",
    "l2_regularized",
    "INITS",
    "linear_forward",
    "linear_backward",
    "relu_forward",
    "relu_backward",
    "softmax_cross_entropy",
    # chapter 08
    "BatchNorm1d",
    "BatchNormCache",
    "batchnorm_forward",
    "batchnorm_backward",
    "Dropout",
    "DropoutCache",
    "dropout_forward",
    "dropout_backward",
    "dropout_mask",
]
