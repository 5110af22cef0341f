"""Small helpers shared by the chapter 11 optimizers (leaf-by-leaf loops over a tree)."""

from __future__ import annotations

from typing import Any

import numpy as np

from lib.tree import tree_map


def float_zeros(p: Any) -> np.ndarray:
    """Zeros shaped like ``p`` in ``p``'s float dtype (float64 for integer parameters)."""
    p = np.asarray(p)
    return np.zeros(p.shape, dtype=p.dtype if p.dtype.kind == "f" else np.float64)


def rebuild(tree: Any, leaves: list) -> Any:
    """A tree with the structure of ``tree`` and the given leaves (in ``tree_leaves`` order)."""
    it = iter(leaves)
    return tree_map(lambda _: next(it), tree)


def as_like(g: Any, like: np.ndarray) -> np.ndarray:
    """The gradient as an array in the state's dtype."""
    return np.asarray(g).astype(like.dtype, copy=False)
