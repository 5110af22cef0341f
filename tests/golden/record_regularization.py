"""Record golden data from PyTorch 2.13 for chapter 8's layers: ``nn.BatchNorm1d`` and ``nn.Dropout``.

What it records (``tests/data/regularization_torch.npz``; numeric arrays plus ONE JSON string
``meta``; the tests read it with ``np.load(path, allow_pickle=False)`` and never import torch)

BatchNorm1d, for every case ``bn/<c>/`` (float64; a case is ``num_features``, ``eps``,
``momentum`` (a number or None), ``affine`` and the input's shape, 2-D or 3-D):

    weight, bias                  the initial gamma, beta (random, so that they matter)
    x/<t>, dout/<t>               the input and the upstream gradient of training step t
    out/<t>                       bn(x_t) in training mode
    dx/<t>, dweight/<t>, dbias/<t>  the gradients of sum(out_t * dout_t)
    running_mean/<t>, running_var/<t>, num_batches_tracked/<t>  the buffers after step t
    eval_x, eval_out, eval_dout, eval_dx, eval_dweight, eval_dbias
                                  one evaluation-mode forward / backward after the last step

Dropout (``dropout/<c>/``): torch's random generator is not NumPy's, so only the
deterministic part is recorded. torch's dropout is ``x * mask / (1 - p)`` with a Bernoulli
mask of keep probability 1 - p; the script draws the mask with NumPy, checks that torch's
formula reproduces ``nn.Dropout`` for a mask torch drew itself (recovered from its output),
and stores, for a given ``mask``:

    x, mask, dout                 input, 0/1 mask, upstream gradient
    out                           x * mask / (1 - p), computed by torch
    dx                            the gradient of sum(out * dout), by torch's autograd
    eval_out                      nn.Dropout(p).eval()(x): the identity

L1 (``l1/``): ``softshrink_x``, ``softshrink_out`` (``F.softshrink(x, tau)`` with ``tau`` =
``softshrink_tau``, the soft threshold); a least-squares problem ``A``, ``b`` with
:math:`f(\theta) = \\lVert A\theta - b\rVert^2 / (2n)` and trajectories ``subgrad_traj``
(``torch.optim.SGD(lr)`` on ``f + l1 * θ.abs().sum()``, autograd's subgradient) and
``prox_traj`` (``θ ← F.softshrink(θ - lr ∇f, lr * l1)``), ``steps + 1`` rows each, from
``theta0`` (which has an exact zero, where autograd's sign(0) = 0 matters).

The batch-norm MLP (``mlp/``): ``lib.nn.mlp((6, 5, 4, 3), batchnorm=True)`` against
``nn.Sequential(nn.Linear(6, 5, bias=False), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 4,
bias=False), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 3))`` with the same weights
(``W1``, ``gamma1``, ``beta1``, ..., ``W3``, ``b3``; lib's ``(in, out)`` layout): for two
training steps' batches ``x/<t>``, ``y/<t>`` the cross-entropy ``loss/<t>``, the gradients
``grad/<t>/<key>`` and the running statistics ``running_mean<l>/<t>``, ``running_var<l>/<t>``
(no optimizer step: the same parameters), then ``eval_x`` and the eval-mode ``eval_logits``.

Run: ``.venv-golden/bin/python tests/golden/record_regularization.py`` (or ``make golden``).
The script refuses any torch other than 2.13.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

TORCH_VERSION = "2.13"
OUT = Path(__file__).resolve().parents[1] / "data" / "regularization_torch.npz"

BN_CASES = [
    dict(name="default", num_features=4, eps=1e-5, momentum=0.1, affine=True, shape=(8, 4), steps=4),
    dict(name="momentum_half", num_features=3, eps=1e-3, momentum=0.5, affine=True, shape=(5, 3), steps=3),
    dict(name="cumulative", num_features=3, eps=1e-5, momentum=None, affine=True, shape=(6, 3), steps=4),
    dict(name="no_affine", num_features=5, eps=1e-5, momentum=0.1, affine=False, shape=(7, 5), steps=3),
    dict(name="batch_of_two", num_features=2, eps=1e-5, momentum=0.1, affine=True, shape=(2, 2), steps=3),
    dict(name="three_d", num_features=3, eps=1e-5, momentum=0.1, affine=True, shape=(4, 3, 5), steps=3),
]
DROPOUT_CASES = [
    dict(name="p0.5", p=0.5, shape=(6, 5)),
    dict(name="p0.2", p=0.2, shape=(10, 4)),
    dict(name="p0.9", p=0.9, shape=(8, 3)),
    dict(name="p0", p=0.0, shape=(3, 3)),
]


def record_bn(torch, case, rng, data):
    nn = torch.nn
    bn = nn.BatchNorm1d(
        case["num_features"], eps=case["eps"], momentum=case["momentum"], affine=case["affine"]
    ).double()
    pre = f"bn/{case['name']}/"
    if case["affine"]:
        with torch.no_grad():
            bn.weight.copy_(torch.from_numpy(rng.uniform(0.5, 2.0, case["num_features"])))
            bn.bias.copy_(torch.from_numpy(rng.standard_normal(case["num_features"])))
        data[pre + "weight"] = bn.weight.detach().numpy().copy()
        data[pre + "bias"] = bn.bias.detach().numpy().copy()
    bn.train()
    for t in range(case["steps"]):
        x = rng.standard_normal(case["shape"]) * rng.uniform(0.5, 3.0) + rng.uniform(-2, 2)
        dout = rng.standard_normal(case["shape"])
        xt = torch.from_numpy(x).requires_grad_(True)
        out = bn(xt)
        (out * torch.from_numpy(dout)).sum().backward()
        data[pre + f"x/{t}"], data[pre + f"dout/{t}"] = x, dout
        data[pre + f"out/{t}"] = out.detach().numpy().copy()
        data[pre + f"dx/{t}"] = xt.grad.numpy().copy()
        if case["affine"]:
            data[pre + f"dweight/{t}"] = bn.weight.grad.numpy().copy()
            data[pre + f"dbias/{t}"] = bn.bias.grad.numpy().copy()
            bn.weight.grad = None
            bn.bias.grad = None
        data[pre + f"running_mean/{t}"] = bn.running_mean.numpy().copy()
        data[pre + f"running_var/{t}"] = bn.running_var.numpy().copy()
        data[pre + f"num_batches_tracked/{t}"] = np.array(int(bn.num_batches_tracked))
    bn.eval()
    x = rng.standard_normal(case["shape"])
    dout = rng.standard_normal(case["shape"])
    xt = torch.from_numpy(x).requires_grad_(True)
    out = bn(xt)
    (out * torch.from_numpy(dout)).sum().backward()
    data[pre + "eval_x"], data[pre + "eval_dout"] = x, dout
    data[pre + "eval_out"] = out.detach().numpy().copy()
    data[pre + "eval_dx"] = xt.grad.numpy().copy()
    if case["affine"]:
        data[pre + "eval_dweight"] = bn.weight.grad.numpy().copy()
        data[pre + "eval_dbias"] = bn.bias.grad.numpy().copy()
    # the buffers do not move in eval mode
    assert np.array_equal(bn.running_mean.numpy(), data[pre + f"running_mean/{case['steps'] - 1}"])


def record_dropout(torch, case, rng, data):
    p = case["p"]
    pre = f"dropout/{case['name']}/"
    x = rng.uniform(0.5, 2.0, case["shape"])  # no zeros, so torch's own mask is recoverable
    drop = torch.nn.Dropout(p).double()
    # torch's formula, checked on a mask drawn by torch itself
    torch.manual_seed(0)
    own = drop(torch.from_numpy(x)).numpy()
    own_mask = (own != 0).astype(float)
    if p < 1:
        assert np.allclose(own, x * own_mask / (1 - p), rtol=0, atol=1e-15), "torch's dropout is not x*mask/(1-p)"
    mask = (rng.uniform(size=case["shape"]) >= p).astype(float)
    dout = rng.standard_normal(case["shape"])
    xt = torch.from_numpy(x).requires_grad_(True)
    out = xt * torch.from_numpy(mask) / (1 - p)
    (out * torch.from_numpy(dout)).sum().backward()
    data[pre + "x"], data[pre + "mask"], data[pre + "dout"] = x, mask, dout
    data[pre + "out"] = out.detach().numpy().copy()
    data[pre + "dx"] = xt.grad.numpy().copy()
    data[pre + "eval_out"] = drop.eval()(torch.from_numpy(x)).numpy().copy()
    data[pre + "torch_mask_keep_fraction"] = np.array(own_mask.mean())


L1 = dict(lr=0.1, l1=0.3, steps=40, n=20, d=8, tau=0.4)


def record_l1(torch, rng, data):
    F = torch.nn.functional
    x = rng.standard_normal(50) * 2
    data["l1/softshrink_x"] = x
    data["l1/softshrink_tau"] = np.array(L1["tau"])
    data["l1/softshrink_out"] = F.softshrink(torch.from_numpy(x), L1["tau"]).numpy().copy()
    A = rng.standard_normal((L1["n"], L1["d"]))
    w = np.where(rng.uniform(size=L1["d"]) < 0.5, 0.0, rng.standard_normal(L1["d"]) * 2)
    b = A @ w + 0.1 * rng.standard_normal(L1["n"])
    theta0 = rng.standard_normal(L1["d"])
    theta0[0] = 0.0
    data["l1/A"], data["l1/b"], data["l1/theta0"] = A, b, theta0
    At, bt = torch.from_numpy(A), torch.from_numpy(b)

    def f(theta):
        return ((At @ theta - bt) ** 2).sum() / (2 * L1["n"])

    theta = torch.from_numpy(theta0.copy()).requires_grad_(True)
    opt = torch.optim.SGD([theta], lr=L1["lr"])
    traj = [theta0.copy()]
    for _ in range(L1["steps"]):
        opt.zero_grad()
        (f(theta) + L1["l1"] * theta.abs().sum()).backward()
        opt.step()
        traj.append(theta.detach().numpy().copy())
    data["l1/subgrad_traj"] = np.array(traj)
    theta = torch.from_numpy(theta0.copy()).requires_grad_(True)
    traj = [theta0.copy()]
    for _ in range(L1["steps"]):
        theta.grad = None
        f(theta).backward()
        with torch.no_grad():
            theta.copy_(F.softshrink(theta - L1["lr"] * theta.grad, L1["lr"] * L1["l1"]))
        traj.append(theta.detach().numpy().copy())
    data["l1/prox_traj"] = np.array(traj)


def record_mlp(torch, rng, data):
    nn = torch.nn
    params = {
        "W1": rng.normal(size=(6, 5)) * 0.8,
        "gamma1": rng.uniform(0.5, 2, 5),
        "beta1": rng.normal(size=5),
        "W2": rng.normal(size=(5, 4)) * 0.8,
        "gamma2": rng.uniform(0.5, 2, 4),
        "beta2": rng.normal(size=4),
        "W3": rng.normal(size=(4, 3)),
        "b3": rng.normal(size=3),
    }
    model = nn.Sequential(
        nn.Linear(6, 5, bias=False),
        nn.BatchNorm1d(5),
        nn.ReLU(),
        nn.Linear(5, 4, bias=False),
        nn.BatchNorm1d(4),
        nn.ReLU(),
        nn.Linear(4, 3),
    ).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(params["W1"].T))
        model[1].weight.copy_(torch.from_numpy(params["gamma1"]))
        model[1].bias.copy_(torch.from_numpy(params["beta1"]))
        model[3].weight.copy_(torch.from_numpy(params["W2"].T))
        model[4].weight.copy_(torch.from_numpy(params["gamma2"]))
        model[4].bias.copy_(torch.from_numpy(params["beta2"]))
        model[6].weight.copy_(torch.from_numpy(params["W3"].T))
        model[6].bias.copy_(torch.from_numpy(params["b3"]))
    for k, v in params.items():
        data[f"mlp/params/{k}"] = v
    tensors = {
        "W1": (model[0].weight, True),
        "gamma1": (model[1].weight, False),
        "beta1": (model[1].bias, False),
        "W2": (model[3].weight, True),
        "gamma2": (model[4].weight, False),
        "beta2": (model[4].bias, False),
        "W3": (model[6].weight, True),
        "b3": (model[6].bias, False),
    }
    model.train()
    for t in range(2):
        x = rng.normal(size=(7, 6)) * 2 + 0.5
        y = rng.integers(0, 3, 7)
        model.zero_grad()
        loss = nn.CrossEntropyLoss()(model(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        data[f"mlp/x/{t}"], data[f"mlp/y/{t}"], data[f"mlp/loss/{t}"] = x, y, np.array(loss.item())
        for k, (tensor, transpose) in tensors.items():
            g = tensor.grad.numpy().copy()
            data[f"mlp/grad/{t}/{k}"] = g.T if transpose else g
        for l, bn in ((1, model[1]), (2, model[4])):
            data[f"mlp/running_mean{l}/{t}"] = bn.running_mean.numpy().copy()
            data[f"mlp/running_var{l}/{t}"] = bn.running_var.numpy().copy()
    model.eval()
    x = rng.normal(size=(4, 6))
    data["mlp/eval_x"] = x
    with torch.no_grad():
        data["mlp/eval_logits"] = model(torch.from_numpy(x)).numpy().copy()


def main():
    import torch

    if not torch.__version__.startswith(TORCH_VERSION):
        sys.exit(f"record_regularization.py needs torch {TORCH_VERSION}, found {torch.__version__}")
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(20260808)
    data: dict[str, np.ndarray] = {}
    for case in BN_CASES:
        record_bn(torch, case, rng, data)
    for case in DROPOUT_CASES:
        record_dropout(torch, case, rng, data)
    record_l1(torch, rng, data)
    record_mlp(torch, rng, data)
    meta = dict(torch=torch.__version__, numpy=np.__version__, batchnorm=BN_CASES, dropout=DROPOUT_CASES, l1=L1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, meta=np.array(json.dumps(meta)), **data)
    print(f"wrote {OUT} ({len(data)} arrays)")


if __name__ == "__main__":
    main()
