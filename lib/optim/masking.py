r"""Masks that choose which parameters a transformation acts on (chapter 06).

A *mask* says, parameter by parameter, whether weight decay applies. It is one of

* a tree of booleans with the structure of the parameters, e.g.
  ``{"W1": True, "b1": False, ...}``, or a *prefix* of it: a single ``True`` / ``False`` in
  place of a whole sub-tree applies to every leaf below it (optax's convention);
* a callable ``params -> tree of booleans`` such as :func:`weight_decay_mask`, called with the
  parameters at every update (so it also works for parameters created later).

:func:`resolve_mask` turns either form into a full tree of Python ``bool`` and checks it, so a
typo in a key or a non-boolean leaf fails with a message instead of silently decaying the wrong
parameters. :func:`lib.optim.add_decayed_weights` and :func:`lib.optim.adamw` take ``mask=``.

torch has no masks: it gives each *parameter group* its own ``weight_decay``, e.g.
``AdamW([{"params": weights}, {"params": biases, "weight_decay": 0.0}], ...)``; optax:
``optax.add_decayed_weights(weight_decay, mask)``, ``optax.adamw(..., mask=mask)``, and
``optax.masked``. Reference: :cite:t:`loshchilov2019decoupled`.

>>> import numpy as np
>>> params = {"W1": np.ones((3, 2)), "b1": np.zeros(2), "scale": np.ones(2)}
>>> weight_decay_mask(params)
{'W1': True, 'b1': False, 'scale': False}
>>> resolve_mask({"W1": True, "b1": False, "scale": False}, params) == weight_decay_mask(params)
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lib.tree import is_leaf, tree_map

__all__ = ["Mask", "resolve_mask", "weight_decay_mask", "mask_to_param_groups"]

Mask = Any | Callable[[Any], Any]


def _is_bool(x: Any) -> bool:
    return isinstance(x, (bool, np.bool_)) or (isinstance(x, np.ndarray) and x.shape == () and x.dtype == np.bool_)


def _expand(mask: Any, params: Any, path: str) -> Any:
    """Broadcast a prefix mask to the full structure of ``params``, checking every leaf."""
    if _is_bool(mask):
        flag = bool(mask)
        return tree_map(lambda p: flag, params)
    if is_leaf(mask):
        raise TypeError(
            f"mask{path} is {mask!r} ({type(mask).__name__}); every entry of a mask must be True "
            "or False (True: decay this parameter, False: leave it alone)."
        )
    if is_leaf(params):
        raise ValueError(
            f"mask{path} is a {type(mask).__name__} but params{path} is a single array: give one True / False for it."
        )
    same = (isinstance(mask, dict) and isinstance(params, dict) and set(mask) == set(params)) or (
        not isinstance(mask, dict) and not isinstance(params, dict) and len(mask) == len(params)
    )
    if not same:
        raise ValueError(
            f"the mask does not match the parameters at {path or 'the top level'}: params{path} "
            f"has {_keys(params)} but mask{path} has {_keys(mask)}. Give one True / False per "
            "parameter (or per sub-tree), with exactly the parameters' keys."
        )
    if isinstance(params, dict):
        return {k: _expand(mask[k], params[k], f"{path}[{k!r}]") for k in params}
    children = [_expand(m, p, f"{path}[{i!r}]") for i, (m, p) in enumerate(zip(mask, params))]
    if isinstance(params, tuple) and hasattr(params, "_fields"):
        return type(params)(*children)
    return type(params)(children)


def _keys(tree: Any) -> str:
    if isinstance(tree, dict):
        return f"keys {sorted(map(str, tree))}"
    return f"{len(tree)} entries"


def resolve_mask(mask: Mask, params: Any) -> Any:
    r"""The full tree of ``bool`` that ``mask`` denotes for ``params``.

    .. math:: \text{mask}(\theta) = (m_1, \dots, m_n) \in \{0, 1\}^n, \qquad
              u_i \leftarrow u_i + m_i\,\lambda\,\theta_i \quad\text{(in add\_decayed\_weights)}

    ``mask`` is ``None`` (every parameter: all ``True``), a tree of booleans, a prefix of one
    (a boolean in place of a sub-tree), or a callable ``params -> mask``. Raises ``TypeError``
    for a non-boolean entry (``0.5``, ``"yes"``; NumPy booleans are accepted) and
    ``ValueError`` naming the path where the mask's keys differ from the parameters'.

    torch: the parameter groups whose ``weight_decay`` is not 0; optax: what
    ``optax.masked`` does with its ``mask`` argument :cite:p:`loshchilov2019decoupled`.

    >>> resolve_mask({"layer": False, "out": {"W": True, "b": False}},
    ...              {"layer": {"W": 1.0, "b": 0.0}, "out": {"W": 2.0, "b": 0.0}})
    {'layer': {'W': False, 'b': False}, 'out': {'W': True, 'b': False}}
    """
    if mask is None:
        return tree_map(lambda p: True, params)
    if callable(mask):
        produced = mask(params)
        if callable(produced) and not _is_bool(produced):
            raise TypeError("the mask function returned a function; it must return a tree of bools")
        return _expand(produced, params, "")
    return _expand(mask, params, "")


def weight_decay_mask(params: Any, min_ndim: int = 2) -> Any:
    r"""The usual mask: decay matrices and kernels, not biases, scales or other 1-D / scalar
    parameters.

    .. math:: m_i = [\operatorname{ndim}(\theta_i) \ge \texttt{min\_ndim}]

    Biases shift a unit's input and normalisation scales set a layer's gain; they are usually
    excluded from weight decay (optax's documentation of ``optax.masked`` gives exactly this
    example; weight decay itself: :cite:t:`loshchilov2019decoupled`). With ``min_ndim=2`` (the default)
    weight matrices are decayed and vectors and scalars are not. Use it directly or as a
    callable: ``adamw(lr, weight_decay=0.1, mask=weight_decay_mask)``.

    torch: the two parameter groups ``[p for p in model.parameters() if p.dim() >= 2]`` and
    the rest with ``weight_decay=0.0`` (the split of e.g. nanoGPT's ``configure_optimizers``).
    optax: ``mask=lambda p: jax.tree.map(lambda x: x.ndim >= 2, p)`` (optax's documentation
    shows ``x.ndim != 1``, which would also decay scalars).

    >>> import numpy as np
    >>> weight_decay_mask({"W": np.ones((2, 2)), "b": np.zeros(2), "s": np.float64(1.0)})
    {'W': True, 'b': False, 's': False}
    """
    if isinstance(min_ndim, bool) or not isinstance(min_ndim, (int, np.integer)) or min_ndim < 0:
        raise ValueError(f"min_ndim must be an integer >= 0, got {min_ndim!r}")
    return tree_map(lambda p: bool(np.ndim(p) >= min_ndim), params)


def mask_to_param_groups(mask: Mask, params: dict, weight_decay: float) -> list[dict]:
    r"""torch's equivalent of a mask on a flat dict of parameters: two parameter groups.

    .. math:: \{\theta_i : m_i = 1\} \text{ with } \lambda, \qquad
              \{\theta_i : m_i = 0\} \text{ with } 0

    Returns ``[{"params": [names...], "weight_decay": λ}, {"params": [names...],
    "weight_decay": 0.0}]`` (empty groups left out), the structure one passes to
    ``torch.optim.AdamW`` once the names are replaced by the tensors. Used by the golden
    recorder and the lesson's table :cite:p:`loshchilov2019decoupled`.

    >>> import numpy as np
    >>> mask_to_param_groups(weight_decay_mask, {"W": np.ones((2, 2)), "b": np.zeros(2)}, 0.1)
    [{'params': ['W'], 'weight_decay': 0.1}, {'params': ['b'], 'weight_decay': 0.0}]
    """
    if not isinstance(params, dict) or any(not is_leaf(p) for p in params.values()):
        raise TypeError("mask_to_param_groups needs a flat dict of arrays {name: array}")
    flags = resolve_mask(mask, params)
    groups = [
        {"params": [k for k in params if flags[k]], "weight_decay": float(weight_decay)},
        {"params": [k for k in params if not flags[k]], "weight_decay": 0.0},
    ]
    return [g for g in groups if g["params"]]
