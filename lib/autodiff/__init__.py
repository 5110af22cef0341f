"""Automatic differentiation in two small modules: forward mode with dual numbers
(:mod:`lib.autodiff.forward`) and reverse mode on a computational graph
(:mod:`lib.autodiff.reverse`, with its traces and adjoint tables in :mod:`lib.autodiff.tables`),
as taught in chapter 2 :cite:p:`baydin2018automatic`.

>>> from lib.autodiff import Dual, Var, grad, jvp, log, sin
>>> f = lambda x: log(x[0]) + x[0] * x[1] - sin(x[1])
>>> jvp(f, [2.0, 5.0], [1.0, 0.0])[1]            # ∂f/∂x₁ = 1/x₁ + x₂, one forward pass
5.5
>>> grad(f, [2.0, 5.0]).round(4)                 # the whole gradient, one backward pass
array([5.5   , 1.7163])
"""

from lib.autodiff._scalar import DomainError
from lib.autodiff.forward import (
    Dual,
    cos,
    derivative,
    exp,
    forward_gradient,
    forward_jacobian,
    jvp,
    log,
    relu,
    sigmoid,
    sin,
    sqrt,
    tanh,
)
from lib.autodiff.reverse import Var, grad, graph_nodes, hvp, reverse_jacobian, value_and_grad, vjp
from lib.autodiff.tables import Trace, format_adjoint, format_forward, trace

__all__ = [
    "DomainError",
    "Dual",
    "jvp",
    "derivative",
    "forward_gradient",
    "forward_jacobian",
    "Var",
    "grad",
    "value_and_grad",
    "vjp",
    "reverse_jacobian",
    "hvp",
    "graph_nodes",
    "Trace",
    "trace",
    "format_forward",
    "format_adjoint",
    "exp",
    "log",
    "sin",
    "cos",
    "tanh",
    "sqrt",
    "relu",
    "sigmoid",
]
