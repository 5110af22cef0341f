"""Chapter 8 in lib: the MLP with dropout / batch norm and its train/eval modes, early stopping in lib.train."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import lib.early_stopping
import lib.nn.regularized
from lib.data import blobs
from lib.early_stopping import EarlyStopping, EarlyStoppingState, early_stopping_update
from lib.gradcheck import check_gradient
from lib.nn import Model, batchnorm_forward, l2_regularized, mlp
from lib.optim import sgd
from lib.train import train, tune_learning_rate


def test_doctests():
    assert doctest.testmod(lib.early_stopping).failed == 0
    assert doctest.testmod(lib.nn.regularized).failed == 0


def _data(n=12, d=5, C=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)) * 2 + 1, rng.integers(0, C, n)


# --------------------------------------------------------------------------------------------
# the model


def test_plain_mlp_is_unchanged_and_has_no_state():
    m = mlp((5, 4, 3))
    assert m.state is None and m.training and m.eval().training  # no state: nothing to switch
    assert m._fields == ("name", "init", "loss_and_grad", "predict")
    assert mlp((5, 4, 3), dropout=0.0, batchnorm=False).state is None


@pytest.mark.parametrize("kw", [dict(batchnorm=True), dict(dropout=0.4), dict(dropout=0.3, batchnorm=True)])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_regularized_mlp_gradients(kw, mode):
    m = mlp((5, 6, 4, 3), **kw)
    params = m.init(1)
    X, y = _data()
    if mode == "eval":  # give the running statistics something other than 0 / 1
        m.train()
        m.predict(params, X)
        m.eval()

    def f(q):
        m.state.rng = np.random.default_rng(5)  # the same dropout masks in every evaluation
        return m.loss_and_grad(q, X, y)[0]

    def g(q):
        m.state.rng = np.random.default_rng(5)
        return m.loss_and_grad(q, X, y)[1]

    result = check_gradient(f, g, params, tol=1e-6)
    assert result.passed, f"relative error {result.max_relative_error:.2e} at {result.worst}"


def test_batchnorm_model_matches_the_layers_by_hand():
    m = mlp((5, 4, 3), batchnorm=True)
    p = m.init(0)
    X, _ = _data()
    Z = X @ p["W1"]
    out, _, rm, rv = batchnorm_forward(Z, p["gamma1"], p["beta1"], np.zeros(4), np.ones(4), True)
    expected = np.maximum(out, 0) @ p["W2"] + p["b2"]
    np.testing.assert_allclose(m.train().predict(p, X), expected, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(m.state.buffers["running_mean1"], rm, rtol=1e-14)
    np.testing.assert_allclose(m.state.buffers["running_var1"], rv, rtol=1e-14)
    out_eval, *_ = batchnorm_forward(Z, p["gamma1"], p["beta1"], rm, rv, False)
    np.testing.assert_allclose(m.eval().predict(p, X), np.maximum(out_eval, 0) @ p["W2"] + p["b2"], rtol=1e-13)
    np.testing.assert_array_equal(m.state.buffers["running_mean1"], rm)  # eval does not move them
    assert "b1" not in p and set(p) == {"W1", "gamma1", "beta1", "W2", "b2"}


def test_dropout_model_is_deterministic_in_eval_and_random_in_train():
    m = mlp((5, 8, 3), dropout=0.5)
    p = m.init(0)
    X, _ = _data()
    a, b = m.eval().predict(p, X), m.predict(p, X)
    np.testing.assert_array_equal(a, b)
    c, d = m.train().predict(p, X), m.predict(p, X)
    assert not np.allclose(c, d)
    plain = mlp((5, 8, 3))
    np.testing.assert_allclose(a, plain.predict(p, X), rtol=1e-14)  # eval = no dropout, no rescaling


def test_l2_regularized_keeps_the_state():
    m = mlp((5, 4, 3), batchnorm=True)
    r = l2_regularized(m, 0.1)
    assert isinstance(r, Model) and r.state is m.state
    r.eval()
    assert not m.training


def test_bad_arguments():
    with pytest.raises(ValueError, match="between 0 and 1"):
        mlp((5, 3), dropout=1.5)
    with pytest.raises(ValueError, match="dropout=1"):
        mlp((5, 4, 3), dropout=1.0)
    m = mlp((5, 4, 3), batchnorm=True)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        m.train().predict(m.init(0), np.ones((1, 5)))
    with pytest.raises(ValueError, match="no entry 'gamma1'"):
        m.predict({"W1": np.ones((5, 4)), "b1": np.zeros(4), "W2": np.ones((4, 3)), "b2": np.zeros(3)}, np.ones((2, 5)))
    with pytest.raises(ValueError, match="buffers"):
        m.state.restore({"x": np.zeros(1)})


# --------------------------------------------------------------------------------------------
# train / eval in lib.train


def test_train_uses_eval_mode_for_validation_and_is_reproducible():
    data, val = blobs(n=60, centers=3, seed=0), blobs(n=30, centers=3, seed=1)
    m = mlp((2, 16, 3), dropout=0.5, batchnorm=True)
    h1 = train(m, m.init(0), sgd(lr=0.1), data, val=val, epochs=3, batch_size=10, progress=False)
    assert not m.training  # left in eval mode
    h2 = train(m, m.init(0), sgd(lr=0.1), data, val=val, epochs=3, batch_size=10, progress=False)
    np.testing.assert_array_equal(h1.step_loss, h2.step_loss)
    np.testing.assert_array_equal(h1.val_loss, h2.val_loss)
    # the recorded validation loss is the eval-mode loss of the final parameters and buffers
    m.state.restore(h1.buffers)
    from lib.nn import softmax_cross_entropy

    loss, _ = softmax_cross_entropy(m.eval().predict(h1.params, val.X), val.y)
    assert loss == pytest.approx(h1.val_loss[-1], rel=1e-12)
    h3 = train(m, m.init(0), sgd(lr=0.1), data, val=val, epochs=3, batch_size=10, seed=1, progress=False)
    assert not np.array_equal(h1.step_loss, h3.step_loss)


def test_tune_learning_rate_runs_are_independent_with_state():
    data, val = blobs(n=60, centers=3, seed=0), blobs(n=30, centers=3, seed=1)
    m = mlp((2, 8, 3), batchnorm=True)
    t = tune_learning_rate(m, lambda lr: sgd(lr=lr), data, val, [0.05, 0.1], epochs=2, batch_size=10, progress=False)
    alone = train(m, m.init(0), sgd(lr=0.1), data, val=val, epochs=2, batch_size=10, progress=False)
    np.testing.assert_array_equal(t.histories[0.1].val_loss, alone.val_loss)


# --------------------------------------------------------------------------------------------
# early stopping


def test_rule_patience_and_min_delta():
    rule = EarlyStopping(patience=2, min_delta=0.05)
    s = EarlyStoppingState()
    out = []
    for e, v in enumerate([1.0, 0.97, 0.90, 0.89, 0.88, 0.5], start=1):
        s, improved, stop = early_stopping_update(rule, s, v, e)
        out.append((improved, stop))
    # 0.97 is not 0.05 better than 1.0; 0.90 is; 0.89, 0.88 are not -> stop at epoch 5
    assert out[:5] == [(True, False), (False, False), (True, False), (False, False), (False, True)]
    assert s.best == 0.5 and s.best_epoch == 6
    r = EarlyStopping(patience=1, monitor="val_acc")
    s, imp, stop = early_stopping_update(r, EarlyStoppingState(), 0.5, 1)
    s, imp, stop = early_stopping_update(r, s, 0.6, 2)
    assert imp and not stop
    s, imp, stop = early_stopping_update(r, s, 0.6, 3)
    assert not imp and stop
    s, imp, _ = early_stopping_update(EarlyStopping(), EarlyStoppingState(), float("nan"), 1)
    assert not imp


def _overfit_setup():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 10))
    y = rng.integers(0, 3, 40)  # random labels: the validation loss must rise
    Xv, yv = rng.standard_normal((40, 10)), rng.integers(0, 3, 40)
    return X, y, Xv, yv


def test_train_stops_early_and_restores_the_best_parameters():
    X, y, Xv, yv = _overfit_setup()
    m = mlp((10, 32, 3))
    full = train(m, m.init(0), sgd(lr=0.1, momentum=0.9), (X, y), val=(Xv, yv), epochs=60, batch_size=8, progress=False)
    es = EarlyStopping(patience=4)
    h = train(
        m,
        m.init(0),
        sgd(lr=0.1, momentum=0.9),
        (X, y),
        val=(Xv, yv),
        epochs=60,
        batch_size=8,
        progress=False,
        early_stopping=es,
    )
    assert h.stop_reason == "early_stopping" and h.epochs < 60
    best = int(np.argmin(h.val_loss)) + 1
    assert h.best_epoch == best and h.epochs == best + 4
    assert "stopped early after epoch" in h.message and f"epoch {best}" in h.message
    # the returned parameters are those of the best epoch: compare with a run of exactly best epochs
    short = train(
        m, m.init(0), sgd(lr=0.1, momentum=0.9), (X, y), val=(Xv, yv), epochs=best, batch_size=8, progress=False
    )
    for k in h.params:
        np.testing.assert_array_equal(h.params[k], short.params[k])
    np.testing.assert_array_equal(h.val_loss, full.val_loss[: h.epochs])
    last = train(
        m,
        m.init(0),
        sgd(lr=0.1, momentum=0.9),
        (X, y),
        val=(Xv, yv),
        epochs=60,
        batch_size=8,
        progress=False,
        early_stopping=EarlyStopping(patience=4, restore_best=False),
    )
    assert not np.array_equal(last.params["W1"], h.params["W1"])
    assert "restored" not in last.message


def test_early_stopping_restores_batchnorm_statistics_with_the_parameters():
    X, y, Xv, yv = _overfit_setup()
    m = mlp((10, 16, 3), batchnorm=True)
    h = train(
        m,
        m.init(0),
        sgd(lr=0.1, momentum=0.9),
        (X, y),
        val=(Xv, yv),
        epochs=60,
        batch_size=8,
        progress=False,
        early_stopping=EarlyStopping(patience=3),
    )
    assert h.stop_reason == "early_stopping"
    from lib.nn import softmax_cross_entropy

    loss, _ = softmax_cross_entropy(m.eval().predict(h.params, Xv), yv)
    assert loss == pytest.approx(h.val_loss[h.best_epoch - 1], rel=1e-12)


def test_completed_run_and_errors():
    data = blobs(n=30, centers=3, seed=0)
    m = mlp((2, 4, 3))
    h = train(m, m.init(0), sgd(lr=0.1), data, epochs=2, progress=False)
    assert h.stop_reason == "completed" and h.best_epoch == 0 and h.buffers is None
    with pytest.raises(ValueError, match="no val data"):
        train(m, m.init(0), sgd(lr=0.1), data, epochs=2, progress=False, early_stopping=EarlyStopping())
    with pytest.raises(ValueError, match="eval_every_epoch"):
        train(
            m,
            m.init(0),
            sgd(lr=0.1),
            data,
            val=data,
            epochs=2,
            progress=False,
            eval_every_epoch=False,
            early_stopping=EarlyStopping(),
        )
    with pytest.raises(TypeError, match="EarlyStopping"):
        train(m, m.init(0), sgd(lr=0.1), data, val=data, epochs=2, progress=False, early_stopping=5)
    h = train(
        m,
        m.init(0),
        sgd(lr=0.1),
        data,
        epochs=3,
        progress=False,
        early_stopping=EarlyStopping(patience=10, monitor="train_loss"),
    )
    assert h.stop_reason == "completed" and h.best_epoch >= 1
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match="min_delta"):
        EarlyStopping(min_delta=-1)
    with pytest.raises(ValueError, match="monitor"):
        EarlyStopping(monitor="loss")
    d = train(m, m.init(0), sgd(lr=1e150), data, val=data, epochs=20, progress=False, early_stopping=EarlyStopping())
    assert d.diverged and d.stop_reason == "diverged"


# --------------------------------------------------------------------------------------------
# the batch-norm MLP against torch


def test_batchnorm_mlp_matches_torch():
    from pathlib import Path

    data = np.load(Path(__file__).resolve().parent / "data" / "regularization_torch.npz", allow_pickle=False)
    m = mlp((6, 5, 4, 3), batchnorm=True)
    m.init(0)  # fresh running statistics
    params = {k: data[f"mlp/params/{k}"] for k in ("W1", "gamma1", "beta1", "W2", "gamma2", "beta2", "W3", "b3")}
    m.train()
    for t in range(2):
        loss, grads = m.loss_and_grad(params, data[f"mlp/x/{t}"], data[f"mlp/y/{t}"])
        assert loss == pytest.approx(float(data[f"mlp/loss/{t}"]), rel=1e-12)
        for k, g in grads.items():
            np.testing.assert_allclose(g, data[f"mlp/grad/{t}/{k}"], rtol=1e-10, atol=1e-13, err_msg=k)
        for l in (1, 2):
            np.testing.assert_allclose(
                m.state.buffers[f"running_mean{l}"], data[f"mlp/running_mean{l}/{t}"], rtol=1e-12
            )
            np.testing.assert_allclose(m.state.buffers[f"running_var{l}"], data[f"mlp/running_var{l}/{t}"], rtol=1e-12)
    np.testing.assert_allclose(
        m.eval().predict(params, data["mlp/eval_x"]), data["mlp/eval_logits"], rtol=1e-12, atol=1e-13
    )
