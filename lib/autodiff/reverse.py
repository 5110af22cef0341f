r"""Reverse-mode automatic differentiation: a scalar ``Var`` that records a computational graph.

Every operation on a :class:`Var` creates a node that remembers its inputs (the *stored
intermediates*). :meth:`Var.backward` then visits the nodes in reverse topological order and
applies each operation's local backward rule, accumulating adjoints
:math:`\bar v_i = \partial y / \partial v_i` by the multivariate chain rule

.. math:: \bar v_i = \sum_{j:\ i \to j} \bar v_j \,\frac{\partial v_j}{\partial v_i},

so one backward pass gives the whole gradient of :math:`f:\mathbb{R}^n\to\mathbb{R}`
:cite:p:`baydin2018automatic,griewank2008evaluating`. The engine is the size of Karpathy's
micrograd; torch: ``loss.backward()`` / ``torch.autograd.grad``; JAX: ``jax.grad``.

:mod:`lib.autodiff.tables` prints the forward trace and the adjoint table of a function in the
notation of Baydin et al. (2018), Tables 2–3; :func:`hvp`
computes Hessian-vector products by forward-over-reverse (a ``Var`` whose values are
:class:`~lib.autodiff.forward.Dual` numbers) :cite:p:`pearlmutter1994fast`.

>>> from lib.autodiff import log, sin
>>> x1, x2 = Var(2.0), Var(5.0)
>>> y = log(x1) + x1 * x2 - sin(x2)
>>> y.backward()
>>> round(x1.grad, 6), round(x2.grad, 6)          # 1/x1 + x2, x1 - cos x2
(5.5, 1.716338)
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from lib.autodiff import _scalar as S
from lib.autodiff import forward as F
from lib.autodiff.forward import Dual

__all__ = [
    "Var",
    "Op",
    "OPS",
    "graph_nodes",
    "value_and_grad",
    "grad",
    "vjp",
    "reverse_jacobian",
    "hvp",
    "add_backward",
    "sub_backward",
    "mul_backward",
    "div_backward",
    "pow_backward",
    "log_backward",
    "sin_backward",
]


# -- local backward rules: (grad_out, *input values, *constants) -> one gradient per input --------
# Inputs may be floats or Duals (forward-over-reverse), so the rules use lib.autodiff functions.


def add_backward(g, a, b):
    """c = a + b: (ḡ, ḡ)."""
    return g, g


def sub_backward(g, a, b):
    """c = a − b: (ḡ, −ḡ)."""
    return g, -g


def mul_backward(g, a, b):
    """c = a b: (ḡ b, ḡ a)."""
    return g * b, g * a


def div_backward(g, a, b):
    """c = a / b: (ḡ / b, −ḡ a / b²)."""
    return g / b, -g * a / (b * b)


def _neg_backward(g, a):
    return (-g,)


def pow_backward(g, a, p):
    """c = a^p for a constant p: (ḡ p a^(p−1),)."""
    return (g * p * a ** (p - 1),) if p != 1 else (g,)


def _exp_backward(g, a):
    return (g * F.exp(a),)


def log_backward(g, a):
    """c = ln a: (ḡ / a,)."""
    return (g / a,)


def sin_backward(g, a):
    """c = sin a: (ḡ cos a,)."""
    return (g * F.cos(a),)


def _cos_backward(g, a):
    return (-g * F.sin(a),)


def _tanh_backward(g, a):
    t = F.tanh(a)
    return (g * (1 - t * t),)


def _sqrt_backward(g, a):
    return (g / (2 * F.sqrt(a)),)


def _relu_backward(g, a):
    return (g if a > 0 else 0 * g,)


def _sigmoid_backward(g, a):
    s = F.sigmoid(a)
    return (g * s * (1 - s),)


class Op(NamedTuple):
    """An elementary operation: how it prints in a trace, its local partial derivatives (as
    text, for the adjoint table) and its backward rule. Placeholders: ``{a}``, ``{b}`` the
    inputs, ``{p}`` a constant exponent and ``{q}`` = p − 1."""

    text: str
    partials: tuple
    backward: Callable


OPS: dict[str, Op] = {
    "add": Op("{a} + {b}", ("1", "1"), add_backward),
    "sub": Op("{a} − {b}", ("1", "(−1)"), sub_backward),
    "mul": Op("{a} × {b}", ("{b}", "{a}"), mul_backward),
    "div": Op("{a} / {b}", ("1/{b}", "(−{a}/{b}²)"), div_backward),
    "neg": Op("−{a}", ("(−1)",), _neg_backward),
    "pow": Op("{a}^{p:g}", ("{p:g}·{a}^{q:g}",), pow_backward),
    "exp": Op("exp {a}", ("exp {a}",), _exp_backward),
    "log": Op("ln {a}", ("1/{a}",), log_backward),
    "sin": Op("sin {a}", ("cos {a}",), sin_backward),
    "cos": Op("cos {a}", ("(−sin {a})",), _cos_backward),
    "tanh": Op("tanh {a}", ("(1 − tanh² {a})",), _tanh_backward),
    "sqrt": Op("√{a}", ("1/(2√{a})",), _sqrt_backward),
    "relu": Op("relu {a}", ("[{a} > 0]",), _relu_backward),
    "sigmoid": Op("σ({a})", ("σ({a})(1 − σ({a}))",), _sigmoid_backward),
}

_ids = itertools.count()


def _check_value(value: Any) -> Any:
    if isinstance(value, Dual):
        return value
    return S.real(value, "the value of a Var")


def _div(a, b):
    if isinstance(a, numbers.Real) and isinstance(b, numbers.Real):
        return S.divide(a, b)
    return a / b


def _pow(a, p):
    return S.power(a, p) if isinstance(a, numbers.Real) else a**p


class Var:
    r"""A scalar that records the operations applied to it, for reverse-mode differentiation.

    ``Var(value, name)`` is an input (a leaf). Arithmetic with Vars and numbers (``x * y``,
    ``2 - x``, ``x ** 2``, ``x / y``) and the functions of :mod:`lib.autodiff` (``log(x)``,
    ``sin(x)``; also ``np.sin`` on object arrays, which calls the methods) build new nodes;
    each keeps its ``op``, its ``parents`` and its ``value``. After ``y.backward()``, every node
    ``v`` of ``y``'s graph holds ``v.grad`` = ∂y/∂v. Unlike torch, which accumulates into
    ``.grad``, each call of ``backward`` starts the adjoints from zero. Comparisons compare
    values, so programs may branch and loop. :cite:p:`baydin2018automatic`

    >>> x = Var(3.0)
    >>> y = x * x + 2 * x
    >>> y.backward(); x.grad
    8.0
    """

    __slots__ = ("value", "grad", "parents", "consts", "op", "name", "_id")

    def __init__(
        self, value: Any, name: str | None = None, *, _op: str | None = None, _parents: tuple = (), _consts: tuple = ()
    ):
        self.value = _check_value(value)
        self.grad = 0.0
        self.op = _op  # None: an input; "const": a number; else a key of OPS
        self.parents = _parents
        self.consts = _consts
        self.name = name
        self._id = next(_ids)

    def __repr__(self) -> str:
        what = "input" if self.op is None else self.op
        name = f" {self.name!r}" if self.name else ""
        return f"Var({self.value!r}, {what}{name}, grad={self.grad!r})"

    # -- building the graph -------------------------------------------------------------------
    @staticmethod
    def _lift(other: Any):
        if isinstance(other, Var):
            return other
        if isinstance(other, Dual) or (isinstance(other, numbers.Real) and not isinstance(other, bool)):
            return Var(other, _op="const")
        return NotImplemented

    def _node(self, op: str, value: Any, parents: tuple, consts: tuple = ()) -> Var:
        return Var(value, _op=op, _parents=parents, _consts=consts)

    def __add__(self, other):
        o = self._lift(other)
        return o if o is NotImplemented else self._node("add", self.value + o.value, (self, o))

    def __radd__(self, other):
        o = self._lift(other)
        return o if o is NotImplemented else o + self

    def __sub__(self, other):
        o = self._lift(other)
        return o if o is NotImplemented else self._node("sub", self.value - o.value, (self, o))

    def __rsub__(self, other):
        o = self._lift(other)
        return o if o is NotImplemented else o - self

    def __mul__(self, other):
        o = self._lift(other)
        return o if o is NotImplemented else self._node("mul", self.value * o.value, (self, o))

    def __rmul__(self, other):
        o = self._lift(other)
        return o if o is NotImplemented else o * self

    def __truediv__(self, other):
        o = self._lift(other)
        return o if o is NotImplemented else self._node("div", _div(self.value, o.value), (self, o))

    def __rtruediv__(self, other):
        o = self._lift(other)
        return o if o is NotImplemented else o / self

    def __neg__(self):
        return self._node("neg", -self.value, (self,))

    def __pos__(self):
        return self

    def __pow__(self, other):
        if isinstance(other, Var):  # a variable exponent: a^b = exp(b ln a)
            return (other * self.log()).exp()
        p = S.real(other, "the exponent")
        return self._node("pow", _pow(self.value, p), (self,), (p,))

    def __rpow__(self, other):
        base = S.real(other, "the base")
        if not base > 0:
            raise S.DomainError(f"{base!r} ** x with a variable exponent needs a base > 0")
        return (self * S.log(base)).exp()

    def __lt__(self, other):
        return self.value < (other.value if isinstance(other, Var) else other)

    def __le__(self, other):
        return self.value <= (other.value if isinstance(other, Var) else other)

    def __gt__(self, other):
        return self.value > (other.value if isinstance(other, Var) else other)

    def __ge__(self, other):
        return self.value >= (other.value if isinstance(other, Var) else other)

    def exp(self):
        return self._node("exp", F.exp(self.value), (self,))

    def log(self):
        return self._node("log", F.log(self.value), (self,))

    def sin(self):
        return self._node("sin", F.sin(self.value), (self,))

    def cos(self):
        return self._node("cos", F.cos(self.value), (self,))

    def tanh(self):
        return self._node("tanh", F.tanh(self.value), (self,))

    def sqrt(self):
        return self._node("sqrt", F.sqrt(self.value), (self,))

    def relu(self):
        return self._node("relu", F.relu(self.value), (self,))

    def sigmoid(self):
        return self._node("sigmoid", F.sigmoid(self.value), (self,))

    # -- the backward pass --------------------------------------------------------------------
    def backward(self) -> None:
        r"""Set ``v.grad`` = ∂self/∂v for every node ``v`` of this graph: seed
        :math:`\bar y = 1`, then visit the nodes in reverse topological order, each pushing
        ``grad × local derivative`` to its parents."""
        nodes = graph_nodes(self)
        for node in nodes:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(nodes):
            if node.op is None or node.op == "const":
                continue
            values = tuple(p.value for p in node.parents)
            grads = OPS[node.op].backward(node.grad, *values, *node.consts)
            for parent, g in zip(node.parents, grads):
                parent.grad = parent.grad + g


def graph_nodes(output: Var) -> list:
    """Every node ``output`` depends on (itself included) in topological order: each node
    after its parents (creation order, which is one such order). Their number is what reverse
    mode stores for the backward pass. :cite:p:`baydin2018automatic`"""
    if not isinstance(output, Var):
        raise TypeError(f"expected a Var, got {type(output).__name__}")
    seen, stack = {id(output): output}, [output]
    while stack:  # iterative: deep graphs (long loops) are fine
        for parent in stack.pop().parents:
            if id(parent) not in seen:
                seen[id(parent)] = parent
                stack.append(parent)
    return sorted(seen.values(), key=lambda v: v._id)


# -- gradients, Jacobians, Hessian-vector products --------------------------------------------------


def _inputs(x: Any, values: Any = None):
    """Var inputs for x (a number or a 1-D array); ``values`` overrides each Var's value."""
    if np.ndim(x) == 0:
        return Var(S.real(x, "x") if values is None else values, "x"), True
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"x must be a number or a 1-D array, got shape {arr.shape}")
    vals = arr if values is None else values
    return np.array([Var(v, f"x{i + 1}") for i, v in enumerate(vals)], dtype=object), False


def _as_output(y: Any, where: str = "f(x)") -> Var:
    if isinstance(y, Var):
        return y
    if isinstance(y, np.ndarray) and y.shape == () and isinstance(y.item(), Var):
        return y.item()
    if isinstance(y, (numbers.Real, Dual)):
        return Var(y, _op="const")  # a constant function: gradient 0
    raise TypeError(
        f"{where} returned {type(y).__name__}; expected a scalar Var (for vector outputs use reverse_jacobian or vjp)"
    )


def _grads(xs, scalar: bool):
    if scalar:
        return xs.grad
    return np.array([v.grad for v in xs], dtype=object if any(isinstance(v.grad, Dual) for v in xs) else float)


def value_and_grad(f: Callable, x: Any):
    r"""``(f(x), ∇f(x))`` by one forward and one backward pass. ``x`` is a number or a 1-D
    array (``f`` then receives an object array of :class:`Var`). JAX:
    ``jax.value_and_grad(f)(x)``; torch: ``loss.backward()``. :cite:p:`baydin2018automatic`

    >>> value_and_grad(lambda x: x[0] * x[1], [2.0, 3.0])
    (6.0, array([3., 2.]))
    """
    xs, scalar = _inputs(x)
    y = _as_output(f(xs))
    y.backward()
    value = y.value if isinstance(y.value, Dual) else float(y.value)
    return value, _grads(xs, scalar)


def grad(f: Callable, x: Any):
    """∇f(x) of a scalar function by reverse mode (one backward pass, whatever the dimension).
    JAX: ``jax.grad(f)(x)``; torch: ``torch.autograd.grad``. :cite:p:`baydin2018automatic`

    >>> grad(lambda x: x ** 3, 2.0)
    12.0
    """
    return value_and_grad(f, x)[1]


def _outputs(ys: Any) -> list:
    flat = np.asarray(ys, dtype=object).ravel() if not isinstance(ys, Var) else [ys]
    return [_as_output(y, "an output of f") for y in flat]


def vjp(f: Callable, x: Any, u: Any):
    r"""``(f(x), uᵀ J_f(x))``: the vector-Jacobian product, one backward pass from
    :math:`\sum_i u_i f_i(x)`. torch: ``torch.autograd.grad(y, x, u)``; JAX: ``jax.vjp``.
    :cite:p:`baydin2018automatic`

    >>> vjp(lambda x: [x[0] * x[1], x[0]], [2.0, 3.0], [1.0, 10.0])[1]
    array([13.,  2.])
    """
    xs, scalar = _inputs(x)
    ys = f(xs)
    outs = _outputs(ys)
    u = np.atleast_1d(np.asarray(u, dtype=float))
    if u.size != len(outs):
        raise ValueError(f"u has {u.size} entries but f has {len(outs)} outputs")
    total = sum((ui * yi for ui, yi in zip(u, outs)), Var(0.0, _op="const"))
    total.backward()
    values = np.array([float(y.value) for y in outs]).reshape(np.shape(ys))
    return values, _grads(xs, scalar)


def reverse_jacobian(f: Callable, x: Any) -> np.ndarray:
    r"""The Jacobian of shape ``(m, n)`` by reverse mode: one backward pass per output
    (:math:`m` passes after a single forward pass). torch: ``torch.func.jacrev``; JAX:
    ``jax.jacrev``. :cite:p:`baydin2018automatic`

    >>> reverse_jacobian(lambda x: [x[0] * x[1], x[0]], [2.0, 3.0])
    array([[3., 2.],
           [1., 0.]])
    """
    xs, scalar = _inputs(x)
    xs_list = [xs] if scalar else list(xs)
    rows = []
    for y in _outputs(f(xs)):
        for v in xs_list:
            v.grad = 0.0  # inputs that y does not depend on keep gradient 0
        y.backward()
        rows.append([float(v.grad) for v in xs_list])
    return np.array(rows)


def hvp(f: Callable, x: Any, v: Any):
    r"""``(∇f(x), ∇²f(x) v)``: a Hessian-vector product by forward-over-reverse.

    The inputs are Vars whose values are dual numbers :math:`x + v\varepsilon`; the backward
    pass then computes :math:`\nabla f(x + v\varepsilon) = \nabla f(x) + \nabla^2 f(x)\,v\,\varepsilon`,
    exact, for a few times the cost of a gradient and without forming the Hessian
    :cite:p:`pearlmutter1994fast,baydin2018automatic`. torch: ``torch.func.jvp(torch.func.grad(f), ...)``
    or ``torch.autograd.functional.hvp``; JAX: ``jax.jvp(jax.grad(f), (x,), (v,))``.

    >>> g, Hv = hvp(lambda x: x[0] ** 2 * x[1], [1.0, 2.0], [1.0, 0.0])
    >>> g, Hv                                  # ∇ = (2 x1 x2, x1²), H e1 = (2 x2, 2 x1)
    (array([4., 1.]), array([4., 2.]))
    """
    if np.ndim(x) == 0:
        xs, scalar = _inputs(x, Dual(S.real(x, "x"), S.real(v, "v")))
    else:
        xa, va = np.asarray(x, dtype=float), np.asarray(v, dtype=float)
        if xa.shape != va.shape or xa.ndim != 1:
            raise ValueError(f"x and v must be 1-D of the same shape, got {xa.shape} and {va.shape}")
        xs, scalar = _inputs(xa, [Dual(a, b) for a, b in zip(xa, va)])
    y = _as_output(f(xs))
    y.backward()
    grads = [xs.grad] if scalar else [u.grad for u in xs]
    g = np.array([d.value if isinstance(d, Dual) else float(d) for d in grads])
    hv = np.array([d.dot if isinstance(d, Dual) else 0.0 for d in grads])
    return (float(g[0]), float(hv[0])) if scalar else (g, hv)
