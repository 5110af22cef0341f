"""The composable core: gradient transformations, ``chain`` and ``apply_updates``.

An optimizer is a pair of pure functions (the design of optax, :cite:t:`bradbury2018jax`)::

    tx = lib.optim.sgd(lr=0.1)
    state = tx.init(params)                          # what the optimizer remembers
    updates, state = tx.update(grads, state, params)
    params = lib.optim.apply_updates(params, updates)   # params + updates

``params`` and ``grads`` are trees (:mod:`lib.tree`): an array or a dict / list / tuple of
arrays. ``update`` returns new arrays and a new state; it never modifies its inputs in place
and never keeps a reference to a gradient array, so a training loop may reuse its buffers.
The sign flip of gradient *descent* happens in exactly one place:
:func:`lib.optim.scale_by_learning_rate`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from lib.tree import _map, check_same_structure, is_leaf, tree_leaves, tree_paths

__all__ = ["GradientTransformation", "chain", "identity", "apply_updates", "run"]


# --------------------------------------------------------------------------- the fast path of chain
#
# A chain passes the updates of one link to the next. When a link's updates are arrays it has
# just allocated and keeps no reference to (not the caller's grads, not in its state), the next
# link may overwrite them instead of allocating new ones: the same numbers, one array less per
# parameter. Two function attributes say so (plain functions, so the contract stays two functions):
#
#   update.owns_updates = True        the updates returned are fresh, unshared ndarrays
#   update.in_place = fn              fn(updates, state, params) may overwrite ``updates``
#
# ``chain`` calls ``in_place`` only on updates an owning link has just returned; a link used
# on its own, or after one that does not own its updates, never modifies its input.


def owning(update: Callable) -> Callable:
    """Mark ``update`` as returning fresh arrays that nothing else references (see above)."""
    update.owns_updates = True
    return update


def with_in_place(update: Callable, in_place: Callable) -> Callable:
    """Attach the variant of ``update`` that may overwrite its (owned) input updates."""
    update.in_place = in_place
    update.owns_updates = True  # both variants return fresh (or freshly overwritten) arrays
    return update


class GradientTransformation(NamedTuple):
    """A pair of pure functions ``init(params) -> state`` and
    ``update(grads, state, params=None) -> (updates, state)``.

    optax equivalent: ``optax.GradientTransformation``; torch has no equivalent (a
    ``torch.optim.Optimizer`` keeps its state inside the object and updates parameters in place).
    """

    init: Callable[[Any], Any]
    update: Callable[..., tuple[Any, Any]]


def check_grads(grads: Any, params: Any, name: str = "grads") -> None:
    """Raise ``ValueError`` if ``grads`` does not match ``params`` in structure or leaf shapes."""
    if isinstance(params, np.ndarray) and isinstance(grads, np.ndarray) and params.shape == grads.shape:
        return  # the common case of a single array, checked without walking a tree
    if type(params) is dict and type(grads) is dict and params.keys() == grads.keys():
        for k, p in params.items():  # a model's flat dict of arrays: one pass, no lists of leaves
            g = grads[k]
            if not (type(p) is np.ndarray and type(g) is np.ndarray and p.shape == g.shape):
                break
        else:
            return
    check_same_structure(params, grads, names=("params", name))
    p_leaves, g_leaves = tree_leaves(params), tree_leaves(grads)
    if all(np.shape(p) == np.shape(g) for p, g in zip(p_leaves, g_leaves)):
        return  # the paths (strings) are built only to name a mismatch
    for path, p, g in zip(tree_paths(params), p_leaves, g_leaves):
        ps, gs = np.shape(p), np.shape(g)
        if ps != gs:
            raise ValueError(
                f"{name}{path} has shape {gs} but params{path} has shape {ps}: "
                f"each entry of {name} must have the shape of its parameter."
            )


def identity() -> GradientTransformation:
    """The transformation that returns the gradients unchanged (optax: ``optax.identity``)."""
    return GradientTransformation(lambda params: (), lambda grads, state, params=None: (grads, state))


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Apply ``transforms`` one after the other; the state is the tuple of their states.

    optax equivalent: ``optax.chain``. ``chain(add_decayed_weights(wd), trace(mu),
    scale_by_learning_rate(lr))`` is torch's ``SGD(lr, momentum=mu, weight_decay=wd)``.

    Fast path: when a link returns arrays it has just allocated (``scale_by_adam``, for
    instance), the next link rescales them in place when it can (``scale_by_learning_rate``,
    ``add_decayed_weights``), with the same result; the caller's arrays are never modified.
    """
    for i, t in enumerate(transforms):
        if not isinstance(t, GradientTransformation):
            raise TypeError(
                f"chain() argument {i} is a {type(t).__name__}, not a GradientTransformation; "
                "pass transforms such as lib.optim.trace(0.9), not their results."
            )

    def init(params):
        return tuple(t.init(params) for t in transforms)

    def update(grads, state, params=None):
        if len(state) != len(transforms):
            raise ValueError(
                f"this chain has {len(transforms)} transforms but the state has {len(state)} entries: "
                "pass the state returned by this optimizer's init() or previous update()."
            )
        new_state, owned = [], False
        for t, s in zip(transforms, state):
            in_place = getattr(t.update, "in_place", None) if owned else None
            if in_place is not None:  # the previous link's fresh arrays: overwrite them
                grads, s = in_place(grads, s, params)
            else:
                grads, s = t.update(grads, s, params)
                owned = getattr(t.update, "owns_updates", False)
            new_state.append(s)
        return grads, tuple(new_state)

    return GradientTransformation(init, update)


def apply_updates(params: Any, updates: Any) -> Any:
    """Return ``params + updates`` leaf by leaf, keeping each parameter's dtype.

    optax equivalent: ``optax.apply_updates``; in torch the optimizer's ``step()`` does this
    in place (``param.add_(update)``).
    """
    if (
        isinstance(params, np.ndarray)
        and isinstance(updates, np.ndarray)
        and params.ndim
        and params.shape == updates.shape
        and params.dtype == updates.dtype
    ):
        return np.add(params, updates)  # the common case of one array, without a tree walk
    check_grads(updates, params, name="updates")

    def add(p, u):
        if isinstance(p, np.ndarray) and isinstance(u, np.ndarray) and p.ndim and p.dtype == u.dtype:
            return np.add(p, u)
        p = np.asarray(p)
        return np.asarray(p + u).astype(p.dtype, copy=False)

    return _map(add, params, (updates,))  # the structures were just checked: tree_map would check again


def run(
    tx: GradientTransformation, grad_fn: Callable[[Any], Any], params: Any, steps: int, *, max_norm: float = 1e10
) -> Any:
    """Run ``steps`` updates of ``tx`` from ``params`` and return the iterates.

    ``grad_fn(params)`` returns the gradient. For an array ``params`` the result is an array
    of shape ``(k + 1, *params.shape)`` (the start point first); for a tree, a list of trees.
    The run stops early, after the first iterate that is not finite or whose norm exceeds
    ``max_norm``, so a diverging learning rate gives a short path instead of overflow
    warnings: ``len(path) < steps + 1`` means the run diverged.
    """
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    state = tx.init(params)
    path = [params]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(int(steps)):
            updates, state = tx.update(grad_fn(params), state, params)
            params = apply_updates(params, updates)
            path.append(params)
            # one reduction per leaf: the norm is inf or nan as soon as one entry is
            if isinstance(params, np.ndarray):
                sq = float(np.vdot(params, params).real)
            else:
                sq = sum(float(np.vdot(x, x).real) for x in map(np.asarray, tree_leaves(params)))
            norm = math.sqrt(sq)
            if not (math.isfinite(norm) and norm <= max_norm):
                break
    if is_leaf(params):
        return np.stack([np.asarray(p) for p in path])
    return path
