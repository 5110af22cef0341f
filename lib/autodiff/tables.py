r"""The evaluation trace and the adjoint table of a function, as in the AD survey.

:func:`trace` runs a function on :class:`~lib.autodiff.reverse.Var` inputs, runs the backward
pass, and records the forward (primal) trace and the adjoint table in the notation of
:cite:t:`baydin2018automatic`, Tables 2–3: inputs :math:`v_{1-n},\dots,v_0`, intermediates
:math:`v_1, v_2, \dots`; :func:`format_forward` and :func:`format_adjoint` print them.

>>> from lib.autodiff import log, sin
>>> t = trace(lambda x1, x2: log(x1) + x1 * x2 - sin(x2), 2.0, 5.0)
>>> t.gradient.round(4).tolist()
[5.5, 1.7163]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from lib.autodiff import _scalar as S
from lib.autodiff.forward import Dual
from lib.autodiff.reverse import OPS, Var, _as_output, graph_nodes

__all__ = ["Trace", "ForwardRow", "AdjointRow", "trace", "format_forward", "format_adjoint"]

_SUB = str.maketrans("-0123456789", "₋₀₁₂₃₄₅₆₇₈₉")
BAR = "\u0304"  # combining macron: v̄


class ForwardRow(NamedTuple):
    """One line of the forward (primal) trace: ``label = expression = value``."""

    label: str  # "v₁"
    expression: str  # "ln v₋₁" (an input: "x₁")
    value: float
    tangent: float | None  # the forward-mode tangent v̇ when the inputs carried one


class AdjointRow(NamedTuple):
    """One update of the adjoint table: ``v̄_target (+)= v̄_source × ∂v_source/∂v_target``."""

    target: str  # "v₀"
    source: str  # "v₃" ("y" for the seed row)
    partial_text: str  # "cos v₀"
    partial: float  # its value
    total: float  # v̄_target after this update
    first: bool  # the first contribution to v̄_target (an assignment, not a +=)


class Trace(NamedTuple):
    """What :func:`trace` records: the nodes in topological order with their labels, the
    forward trace and the adjoint table."""

    inputs: tuple
    output: Var
    nodes: tuple  # inputs and intermediate nodes, topological order (constants excluded)
    labels: dict  # id(node) -> "v₋₁", ...
    forward_rows: tuple
    adjoint_rows: tuple
    gradient: np.ndarray


def _real(x) -> float:
    return x.value if isinstance(x, Dual) else float(x)


def trace(f: Callable, *x: float, tangents: tuple | None = None, names: tuple | None = None) -> Trace:
    r"""Run ``f(*vars)`` on Vars, then ``backward()``, recording the forward trace and the
    adjoint table in the notation of :cite:t:`baydin2018automatic` (Tables 2–3): inputs
    :math:`v_{1-n}, \dots, v_0`, intermediates :math:`v_1, v_2, \dots` in order of creation.
    With ``tangents`` the inputs also carry forward-mode tangents (the :math:`\dot v` column).

    >>> t = trace(lambda a, b: a * b + a, 2.0, 3.0)
    >>> [r.label + " = " + r.expression for r in t.forward_rows]
    ['v₋₁ = x₁', 'v₀ = x₂', 'v₁ = v₋₁ × v₀', 'v₂ = v₁ + v₋₁']
    """
    n = len(x)
    if n == 0:
        raise ValueError("give at least one input value")
    if tangents is not None and len(tangents) != n:
        raise ValueError(f"{n} inputs but {len(tangents)} tangents")
    names = names or tuple(f"x{str(i + 1).translate(_SUB)}" for i in range(n))
    values = [S.real(v, "x") if tangents is None else Dual(v, t) for v, t in zip(x, tangents or x)]
    inputs = tuple(Var(v, name) for v, name in zip(values, names))
    output = _as_output(f(*inputs))
    output.backward()
    nodes = tuple(v for v in graph_nodes(output) if v.op != "const")
    for v in inputs:  # inputs the output does not use: keep them, grad 0
        if v not in nodes:
            v.grad = 0.0
    nodes = tuple(sorted(set(nodes) | set(inputs), key=lambda v: v._id))
    labels = {id(v): f"v{str(i + 1 - n).translate(_SUB)}" for i, v in enumerate(inputs)}
    k = 0
    for v in nodes:
        if id(v) not in labels:
            k += 1
            labels[id(v)] = f"v{str(k).translate(_SUB)}"

    def label(v: Var) -> str:
        return labels[id(v)] if v.op != "const" else f"{_real(v.value):g}"

    def texts(v: Var) -> dict:
        a = label(v.parents[0]) if v.parents else ""
        b = label(v.parents[1]) if len(v.parents) > 1 else ""
        p = v.consts[0] if v.consts else 0.0
        return {"a": a, "b": b, "p": p, "q": p - 1}

    forward_rows = []
    for v in nodes:
        expr = v.name if v.op is None else OPS[v.op].text.format(**texts(v))
        tangent = v.value.dot if isinstance(v.value, Dual) else None
        forward_rows.append(ForwardRow(labels[id(v)], expr, _real(v.value), tangent))

    # replay the backward pass, recording each contribution (the same order as Var.backward)
    adjoint = {id(v): 0.0 for v in nodes}
    seen = set()
    adjoint[id(output)] = 1.0
    rows = [AdjointRow(labels[id(output)], "y", "1", 1.0, 1.0, True)]
    seen.add(id(output))
    for v in reversed(nodes):
        if v.op is None:
            continue
        op = OPS[v.op]
        partials = op.backward(1.0, *(p.value for p in v.parents), *v.consts)
        for i, (parent, d) in enumerate(zip(v.parents, partials)):
            if parent.op == "const":
                continue
            first = id(parent) not in seen
            seen.add(id(parent))
            adjoint[id(parent)] = adjoint[id(parent)] + adjoint[id(v)] * d
            rows.append(
                AdjointRow(
                    labels[id(parent)],
                    labels[id(v)],
                    op.partials[i].format(**texts(v)),
                    _real(d),
                    _real(adjoint[id(parent)]),
                    first,
                )
            )
    gradient = np.array([_real(v.grad) for v in inputs])
    return Trace(inputs, output, nodes, labels, tuple(forward_rows), tuple(rows), gradient)


def format_forward(t: Trace, digits: int = 4) -> str:
    """The forward (primal) trace as text, one line per node (with the tangent column
    :math:`\\dot v` when the trace carried tangents), as in :cite:t:`baydin2018automatic` Table 2."""
    has_tangent = any(r.tangent is not None for r in t.forward_rows)
    rows = [(f"{r.label} = {r.expression}", r) for r in t.forward_rows]
    width = max(_width(s) for s, _ in rows)
    lines = []
    for s, r in rows:
        line = f"{_pad(s, width)}  = {r.value:{digits + 8}.{digits}f}"
        if has_tangent:
            dot = r.label[0] + "\u0307" + r.label[1:]
            line += f"    {_pad(dot, 4)} = {r.tangent:{digits + 8}.{digits}f}"
        lines.append(line)
    lines.append(
        f"{_pad('y = ' + t.labels[id(t.output)], width)}  = {_real(t.output.value):{digits + 8}.{digits}f}"
        if id(t.output) in t.labels
        else "y"
    )
    return "\n".join(lines)


def format_adjoint(t: Trace, digits: int = 4) -> str:
    """The adjoint table as text, one update per line, as in :cite:t:`baydin2018automatic` Table 3:
    ``v̄₀ = v̄₀ + v̄₂ ∂v₂/∂v₀ = v̄₀ + v̄₂ × v₋₁ = 1.7163``."""
    cols = []
    for r in t.adjoint_rows:
        tb, sb = _bar(r.target), _bar(r.source)
        if r.source == "y":
            cols.append((f"{tb} = ȳ", "", r.total))
            continue
        plus = "" if r.first else f"{tb} + "
        cols.append((f"{tb} = {plus}{sb} ∂{r.source}/∂{r.target}", f"= {plus}{sb} × {r.partial_text}", r.total))
    w1 = max(_width(a) for a, _, _ in cols)
    w2 = max(_width(b) for _, b, _ in cols)
    return "\n".join(f"{_pad(a, w1)}  {_pad(b, w2)}  = {total:{digits + 8}.{digits}f}" for a, b, total in cols)


def _width(s: str) -> int:
    """Display width: combining marks (the bar of v̄, the dot of v̇) take no column."""
    return len(s) - s.count(BAR) - s.count("\u0307")


def _pad(s: str, width: int) -> str:
    return s + " " * (width - _width(s))


def _bar(label: str) -> str:
    return label[0] + BAR + label[1:] if label else label
