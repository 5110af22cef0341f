"""lib.train: counts, reproducibility, learning on digits, divergence, progress bar, speed."""

from __future__ import annotations

import doctest
import time
import warnings

import numpy as np
import pytest

import lib.train
from lib.data import Dataset, blobs, load_digits
from lib.nn import accuracy, mlp, softmax_regression
from lib.optim import apply_updates, sgd
from lib.train import History, train


@pytest.fixture(scope="module")
def digits():
    return load_digits(seed=0)


def test_doctests():
    assert doctest.testmod(lib.train).failed == 0


def _run(digits, **kw):
    model = kw.pop("model", mlp((64, 16, 10)))
    kw.setdefault("progress", False)
    return train(model, model.init(0), kw.pop("optimizer", sgd(lr=0.05)), digits.train, val=digits.val, **kw)


def _same(a: History, b: History):
    for name in ("step_loss", "grad_evals", "train_loss", "train_acc", "val_loss", "val_acc"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])


def test_reproducible_under_a_seed_and_different_across_seeds(digits):
    a = _run(digits, epochs=2, seed=1)
    b = _run(digits, epochs=2, seed=1)
    _same(a, b)
    c = _run(digits, epochs=2, seed=2)
    assert not np.array_equal(a.step_loss, c.step_loss)


@pytest.mark.parametrize("B,drop_last", [(32, False), (32, True), (1, False), (1079, False), (5000, False)])
def test_counts_per_step_and_per_epoch(digits, B, drop_last):
    n = len(digits.train)
    epochs = 2 if B > 1 else 1
    h = _run(
        digits,
        model=softmax_regression(64, 10),
        epochs=epochs,
        batch_size=B,
        drop_last=drop_last,
        optimizer=sgd(lr=0.01),
    )
    b = min(B, n)
    per_epoch = n // b if drop_last else -(-n // b)
    per_epoch_examples = per_epoch * b if drop_last else n
    assert h.steps == epochs * per_epoch == len(h.grad_evals) == len(h.wall_time)
    assert h.grad_evals[-1] == epochs * per_epoch_examples
    assert h.epochs == epochs and h.batch_size == b
    assert h.epoch_grad_evals.tolist() == [per_epoch_examples * (e + 1) for e in range(epochs)]
    assert np.all(np.diff(h.grad_evals) > 0) and np.all(np.diff(h.wall_time) >= 0)
    assert np.all(np.isfinite(h.step_loss)) and not h.diverged
    assert set(h.epoch) == {"train_loss", "train_acc", "val_loss", "val_acc", "grad_evals", "wall_time"}
    np.testing.assert_array_equal(h.epoch["val_acc"], h.val_acc)


def test_full_batch_is_gradient_descent(digits):
    model = softmax_regression(64, 10)
    X, y = digits.train.X, digits.train.y
    h = train(model, model.init(0), sgd(lr=0.5), digits.train, epochs=3, batch_size=len(digits.train), progress=False)
    params = model.init(0)
    losses = []
    for _ in range(3):
        loss, g = model.loss_and_grad(params, X, y)
        losses.append(loss)
        params = apply_updates(params, {k: -0.5 * v for k, v in g.items()})
    np.testing.assert_allclose(h.step_loss, losses, rtol=1e-12)
    for k in params:
        np.testing.assert_allclose(h.params[k], params[k], rtol=1e-12, atol=1e-15)
    assert h.train_loss[-1] == pytest.approx(model.loss_and_grad(params, X, y)[0])


def test_softmax_regression_learns_digits(digits):
    model = softmax_regression(64, 10)
    h = train(model, model.init(0), sgd(lr=0.2), digits.train, epochs=5, batch_size=32, val=digits.val, progress=False)
    assert h.val_acc[-1] > 0.92  # 93.6% with this seed; every epoch is above 89%
    assert h.val_acc[-1] == pytest.approx(accuracy(model, h.params, digits.val.X, digits.val.y))
    assert h.train_loss[-1] < h.step_loss[0] == pytest.approx(np.log(10))
    assert "validation accuracy" in h.message and "5 epochs" in h.message


def test_momentum_and_schedules_work(digits):
    h = _run(digits, epochs=2, optimizer=sgd(lr=lambda t: 0.05 / (1 + t / 100), momentum=0.9))
    assert not h.diverged and h.val_acc[-1] > 0.85


def test_params_are_not_modified(digits):
    model = mlp((64, 16, 10))
    params = model.init(0)
    before = {k: v.copy() for k, v in params.items()}
    h = train(model, params, sgd(lr=0.1), digits.train, epochs=1, progress=False)
    assert all(np.array_equal(before[k], params[k]) for k in params)
    assert not np.array_equal(h.params["W1"], params["W1"])


def test_no_validation_data_and_eval_only_at_the_end(digits):
    h = _run(digits, epochs=3, eval_every_epoch=False)
    assert np.isnan(h.train_loss[:2]).all() and np.isfinite(h.train_loss[2])
    model = softmax_regression(64, 10)
    h = train(model, model.init(0), sgd(lr=0.1), digits.train, epochs=2, progress=False)
    assert np.isnan(h.val_loss).all() and np.isnan(h.val_acc).all() and h.val_loss.shape == (2,)
    h = train(
        model, model.init(0), sgd(lr=0.1), digits.train, epochs=1, progress=False, val=(digits.val.X, digits.val.y)
    )
    assert np.isfinite(h.val_acc).all()
    h = train(model, model.init(0), sgd(lr=0.1), digits.train, epochs=0, progress=False)
    assert h.steps == 0 and h.epochs == 0 and not h.diverged


def test_divergence_stops_with_a_message_and_no_warnings(digits):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = _run(digits, epochs=5, optimizer=sgd(lr=1e6))
    assert h.diverged and "smaller learning rate" in h.message
    assert not np.isfinite(h.step_loss[-1]) and np.all(np.isfinite(h.step_loss[:-1]))
    assert h.steps < 5 * 34
    assert "diverged=True" in repr(h)


def test_bad_input_is_explained(digits):
    model = mlp((64, 16, 10))
    p = model.init(0)
    with pytest.raises(TypeError, match="lib.nn.Model"):
        train(lambda x: x, p, sgd(lr=0.1), digits.train)
    with pytest.raises(TypeError, match="lib.optim"):
        train(model, p, 0.1, digits.train)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        train(model, p, sgd(lr=0.1), digits.train, batch_size=0)
    with pytest.raises(ValueError, match="leaves no batch"):
        train(model, p, sgd(lr=0.1), digits.train, batch_size=5000, drop_last=True)
    bad_labels = Dataset(digits.train.X, digits.train.y + 1, "digits", 10)
    with pytest.raises(ValueError, match=r"data.y contains the label 10"):
        train(model, p, sgd(lr=0.1), bad_labels)
    X = digits.train.X.copy()
    X[3, 5] = np.nan
    with pytest.raises(ValueError, match="data.X contains NaN"):
        train(model, p, sgd(lr=0.1), Dataset(X, digits.train.y, "digits", 10))
    with pytest.raises(ValueError, match=r"expects \(n, 64\)"):
        train(model, p, sgd(lr=0.1), blobs(n=30))
    with pytest.raises(ValueError, match="progress"):
        train(model, p, sgd(lr=0.1), digits.train, progress="yes")
    with pytest.raises(TypeError, match="val"):
        train(model, p, sgd(lr=0.1), digits.train, val=digits.val.X)


# --------------------------------------------------------------------------------------------
# progress bar


def test_progress_is_silent_in_the_book_build_and_when_not_interactive(digits, capsys, monkeypatch):
    monkeypatch.setenv("DESCENT_WIDGETS", "static")
    monkeypatch.setattr(lib.train, "_in_kernel", lambda: True)
    _run(digits, epochs=1, progress="auto")
    assert capsys.readouterr() == ("", "")
    monkeypatch.delenv("DESCENT_WIDGETS")
    monkeypatch.setattr(lib.train, "_in_kernel", lambda: False)  # pytest's stderr is no terminal
    _run(digits, epochs=1, progress="auto")
    assert capsys.readouterr() == ("", "")
    _run(digits, epochs=1, progress=False)
    assert capsys.readouterr() == ("", "")


def test_progress_bar_when_forced_or_interactive(digits, capsys, monkeypatch):
    _run(digits, epochs=2, progress=True)
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "loss" in err and "ETA" in err and err.endswith("\n")
    monkeypatch.delenv("DESCENT_WIDGETS", raising=False)
    monkeypatch.setattr(lib.train, "_in_kernel", lambda: True)
    assert lib.train._show_progress("auto")
    monkeypatch.setenv("DESCENT_WIDGETS", "static")
    assert not lib.train._show_progress("auto")


# --------------------------------------------------------------------------------------------
# speed


def _epoch_time(digits, batch_size, repeats=3):
    model = mlp((64, 32, 10))
    params = model.init(0)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        train(
            model, params, sgd(lr=0.05), digits.train, epochs=1, batch_size=batch_size, val=digits.val, progress=False
        )
        best = min(best, time.perf_counter() - start)
    return best


def test_one_epoch_of_minibatch_sgd_on_digits_is_fast(digits):
    """Budget: 50 ms per epoch (B = 32, MLP 64-32-10, with the per-epoch evaluation);
    asserted with a generous margin for a loaded machine."""
    best = _epoch_time(digits, 32)
    print(f"one epoch, B=32, mlp(64, 32, 10) on digits: {best * 1e3:.1f} ms (best of 3)")
    assert best < 0.2


def test_any_model_with_the_contract_trains_even_regression():
    """A least-squares Model on float targets: the loop uses loss_and_grad; accuracy is NaN."""
    from lib.data import linear_regression
    from lib.nn import Model

    data, w_star = linear_regression(n=200, d=3, noise=0.01, seed=0)

    def loss_and_grad(p, X, y):
        r = X @ p["w"] - y
        return 0.5 * float(r @ r) / len(y), {"w": X.T @ r / len(y)}

    model = Model("least_squares", lambda seed=0: {"w": np.zeros(3)}, loss_and_grad, lambda p, X: (X @ p["w"])[:, None])
    h = train(model, model.init(0), sgd(lr=0.1), data, epochs=20, batch_size=10, progress=False)
    assert not h.diverged and np.isnan(h.train_acc).all()
    np.testing.assert_allclose(h.params["w"], w_star, atol=0.02)


# --------------------------------------------------------------------------------------------
# tune_learning_rate


def test_tune_learning_rate_picks_the_lowest_final_validation_loss(digits):
    from lib.train import Tuning, tune_learning_rate

    model, lrs = mlp((64, 16, 10)), [0.003, 0.03, 0.3, 30.0]
    kw = dict(epochs=2, batch_size=32, seed=1, progress=False)
    result = tune_learning_rate(model, lambda lr: sgd(lr=lr), digits.train, digits.val, lrs, **kw)
    assert isinstance(result, Tuning) and list(result.histories) == lrs
    # every run is the plain train() call with the same init and seed
    for lr in lrs:
        _same(result.histories[lr], train(model, model.init(0), sgd(lr=lr), digits.train, val=digits.val, **kw))
    finals = {
        lr: h.val_loss[-1] for lr, h in result.histories.items() if not h.diverged and np.isfinite(h.val_loss[-1])
    }
    assert 30.0 not in finals or result.best_lr != 30.0  # the exploding rate is never chosen
    assert result.best_lr == min(finals, key=finals.get)
    assert result.best_lr in (0.03, 0.3)


def test_tune_learning_rate_never_picks_a_diverged_run_and_ties_go_to_the_first():
    from lib.train import _score, tune_learning_rate

    data, val = blobs(n=60, centers=3, seed=0), blobs(n=30, centers=3, seed=1)
    model = mlp((2, 8, 3))  # (softmax regression on separable blobs never diverges)
    result = tune_learning_rate(
        model, lambda lr: sgd(lr=lr), data, val, [1e300, 0.1], epochs=2, batch_size=10, progress=False
    )
    assert result.histories[1e300].diverged and result.best_lr == 0.1
    assert _score(result.histories[1e300]) == np.inf
    # an optimizer that ignores lr: identical runs, the first rate wins the tie
    tie = tune_learning_rate(
        model, lambda lr: sgd(lr=0.1), data, val, [0.5, 0.2], epochs=1, batch_size=10, progress=False
    )
    assert tie.best_lr == 0.5


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        (dict(lrs=[]), ValueError, "empty"),
        (dict(lrs=[0.1, -0.1]), ValueError, "positive"),
        (dict(lrs=[0.1, 0.1]), ValueError, "twice"),
        (dict(val=None), ValueError, "val is required"),
        (dict(make_optimizer=sgd(lr=0.1)), TypeError, "make_optimizer"),
        (dict(lrs=[1e300, 1e301]), ValueError, "every learning rate"),
    ],
)
def test_tune_learning_rate_rejects_bad_input(kwargs, error, match):
    from lib.train import tune_learning_rate

    args = dict(
        model=mlp((2, 8, 3)),
        make_optimizer=lambda lr: sgd(lr=lr),
        data=blobs(n=30, centers=3, seed=0),
        val=blobs(n=30, centers=3, seed=1),
        lrs=[0.1],
    )
    args.update(kwargs)
    with pytest.raises(error, match=match):
        tune_learning_rate(
            args.pop("model"),
            args.pop("make_optimizer"),
            args.pop("data"),
            args.pop("val"),
            args.pop("lrs"),
            epochs=1,
            batch_size=10,
            progress=False,
        )


@pytest.mark.parametrize("make", [lambda: mlp((64, 16, 10)), lambda: softmax_regression(64, 10)])
def test_the_unchecked_path_gives_the_checked_results(digits, make):
    """train calls the model's unchecked loss_and_grad (its arguments are checked once, up
    front); a model without one (the same functions, checked every step) gives bitwise the
    same run, and the unchecked function the same loss and gradients."""
    model = make()
    assert callable(model.loss_and_grad.unchecked)
    checked = model._replace(loss_and_grad=lambda p, X, y: model.loss_and_grad(p, X, y))
    a, b = (_run(digits, model=m, epochs=2, batch_size=16) for m in (model, checked))
    assert np.array_equal(a.step_loss, b.step_loss) and np.array_equal(a.val_loss, b.val_loss)
    for k in a.params:
        assert np.array_equal(a.params[k], b.params[k])
    X, y = digits.train.X[:7], digits.train.y[:7]
    p = model.init(1)
    (l1, g1), (l2, g2) = model.loss_and_grad(p, X, y), model.loss_and_grad.unchecked(p, X, y)
    assert l1 == l2 and all(np.array_equal(g1[k], g2[k]) for k in g1)


def test_float_labels_still_get_the_models_clear_error(digits):
    with pytest.raises((TypeError, ValueError), match="integer class labels"):
        train(
            softmax_regression(64, 10),
            softmax_regression(64, 10).init(0),
            sgd(lr=0.1),
            (digits.train.X, digits.train.y.astype(float) + 0.5),
            progress=False,
        )
