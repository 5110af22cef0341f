"""lib.nn.dropout: inverted dropout with torch's convention (p drops), torch's scaling, eval identity, mask statistics."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import numpy as np
import pytest

import lib.nn.dropout
from lib.gradcheck import check_gradient
from lib.nn import Dropout, dropout_backward, dropout_forward, dropout_mask

GOLDEN = Path(__file__).resolve().parent / "data" / "regularization_torch.npz"
DATA = np.load(GOLDEN, allow_pickle=False)
CASES = json.loads(str(DATA["meta"]))["dropout"]


def test_doctests():
    assert doctest.testmod(lib.nn.dropout).failed == 0


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_dropout_matches_torch_given_the_mask(case):
    pre = f"dropout/{case['name']}/"
    x, mask, dout = DATA[pre + "x"], DATA[pre + "mask"], DATA[pre + "dout"]
    out, cache = dropout_forward(x, case["p"], True, mask=mask)
    np.testing.assert_allclose(out, DATA[pre + "out"], rtol=1e-15, atol=0)
    np.testing.assert_allclose(dropout_backward(dout, cache), DATA[pre + "dx"], rtol=1e-15, atol=0)
    out, cache = dropout_forward(x, case["p"], False, rng=0)
    np.testing.assert_array_equal(out, DATA[pre + "eval_out"])
    np.testing.assert_array_equal(dropout_backward(dout, cache), dout)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_mask_keeps_one_minus_p_and_preserves_the_mean(p):
    n = 200_000
    mask = dropout_mask(n, p, rng=1)
    se = np.sqrt(p * (1 - p) / n)
    assert abs(mask.mean() - (1 - p)) < 5 * se, "the mask must keep a unit with probability 1 - p"
    out, _ = dropout_forward(np.full(n, 3.0), p, rng=2)
    assert abs(out.mean() - 3.0) < 5 * 3.0 * np.sqrt(p / (1 - p) / n), "inverted dropout preserves E[y] = x"
    kept = out[out != 0]
    assert np.allclose(kept, 3.0 / (1 - p), rtol=1e-15, atol=0)


def test_masks_are_reproducible_by_seed_and_differ_across_seeds():
    a, b, c = dropout_mask((50, 20), 0.5, 7), dropout_mask((50, 20), 0.5, 7), dropout_mask((50, 20), 0.5, 8)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    d = Dropout(0.5, seed=7)
    assert np.array_equal(d.forward(np.ones((50, 20))) > 0, a > 0)


def test_gradient_check_with_a_fixed_mask():
    rng = np.random.default_rng(0)
    x, R = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    mask = dropout_mask(x.shape, 0.3, rng)
    result = check_gradient(
        lambda z: float(np.sum(R * dropout_forward(z, 0.3, mask=mask)[0])),
        lambda z: dropout_backward(R, dropout_forward(z, 0.3, mask=mask)[1]),
        x,
        tol=1e-8,
    )
    assert result.passed


def test_edge_cases_and_errors():
    x = np.ones((3, 3))
    assert np.all(dropout_forward(x, 1.0, rng=0)[0] == 0)  # torch: p=1 gives zeros
    assert np.array_equal(dropout_forward(x, 0.0, rng=0)[0], x)
    with pytest.raises(ValueError, match="between 0 and 1"):
        Dropout(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        dropout_forward(x, -0.1, rng=0)
    with pytest.raises(ValueError, match="rng"):
        dropout_forward(x, 0.5)
    with pytest.raises(ValueError, match="mask has shape"):
        dropout_forward(x, 0.5, mask=np.ones(3))
    with pytest.raises(ValueError, match="only 0"):
        dropout_forward(x, 0.5, mask=np.full((3, 3), 0.5))
    with pytest.raises(RuntimeError, match="forward"):
        Dropout(0.5).backward(x)
    d = Dropout(0.5, seed=0)
    d.forward(x)
    assert d.backward(x).shape == (3, 3)
