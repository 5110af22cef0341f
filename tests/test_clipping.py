"""lib.optim.clipping against torch 2.13 and optax 0.2.8 (tests/data/clipping_*.npz)."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from lib import optim
from lib.optim import clipping

T = np.load(Path(__file__).parent / "data" / "clipping_torch.npz", allow_pickle=False)
O = np.load(Path(__file__).parent / "data" / "clipping_optax.npz", allow_pickle=False)
META = json.loads(str(T["meta"]))
TREES = [{k: T[f"tree/{i}/{k}"] for k in names} for i, names in enumerate(META["trees"])]
CASES = [(i, j) for i in range(len(TREES)) for j in range(len(META["clip_norm"]))]


@pytest.mark.parametrize("i,j", CASES)
def test_clip_grad_norm_matches_torch(i, j):
    max_norm, nt = META["clip_norm"][j]
    out, total = clipping.clip_grad_norm_(TREES[i], max_norm, norm_type=nt)
    assert total == pytest.approx(float(T[f"norm/{i}/{j}/total"]), rel=1e-13)
    for k in TREES[i]:
        np.testing.assert_allclose(out[k], T[f"norm/{i}/{j}/{k}"], rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("i", range(len(TREES)))
@pytest.mark.parametrize("j", range(len(META["clip_value"])))
def test_clip_value_matches_torch_and_optax(i, j):
    v = META["clip_value"][j]
    out = clipping.clip_grad_value_(TREES[i], v)
    out2, _ = optim.clip(v).update(TREES[i], ())
    for k in TREES[i]:
        np.testing.assert_array_equal(out[k], T[f"value/{i}/{j}/{k}"])
        np.testing.assert_array_equal(out2[k], O[f"clip/{i}/{j}/{k}"])


@pytest.mark.parametrize("i,j", [(i, j) for i, j in CASES if META["clip_norm"][j][1] == 2.0])
def test_clip_by_global_norm_matches_optax(i, j):
    tx = optim.clip_by_global_norm(META["clip_norm"][j][0])
    out, _ = tx.update(TREES[i], tx.init(TREES[i]))
    for k in TREES[i]:
        np.testing.assert_allclose(out[k], O[f"global_norm/{i}/{j}/{k}"], rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("i", range(len(TREES)))
@pytest.mark.parametrize("j", range(len(META["block_rms"])))
def test_clip_by_block_rms_matches_optax(i, j):
    tx = optim.clip_by_block_rms(META["block_rms"][j])
    out, _ = tx.update(TREES[i], tx.init(TREES[i]))
    for k in TREES[i]:
        np.testing.assert_allclose(out[k], O[f"block_rms/{i}/{j}/{k}"], rtol=1e-13, atol=1e-300)


def test_golden_cases_clip_and_do_not_clip():
    norms = [clipping.global_norm(t) for t in TREES]
    assert any(n > 1.0 for n in norms) and any(n < 1e-3 for n in norms)


def test_torch_and_optax_differ_by_the_1e_minus_6():
    """At norm exactly c optax leaves g alone; torch scales by c/(c+1e-6). Above c, torch's
    clipped norm is c·‖g‖/(‖g‖+1e-6) < c, optax's is exactly c."""
    g = {"w": np.array([3.0, 4.0])}  # norm 5
    tx = optim.clip_by_global_norm(5.0)
    o, _ = tx.update(g, ())
    t, total = clipping.clip_grad_norm_(g, 5.0)
    assert total == 5.0
    np.testing.assert_array_equal(o["w"], g["w"])
    assert np.linalg.norm(t["w"]) == pytest.approx(5.0 * 5.0 / (5.0 + 1e-6), rel=1e-15)
    assert np.linalg.norm(t["w"]) < 5.0
    o, _ = optim.clip_by_global_norm(1.0).update(g, ())
    t, _ = clipping.clip_grad_norm_(g, 1.0)
    assert np.linalg.norm(o["w"]) == pytest.approx(1.0, rel=1e-15)
    assert 1.0 - np.linalg.norm(t["w"]) == pytest.approx(1e-6 / 5, rel=1e-6)
    # a tiny gradient: the 1e-6 matters a lot for torch when max_norm is tiny too
    small = {"w": np.array([1e-7, 0.0])}
    t, _ = clipping.clip_grad_norm_(small, 1e-7)
    assert t["w"][0] == pytest.approx(1e-7 * 1e-7 / (1e-7 + 1e-6))


def test_global_norm_is_not_per_tensor():
    g = {"a": np.array([3.0]), "b": np.array([4.0])}
    out, _ = optim.clip_by_global_norm(1.0).update(g, ())
    np.testing.assert_allclose([out["a"][0], out["b"][0]], [0.6, 0.8])


def test_chainable():
    tx = optim.chain(optim.clip_by_global_norm(1.0), optim.sgd(lr=0.1))
    p = {"w": np.zeros(2)}
    s = tx.init(p)
    u, s = tx.update({"w": np.array([30.0, 40.0])}, s, p)
    np.testing.assert_allclose(u["w"], [-0.06, -0.08])


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: optim.clip_by_global_norm(-1.0), ValueError, "max_norm"),
        (lambda: optim.clip(float("nan")), ValueError, "max_delta"),
        (lambda: optim.clip_by_block_rms(0.0), ValueError, "threshold"),
        (lambda: clipping.clip_grad_norm_({"w": np.ones(2)}, 1.0, norm_type=0), ValueError, "norm_type"),
        (
            lambda: clipping.clip_grad_norm_({"w": np.array([np.inf])}, 1.0, error_if_nonfinite=True),
            RuntimeError,
            "non-finite",
        ),
        (lambda: optim.clip_by_global_norm(1.0).update({"w": np.array([np.nan])}, ()), ValueError, "NaN"),
    ],
)
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_inf_norm():
    assert clipping.global_norm({"a": np.array([-7.0, 2.0]), "b": np.array(3.0)}, "inf") == 7.0
    assert math.isclose(clipping.global_norm({"a": np.array([1.0, 1.0])}, 1.0), 2.0)
