"""lib.data: the offline digits loader, the synthetic sets and the mini-batch iterator."""

from __future__ import annotations

import doctest
import socket

import numpy as np
import pytest

import lib.data
from lib.data import Dataset, Splits, blobs, linear_regression, load_digits, minibatches, two_moons


def test_doctests():
    assert doctest.testmod(lib.data).failed == 0


# --------------------------------------------------------------------------------------------
# digits


def test_digits_needs_no_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("load_digits tried to open a network connection")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    lib.data._raw_digits.cache_clear()
    splits = load_digits(seed=0)
    assert isinstance(splits, Splits) and isinstance(splits.train, Dataset)


def test_digits_shapes_dtypes_and_fields():
    s = load_digits(seed=0)
    for d in (s.train, s.val, s.test):
        assert d.X.dtype == np.float64 and d.X.shape[1] == 64
        assert d.y.dtype == np.int64 and d.y.shape == (d.X.shape[0],)
        assert d.name == "digits" and d.n_classes == 10
        assert len(d) == d.X.shape[0]
        X, y, name, n_classes = d  # still a 4-field named tuple
        assert name == "digits" and d._replace(name="x").name == "x"
    assert len(s.train) + len(s.val) + len(s.test) == 1797
    assert abs(len(s.val) - 0.2 * 1797) <= 10 and abs(len(s.test) - 0.2 * 1797) <= 10
    assert s.mean.shape == s.std.shape == (64,)


def _sorted_rows(X):
    return X[np.lexsort(X.T[::-1])]


def test_digits_splits_partition_the_data_set():
    from sklearn.datasets import load_digits as sk

    raw = sk().data.astype(np.float64)
    s = load_digits(seed=3, standardize=False)
    together = np.concatenate([s.train.X, s.val.X, s.test.X])
    np.testing.assert_array_equal(_sorted_rows(together), _sorted_rows(raw))  # disjoint, covering
    assert np.all(s.mean == 0) and np.all(s.std == 1)


def test_digits_splits_are_stratified():
    s = load_digits(seed=0, val_fraction=0.25, test_fraction=0.15)
    full = np.bincount(np.concatenate([s.train.y, s.val.y, s.test.y]), minlength=10)
    for d, frac in ((s.val, 0.25), (s.test, 0.15), (s.train, 0.6)):
        counts = np.bincount(d.y, minlength=10)
        assert np.all(counts > 0)
        assert np.all(np.abs(counts - frac * full) <= 1)


def test_digits_standardised_with_train_statistics_only():
    s = load_digits(seed=1)
    raw = load_digits(seed=1, standardize=False)
    for d, r in ((s.train, raw.train), (s.val, raw.val), (s.test, raw.test)):
        assert np.all(np.isfinite(d.X))
        np.testing.assert_allclose(d.X, (r.X - s.mean) / s.std)
    np.testing.assert_allclose(s.mean, raw.train.X.mean(axis=0))
    varying = raw.train.X.std(axis=0) > 0
    assert not varying.all()  # the digits have constant pixels
    np.testing.assert_allclose(s.train.X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(s.train.X.std(axis=0)[varying], 1)
    assert np.all(s.train.X[:, ~varying] == 0) and np.all(s.std[~varying] == 1)


def test_digits_seeded():
    a, b, c = load_digits(seed=5), load_digits(seed=5), load_digits(seed=6)
    np.testing.assert_array_equal(a.train.X, b.train.X)
    np.testing.assert_array_equal(a.val.y, b.val.y)
    assert not np.array_equal(a.val.y, c.val.y)


def test_digits_optional_splits_and_bad_fractions():
    s = load_digits(val_fraction=0.0, test_fraction=0.0)
    assert len(s.train) == 1797 and s.val.X.shape == (0, 64) and len(s.test) == 0
    with pytest.raises(ValueError, match="val_fraction"):
        load_digits(val_fraction=-0.1)
    with pytest.raises(ValueError, match="< 1"):
        load_digits(val_fraction=0.6, test_fraction=0.4)
    with pytest.raises(TypeError, match="seed"):
        load_digits(seed=1.5)


# --------------------------------------------------------------------------------------------
# synthetic sets


def test_linear_regression():
    data, w = linear_regression(n=500, d=3, noise=0.1, seed=0)
    assert data.X.shape == (500, 3) and data.y.shape == (500,) and w.shape == (3,)
    assert data.y.dtype == np.float64 and data.n_classes == 0 and data.name == "linear_regression"
    residual = data.y - data.X @ w
    assert 0.08 < residual.std() < 0.12
    w_hat = np.linalg.lstsq(data.X, data.y, rcond=None)[0]
    np.testing.assert_allclose(w_hat, w, atol=0.05)
    again, w2 = linear_regression(n=500, d=3, noise=0.1, seed=0)
    np.testing.assert_array_equal(again.y, data.y)
    np.testing.assert_array_equal(w2, w)
    exact, w3 = linear_regression(n=20, d=2, noise=0.0, seed=1)
    np.testing.assert_allclose(exact.y, exact.X @ w3)


def test_two_moons():
    data = two_moons(n=201, noise=0.0, seed=0)
    assert data.X.shape == (201, 2) and data.n_classes == 2 and data.y.dtype == np.int64
    assert np.bincount(data.y).tolist() == [100, 101]
    upper = data.X[data.y == 0]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)  # class 0 on the unit circle
    lower = data.X[data.y == 1]
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)
    noisy = two_moons(n=201, noise=0.1, seed=0)
    assert not np.allclose(noisy.X[noisy.y == 0], upper)
    np.testing.assert_array_equal(two_moons(seed=4).X, two_moons(seed=4).X)
    assert not np.array_equal(two_moons(seed=4).X, two_moons(seed=5).X)


def test_blobs():
    data = blobs(n=300, centers=3, std=0.5, seed=0)
    assert data.X.shape == (300, 2) and data.n_classes == 3
    assert np.bincount(data.y).tolist() == [100, 100, 100]
    means = np.array([data.X[data.y == k].mean(axis=0) for k in range(3)])
    np.testing.assert_allclose(np.hypot(*means.T), 5.0, atol=0.2)
    centres = np.array([[0.0, 0.0, 0.0], [10.0, 10.0, 10.0]])
    d3 = blobs(n=50, centers=centres, std=0.1, seed=1)
    assert d3.X.shape == (50, 3) and d3.n_classes == 2
    np.testing.assert_allclose(d3.X[d3.y == 1].mean(axis=0), 10.0, atol=0.1)
    with pytest.raises(ValueError, match="cannot cover"):
        blobs(n=2, centers=3)
    with pytest.raises(ValueError, match="centers"):
        blobs(centers=np.zeros(3))
    with pytest.raises(ValueError, match="std"):
        blobs(std=-1.0)


# --------------------------------------------------------------------------------------------
# mini-batches


@pytest.mark.parametrize("n,B", [(10, 3), (10, 5), (7, 1), (5, 10), (1797, 32)])
def test_minibatches_cover_every_example_once(n, B):
    rng = np.random.default_rng(0)
    X = np.arange(n, dtype=float)[:, None] * np.ones((1, 2))
    y = np.arange(n)
    batches = list(minibatches(X, y, B, rng=rng))
    expected = [B] * (n // B) + ([n % B] if n % B else [])
    assert [len(b[1]) for b in batches] == expected
    seen = np.concatenate([yb for _, yb in batches])
    assert sorted(seen.tolist()) == list(range(n))
    for Xb, yb in batches:  # rows stay with their labels
        np.testing.assert_array_equal(Xb[:, 0], yb)


def test_minibatches_drop_last():
    rng = np.random.default_rng(1)
    batches = list(minibatches(np.zeros((10, 1)), np.arange(10), 3, rng=rng, drop_last=True))
    assert [len(yb) for _, yb in batches] == [3, 3, 3]
    assert len(set(np.concatenate([yb for _, yb in batches]).tolist())) == 9
    assert list(minibatches(np.zeros((2, 1)), np.arange(2), 3, rng=rng, drop_last=True)) == []


def test_successive_epochs_differ_but_replay_under_the_seed():
    def epochs(seed):
        rng = np.random.default_rng(seed)
        return [
            np.concatenate([yb for _, yb in minibatches(np.zeros((50, 1)), np.arange(50), 8, rng=rng)])
            for _ in range(3)
        ]

    a, b = epochs(0), epochs(0)
    assert not np.array_equal(a[0], a[1]) and not np.array_equal(a[1], a[2])
    for ea, eb in zip(a, b):
        np.testing.assert_array_equal(ea, eb)
    assert not np.array_equal(epochs(1)[0], a[0])


def test_minibatches_without_shuffle_keep_the_order():
    batches = list(minibatches(np.zeros((5, 1)), np.arange(5), 2, rng=None, shuffle=False))
    assert [yb.tolist() for _, yb in batches] == [[0, 1], [2, 3], [4]]


def test_minibatches_explain_bad_input_at_the_call():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"X has shape \(5, 2\).*y has shape \(4,\)"):
        minibatches(np.zeros((5, 2)), np.zeros(4), 2, rng=rng)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        minibatches(np.zeros((5, 2)), np.zeros(5), 0, rng=rng)
    with pytest.raises(TypeError, match="batch_size"):
        minibatches(np.zeros((5, 2)), np.zeros(5), 2.0, rng=rng)
    with pytest.raises(TypeError, match="default_rng"):
        minibatches(np.zeros((5, 2)), np.zeros(5), 2, rng=0)
