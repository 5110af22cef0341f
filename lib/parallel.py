r"""Data parallelism: W workers, one shard of the batch each, an all-reduce, one optimizer step.

Synchronous data-parallel SGD splits a batch of :math:`B` examples into :math:`W` shards of
:math:`B/W`; worker :math:`w` computes the gradient :math:`g_w` of the mean loss on its shard,
an *all-reduce* averages them, and every worker applies the same step. For a mean loss

.. math:: \frac1W \sum_{w=1}^W g_w = \frac1W \sum_{w=1}^W \frac{W}{B}\sum_{i \in \text{shard } w} \nabla\ell_i
          = \frac1B \sum_{i=1}^B \nabla\ell_i,

the gradient of the whole batch: data parallelism *is* large-batch training
:cite:p:`goyal2017accurate`. Two versions:

* :func:`train_data_parallel` with ``backend="simulated"``: the workers are a loop in one process
  (exact arithmetic, for the lesson);
* ``backend="processes"``: real worker processes (``multiprocessing``, fork) that exchange
  parameters and gradients through ``multiprocessing.shared_memory``; process 0 (the caller)
  is a worker too and does the reduction. It returns the same parameters as the simulation,
  bit for bit, and measures where the time goes (compute vs waiting at the barriers).
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Callable
from multiprocessing import shared_memory
from typing import Any, NamedTuple

import numpy as np

from lib.optim.accumulation import split_batch
from lib.optim.base import GradientTransformation, apply_updates
from lib.tree import tree_leaves, tree_map

__all__ = [
    "all_reduce_mean",
    "data_parallel_gradient",
    "batch_indices",
    "train_data_parallel",
    "ParallelRun",
    "flatten",
    "unflatten",
    "blas_threads",
]

LossAndGrad = Callable[[Any, np.ndarray, np.ndarray], tuple[float, Any]]


def blas_threads(n: int = 1):
    """A context manager limiting NumPy's BLAS to ``n`` threads (``threadpoolctl``).

    For honest timings of worker processes: a single process may already use every core inside
    ``X @ W``; with one BLAS thread per process, W processes are the only parallelism. On small
    matrices and a shared machine one thread is also simply faster. torch:
    ``torch.set_num_threads(n)``; both default to one thread per core.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(n)


def all_reduce_mean(trees: list) -> Any:
    r"""The mean :math:`\frac1W\sum_w g_w` of ``W`` gradient trees, summed in worker order.

    torch: ``dist.all_reduce(grad, op=ReduceOp.SUM); grad /= world_size`` (what
    ``DistributedDataParallel`` does per bucket); jax: ``jax.lax.pmean(grads, axis_name)``.
    Reference: :cite:t:`goyal2017accurate`.
    """
    if not trees:
        raise ValueError("all_reduce_mean needs at least one gradient tree")
    total = tree_map(lambda g: np.array(g, dtype=float, copy=True), trees[0])
    for t in trees[1:]:
        total = tree_map(lambda a, g: a + np.asarray(g), total, t)
    return tree_map(lambda a: a / len(trees), total)


def data_parallel_gradient(
    loss_and_grad: LossAndGrad, params: Any, X: np.ndarray, y: np.ndarray, workers: int
) -> tuple[float, Any]:
    r"""Loss and gradient of a batch computed by ``workers`` simulated workers, one shard each.

    .. math:: g = \frac1W \sum_{w=1}^W \nabla L_{\text{shard } w}(\theta)

    Equal to ``loss_and_grad(params, X, y)`` for a mean loss (up to rounding); *not* for a model
    whose forward pass mixes the examples of a batch (batch norm: each worker normalises with
    its own shard's statistics, which is ghost batch norm :cite:p:`hoffer2017train`).
    torch: ``DistributedDataParallel`` with ``W`` processes; jax: ``pmap`` / sharding a batch axis.
    """
    shards = split_batch(X, y, workers)
    results = [loss_and_grad(params, Xs, ys) for Xs, ys in shards]
    loss = sum(float(r[0]) for r in results) / workers
    return loss, all_reduce_mean([r[1] for r in results])


def batch_indices(n: int, batch_size: int, steps: int, seed: int = 0) -> list[np.ndarray]:
    """Indices of ``steps`` batches of ``batch_size``: reshuffle each epoch, drop the last partial batch.

    The same for every backend, so runs can be compared step for step. torch:
    ``DataLoader(shuffle=True, drop_last=True)`` (``DistributedSampler`` shards it per worker).
    """
    if batch_size < 1 or batch_size > n:
        raise ValueError(f"batch_size must be between 1 and the {n} examples, got {batch_size}")
    rng = np.random.default_rng(seed)
    per_epoch, out = n // batch_size, []
    while len(out) < steps:
        perm = rng.permutation(n)
        out.extend(perm[i * batch_size : (i + 1) * batch_size] for i in range(per_epoch))
    return out[:steps]


def flatten(tree: Any) -> np.ndarray:
    """All leaves of ``tree`` in one float64 vector (what travels through shared memory)."""
    return np.concatenate([np.ravel(np.asarray(x, dtype=float)) for x in tree_leaves(tree)])


def unflatten(vector: np.ndarray, template: Any) -> Any:
    """Inverse of :func:`flatten`: a tree shaped like ``template`` with the entries of ``vector``."""
    sizes = [np.size(x) for x in tree_leaves(template)]
    if len(vector) != sum(sizes):
        raise ValueError(f"vector has {len(vector)} entries but the template needs {sum(sizes)}")
    offsets = iter(np.cumsum([0] + sizes))
    start = [next(offsets)]

    def take(x):
        a = start[0]
        b = a + np.size(x)
        start[0] = b
        return np.array(vector[a:b]).reshape(np.shape(x))

    return tree_map(take, template)


class ParallelRun(NamedTuple):
    params: Any  # final parameters
    losses: np.ndarray  # mean training loss of each step's batch
    seconds: float  # wall time of the training loop (process start-up excluded)
    compute_seconds: float  # time worker 0 spent computing gradients and updates
    wait_seconds: float  # time worker 0 spent waiting at barriers (synchronisation + transfer)
    setup_seconds: float  # starting the processes and allocating shared memory
    workers: int
    backend: str


def _worker(rank, workers, loss_and_grad, X, y, template, names, batch_size, barrier, timeout):
    blocks = [shared_memory.SharedMemory(name=n) for n in names]
    try:
        n_params = sum(np.size(x) for x in tree_leaves(template))
        params_buf = np.ndarray((n_params,), dtype=float, buffer=blocks[0].buf)
        grads_buf = np.ndarray((workers, n_params), dtype=float, buffer=blocks[1].buf)
        idx_buf = np.ndarray((batch_size + 1,), dtype=np.int64, buffer=blocks[2].buf)  # last: stop flag
        loss_buf = np.ndarray((workers,), dtype=float, buffer=blocks[3].buf)
        m = batch_size // workers
        while True:
            barrier.wait(timeout)  # parameters and indices are ready
            if idx_buf[-1]:
                break
            params = unflatten(params_buf, template)
            idx = idx_buf[rank * m : (rank + 1) * m]
            loss, g = loss_and_grad(params, X[idx], y[idx])
            grads_buf[rank] = flatten(g)
            loss_buf[rank] = loss
            barrier.wait(timeout)  # gradients are written
    finally:
        for b in blocks:
            b.close()


def train_data_parallel(
    loss_and_grad: LossAndGrad,
    params: Any,
    tx: GradientTransformation,
    X: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int,
    steps: int,
    workers: int = 2,
    seed: int = 0,
    backend: str = "simulated",
    timeout: float = 60.0,
) -> ParallelRun:
    r"""Synchronous data-parallel training: ``steps`` updates on batches of ``batch_size``.

    At every step each of the ``workers`` computes the gradient of the mean loss on its
    ``batch_size / workers`` examples; the gradients are averaged (:func:`all_reduce_mean`) and
    ``tx`` makes one step:

    .. math:: \theta_t = \theta_{t-1} + \texttt{tx}\Big(\frac1W \sum_w \nabla L_{\text{shard } w}(\theta_{t-1})\Big)

    ``backend="simulated"`` loops over the workers; ``"processes"`` runs ``workers - 1`` forked
    processes plus the caller, with parameters, batch indices, gradients and losses in shared
    memory and a ``multiprocessing.Barrier`` twice per step; both give identical parameters.
    torch: ``torch.distributed.init_process_group`` + ``DistributedDataParallel(model)`` (which
    overlaps the all-reduce of gradient buckets with the backward pass); jax: ``pmap`` with
    ``lax.pmean``. Reference: :cite:t:`goyal2017accurate`.
    """
    if backend not in ("simulated", "processes"):
        raise ValueError(f"unknown backend {backend!r}; use 'simulated' or 'processes'")
    if isinstance(workers, bool) or int(workers) != workers or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    if batch_size % workers:
        raise ValueError(
            f"batch_size {batch_size} is not divisible by {workers} workers: "
            "every worker must get the same number of examples for the mean to be exact"
        )
    X, y = np.asarray(X), np.asarray(y)
    batches = batch_indices(len(X), batch_size, steps, seed)
    state = tx.init(params)
    losses = np.empty(steps)

    if backend == "simulated":
        t0 = time.perf_counter()
        for t, idx in enumerate(batches):
            losses[t], g = data_parallel_gradient(loss_and_grad, params, X[idx], y[idx], workers)
            updates, state = tx.update(g, state, params)
            params = apply_updates(params, updates)
        seconds = time.perf_counter() - t0
        return ParallelRun(params, losses, seconds, seconds, 0.0, 0.0, workers, backend)

    if "fork" not in mp.get_all_start_methods():
        raise RuntimeError(
            "backend='processes' needs the 'fork' start method (Linux / macOS); "
            "use backend='simulated' on this platform"
        )
    ctx = mp.get_context("fork")
    t_setup = time.perf_counter()
    n_params = flatten(params).size
    sizes = [n_params * 8, workers * n_params * 8, (batch_size + 1) * 8, workers * 8]
    blocks = [shared_memory.SharedMemory(create=True, size=s) for s in sizes]
    params_buf = np.ndarray((n_params,), dtype=float, buffer=blocks[0].buf)
    grads_buf = np.ndarray((workers, n_params), dtype=float, buffer=blocks[1].buf)
    idx_buf = np.ndarray((batch_size + 1,), dtype=np.int64, buffer=blocks[2].buf)
    loss_buf = np.ndarray((workers,), dtype=float, buffer=blocks[3].buf)
    idx_buf[-1] = 0
    barrier = ctx.Barrier(workers)
    template = tree_map(lambda p: np.zeros(np.shape(p)), params)
    procs = [
        ctx.Process(
            target=_worker,
            daemon=True,
            args=(r, workers, loss_and_grad, X, y, template, [b.name for b in blocks], batch_size, barrier, timeout),
        )
        for r in range(1, workers)
    ]
    try:
        for p in procs:
            p.start()
        setup = time.perf_counter() - t_setup
        m = batch_size // workers
        compute = wait = 0.0
        t0 = time.perf_counter()
        for t, idx in enumerate(batches):
            c0 = time.perf_counter()
            params_buf[:] = flatten(params)
            idx_buf[:-1] = idx
            c1 = time.perf_counter()
            barrier.wait(timeout)
            c2 = time.perf_counter()
            loss, g = loss_and_grad(params, X[idx[:m]], y[idx[:m]])
            grads_buf[0] = flatten(g)
            loss_buf[0] = loss
            c3 = time.perf_counter()
            barrier.wait(timeout)
            c4 = time.perf_counter()
            shards = [unflatten(grads_buf[r], template) for r in range(workers)]
            g = all_reduce_mean(shards)
            losses[t] = sum(float(v) for v in loss_buf) / workers
            updates, state = tx.update(g, state, params)
            params = apply_updates(params, updates)
            c5 = time.perf_counter()
            compute += (c1 - c0) + (c3 - c2) + (c5 - c4)
            wait += (c2 - c1) + (c4 - c3)
        seconds = time.perf_counter() - t0
        idx_buf[-1] = 1  # stop
        barrier.wait(timeout)
        for p in procs:
            p.join(timeout)
    except BaseException:
        barrier.abort()
        for p in procs:
            if p.is_alive():
                p.terminate()
        raise
    finally:
        del params_buf, grads_buf, idx_buf, loss_buf
        for b in blocks:
            b.close()
            b.unlink()
    bad = [p.exitcode for p in procs if p.exitcode != 0]
    if bad:
        raise RuntimeError(
            f"a worker process failed (exit codes {bad}); run with backend='simulated' to see the error in this process"
        )
    return ParallelRun(params, losses, seconds, compute, wait, setup, workers, backend)
