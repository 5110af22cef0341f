r"""One small training loop for every chapter: any model, any optimizer, any batch size.

:func:`train` runs mini-batch stochastic gradient descent in the general form

.. math::
    g_t = \frac{1}{|B_t|}\sum_{i\in B_t} \nabla_\theta \ell(\theta_{t-1}; x_i, y_i), \qquad
    \theta_t = \theta_{t-1} + \text{update}(g_t)

with the batches :math:`B_t` of :func:`lib.data.minibatches` (a fresh permutation each epoch)
and the update of any :mod:`lib.optim` optimizer. ``batch_size=1`` is SGD in its original
form :cite:p:`robbins1951stochastic`, ``batch_size=len(data)`` is full-batch gradient descent,
and everything between is mini-batch SGD :cite:p:`bottou2018optimization`. It records the
loss of every step, the number of gradient evaluations (examples) and the wall time, and
per epoch the loss and accuracy on the training and validation sets (a :class:`History`).
A run is reproducible from ``seed``; a diverging run stops with a message.
:func:`tune_learning_rate` runs :func:`train` once per learning rate of a grid and keeps the
one with the lowest final validation loss, so that methods are compared at their own tuned rates.

The PyTorch loop it stands for::

    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, drop_last=False)
    for epoch in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            loss = nn.CrossEntropyLoss()(model(xb), yb)
            loss.backward()
            opt.step()
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass
from numbers import Integral
from typing import Any, NamedTuple

import numpy as np

from lib.data import Dataset, minibatches
from lib.early_stopping import EarlyStopping, EarlyStoppingMonitor
from lib.nn.layers import _check_labels, _finite_or_raise, _softmax_cross_entropy
from lib.nn.models import Model

__all__ = ["History", "Tuning", "train", "tune_learning_rate"]


@dataclass(frozen=True, repr=False)
class History:
    """What :func:`train` recorded.

    Per step (one entry per update, in order): ``step_loss`` (the mini-batch loss at the
    parameters *before* the update, as a PyTorch loop prints it), ``grad_evals`` (cumulative
    number of examples whose gradient was computed, the cost measure to compare batch sizes
    by) and ``wall_time`` (cumulative seconds spent training, without the per-epoch
    evaluations and the progress bar).

    Per epoch (one entry per completed epoch): ``train_loss``, ``train_acc``, ``val_loss``,
    ``val_acc`` (on the full sets, after the epoch; NaN without validation data, and for all
    but the last epoch when ``eval_every_epoch=False``), ``epoch_grad_evals`` and
    ``epoch_wall_time`` (the step values at the end of each epoch); also as the dict
    ``history.epoch``.

    ``params`` are the final parameters (with early stopping and ``restore_best``: those of
    ``best_epoch``), ``diverged`` is True when the loss became NaN or infinite (the run stopped
    there), ``stop_reason`` is ``"completed"``, ``"early_stopping"`` or ``"diverged"``,
    ``best_epoch`` the epoch early stopping kept (1-based; 0 without early stopping),
    ``buffers`` the model's batch-norm statistics that go with ``params`` (None without
    batch norm; ``model.state.restore(history.buffers)`` puts them back), and ``message`` says
    what happened in a sentence.
    torch has no equivalent object: a PyTorch loop appends to lists by hand.
    """

    step_loss: np.ndarray
    grad_evals: np.ndarray
    wall_time: np.ndarray
    train_loss: np.ndarray
    train_acc: np.ndarray
    val_loss: np.ndarray
    val_acc: np.ndarray
    epoch_grad_evals: np.ndarray
    epoch_wall_time: np.ndarray
    params: Any
    diverged: bool
    message: str
    batch_size: int = 0
    seed: int = 0
    stop_reason: str = "completed"
    best_epoch: int = 0
    buffers: Any = None

    @property
    def epoch(self) -> dict[str, np.ndarray]:
        """The per-epoch arrays as a dict: ``train_loss``, ``train_acc``, ``val_loss``,
        ``val_acc``, ``grad_evals``, ``wall_time``."""
        return {
            "train_loss": self.train_loss,
            "train_acc": self.train_acc,
            "val_loss": self.val_loss,
            "val_acc": self.val_acc,
            "grad_evals": self.epoch_grad_evals,
            "wall_time": self.epoch_wall_time,
        }

    @property
    def steps(self) -> int:
        """The number of updates made."""
        return int(self.step_loss.size)

    @property
    def epochs(self) -> int:
        """The number of epochs completed."""
        return int(self.train_loss.size)

    def __repr__(self) -> str:
        return (
            f"History(epochs={self.epochs}, steps={self.steps}, batch_size={self.batch_size}, "
            f"diverged={self.diverged}, message={self.message!r})"
        )


# --------------------------------------------------------------------------------------------
# progress bar


def _in_kernel() -> bool:
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _show_progress(progress) -> bool:
    if progress is True or progress is False:
        return progress
    if progress != "auto":
        raise ValueError(f"progress must be 'auto', True or False, got {progress!r}")
    if os.environ.get("DESCENT_WIDGETS", "").strip().lower() == "static":
        return False  # the book build: stderr would show on the page
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        tty = False
    return tty or _in_kernel()


class _Progress:
    """A one-line text bar on stderr: epoch, progress, mean mini-batch loss of the current
    epoch so far, elapsed time and ETA.

    With ``progress="auto"`` nothing is printed for runs shorter than ``delay`` seconds."""

    WIDTH = 24

    def __init__(self, enabled: bool, total_steps: int, epochs: int, delay: float):
        self.enabled = enabled and total_steps > 0
        self.total, self.epochs, self.delay = total_steps, epochs, delay
        self.start = time.perf_counter()
        self.last = -math.inf
        self.shown = False

    def update(self, step: int, epoch: int, losses: np.ndarray, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        elapsed = now - self.start
        if elapsed < self.delay or (not force and now - self.last < 0.2):
            return
        self.last = now
        done = step / self.total
        bar = "#" * int(round(done * self.WIDTH))
        eta = elapsed * (1 - done) / done if done > 0 else math.nan
        with np.errstate(all="ignore"):
            loss = float(np.mean(losses)) if losses.size else math.nan
        line = (
            f"\repoch {epoch}/{self.epochs} [{bar:<{self.WIDTH}}] {100 * done:3.0f}%  "
            f"loss {loss:.4g}  {elapsed:.1f}s elapsed, ETA {eta:.1f}s "
        )
        sys.stderr.write(line)
        sys.stderr.flush()
        self.shown = True

    def close(self, step: int, epoch: int, losses: np.ndarray) -> None:
        if self.enabled:
            self.update(step, epoch, losses, force=True)
            if self.shown:
                sys.stderr.write("\n")
                sys.stderr.flush()


# --------------------------------------------------------------------------------------------
# the loop


def _xy(name: str, d) -> tuple[np.ndarray, np.ndarray] | None:
    if d is None:
        return None
    if isinstance(d, Dataset):
        X, y = d.X, d.y
    elif isinstance(d, (tuple, list)) and len(d) == 2:
        X, y = d
    else:
        raise TypeError(f"{name} must be a lib.data.Dataset or a pair (X, y), got {type(d).__name__}")
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise ValueError(f"{name}: X must be (n, d) and y (n,) with the same n, got X {X.shape} and y {y.shape}")
    _finite_or_raise(f"{name}.X", X)
    return X, y


def _int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _evaluate(model: Model, params, X, y) -> tuple[float, float]:
    """Loss and accuracy on a whole set: one forward pass for class labels (the Model contract:
    the loss is the mean softmax cross-entropy of the logits), ``loss_and_grad`` otherwise."""
    if y.dtype.kind in "iu":
        logits = model.predict(params, X)
        loss, _ = _softmax_cross_entropy(logits, y)
        acc = float(np.mean(np.argmax(logits, axis=1) == y)) if math.isfinite(loss) else math.nan
        return loss, acc
    return float(model.loss_and_grad(params, X, y)[0]), math.nan


def train(
    model: Model,
    params,
    optimizer,
    data,
    *,
    epochs: int = 1,
    batch_size: int = 32,
    seed: int = 0,
    val=None,
    drop_last: bool = False,
    progress="auto",
    eval_every_epoch: bool = True,
    early_stopping: EarlyStopping | None = None,
) -> History:
    r"""Train ``model`` from ``params`` with ``optimizer`` on ``data`` for ``epochs`` epochs.

    Each epoch shuffles the training set with a generator seeded once from ``seed``
    (:func:`lib.data.minibatches`), and for every batch of ``batch_size`` examples computes
    the loss and gradient with ``model.loss_and_grad`` and applies one optimizer update::

        updates, state = optimizer.update(grads, state, params)
        params = lib.optim.apply_updates(params, updates)

    With :math:`n` examples an epoch makes :math:`\lceil n/B\rceil` updates (:math:`\lfloor
    n/B\rfloor` with ``drop_last``) and :math:`n` gradient evaluations, whatever :math:`B`:
    ``batch_size=1`` is SGD :cite:p:`robbins1951stochastic`, ``batch_size=len(data)`` full-batch
    gradient descent, the rest mini-batch SGD :cite:p:`bottou2018optimization`. After each epoch
    the loss and accuracy on all of ``data`` and on ``val`` (a Dataset or ``(X, y)``) are
    recorded. ``params`` is not modified; the final parameters are ``history.params``.

    The run is deterministic: the same arguments give the same losses (not the same wall
    times). When a mini-batch loss or an epoch's training loss is NaN or infinite the run
    stops with ``diverged=True`` and a message suggesting a smaller learning rate; overflow
    warnings are silenced while training. ``progress="auto"`` shows a text progress bar
    (epochs, loss, ETA) in a notebook or terminal for runs longer than half a second, and
    nothing in the book build (``DESCENT_WIDGETS=static``) or when output is not
    interactive; ``True`` shows it for every run, ``False`` never.

    The model is put in training mode (``model.train()``) for the updates and in evaluation
    mode (``model.eval()``) for the per-epoch evaluations, and is left in evaluation mode; a
    model with state (dropout, batch norm: :mod:`lib.nn.regularized`) starts every run with
    fresh running statistics and dropout masks drawn from a generator seeded by ``seed``.
    ``early_stopping=EarlyStopping(patience, min_delta, monitor, restore_best)``
    (:mod:`lib.early_stopping`) stops after ``patience`` epochs without improvement of the
    monitored value and returns the best epoch's parameters :cite:p:`prechelt1998early`.

    torch: a ``DataLoader(TensorDataset(X, y), batch_size, shuffle=True, drop_last,
    generator=torch.Generator().manual_seed(seed))`` and the loop
    ``opt.zero_grad(); loss = criterion(model(xb), yb); loss.backward(); opt.step()``.

    >>> from lib.data import blobs
    >>> from lib.nn import softmax_regression
    >>> from lib.optim import sgd
    >>> data = blobs(n=90, centers=3, seed=0)
    >>> h = train(softmax_regression(2, 3), softmax_regression(2, 3).init(0), sgd(lr=0.1), data,
    ...           epochs=3, batch_size=10, progress=False)
    >>> h.steps, int(h.grad_evals[-1]), bool(h.train_acc[-1] > 0.9), h.diverged
    (27, 270, True, False)
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a lib.nn.Model (e.g. lib.nn.mlp((64, 32, 10))), got {type(model).__name__}")
    if not (callable(getattr(optimizer, "init", None)) and callable(getattr(optimizer, "update", None))):
        raise TypeError(
            f"optimizer must be a lib.optim transformation such as lib.optim.sgd(lr=0.1) "
            f"(with init and update), got {type(optimizer).__name__}"
        )
    from lib.optim import apply_updates

    epochs = _int("epochs", epochs, 0)
    batch_size = _int("batch_size", batch_size, 1)
    seed = _int("seed", seed, 0)
    show = _show_progress(progress)
    X, y = _xy("data", data)
    n = X.shape[0]
    if n == 0:
        raise ValueError("data is empty: train needs at least one example")
    valxy = _xy("val", val)
    if valxy is not None and valxy[0].shape[0] == 0:
        valxy = None
    if early_stopping is not None and not eval_every_epoch:
        raise ValueError("early stopping needs an evaluation after every epoch: use eval_every_epoch=True")
    stopper = None if early_stopping is None else EarlyStoppingMonitor(early_stopping, valxy is not None)
    # one cheap forward pass (in eval mode) checks params and the data's shape against the model
    C = model.eval().predict(params, X[:1]).shape[-1]
    if model.state is not None:
        model.state.reset(seed)
    if y.dtype.kind in "iu":
        _check_labels(y, n, C, "data.y")
    if valxy is not None and valxy[1].dtype.kind in "iu":
        _check_labels(valxy[1], valxy[0].shape[0], C, "val.y")

    per_epoch = n // batch_size if drop_last else -(-n // batch_size)
    B = min(batch_size, n)
    if per_epoch == 0:
        raise ValueError(f"drop_last=True with batch_size={batch_size} > n={n} leaves no batch")
    total = epochs * per_epoch
    step_loss = np.full(total, np.nan)
    grad_evals = np.zeros(total, dtype=np.int64)
    wall = np.zeros(total)
    ep = {k: np.full(epochs, np.nan) for k in ("train_loss", "train_acc", "val_loss", "val_acc", "wall")}
    ep_evals = np.zeros(epochs, dtype=np.int64)

    rng = np.random.default_rng(seed)
    state = optimizer.init(params)
    # the model's unchecked path when it has one: params, data and labels are checked above, the
    # updates keep every shape (apply_updates checks), and the loop silences warnings itself
    loss_and_grad = model.loss_and_grad
    if y.dtype.kind in "iu":  # class labels, checked above (other targets: the model's own checks)
        loss_and_grad = getattr(loss_and_grad, "unchecked", loss_and_grad)
    update = optimizer.update
    bar = _Progress(show, total, epochs, delay=0.0 if progress is True else 0.5)
    k = 0  # steps done
    seen = 0  # gradient evaluations
    excluded = 0.0  # seconds spent evaluating / printing
    diverged, message = False, ""
    epochs_done = 0
    current = 0  # the epoch under way (1-based), for the progress bar
    perf = time.perf_counter
    isfinite = math.isfinite
    t0 = perf()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for e in range(epochs):
            current = e + 1
            model.train()
            for Xb, yb in minibatches(X, y, B, rng=rng, shuffle=True, drop_last=drop_last):
                loss, grads = loss_and_grad(params, Xb, yb)
                step_loss[k] = loss
                seen += Xb.shape[0]
                grad_evals[k] = seen
                if not isfinite(loss):
                    wall[k] = perf() - t0 - excluded
                    k += 1
                    diverged = True
                    message = (
                        f"diverged at step {k} (epoch {e + 1}): the mini-batch loss is {loss}. "
                        "Try a smaller learning rate (e.g. 10 times smaller)."
                    )
                    break
                updates, state = update(grads, state, params)
                params = apply_updates(params, updates)
                wall[k] = perf() - t0 - excluded
                k += 1
                if show:
                    t = perf()
                    bar.update(k, e + 1, step_loss[e * per_epoch : k])
                    excluded += perf() - t
            if diverged:
                break
            t = perf()
            ep_evals[e] = seen
            ep["wall"][e] = wall[k - 1]
            if eval_every_epoch or e == epochs - 1:
                model.eval()
                ep["train_loss"][e], ep["train_acc"][e] = _evaluate(model, params, X, y)
                if valxy is not None:
                    ep["val_loss"][e], ep["val_acc"][e] = _evaluate(model, params, *valxy)
                if not isfinite(ep["train_loss"][e]):
                    diverged = True
                    message = (
                        f"diverged in epoch {e + 1}: the training loss after the epoch is "
                        f"{ep['train_loss'][e]}. Try a smaller learning rate (e.g. 10 times smaller)."
                    )
            epochs_done = e + 1
            if (
                stopper is not None
                and not diverged
                and stopper.after_epoch(
                    e + 1, {k: ep[k][e] for k in ("train_loss", "train_acc", "val_loss", "val_acc")}, params, model
                )
            ):
                excluded += perf() - t
                break
            excluded += perf() - t
            if diverged:
                break
    model.eval()
    stop_reason = "diverged" if diverged else "completed"
    if stopper is not None and not diverged:
        params = stopper.finish(params, model)
        if stopper.stopped_epoch:
            stop_reason = "early_stopping"
    bar.close(k, current, step_loss[max(current - 1, 0) * per_epoch : k])
    if not diverged:
        parts = [
            f"trained {epochs_done} epoch{'s' if epochs_done != 1 else ''} ({k} steps of "
            f"batch size {B}) in {wall[k - 1] if k else 0.0:.2f} s"
        ]
        if epochs_done:
            last = epochs_done - 1
            parts.append(f"train loss {ep['train_loss'][last]:.4g}")
            if not math.isnan(ep["val_acc"][last]):
                parts.append(f"validation accuracy {ep['val_acc'][last]:.1%}")
        message = ", ".join(parts)
        if stop_reason == "early_stopping":
            message = stopper.message() + "; " + message
    return History(
        step_loss=step_loss[:k],
        grad_evals=grad_evals[:k],
        wall_time=wall[:k],
        train_loss=ep["train_loss"][:epochs_done],
        train_acc=ep["train_acc"][:epochs_done],
        val_loss=ep["val_loss"][:epochs_done],
        val_acc=ep["val_acc"][:epochs_done],
        epoch_grad_evals=ep_evals[:epochs_done],
        epoch_wall_time=ep["wall"][:epochs_done],
        params=params,
        diverged=diverged,
        message=message,
        batch_size=B,
        seed=seed,
        stop_reason=stop_reason,
        best_epoch=stopper.state.best_epoch if stopper else 0,
        buffers=model.state.snapshot() if model.state is not None else None,
    )


# --------------------------------------------------------------------------------------------
# tuning


class Tuning(NamedTuple):
    """What :func:`tune_learning_rate` found: ``best_lr`` and the :class:`History` of every
    run, ``histories[lr]`` (in the order of the grid)."""

    best_lr: float
    histories: dict[float, History]


def _score(h: History) -> float:
    last = h.val_loss[-1] if h.val_loss.size else math.nan
    return float(last) if (not h.diverged and math.isfinite(last)) else math.inf


def tune_learning_rate(model: Model, make_optimizer, data, val, lrs, *, init_seed: int = 0, **train_kwargs) -> Tuning:
    r"""Grid search of the learning rate by the final validation loss.

    For every :math:`\eta` in ``lrs``, train ``model`` from ``model.init(init_seed)`` with
    ``make_optimizer(eta)`` on ``data`` (:func:`train` with ``val`` and ``train_kwargs``, e.g.
    ``epochs``, ``batch_size``, ``seed``), and return the :math:`\eta` whose run ends with the
    lowest validation loss

    .. math::
        \eta^\star = \arg\min_{\eta \in \text{lrs}} L_{\text{val}}(\theta_{\text{end}}(\eta)),

    with all runs sharing the same initial parameters and the same mini-batch order, so they
    differ only in :math:`\eta`. A diverged run (or one with a non-finite validation loss)
    scores :math:`+\infty`; ties go to the earlier rate of ``lrs``. The choice uses the
    validation split, never the test split, which stays untouched for a final, unbiased
    estimate :cite:p:`goodfellow2016deep`. torch has no such function: a loop over
    learning rates that builds a fresh model and optimizer each time (or a tool such as
    Optuna / Ray Tune).

    >>> from lib.data import blobs
    >>> from lib.nn import softmax_regression
    >>> from lib.optim import sgd
    >>> data, val = blobs(n=90, centers=3, seed=0), blobs(n=60, centers=3, seed=1)
    >>> best, runs = tune_learning_rate(softmax_regression(2, 3), lambda lr: sgd(lr=lr), data, val,
    ...                                 [0.001, 0.1], epochs=3, batch_size=10, progress=False)
    >>> best, list(runs)
    (0.1, [0.001, 0.1])
    """
    if not callable(make_optimizer):
        raise TypeError(
            "make_optimizer must be a function lr -> optimizer, e.g. "
            f"lambda lr: lib.optim.sgd(lr=lr), got {type(make_optimizer).__name__}"
        )
    if val is None:
        raise ValueError("val is required: the learning rate is chosen by the validation loss (pass e.g. splits.val)")
    grid = []
    for lr in np.atleast_1d(np.asarray(lrs, dtype=float)).tolist():
        if not (math.isfinite(lr) and lr > 0):
            raise ValueError(f"lrs must be finite positive numbers, got {lr!r}")
        if lr in grid:
            raise ValueError(f"lrs has {lr!r} twice: give each learning rate once")
        grid.append(lr)
    if not grid:
        raise ValueError("lrs is empty: give at least one learning rate, e.g. np.geomspace(1e-3, 1e-1, 5)")
    if "val" in train_kwargs or "optimizer" in train_kwargs:
        raise TypeError("pass val positionally and the optimizer as make_optimizer, not in train_kwargs")
    params = model.init(init_seed) if isinstance(model, Model) else None
    histories = {lr: train(model, params, make_optimizer(lr), data, val=val, **train_kwargs) for lr in grid}
    scores = [_score(h) for h in histories.values()]
    if not any(math.isfinite(s) for s in scores):
        raise ValueError(
            f"every learning rate in {grid} diverged or gave a non-finite validation "
            "loss: try smaller ones (e.g. 10 times smaller)"
        )
    return Tuning(grid[int(np.argmin(scores))], histories)
