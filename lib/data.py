r"""Data sets and the mini-batch iterator: what a training loop eats.

A :class:`Dataset` is a design matrix ``X`` (one example per row, float64, shape ``(n, d)``)
with its targets ``y`` (``(n,)``: int64 class labels for classification, float64 values for
regression). The real data set of the course is the 8x8 handwritten digits that scikit-learn
ships inside its package (:func:`load_digits`: 1797 images, 10 classes, no download); the
synthetic ones (:func:`linear_regression`, :func:`two_moons`, :func:`blobs`) are small,
seeded and 2-D where that helps plotting.

:func:`minibatches` cuts one epoch into batches of :math:`B` examples drawn *without
replacement* from a fresh permutation, the sampling scheme of every deep-learning framework
:cite:p:`bottou2018optimization`. torch: ``torch.utils.data.DataLoader(dataset, batch_size,
shuffle=True, drop_last=False, generator=g)``.

>>> splits = load_digits(seed=0)
>>> splits.train.X.shape, splits.val.X.shape, splits.test.X.shape, splits.train.n_classes
((1079, 64), (359, 64), (359, 64), 10)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np

__all__ = ["Dataset", "Splits", "load_digits", "linear_regression", "two_moons", "blobs", "minibatches"]


class _DatasetFields(NamedTuple):
    X: np.ndarray
    y: np.ndarray
    name: str
    n_classes: int


class Dataset(_DatasetFields):
    """Examples ``X`` (float64, ``(n, d)``) and targets ``y`` (``(n,)``), a ``name`` and the
    number of classes (``0`` for regression targets).

    A named tuple whose ``len()`` is the number of **examples**, so ``batch_size=len(data)``
    means full-batch gradient descent (unpacking ``X, y, name, n_classes = data`` still works).
    torch: a ``torch.utils.data.TensorDataset(X, y)``, whose ``len()`` is also the number of
    examples.
    """

    __slots__ = ()

    def __len__(self) -> int:  # type: ignore[override]
        return int(self.X.shape[0])

    @classmethod
    def _make(cls, iterable):  # namedtuple's own _make checks len(), which is overridden here
        result = tuple.__new__(cls, iterable)
        if tuple.__len__(result) != 4:
            raise TypeError(f"Dataset expects 4 fields (X, y, name, n_classes), got {tuple.__len__(result)}")
        return result


class Splits(NamedTuple):
    r"""Train / validation / test :class:`Dataset`\ s and the standardisation statistics.

    ``mean`` and ``std`` (shape ``(d,)``) were computed on ``train`` only and applied to all
    three splits: :math:`x \mapsto (x - \text{mean}) / \text{std}`; use them the same way on new
    data. Without standardisation they are zeros and ones.
    """

    train: Dataset
    val: Dataset
    test: Dataset
    mean: np.ndarray
    std: np.ndarray


# --------------------------------------------------------------------------------------------
# argument checks


def _seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise TypeError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _positive_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _nonnegative(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


# --------------------------------------------------------------------------------------------
# digits


@functools.lru_cache(maxsize=1)
def _raw_digits() -> tuple[np.ndarray, np.ndarray]:
    """The CSV that ``sklearn.datasets.load_digits`` reads (bundled, no network), parsed the
    same way (``np.loadtxt``; the last column is the label), without importing scikit-learn
    (about 1.5 s of CPU in a fresh kernel)."""
    import gzip
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("sklearn")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the digits data set ships with scikit-learn: pip install scikit-learn")
    csv = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "digits.csv.gz"
    with gzip.open(csv, mode="rt", encoding="utf-8") as fh:
        data = np.loadtxt(fh, delimiter=",")
    X = np.asarray(data[:, :-1], dtype=np.float64)
    y = np.asarray(data[:, -1], dtype=np.int64)
    X.flags.writeable = False
    y.flags.writeable = False
    return X, y


def _stratified_split(y: np.ndarray, fractions: tuple[float, float], rng: np.random.Generator):
    """Indices (train, val, test): in each class, ``round(fraction * n_class)`` examples go to
    validation and test, the rest to train; each part is then shuffled."""
    parts: list[list[np.ndarray]] = [[], [], []]
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_val = int(round(fractions[0] * idx.size))
        n_test = int(round(fractions[1] * idx.size))
        parts[1].append(idx[:n_val])
        parts[2].append(idx[n_val : n_val + n_test])
        parts[0].append(idx[n_val + n_test :])
    return tuple(rng.permutation(np.concatenate(p)) for p in parts)


def load_digits(
    *, val_fraction: float = 0.2, test_fraction: float = 0.2, seed: int = 0, standardize: bool = True
) -> Splits:
    r"""The 8x8 handwritten digits (1797 images, 64 pixels in 0..16, 10 classes), split and
    standardised.

    The images come from the copy scikit-learn ships inside its package
    (``sklearn.datasets.load_digits``): nothing is downloaded. The split is **stratified** and
    seeded: in every class, a fraction ``val_fraction`` of the images goes to validation and
    ``test_fraction`` to test (rounded), so all three splits hold every digit in the same
    proportions. With ``standardize=True`` each pixel :math:`j` becomes
    :math:`(x_j - \mu_j)/\sigma_j` with the mean and standard deviation of the **training**
    split only (statistics of the validation or test images must not leak into training).
    A pixel that is constant on the training split (:math:`\sigma_j = 0`, e.g. the corners)
    is only centred (:math:`\sigma_j` is replaced by 1, as ``sklearn.preprocessing.
    StandardScaler`` does), so no NaN appears; ``Splits.std`` holds the divisor actually used.

    torch: ``torchvision.transforms.Normalize(mean, std)`` applies the same map to images;
    ``torch.utils.data.random_split`` splits without stratification. The digits are the small
    cousin of MNIST, the data set of many experiments in :cite:t:`goodfellow2016deep`.

    >>> s = load_digits(val_fraction=0.1, test_fraction=0.0, seed=1)
    >>> len(s.train), len(s.val), len(s.test)
    (1618, 179, 0)
    """
    val_fraction = _nonnegative("val_fraction", val_fraction)
    test_fraction = _nonnegative("test_fraction", test_fraction)
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(
            f"val_fraction + test_fraction must be < 1 so that some images are left for training, "
            f"got {val_fraction} + {test_fraction}"
        )
    rng = np.random.default_rng(_seed(seed))
    X, y = _raw_digits()
    train_idx, val_idx, test_idx = _stratified_split(y, (val_fraction, test_fraction), rng)
    d = X.shape[1]
    if standardize:
        mean = X[train_idx].mean(axis=0)
        std = X[train_idx].std(axis=0)
        std = np.where(std > 0, std, 1.0)
    else:
        mean, std = np.zeros(d), np.ones(d)

    def make(idx):
        return Dataset((X[idx] - mean) / std, y[idx].copy(), "digits", 10)

    return Splits(make(train_idx), make(val_idx), make(test_idx), mean, std)


# --------------------------------------------------------------------------------------------
# synthetic data


def linear_regression(n: int = 200, d: int = 1, noise: float = 0.1, seed: int = 0) -> tuple[Dataset, np.ndarray]:
    r"""A linear regression problem :math:`y = X w^\star + \varepsilon` and its true weights.

    :math:`X_{ij} \sim \mathcal N(0, 1)`, :math:`w^\star_j \sim \mathcal N(0, 1)` and
    :math:`\varepsilon_i \sim \mathcal N(0, \texttt{noise}^2)`, all drawn from one generator
    seeded with ``seed``. There is no intercept (add a column of ones to ``X`` for one).
    Returns ``(Dataset, w_star)`` with ``w_star`` of shape ``(d,)``; ``n_classes`` is 0.
    The least-squares loss :math:`\frac1{2n}\lVert Xw-y\rVert^2` is the convex quadratic of
    chapter 1, now a sum over examples :cite:p:`bottou2018optimization`. torch: fit it with
    ``nn.Linear(d, 1, bias=False)`` and ``nn.MSELoss()``.

    >>> data, w = linear_regression(n=5, d=2, seed=0)
    >>> data.X.shape, data.y.shape, w.shape, data.n_classes
    ((5, 2), (5,), (2,), 0)
    """
    n, d = _positive_int("n", n), _positive_int("d", d)
    noise = _nonnegative("noise", noise)
    rng = np.random.default_rng(_seed(seed))
    w = rng.standard_normal(d)
    X = rng.standard_normal((n, d))
    y = X @ w + noise * rng.standard_normal(n)
    return Dataset(X, y, "linear_regression", 0), w


def two_moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> Dataset:
    r"""Two interleaving half circles in 2-D, a classic non-linearly-separable problem.

    Class 0 lies on :math:`(\cos t, \sin t)`, class 1 on :math:`(1-\cos t, \tfrac12-\sin t)`,
    :math:`t\in[0,\pi]` evenly spaced (``n // 2`` and ``n - n // 2`` points), plus Gaussian
    noise of standard deviation ``noise``; the examples are shuffled. Same construction as
    ``sklearn.datasets.make_moons`` (not the same random numbers). A linear model cannot
    separate them; a small MLP can :cite:p:`goodfellow2016deep`. torch has no built-in; pass
    the arrays to ``TensorDataset``.

    >>> data = two_moons(n=10, seed=0)
    >>> data.X.shape, np.bincount(data.y).tolist()
    ((10, 2), [5, 5])
    """
    n = _positive_int("n", n, minimum=2)
    noise = _nonnegative("noise", noise)
    rng = np.random.default_rng(_seed(seed))
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0.0, np.pi, n_out)
    t_in = np.linspace(0.0, np.pi, n_in)
    X = np.concatenate(
        [np.stack([np.cos(t_out), np.sin(t_out)], axis=1), np.stack([1.0 - np.cos(t_in), 0.5 - np.sin(t_in)], axis=1)]
    )
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    X = X + noise * rng.standard_normal(X.shape)
    perm = rng.permutation(n)
    return Dataset(X[perm], y[perm], "two_moons", 2)


def blobs(n: int = 300, centers=3, std: float = 1.0, seed: int = 0) -> Dataset:
    r"""Gaussian clusters: class :math:`k` is :math:`\mathcal N(c_k, \texttt{std}^2 I)`.

    ``centers`` is a number of classes :math:`K` (centres evenly spaced on a circle of radius
    5 in 2-D, so the clusters overlap only when ``std`` is large) or an array ``(K, d)`` of
    centres. The ``n`` examples are split as evenly as possible between the classes and
    shuffled. Like ``sklearn.datasets.make_blobs`` (whose default centres are random). With
    linear decision boundaries between the clusters, softmax regression fits it
    :cite:p:`goodfellow2016deep`; torch has no built-in.

    >>> data = blobs(n=7, centers=3, seed=0)
    >>> data.X.shape, np.bincount(data.y).tolist(), data.n_classes
    ((7, 2), [3, 2, 2], 3)
    """
    n = _positive_int("n", n)
    std = _nonnegative("std", std)
    if isinstance(centers, Integral) and not isinstance(centers, bool):
        k = _positive_int("centers", centers)
        angles = 2 * np.pi * np.arange(k) / k + np.pi / 2
        c = 5.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    else:
        c = np.asarray(centers, dtype=np.float64)
        if c.ndim != 2 or c.shape[0] < 1 or not np.all(np.isfinite(c)):
            raise ValueError(f"centers must be a number of classes or a finite array (K, d), got shape {c.shape}")
        k = c.shape[0]
    if n < k:
        raise ValueError(f"n={n} examples cannot cover centers={k} classes: pass n >= {k}")
    rng = np.random.default_rng(_seed(seed))
    y = np.arange(n, dtype=np.int64) % k
    y.sort()
    X = c[y] + std * rng.standard_normal((n, c.shape[1]))
    perm = rng.permutation(n)
    return Dataset(X[perm], y[perm], "blobs", int(k))


# --------------------------------------------------------------------------------------------
# mini-batches


def minibatches(
    X, y, batch_size: int, *, rng: np.random.Generator | None, shuffle: bool = True, drop_last: bool = False
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    r"""Iterate over ONE epoch of ``(X_batch, y_batch)`` pairs of ``batch_size`` examples.

    With ``shuffle=True`` the epoch follows a fresh permutation :math:`\pi` drawn from ``rng``,
    and batch :math:`k` holds examples :math:`\pi(kB), \dots, \pi(kB+B-1)`: every example is
    used exactly once per epoch (sampling *without* replacement, the scheme frameworks use;
    the analysis of SGD often assumes sampling *with* replacement
    :cite:p:`bottou2018optimization`). Pass the **same** generator every epoch, e.g.
    ``rng = np.random.default_rng(seed)`` created once: each epoch then draws a new
    permutation, and the whole run is reproducible from ``seed``. The last batch has
    :math:`n \bmod B` examples, or is dropped with ``drop_last=True``. A ``batch_size`` larger
    than :math:`n` gives one batch of all :math:`n` examples (full-batch gradient descent).
    The batches are views of one permuted copy of the data made per epoch: do not modify them
    in place. Validation happens at the call, not at the first ``next()``.

    torch: ``DataLoader(TensorDataset(X, y), batch_size=B, shuffle=True, drop_last=False,
    generator=torch.Generator().manual_seed(seed))``; a ``DataLoader`` is re-iterable, this
    returns a one-epoch iterator (call it once per epoch).

    >>> rng = np.random.default_rng(0)
    >>> [yb.tolist() for _, yb in minibatches(np.zeros((5, 1)), np.arange(5), 2, rng=rng)]
    [[2, 4], [3, 0], [1]]
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim < 1 or y.ndim < 1:
        raise ValueError(f"X and y must have one example per row, got shapes X {X.shape} and y {y.shape}")
    n = X.shape[0]
    if y.shape[0] != n:
        raise ValueError(
            f"X and y have different numbers of examples: X has shape {X.shape} and "
            f"y has shape {y.shape}; pass one target per row of X"
        )
    batch_size = _positive_int("batch_size", batch_size)
    if shuffle:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"rng must be a np.random.Generator, got {type(rng).__name__}: create it once with "
                "rng = np.random.default_rng(seed) and pass the same rng every epoch, so each epoch "
                "gets a new permutation"
            )
    return _batches(X, y, n, batch_size, rng, shuffle, bool(drop_last))


def _batches(X, y, n, batch_size, rng, shuffle, drop_last):
    if shuffle:
        perm = rng.permutation(n)
        X, y = X[perm], y[perm]
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield X[start : start + batch_size], y[start : start + batch_size]
