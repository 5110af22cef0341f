"""Chapter 11 library code beyond the goldens: argument checks, partition, Shampoo, the derivations."""

from __future__ import annotations

import numpy as np
import pytest

from lib import optim

# --------------------------------------------------------------------------- argument checks (torch's)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: optim.adadelta(lr=-1.0), "Invalid learning rate"),
        (lambda: optim.adadelta(rho=1.5), "Invalid rho value"),
        (lambda: optim.adadelta(eps=-1e-6), "Invalid epsilon value"),
        (lambda: optim.adadelta(weight_decay=-0.1), "weight_decay"),
        (lambda: optim.adafactor(lr=-1.0), "Learning rate should be >= 0"),
        (lambda: optim.adafactor(beta2_decay=0.5), "beta2_decay should be <= 0"),
        (lambda: optim.adafactor(eps=(-1.0, 1e-3)), "epsilon1 should be >= 0"),
        (lambda: optim.adafactor(eps=(None, -1.0)), "epsilon2 should be >= 0"),
        (lambda: optim.adafactor(eps=1e-3), "eps must be a pair"),
        (lambda: optim.adafactor(d=0.5), "Clipping threshold d should be >= 1"),
        (lambda: optim.adafactor(weight_decay=-1.0), "weight_decay should be >= 0"),
        (lambda: optim.lion(lr=-1.0), "learning rate"),
        (lambda: optim.lion(1e-4, betas=(0.9,)), "betas must be a pair"),
        (lambda: optim.lion(1e-4, betas=(0.9, 1.0)), "beta parameter at index 1"),
        (lambda: optim.muon(lr=-1.0), "Learning rate should be >= 0"),
        (lambda: optim.muon(momentum=-0.1), "momentum should be >= 0"),
        (lambda: optim.muon(weight_decay=-0.1), "weight decay should be >= 0"),
        (lambda: optim.muon(adjust_lr_fn="spectral"), "Adjust learning rate function spectral is not supported"),
        (lambda: optim.muon(ns_steps=100), "less than 100"),
        (lambda: optim.muon(ns_coefficients=(1.0, 2.0)), "exactly 3 values"),
    ],
)
def test_bad_hyperparameters_raise_torchs_error(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_muon_rejects_a_bias_like_torch():
    tx = optim.muon()
    with pytest.raises(ValueError, match=r"Muon only supports 2D parameters .* size: \(3,\)"):
        tx.init({"W": np.zeros((3, 2)), "b": np.zeros(3)})
    with pytest.raises(ValueError, match="2D matrix"):
        optim.newton_schulz(np.ones((2, 2, 2)))


def test_newton_schulz_rejects_nan():
    with pytest.raises(ValueError, match="NaN"):
        optim.newton_schulz(np.array([[1.0, np.nan]]))


def test_adafactor_and_muon_need_params():
    for tx, p in [(optim.adafactor(), np.ones((2, 2))), (optim.muon(), np.ones((2, 2)))]:
        with pytest.raises(ValueError, match="update\\(grads, state, params\\)"):
            tx.update(np.ones((2, 2)), tx.init(p))


def test_shape_mismatch_is_reported():
    tx = optim.lion(1e-3)
    with pytest.raises(ValueError, match="shape"):
        tx.update(np.ones(3), tx.init(np.ones(2)), np.ones(2))


# --------------------------------------------------------------------------- behaviour


def test_lion_update_is_plus_minus_lr():
    rng = np.random.default_rng(0)
    tx = optim.lion(lr=0.003, weight_decay=0.0)
    p = rng.standard_normal(50)
    state = tx.init(p)
    for _ in range(5):
        u, state = tx.update(rng.standard_normal(50) * 10 ** rng.uniform(-3, 3, 50), state, p)
        np.testing.assert_allclose(np.abs(u), 0.003)


def test_lion_mask_callable_and_tree_agree():
    p = {"W": np.ones((2, 2)), "b": np.ones(2)}
    g = {"W": np.zeros((2, 2)), "b": np.zeros(2)}
    a = optim.lion(0.1, weight_decay=0.5, mask={"W": True, "b": False})
    b = optim.lion(0.1, weight_decay=0.5, mask=lambda params: {k: v.ndim == 2 for k, v in params.items()})
    ua, _ = a.update(g, a.init(p), p)
    ub, _ = b.update(g, b.init(p), p)
    np.testing.assert_allclose(ua["W"], -0.05)
    np.testing.assert_allclose(ua["b"], 0.0)
    for k in p:
        np.testing.assert_array_equal(ua[k], ub[k])
    with pytest.raises(ValueError, match="leaves"):
        bad = optim.lion(0.1, mask={"W": True})
        bad.update(g, bad.init(p), p)


def test_adafactor_state_is_sublinear():
    tx = optim.adafactor()
    s = tx.init({"W": np.zeros((100, 30)), "b": np.zeros(30)})
    assert s.row_var["W"].shape == (100, 1) and s.col_var["W"].shape == (1, 30)
    assert s.variance["W"] is None and s.variance["b"].shape == (30,)


def test_factored_second_moment_is_kl_minimiser():
    """r c^T / mean(r) is the rank-1 minimiser of the generalised KL divergence (checked by perturbing)."""
    rng = np.random.default_rng(1)
    V = rng.uniform(0.1, 2.0, (5, 4))
    r, c = V.mean(1, keepdims=True), V.mean(0, keepdims=True)
    est = optim.factored_second_moment(r, c)

    def kl(W):
        return float(np.sum(V * np.log(V / W) - V + W))

    np.testing.assert_allclose(est.sum(1), V.sum(1))  # row and column sums are kept
    np.testing.assert_allclose(est.sum(0), V.sum(0))
    for _ in range(20):
        a, b = rng.uniform(0.5, 1.5, (5, 1)), rng.uniform(0.5, 1.5, (1, 4))
        assert kl(est * a * b) >= kl(est) - 1e-12
    with pytest.raises(ValueError, match="row_var must have shape"):
        optim.factored_second_moment(V, c)


def test_newton_schulz_classic_coefficients_converge_to_polar_factor():
    G = np.random.default_rng(2).standard_normal((6, 4))
    U, _, Vt = np.linalg.svd(G, full_matrices=False)
    X = optim.newton_schulz(G, (1.875, -1.25, 0.375), ns_steps=30)
    np.testing.assert_allclose(X, U @ Vt, atol=1e-10)
    X5 = optim.newton_schulz(G)  # Muon's: singular values in a band around 1, not at 1
    s = np.linalg.svd(X5, compute_uv=False)
    assert np.all((s > 0.5) & (s < 1.3)) and np.max(np.abs(s - 1)) > 1e-3


def test_adjust_lr_both_rules():
    assert optim.adjust_lr(0.1, None, (8, 2)) == pytest.approx(0.2)
    assert optim.adjust_lr(0.1, "original", (2, 8)) == pytest.approx(0.1)
    assert optim.adjust_lr(0.1, "match_rms_adamw", (2, 8)) == pytest.approx(0.1 * 0.2 * np.sqrt(8))


# --------------------------------------------------------------------------- partition and the recipe


def test_partition_routes_each_label_and_keeps_states():
    p = {"W": np.ones((3, 2)), "b": np.ones(2), "c": [np.ones(1)]}
    labels = {"W": "muon", "b": "adamw", "c": ["adamw"]}
    tx = optim.partition({"muon": optim.muon(lr=0.1), "adamw": optim.adamw(lr=0.01)}, labels)
    g = {"W": np.arange(6.0).reshape(3, 2), "b": np.ones(2), "c": [np.ones(1)]}
    u, s = tx.update(g, tx.init(p), p)
    ref_m = optim.muon(lr=0.1)
    um, _ = ref_m.update({"x": g["W"]}, ref_m.init({"x": p["W"]}), {"x": p["W"]})
    np.testing.assert_allclose(u["W"], um["x"])
    ref_a = optim.adamw(lr=0.01)
    ua, _ = ref_a.update(
        {"b": g["b"], "c": g["c"][0]}, ref_a.init({"b": p["b"], "c": p["c"][0]}), {"b": p["b"], "c": p["c"][0]}
    )
    np.testing.assert_allclose(u["b"], ua["b"])
    np.testing.assert_allclose(u["c"][0], ua["c"])
    assert set(s.inner_states) == {"muon", "adamw"}


def test_partition_unknown_label_is_explained():
    tx = optim.partition({"a": optim.sgd(0.1)}, {"x": "a", "y": "b"})
    with pytest.raises(ValueError, match="no corresponding transformation"):
        tx.init({"x": np.ones(1), "y": np.ones(1)})


def test_muon_with_adamw_trains_the_mlp():
    from lib.data import load_digits
    from lib.nn import mlp
    from lib.train import train

    splits = load_digits(seed=0)
    model = mlp((64, 32, 10))
    params = model.init(0)
    assert optim.matrix_labels(params) == {"W1": "muon", "b1": "adamw", "W2": "muon", "b2": "adamw"}
    h = train(model, params, optim.muon_with_adamw(0.02, 3e-3), splits.train, epochs=2, batch_size=64, progress=False)
    assert not h.diverged and h.train_loss[-1] < 0.6 * h.train_loss[0] + 1e-9


# --------------------------------------------------------------------------- Shampoo


def test_shampoo_matches_direct_fractional_powers():
    from scipy.linalg import fractional_matrix_power

    rng = np.random.default_rng(3)
    stats = None
    for _ in range(4):
        G = rng.standard_normal((3, 5))
        stats = optim.shampoo_accumulate(stats, G)
    eps = 1e-3
    L, R = stats.L + eps * np.eye(3), stats.R + eps * np.eye(5)
    direct = np.real(fractional_matrix_power(L, -0.25)) @ G @ np.real(fractional_matrix_power(R, -0.25))
    np.testing.assert_allclose(optim.shampoo_precondition(G, stats.L, stats.R, eps), direct, rtol=1e-9, atol=1e-12)


def test_shampoo_one_gradient_is_polar_factor():
    G = np.random.default_rng(4).standard_normal((4, 6))
    U, _, Vt = np.linalg.svd(G, full_matrices=False)
    np.testing.assert_allclose(optim.shampoo_precondition(G, G @ G.T, G.T @ G), U @ Vt, atol=1e-10)
    with pytest.raises(ValueError, match="L must be"):
        optim.shampoo_precondition(G, np.eye(3), np.eye(6))


def test_updates_do_not_modify_inputs():
    rng = np.random.default_rng(5)
    p = {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
    g = {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
    for tx in [
        optim.adadelta(weight_decay=0.1),
        optim.adafactor(weight_decay=0.1),
        optim.lion(0.1),
        optim.muon_with_adamw(),
    ]:
        pc, gc = {k: v.copy() for k, v in p.items()}, {k: v.copy() for k, v in g.items()}
        s = tx.init(p)
        tx.update(g, s, p)
        for k in p:
            np.testing.assert_array_equal(p[k], pc[k])
            np.testing.assert_array_equal(g[k], gc[k])


# --------------------------------------------------------------------------- the lesson's code listings


def test_lesson_listings_skip_exactly_the_docstring():
    """The chapter shows lib functions without their docstrings (``:lines: 1-k, j-``): the ranges
    must still match the code, or the page would show a cut function."""
    import ast
    import json
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    nb = json.loads((root / "chapters" / "11-beyond-adam.ipynb").read_text())
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    blocks = re.findall(
        r"```\{literalinclude\} \.\./(\S+)\n:pyobject: (\w+)\n:language: python\n:lines: ([^\n]+)", text
    )
    assert len(blocks) >= 5
    for path, name, lines in blocks:
        tree = ast.parse((root / path).read_text())
        fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name)
        doc = fn.body[0]
        assert isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant), (path, name)
        expected = f"1-{doc.lineno - fn.lineno}, {doc.end_lineno - fn.lineno + 2}-"
        assert lines.strip() == expected, f"{path}:{name} shows lines {lines}, the docstring needs {expected}"
