r"""Different optimizers for different parameters: a label per parameter, a transform per label.

The optax design (``optax.partition``, formerly ``optax.multi_transform``)::

    tx = partition({"muon": muon(0.02), "adamw": adamw(1e-3)},
                   {"W1": "muon", "b1": "adamw", "W2": "muon", "b2": "adamw"})

Each transform sees only the parameters with its label (gathered into a dict keyed by their
paths, e.g. ``"['W1']"``) and keeps its own state; the updates are scattered back into a tree
shaped like the parameters. torch does the same with two optimizers (or parameter groups).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any, NamedTuple

from lib.optim._leaves import rebuild
from lib.optim.base import GradientTransformation, check_grads
from lib.tree import check_same_structure, tree_leaves, tree_paths

__all__ = ["PartitionState", "partition", "multi_transform"]

Labels = Any | Callable[[Any], Any]


class PartitionState(NamedTuple):
    inner_states: dict  # label -> the state of that label's transform (optax: inner_states)


def _labels(param_labels: Labels, params: Any, transforms: Mapping) -> list:
    labels = param_labels(params) if callable(param_labels) else param_labels
    check_same_structure(params, labels, names=("params", "param_labels"))
    leaves = tree_leaves(labels)
    unknown = sorted({str(x) for x in leaves if x not in transforms})
    if unknown:
        raise ValueError(
            "Some parameters have no corresponding transformation.\n"
            f"Parameter labels: {sorted({str(x) for x in leaves})} \n"
            f"Transforms keys: {sorted(map(str, transforms))} \n"
            f"Add a transform for {unknown} or relabel those parameters."
        )
    return leaves


def _select(tree: Any, paths: list[str], labels: list, label: Hashable) -> dict:
    return {path: leaf for path, leaf, lab in zip(paths, tree_leaves(tree), labels) if lab == label}


def partition(transforms: Mapping[Hashable, GradientTransformation], param_labels: Labels) -> GradientTransformation:
    r"""Apply ``transforms[label]`` to the parameters labelled ``label``.

    .. math:: u_i = T_{\ell(i)}\big(\{g_j : \ell(j) = \ell(i)\}\big)_i

    with :math:`\ell` = ``param_labels``: a tree of labels shaped like the parameters, or a
    callable ``params -> labels``. Every label must be a key of ``transforms``; a transform
    whose label is unused gets an empty dict of parameters. optax: ``optax.partition(transforms,
    param_labels)`` (= ``optax.multi_transform``); torch: one optimizer per group of parameters,
    stepped together (e.g. ``torch.optim.Muon`` + ``torch.optim.AdamW``,
    :cite:t:`jordan2024muon`).

    >>> import numpy as np
    >>> from lib.optim import sgd
    >>> tx = partition({"fast": sgd(1.0), "slow": sgd(0.1)}, {"a": "fast", "b": "slow"})
    >>> p = {"a": np.ones(2), "b": np.ones(2)}
    >>> u, s = tx.update({"a": np.ones(2), "b": np.ones(2)}, tx.init(p), p)
    >>> u
    {'a': array([-1., -1.]), 'b': array([-0.1, -0.1])}
    """
    if not isinstance(transforms, Mapping) or not transforms:
        raise TypeError("transforms must be a non-empty dict {label: GradientTransformation}")
    for k, t in transforms.items():
        if not isinstance(t, GradientTransformation):
            raise TypeError(f"transforms[{k!r}] is a {type(t).__name__}, not a GradientTransformation")

    def init(params):
        labels = _labels(param_labels, params, transforms)
        paths = tree_paths(params)
        return PartitionState({k: t.init(_select(params, paths, labels, k)) for k, t in transforms.items()})

    def update(grads, state, params=None):
        if params is not None:
            check_grads(grads, params)
        labels = _labels(param_labels, params if params is not None else grads, transforms)
        paths = tree_paths(grads)
        by_path, new_states = {}, {}
        for k, t in transforms.items():
            sub_g = _select(grads, paths, labels, k)
            sub_p = _select(params, paths, labels, k) if params is not None else None
            u, new_states[k] = t.update(sub_g, state.inner_states[k], sub_p)
            by_path.update(u)
        return rebuild(grads, [by_path[path] for path in paths]), PartitionState(new_states)

    return GradientTransformation(init, update)


multi_transform = partition  # optax's former name
