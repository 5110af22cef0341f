"""A tiny tree map, so that optimizers work on any parameter structure.

A *tree* is a leaf (a NumPy array or a number) or a container of trees: a ``dict``, a
``list`` or a ``tuple`` (named tuples included). Model parameters are usually a dict of
arrays (``{"W": ..., "b": ...}``); a 2-D test function has a single array.

This is the small subset of ``jax.tree_util`` / ``optax.tree_utils`` the course needs.
Structures are compared strictly: two trees match when they have the same containers with
the same keys (dicts) or lengths (lists, tuples). A mismatch raises a ``ValueError`` that
names the path where the trees differ, e.g. ``grads['W']``.

>>> tree_map(lambda p, g: p - 0.1 * g, {"w": 1.0}, {"w": 2.0})
{'w': 0.8}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["tree_map", "tree_leaves", "tree_paths", "is_leaf", "check_same_structure"]

Tree = Any


_CONTAINERS = (dict, list, tuple)


def is_leaf(x: Any) -> bool:
    """True unless ``x`` is a dict, list or tuple (the containers a tree is made of)."""
    return not isinstance(x, (dict, list, tuple))


def _rebuild(template: Any, children: list) -> Any:
    if isinstance(template, dict):
        return dict(zip(template.keys(), children))
    if isinstance(template, tuple) and hasattr(template, "_fields"):  # named tuple
        return type(template)(*children)
    return type(template)(children)


def _children(x: Any) -> list:
    return list(x.values()) if isinstance(x, dict) else list(x)


def _describe(x: Any) -> str:
    if isinstance(x, dict):
        return f"a dict with keys {sorted(map(str, x))}"
    if isinstance(x, (list, tuple)):
        return f"a {type(x).__name__} of length {len(x)}"
    return f"a leaf of type {type(x).__name__}"


def _mismatch(a: Any, b: Any) -> bool:
    if is_leaf(a) or is_leaf(b):
        return is_leaf(a) != is_leaf(b)
    if isinstance(a, dict) != isinstance(b, dict):
        return True
    if isinstance(a, dict):
        return set(a) != set(b)
    return len(a) != len(b)


def _matches(a: Any, b: Any) -> bool:
    """True when ``a`` and ``b`` have the same structure (the test of :func:`_mismatch`, applied
    everywhere, without building the paths that only an error message needs). Pairs of leaves
    are compared inline: a dict of arrays costs one call, not one per entry."""
    a_node, b_node = isinstance(a, _CONTAINERS), isinstance(b, _CONTAINERS)
    if not (a_node and b_node):
        return a_node == b_node
    if isinstance(a, dict):
        if not isinstance(b, dict) or a.keys() != b.keys():
            return False
        pairs = ((x, b[k]) for k, x in a.items())
    elif isinstance(b, dict) or len(a) != len(b):
        return False
    else:
        pairs = zip(a, b)
    for x, y in pairs:
        if (isinstance(x, _CONTAINERS) or isinstance(y, _CONTAINERS)) and not _matches(x, y):
            return False
    return True


def check_same_structure(
    tree: Tree, other: Tree, names: tuple[str, str] = ("params", "grads"), _path: str = ""
) -> None:
    """Raise ``ValueError`` naming the first path where ``other`` differs from ``tree``."""
    if not _path and _matches(tree, other):
        return  # the common case, checked in one pass; the walk below finds where they differ
    if _mismatch(tree, other):
        where = _path or "the top level"
        raise ValueError(
            f"{names[1]} does not have the structure of {names[0]} at {where}: "
            f"{names[0]}{_path} is {_describe(tree)} but {names[1]}{_path} is {_describe(other)}. "
            f"Pass {names[1]} with exactly the same containers and keys as {names[0]}."
        )
    if is_leaf(tree):
        return
    keys = list(tree.keys()) if isinstance(tree, dict) else range(len(tree))
    for k in keys:
        a, b = tree[k], other[k]
        if not isinstance(a, _CONTAINERS) and not isinstance(b, _CONTAINERS):
            continue  # two leaves match: no recursion (and no path string) for the common case
        check_same_structure(a, b, names, f"{_path}[{k!r}]")


def tree_map(fn: Callable[..., Any], tree: Tree, *rest: Tree) -> Tree:
    """Apply ``fn`` leaf by leaf: ``fn(leaf, *matching_leaves_of_rest)``.

    All trees in ``rest`` must have the structure of ``tree`` (checked, with a clear error).
    Returns a new tree; nothing is modified in place.
    """
    if is_leaf(tree) and all(map(is_leaf, rest)):
        return fn(tree, *rest)  # single arrays (the 2-D test functions): nothing to walk
    for other in rest:
        check_same_structure(tree, other, names=("the first tree", "another tree"))
    return _map(fn, tree, rest)


def _map(fn, tree, rest):
    if is_leaf(tree):
        return fn(tree, *rest)
    if isinstance(tree, dict):
        if not rest:  # one tree: no lists of matching children to build
            return {k: _map(fn, v, ()) if isinstance(v, _CONTAINERS) else fn(v) for k, v in tree.items()}
        return {
            k: _map(fn, v, [r[k] for r in rest]) if isinstance(v, _CONTAINERS) else fn(v, *[r[k] for r in rest])
            for k, v in tree.items()
        }
    children = [_map(fn, c, [r[i] for r in rest]) for i, c in enumerate(_children(tree))]
    return _rebuild(tree, children)


def tree_leaves(tree: Tree) -> list:
    """The leaves of ``tree`` in a fixed order (dict insertion order, then list order)."""
    if is_leaf(tree):
        return [tree]
    out: list = []
    for c in _children(tree):
        if isinstance(c, _CONTAINERS):
            out.extend(tree_leaves(c))
        else:
            out.append(c)
    return out


def tree_paths(tree: Tree, _prefix: str = "") -> list[str]:
    """Paths of the leaves, in the order of :func:`tree_leaves` (``"['W']"``, ``"[0]"``, ...)."""
    if is_leaf(tree):
        return [_prefix]
    keys = list(tree.keys()) if isinstance(tree, dict) else range(len(tree))
    out: list[str] = []
    for k in keys:
        out.extend(tree_paths(tree[k], f"{_prefix}[{k!r}]"))
    return out
