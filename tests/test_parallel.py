"""Data-parallel workers (lib.parallel, chapter 09): simulated and real processes equal the large batch."""

from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pytest

from lib import optim
from lib.data import blobs
from lib.nn import mlp
from lib.parallel import all_reduce_mean, batch_indices, data_parallel_gradient, flatten, train_data_parallel, unflatten

DATA = blobs(n=120, centers=3, seed=0)
MODEL = mlp((2, 8, 3))
P0 = MODEL.init(0)


def max_diff(a, b):
    return max(float(np.max(np.abs(a[k] - b[k]))) for k in a)


def test_shard_gradients_average_to_the_batch_gradient():
    loss, g = MODEL.loss_and_grad(P0, DATA.X[:60], DATA.y[:60])
    for w in (1, 2, 3, 4, 6):
        loss_w, g_w = data_parallel_gradient(MODEL.loss_and_grad, P0, DATA.X[:60], DATA.y[:60], w)
        assert abs(loss_w - loss) < 1e-14 and max_diff(g_w, g) < 1e-15
    # the mean of identical gradients is that gradient (a sum would double it)
    g_sum = all_reduce_mean([g, g])
    assert max_diff(g_sum, g) == 0.0


def test_simulated_workers_train_exactly_like_one_large_batch():
    kw = dict(batch_size=24, steps=30, seed=1)
    one = train_data_parallel(MODEL.loss_and_grad, P0, optim.sgd(lr=0.2, momentum=0.9), DATA.X, DATA.y, workers=1, **kw)
    four = train_data_parallel(
        MODEL.loss_and_grad, P0, optim.sgd(lr=0.2, momentum=0.9), DATA.X, DATA.y, workers=4, **kw
    )
    assert max_diff(one.params, four.params) < 1e-12
    np.testing.assert_allclose(one.losses, four.losses, rtol=1e-12)
    assert one.losses[-1] < one.losses[0]


@pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="needs fork")
def test_processes_give_the_same_parameters_as_the_simulation():
    kw = dict(batch_size=24, steps=15, seed=2, workers=2)
    sim = train_data_parallel(MODEL.loss_and_grad, P0, optim.adam(lr=0.01), DATA.X, DATA.y, **kw)
    real = train_data_parallel(MODEL.loss_and_grad, P0, optim.adam(lr=0.01), DATA.X, DATA.y, backend="processes", **kw)
    assert max_diff(sim.params, real.params) == 0.0  # same arithmetic in the same order
    np.testing.assert_array_equal(sim.losses, real.losses)
    assert real.backend == "processes" and real.wait_seconds > 0 and real.compute_seconds > 0
    assert real.seconds >= real.wait_seconds


def test_batch_indices_and_flatten():
    b = batch_indices(10, 4, 5, seed=0)
    assert [len(i) for i in b] == [4] * 5
    assert len(set(np.concatenate(b[:2]))) == 8  # no repeats within an epoch
    tree = {"W": np.arange(6.0).reshape(2, 3), "b": np.ones(2)}
    back = unflatten(flatten(tree), tree)
    assert max_diff(back, tree) == 0.0 and back["W"].shape == (2, 3)
    with pytest.raises(ValueError, match="template needs"):
        unflatten(np.ones(3), tree)


def test_bad_arguments():
    with pytest.raises(ValueError, match="not divisible"):
        train_data_parallel(
            MODEL.loss_and_grad, P0, optim.sgd(lr=0.1), DATA.X, DATA.y, batch_size=10, steps=1, workers=3
        )
    with pytest.raises(ValueError, match="unknown backend"):
        train_data_parallel(
            MODEL.loss_and_grad, P0, optim.sgd(lr=0.1), DATA.X, DATA.y, batch_size=10, steps=1, backend="mpi"
        )
    with pytest.raises(ValueError, match="batch_size must be between"):
        batch_indices(5, 6, 1)
    with pytest.raises(ValueError, match="at least one"):
        all_reduce_mean([])
