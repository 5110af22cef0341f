"""Scratch generator for chapters/09-large-batch.ipynb (removed before commit)."""
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

cells = []
M = lambda s: cells.append(new_markdown_cell(s.strip("\n")))  # noqa: E731
C = lambda s, hide=False: cells.append(new_code_cell(s.strip("\n"), metadata={"tags": ["hide-input"]} if hide else {}))  # noqa: E731

M(r"""
# Large-batch training

A bigger batch gives a less noisy gradient, and its examples can be processed in parallel, on
the cores of one machine or on many machines at once. Large-batch training asks how far that
goes: when does doubling the batch halve the number of steps, how must the learning rate
change, what breaks, and which optimizers help. This chapter measures the answers on a small
problem (the digits), derives the rules behind them, and builds the tools:
gradient accumulation, data-parallel workers (simulated and as real processes), and the
layer-wise optimizers LARS and LAMB, which `lib.optim` reproduces exactly as optax does.

**Learning objectives.** After this chapter you can:

- derive how the gradient noise falls with the batch size, $\mathbb E\lVert G_B\rVert^2 = \lVert G\rVert^2 + \operatorname{tr}\Sigma/B$, and estimate the gradient noise scale;
- state the linear scaling rule, derive it from the SGD update, say when it breaks, and add a warmup;
- measure steps to a target against the batch size and recognise the perfect-scaling and diminishing-returns regimes;
- implement gradient accumulation and data-parallel training, and explain why both equal a large batch for a mean loss but not with batch normalization;
- derive LARS's and LAMB's per-layer trust ratio, including its zero-norm guard, and say how optax's LARS differs from the paper;
- compute the sharpness (top Hessian eigenvalue) by power iteration on Hessian-vector products, and state why sharpness alone does not explain generalization.
""")

C(r"""
import time

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp
from IPython.display import Math, display
from myst_nb import glue

from lib import optim, plotting
from lib.batch_size import (gradient_noise_scale, hvp_finite_difference, linear_scaling, linear_warmup,
                            sqrt_scaling, top_hessian_eigenvalue, warmup_steps)
from lib.data import load_digits
from lib.nn import BatchNorm1d, mlp
from lib.parallel import (blas_threads, data_parallel_gradient, flatten, train_data_parallel,
                          unflatten)
from lib.widgets import show
from lib.widgets.large_batch import (rescale, steps_grid, steps_widget, trust_ratio_history,
                                     trust_ratio_widget)

plotting.apply_style()
COLORS = plotting.COLORS
splits = load_digits(seed=0)
X, y, X_val, y_val = splits.train.X, splits.train.y, splits.val.X, splits.val.y
model = mlp((64, 32, 10))
p0 = model.init(0)
_threads = blas_threads(1)   # one BLAS thread: faster for these small matrices, and honest timings below
_threads.__enter__()
print(f"{len(X)} training and {len(X_val)} validation images; {flatten(p0).size} parameters")
""")

M(r"""
(sec-why-large)=
## Why large batches

A step of mini-batch SGD costs time proportional to the batch size $B$ on one processor, but
the $B$ per-example gradients are independent, so $W$ processors can compute them in about
$1/W$ of the time. If a larger batch also meant proportionally fewer steps, training time
would shrink with the hardware. Goyal et al. trained a ResNet-50 on ImageNet with batches of
8192 images in one hour on 256 GPUs, matching the accuracy of small-batch training, with two
ingredients this chapter derives: a learning rate scaled with the batch and a warmup
{cite:p}`goyal2017accurate`. Shallue et al. measured the effect of the batch size on the number
of steps across many workloads and found the benefit always runs out, at a batch size that
depends strongly on the workload, the model and the optimizer {cite:p}`shallue2019measuring`.
There is no universal "largest useful batch"; it has to be measured, which is what we do below
on a small problem.
""")

M(r"""
(sec-noise)=
## Gradient noise and the batch size

Chapter 3 showed that a mini-batch gradient $G_B = \frac1B\sum_{i\in\text{batch}} g_i$ is an
unbiased estimate of the full gradient $G$ with covariance $\Sigma/B$, where $\Sigma$ is the
covariance of one example's gradient $g_i$. In squared norms, with $B$ examples drawn
independently:

$$
\mathbb E\,\lVert G_B\rVert^2 = \lVert G\rVert^2 + \frac{\operatorname{tr}\Sigma}{B}.
$$

SymPy checks it for one coordinate, with $\mathbb E g_i = \mu$, $\operatorname{Var} g_i = \sigma^2$
and independent examples ($\mathbb E g_i g_j = \mu^2$ for $i \ne j$):
""")

C(r"""
B, mu_, sigma = sp.symbols("B mu sigma", positive=True)
# E[(sum_i g_i)^2] = sum_i E[g_i^2] + sum_{i != j} E[g_i] E[g_j]
second_moment = (B * (sigma**2 + mu_**2) + B * (B - 1) * mu_**2) / B**2
assert sp.simplify(second_moment - (mu_**2 + sigma**2 / B)) == 0
display(Math(r"\mathbb E\,G_B^2 = " + sp.latex(sp.expand(second_moment))))
""")

M(r"""
The noise falls like $1/B$ and the signal $\lVert G\rVert^2$ does not change, so they are equal
at the **simple gradient noise scale** {cite:p}`mccandlish2018empirical`

$$
\mathcal B_{\text{simple}} = \frac{\operatorname{tr}\Sigma}{\lVert G\rVert^2}.
$$

Below $\mathcal B_{\text{simple}}$ the mini-batch gradient is mostly noise, above it mostly
signal. On the digits we compute all per-example gradients of `mlp((64, 32, 10))`, at
initialisation and after a short training, measure $\mathbb E\lVert G_B - G\rVert^2$ over many
batches drawn without replacement (as in training), and compare with $\operatorname{tr}\Sigma/B$
times the finite-population factor $(n-B)/(n-1)$, which is what sampling without replacement
from $n$ examples adds (it is close to 1 for $B \ll n$ and makes the full batch noise-free).
""")

C(r"""
def per_example_grads(params):
    # row i: the gradient of example i's loss, for every example at once (what jax.vmap(jax.grad) gives)
    Z1 = X @ params["W1"] + params["b1"]
    H = np.maximum(Z1, 0)
    Z2 = H @ params["W2"] + params["b2"]
    P = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
    dZ2 = P / P.sum(axis=1, keepdims=True) - np.eye(10)[y]          # d loss_i / d logits_i
    dZ1 = (dZ2 @ params["W2"].T) * (Z1 > 0)
    per = {"W1": np.einsum("ni,nj->nij", X, dZ1), "b1": dZ1, "W2": np.einsum("ni,nj->nij", H, dZ2), "b2": dZ2}
    return np.concatenate([per[n].reshape(len(X), -1) for n in params], axis=1)


for i in (0, 500):   # the same as the model's own backward pass on a batch of one
    assert np.allclose(per_example_grads(p0)[i], flatten(model.loss_and_grad(p0, X[i:i + 1], y[i:i + 1])[1]))


def train_for(params, tx, batch_size, steps, seed=0):
    return train_data_parallel(model.loss_and_grad, params, tx, X, y, batch_size=batch_size,
                               steps=steps, workers=1, seed=seed).params


p_trained = train_for(p0, optim.sgd(lr=0.1, momentum=0.9), 32, 100)
rng = np.random.default_rng(0)
noise = {}
scale = {}
for name, params in {"initialisation": p0, "after 100 steps": p_trained}.items():
    g = per_example_grads(params)
    G = g.mean(axis=0)
    tr_pop = float(np.sum((g - G) ** 2) / len(g))   # tr Σ of the finite set of examples
    scale[name] = gradient_noise_scale(g)
    batches = (1, 4, 16, 64)
    n = len(g)
    # batches drawn WITHOUT replacement, as in training: 20 shuffles, each cut into n // B batches;
    # the finite-population factor (n - B) / (n - 1) multiplies tr Σ / B
    # (|G_B - G|^2 = sum over the batch's pairs of (g_i - G).(g_j - G) / B^2, from one Gram matrix)
    K = (g - G) @ (g - G).T
    measured, predicted = [], []
    for b in batches:
        m = n // b * b
        blocks = []
        for _ in range(20):
            perm = rng.permutation(n)[:m]
            Kp = K[np.ix_(perm, perm)].reshape(m // b, b, m // b, b)
            blocks.append(np.einsum("ibic->i", Kp) / b**2)
        measured.append(float(np.mean(np.concatenate(blocks))))
        predicted.append(tr_pop / b * (n - b) / (n - 1))
    for b, m, pred in zip(batches, measured, predicted):
        assert abs(m / pred - 1) < 0.15, (name, b, m, pred)
    noise[name] = (batches, measured, predicted)
    print(f"{name}: |G|^2 = {scale[name].grad_norm_sq:.3g}, tr Σ = {scale[name].trace_cov:.3g}, "
          f"B_simple = {scale[name].b_simple:.0f}")
assert scale["after 100 steps"].b_simple > scale["initialisation"].b_simple
glue("bsimple_init", scale["initialisation"].b_simple, display=False)
glue("bsimple_trained", scale["after 100 steps"].b_simple, display=False)
""")

C(r"""
fig, ax = plotting.figure(width=5.5, height=3.4)
for (name, (batches, measured, predicted)), color in zip(noise.items(), COLORS):
    ax.loglog(batches, measured, "o", color=color, label=f"measured, {name}")
    ax.loglog(batches, predicted, "-", color=color, lw=1, label=r"$\frac{\mathrm{tr}\,\Sigma}{B}\,\frac{n-B}{n-1}$")
ax.set(xlabel="batch size B", ylabel=r"$\mathbb{E}\,\|G_B - G\|^2$",
       title="Gradient noise on the digits falls like 1/B")
ax.legend(fontsize=7)
plt.show()
""", hide=True)

M(r"""
The measured noise follows the prediction at both points. The noise scale is
about {glue:text}`bsimple_init:.0f` at initialisation and grows to about
{glue:text}`bsimple_trained:.0f` after 100 steps: as the loss falls, the full gradient
$\lVert G\rVert$ shrinks faster than the per-example spread, so a larger batch becomes useful
later in training, the trend McCandlish et al. observed on their tasks
{cite:p}`mccandlish2018empirical`.

### How many steps a batch saves

Why should the noise scale predict the useful batch size? Take the quadratic model of the
loss around $\theta$, with gradient $G$ and Hessian $H$, and one SGD step $-\eta G_B$. Its
expected decrease is
$\eta\lVert G\rVert^2 - \tfrac{\eta^2}{2}\big(G^\top H G + \operatorname{tr}(H\Sigma)/B\big)$.
SymPy finds the best step and the best decrease:
""")

C(r"""
eta, G2, GHG, trHS = sp.symbols("eta G2 GHG trHS", positive=True)
decrease = eta * G2 - eta**2 / 2 * (GHG + trHS / B)
eta_best = sp.solve(sp.diff(decrease, eta), eta)[0]
best = sp.simplify(decrease.subs(eta, eta_best))
eta_max, dL_max, B_noise = G2 / GHG, G2**2 / (2 * GHG), trHS / GHG    # the B -> infinity values
assert sp.simplify(eta_best - eta_max / (1 + B_noise / B)) == 0
assert sp.simplify(best - dL_max / (1 + B_noise / B)) == 0
display(Math(r"\eta^\star(B) = \frac{\eta_{\max}}{1 + \mathcal B_{\text{noise}}/B}, \qquad "
             r"\Delta L^\star(B) = \frac{\Delta L_{\max}}{1 + \mathcal B_{\text{noise}}/B}, \qquad "
             r"\mathcal B_{\text{noise}} = " + sp.latex(B_noise)))
""")

M(r"""
with $\mathcal B_{\text{noise}} = \operatorname{tr}(H\Sigma)/G^\top H G$, which is
$\mathcal B_{\text{simple}}$ when $H$ is a multiple of the identity. If each step gains
$\Delta L^\star(B)$, the number of steps to a target is $S = S_{\min}(1 + \mathcal B_{\text{noise}}/B)$:
for $B \ll \mathcal B_{\text{noise}}$ doubling the batch halves the steps (*perfect scaling*),
for $B \gg \mathcal B_{\text{noise}}$ it saves almost nothing (*diminishing returns*), and the
number of examples processed, $E = BS$, grows. McCandlish et al. call the crossover the
**critical batch size** $B_{\text{crit}} = E_{\min}/S_{\min}$ {cite:p}`mccandlish2018empirical`.
The best learning rate also grows with $B$ and then saturates at $\eta_{\max}$, which is what
the linear scaling rule approximates.

(sec-linear-scaling)=
## The linear scaling rule and warmup

Goyal et al.'s rule: *when the batch grows by $k$, multiply the learning rate by $k$*
{cite:p}`goyal2017accurate`. The argument: $k$ SGD steps of rate $\eta$ on batches
$G^{(1)}, \dots, G^{(k)}$ of size $B$ move by $-\eta\sum_j G^{(j)}(\theta_j)$; one step of
rate $\hat\eta$ on their union (a batch of $kB$) moves by
$-\hat\eta\,\frac1k\sum_j G^{(j)}(\theta_0)$. If the gradients barely change over the $k$ small
steps, $G^{(j)}(\theta_j) \approx G^{(j)}(\theta_0)$, the two agree for $\hat\eta = k\eta$. On a
one-dimensional quadratic with curvature $h$ we can see how large the error of that
assumption is:
""")

C(r"""
h, th0, k = sp.symbols("h theta_0 k", positive=True)
small_steps = (1 - eta * h) ** k * th0     # k steps of rate eta on L = h theta^2 / 2
one_big = (1 - k * eta * h) * th0          # one step of rate k * eta
gap = sp.series(small_steps.subs(k, 4) - one_big.subs(k, 4), eta, 0, 3).removeO()
assert sp.simplify(gap - sp.binomial(4, 2) * eta**2 * h**2 * th0) == 0
# general k: the expansions agree to first order in eta, the gap is C(k, 2) (eta h)^2 theta_0
general = sp.expand(sp.series(sp.exp(k * sp.log(1 - eta * h)), eta, 0, 3).removeO() - (1 - k * eta * h))
assert sp.simplify(general - k * (k - 1) / 2 * eta**2 * h**2) == 0
display(Math(r"(1-\eta h)^k\theta_0 - (1 - k\eta h)\theta_0 = " + sp.latex(sp.factor(general)) + r"\,\theta_0 + O(\eta^3)"))
""")

M(r"""
The rule is exact to first order in $\eta$ and wrong by $\binom k2(\eta h)^2$: it holds while
$k\eta h$ stays small, and breaks where the scaled step $k\eta$ reaches the stability limit
$2/h$ of chapter 1 (with momentum $\mu$, $2(1+\mu)/h$). Two practical consequences.

- **Warmup.** Early in training the gradients change fast and the curvature is high, so the
  scaled rate can be unstable at the start although it is fine later. Goyal et al. raise the
  learning rate linearly from a small value to $k\eta$ over the first 5 epochs
  {cite:p}`goyal2017accurate`; a warmup fixed in *epochs* lasts fewer steps for a larger batch.
  Here it is a plain schedule `step -> lr` (`lib.batch_size.linear_warmup`; chapter 7 has the
  whole family).
- **A ceiling.** Past some batch size the scaled rate exceeds what the loss tolerates and the
  rule fails; alternatives such as the square-root rule $\eta\sqrt k$ keep the step's *variance*
  constant instead {cite:p}`hoffer2017train`.

```{literalinclude} ../lib/batch_size.py
:pyobject: linear_warmup
:language: python
```

We scale a run of batch 32 at $\eta = 0.1$ (momentum 0.9) to batch 512, $k = 16$, and train for
the same number of epochs: the linear rule gives $\eta = 1.6$, the square-root rule $0.4$;
the warmup lasts one epoch.
""")

C(r"""
base_lr, base_b, big_b, epochs = 0.1, 32, 512, 12
steps_small, steps_big = epochs * len(X) // base_b, epochs * len(X) // big_b
warm = warmup_steps(len(X), big_b, 1)
runs = {
    f"B = {base_b}, η = {base_lr:g}": (base_b, base_lr),
    f"B = {big_b}, η = {base_lr:g} (not scaled)": (big_b, base_lr),
    f"B = {big_b}, η = {sqrt_scaling(base_lr, base_b, big_b):g} (square root)": (big_b, sqrt_scaling(base_lr, base_b, big_b)),
    f"B = {big_b}, η = {linear_scaling(base_lr, base_b, big_b):g} (linear)": (big_b, linear_scaling(base_lr, base_b, big_b)),
    f"B = {big_b}, η = {linear_scaling(base_lr, base_b, big_b):g} (linear) + {warm}-step warmup":
        (big_b, linear_warmup(linear_scaling(base_lr, base_b, big_b), warm)),
}
scaling = {}
for name, (b, lr) in runs.items():
    p = train_for(p0, optim.sgd(lr=lr, momentum=0.9), b, steps_small if b == base_b else steps_big)
    acc = float(np.mean(model.predict(p, X_val).argmax(1) == y_val))
    scaling[name] = (acc, model.loss_and_grad(p, X, y)[0])
    print(f"{name:52s} validation accuracy {acc:.1%}, training loss {scaling[name][1]:.3g}")
names = list(scaling)
glue("one_image", 100 / len(X_val), display=False)
glue("ls_steps_small", steps_small, display=False)
glue("ls_steps_big", steps_big, display=False)
glue("ls_acc_small", 100 * scaling[names[0]][0], display=False)
glue("ls_acc_unscaled", 100 * scaling[names[1]][0], display=False)
glue("ls_acc_linear", 100 * scaling[names[3]][0], display=False)
glue("ls_acc_warm", 100 * scaling[names[4]][0], display=False)
""")

M(r"""
With the same data seen, batch 512 makes only {glue:text}`ls_steps_big` steps against
{glue:text}`ls_steps_small`. At the unscaled rate it ends at
{glue:text}`ls_acc_unscaled:.1f`% validation accuracy (batch 32: {glue:text}`ls_acc_small:.1f`%);
with the linear rule at {glue:text}`ls_acc_linear:.1f`%, and with the rule plus warmup at
{glue:text}`ls_acc_warm:.1f`%. These are single runs on one seed and a small validation set
(one image is {glue:text}`one_image:.2f` points), so read them as an illustration of the mechanism, not a ranking.

(sec-critical)=
## Steps to a target: where scaling stops

Shallue et al.'s measurement {cite:p}`shallue2019measuring`: for each batch size, tune the
learning rate and count the steps to a target out-of-sample performance. We regenerate it on
the digits: momentum SGD on `mlp((64, 32, 10))`, a grid of batch sizes from 8 to 1024 (the
training set has 1079 images) and four learning rates, target 93% validation accuracy, at
most 150 steps (`lib.widgets.large_batch.steps_grid`). Then we fit
$S(B) = S_{\min}(1 + B_{\text{crit}}/B)$ to the best number of steps at each batch size.
""")

C(r"""
t0 = time.perf_counter()
grid = steps_grid()
for b, row, best_lr in zip(grid.batch_sizes, grid.steps, grid.best_lr):
    print(f"B = {b:5d}: steps " + "  ".join("   -" if not np.isfinite(s) else f"{s:4.0f}" for s in row)
          + f"   best η = {best_lr:g}")
print(f"fit: S_min = {grid.s_min:.1f} steps, B_crit = {grid.b_crit:.0f}  ({time.perf_counter() - t0:.1f} s)")
assert grid.best_steps[0] > 4 * grid.best_steps[-1]          # large batches do need fewer steps ...
assert grid.best_steps[-2] / grid.best_steps[-1] < 1.5        # ... but the last doubling saves little
assert grid.best_lr[-1] == grid.lrs.max() and grid.best_lr[-1] > grid.best_lr[0]   # the rate rises, then the grid ends
assert not np.isfinite(grid.steps[:3, -1]).any() and np.isfinite(grid.steps[0]).sum() == 1  # noise at small B
glue("crit_bcrit", grid.b_crit, display=False)
glue("crit_smin", grid.s_min, display=False)
glue("crit_steps_small", grid.best_steps[0], display=False)
glue("crit_steps_large", grid.best_steps[-1], display=False)
glue("crit_b_small", int(grid.batch_sizes[0]), display=False)
glue("crit_b_large", int(grid.batch_sizes[-1]), display=False)
glue("crit_lr_small", grid.best_lr[0], display=False)
glue("crit_lr_large", grid.best_lr[-1], display=False)
""")

C(r"""
show(steps_widget())
""")

M(r"""
The shape is Shallue et al.'s, in miniature: from batch {glue:text}`crit_b_small` to
{glue:text}`crit_b_large` the best number of steps falls from
{glue:text}`crit_steps_small:.0f` to {glue:text}`crit_steps_large:.0f`, close to $1/B$ for
small batches and nearly flat for the largest, and the fit puts the crossover at
$B_{\text{crit}} \approx$ {glue:text}`crit_bcrit:.0f`. The best learning rate rises with the
batch, from {glue:text}`crit_lr_small:g` to {glue:text}`crit_lr_large:g`, and stops rising at
the top of the grid: the linear rule holds over part of the range only. The small batches
never reach the target at the largest rates (their noise keeps the accuracy below 93%) and
batch 8 reaches it at none but the smallest. On this problem, batches beyond a few hundred
buy almost nothing; the numbers are specific to this model, optimizer, target and data set,
and on large workloads the crossover sits at very different batch sizes
{cite:p}`shallue2019measuring,mccandlish2018empirical`.

(sec-accumulation)=
## Gradient accumulation equals a large batch

When a batch does not fit in memory, split it into $k$ micro-batches, average their gradients,
and step once: for a mean loss the average of the micro-batch means is the batch mean. optax's
`MultiSteps` is this as a transform: $k-1$ calls return zero updates and only accumulate, the
$k$-th applies the wrapped optimizer to the mean, so the optimizer's own state (Adam's moments,
its step counter) advances once per large batch.

```{literalinclude} ../lib/optim/accumulation.py
:pyobject: multi_steps
:language: python
```

We check it with Adam on the digits: 20 steps of batch 256, and the same with 4 micro-batches of
64. The pitfall is to **sum** instead of averaging, as `use_grad_mean=False` does (or calling
`loss.backward()` $k$ times in torch without dividing the loss by $k$): the step is then that of
a $k$ times larger gradient.
""")

C(r"""
batches = [np.random.default_rng(t).choice(len(X), 256, replace=False) for t in range(20)]


def run_accumulated(tx, k):
    p, state = p0, tx.init(p0)
    for idx in batches:
        for Xm, ym in optim.split_batch(X[idx], y[idx], k):
            updates, state = tx.update(model.loss_and_grad(p, Xm, ym)[1], state, p)
            p = optim.apply_updates(p, updates)
    return p


large = run_accumulated(optim.adam(lr=0.01), 1)
accumulated = run_accumulated(optim.multi_steps(optim.adam(lr=0.01), 4), 4)
summed = run_accumulated(optim.multi_steps(optim.sgd(lr=0.1), 4, use_grad_mean=False), 4)
sgd_large = run_accumulated(optim.sgd(lr=0.1), 1)
diff = max(np.max(np.abs(large[n] - accumulated[n])) for n in p0)
diff_sum = max(np.max(np.abs(sgd_large[n] - summed[n])) for n in p0)
print(f"Adam, batch 256 vs 4 x 64 accumulated: max |difference| = {diff:.1e}")
print(f"SGD, batch 256 vs 4 x 64 SUMMED:       max |difference| = {diff_sum:.2f}")
assert diff < 1e-12 and diff_sum > 0.01
glue("acc_diff", diff, display=False)
""")

M(r"""
The accumulated run matches the large batch to {glue:text}`acc_diff:.0e` (rounding), and the
summed one does not.

### Except with batch normalization

Batch normalization normalises each feature with the mean and variance *of the batch it sees*
(chapter 8). With micro-batches, or data-parallel workers, each shard is normalised with its own
statistics, so the forward pass itself changes and no averaging of gradients can recover the
large-batch step. Below, `lib.nn.BatchNorm1d` on the hidden pre-activations of one batch of 256,
as a whole and as 4 shards of 64, and the gradient of `mlp((64, 32, 10), batchnorm=True)` on the
batch against the mean of the shard gradients.
""")

C(r"""
idx = batches[0]
Z = X[idx] @ p0["W1"] + p0["b1"]                        # hidden pre-activations of a batch of 256
whole = BatchNorm1d(32)(Z)
shards = np.concatenate([BatchNorm1d(32)(Zs) for Zs in np.split(Z, 4)])
print(f"BatchNorm1d outputs, whole batch vs 4 shards: max |difference| = {np.max(np.abs(whole - shards)):.3f}")

bn_model = mlp((64, 32, 10), batchnorm=True)
bn_params = bn_model.init(0)
_, g_full = bn_model.loss_and_grad(bn_params, X[idx], y[idx])
_, g_shards = data_parallel_gradient(bn_model.loss_and_grad, bn_params, X[idx], y[idx], 4)
_, g_plain_full = model.loss_and_grad(p0, X[idx], y[idx])
_, g_plain_shards = data_parallel_gradient(model.loss_and_grad, p0, X[idx], y[idx], 4)
rel = lambda a, b: np.sqrt(sum(np.sum((a[n] - b[n]) ** 2) for n in a) / sum(np.sum(b[n] ** 2) for n in b))  # noqa: E731
bn_gap, plain_gap = rel(g_shards, g_full), rel(g_plain_shards, g_plain_full)
print(f"relative gradient difference, 4 shards vs whole batch: without batch norm {plain_gap:.1e}, "
      f"with batch norm {bn_gap:.3f}")
assert plain_gap < 1e-13 and bn_gap > 1e-3
glue("bn_gap", 100 * bn_gap, display=False)
""")

M(r"""
Without batch norm the shard gradients average to the batch gradient to rounding; with it they
differ by {glue:text}`bn_gap:.1f`% here. This is not necessarily harmful: Hoffer et al. *chose*
to normalise over small "ghost" batches inside a large one and found it helped large-batch
training generalize {cite:p}`hoffer2017train`. Data-parallel training with per-worker batch
norm is ghost batch normalization with the ghost batch equal to the per-worker batch; torch's
`nn.SyncBatchNorm` all-reduces the statistics instead, to recover the large-batch forward pass.

(sec-data-parallel)=
## Data parallelism

Synchronous data parallelism is the same computation spread over workers: each of $W$ workers
gets $B/W$ examples of the batch, computes the gradient of the mean loss on them, an
*all-reduce* averages the $W$ gradients, and every worker applies the same step.

```{literalinclude} ../lib/parallel.py
:pyobject: data_parallel_gradient
:language: python
```

`lib.parallel.train_data_parallel` runs it with simulated workers (a loop) or with real worker
processes: `backend="processes"` forks $W-1$ processes (the caller is worker 0); parameters,
batch indices, gradients and losses travel through `multiprocessing.shared_memory`, and a
barrier synchronises the workers twice per step, after the parameters are written and after
the gradients are. We train the same network for 30 steps of batch 256 on 1, 2 and 4 simulated
workers and on 2 processes, and check the parameters.
""")

C(r"""
kw = dict(batch_size=256, steps=30, seed=0)
tx = lambda: optim.sgd(lr=0.5, momentum=0.9)  # noqa: E731
dp = {w: train_data_parallel(model.loss_and_grad, p0, tx(), X, y, workers=w, **kw) for w in (1, 2, 4)}
real = train_data_parallel(model.loss_and_grad, p0, tx(), X, y, workers=2, backend="processes", **kw)
for w, r in dp.items():
    print(f"{w} simulated worker(s): max |θ - θ(1 worker)| = "
          f"{max(np.max(np.abs(r.params[n] - dp[1].params[n])) for n in p0):.1e}")
print(f"2 processes: max |θ - θ(2 simulated)| = {max(np.max(np.abs(real.params[n] - dp[2].params[n])) for n in p0):.1e}")
assert all(max(np.max(np.abs(r.params[n] - dp[1].params[n])) for n in p0) < 1e-12 for r in dp.values())
assert all(np.array_equal(real.params[n], dp[2].params[n]) for n in p0)
""")

M(r"""
Every version ends at the same parameters (to rounding across worker counts, bit for bit between
the simulation and the processes, which add the same numbers in the same order). Now the time.
Each process uses one BLAS thread, so that the two processes, not NumPy's internal threads, are
the parallelism being measured (a single NumPy process would otherwise use both cores inside its
matrix products). We time the small network at batch 256 and of a wider one,
`mlp((64, 256, 256, 10))`, at batch 1024, for 20 steps each.
""")

C(r"""
timing = {}
for label, sizes, b in [("mlp((64, 32, 10)), B = 256", (64, 32, 10), 256),
                        ("mlp((64, 256, 256, 10)), B = 1024", (64, 256, 256, 10), 1024)]:
    m = mlp(sizes)
    p = m.init(0)
    one = train_data_parallel(m.loss_and_grad, p, optim.sgd(lr=0.1), X, y, batch_size=b, steps=20, workers=1)
    two = train_data_parallel(m.loss_and_grad, p, optim.sgd(lr=0.1), X, y, batch_size=b, steps=20, workers=2,
                              backend="processes")
    assert max(np.max(np.abs(one.params[n] - two.params[n])) for n in p) < 1e-12
    timing[label] = (one, two)
    print(f"{label}: 1 process {1e3 * one.seconds / 20:.2f} ms/step; 2 processes {1e3 * two.seconds / 20:.2f} ms/step "
          f"(worker 0 computing {1e3 * two.compute_seconds / 20:.2f} ms, waiting {1e3 * two.wait_seconds / 20:.2f} ms; "
          f"start-up {1e3 * two.setup_seconds:.0f} ms once)")
(small_one, small_two), (wide_one, wide_two) = timing.values()
glue("dp_small_speedup", small_one.seconds / small_two.seconds, display=False)
glue("dp_wide_speedup", wide_one.seconds / wide_two.seconds, display=False)
glue("dp_small_wait", 1e3 * small_two.wait_seconds / 20, display=False)
glue("dp_small_step", 1e3 * small_one.seconds / 20, display=False)
print(f"load average while measuring: {', '.join(f'{v:.2f}' for v in __import__('os').getloadavg())}")
""")

M(r"""
The speed-up of 2 processes over 1 is {glue:text}`dp_small_speedup:.2f`× for the small network
and {glue:text}`dp_wide_speedup:.2f`× for the wide one; a value below 1 is a slow-down. These are
single measurements on a shared 2-core machine (the load is printed above): rerun the cell and
they move. What decides them is the ratio of communication to computation. A step of the small
network takes about {glue:text}`dp_small_step:.2f` ms of arithmetic in one process, while the
two barriers cost worker 0 about {glue:text}`dp_small_wait:.2f` ms of waiting per step (for the
other process to be scheduled, for the slower of the two to finish, and for the gradients to be
copied), whatever the size of the model. A wider network does more arithmetic per byte
exchanged, so this fixed cost weighs less, but two processes can at best halve the time, and
only if both cores are free; on a busy machine the second process waits for a core and the
split can lose. Real systems fight the same ratio: torch's `DistributedDataParallel`
all-reduces gradients in buckets *while* the backward pass is still running, to hide the
communication behind the computation {cite:p}`li2020pytorch`.

(sec-lars-lamb)=
## LARS and LAMB: one trust ratio per layer

With a large learning rate, a single $\eta$ for all layers runs into a problem that the
linear scaling rule ignores: the ratio $\lVert\theta_l\rVert/\lVert g_l\rVert$ of weight norm to
gradient norm differs from layer to layer, by orders of magnitude, so a rate that moves one
layer by a sensible fraction of its weights moves another by far too much. You et al.'s LARS
gives each layer $l$ its own *local* rate, proportional to that ratio
{cite:p}`you2017large`:

$$
\theta_l \leftarrow \theta_l - \eta\, r_l\, (g_l + \lambda\theta_l), \qquad
r_l = c\,\frac{\lVert\theta_l\rVert}{\lVert g_l + \lambda\theta_l\rVert} \quad (\text{optax; the paper: } \lVert g_l\rVert + \lambda\lVert\theta_l\rVert),
$$

with a trust coefficient $c$ (optax's default $10^{-3}$) and momentum on top. Then
$\lVert\Delta\theta_l\rVert = \eta c\lVert\theta_l\rVert$: every layer changes by the same
*relative* amount $\eta c$, whatever the scale of its gradient. SymPy checks that a layer's
update does not depend on how its gradient is scaled, and that rescaling a layer's weights by
$\alpha$ rescales its update by $\alpha$ (with $\lambda = 0$):
""")

C(r"""
a, s_ = sp.symbols("alpha s", positive=True)
th = sp.Matrix(sp.symbols("theta1:4", real=True))
gv = sp.Matrix(sp.symbols("g1:4", real=True))
c_, eta_ = sp.symbols("c eta", positive=True)
norm = lambda v: sp.sqrt(sum(x**2 for x in v))  # noqa: E731
lars_update = lambda theta, grad: -eta_ * c_ * norm(theta) / norm(grad) * grad  # noqa: E731
assert sp.simplify(lars_update(th, s_ * gv) - lars_update(th, gv)) == sp.zeros(3, 1)
# the layer alpha * theta has gradient g / alpha (chain rule): its update is alpha times the old one
assert sp.simplify(lars_update(a * th, gv / a) - a * lars_update(th, gv)) == sp.zeros(3, 1)
display(Math(r"\lVert\Delta\theta_l\rVert = " + sp.latex(sp.simplify(norm(lars_update(th, gv)) / norm(th))) + r"\,\lVert\theta_l\rVert"))
""")

M(r"""
`lib.optim` builds both optimizers from one transform, `scale_by_trust_ratio`, exactly as optax
does. The guard matters: a tensor whose norm is zero (a bias initialised to 0) would get ratio
0 and never move, and a zero gradient would give $0/0$; optax sets the ratio to 1 in both
cases, so a zero bias takes a plain step of rate $\eta$.

```{literalinclude} ../lib/optim/large_batch.py
:pyobject: trust_ratio
:language: python
```

```{literalinclude} ../lib/optim/large_batch.py
:pyobject: lars
:language: python
```

How optax's LARS differs from the paper's Algorithm 1 {cite:p}`you2017large`:

| | paper, Algorithm 1 | `optax.lars` (= `lib.optim.lars`) |
|---|---|---|
| denominator of $r_l$ | $\lVert g_l\rVert + \lambda\lVert\theta_l\rVert$ | $\lVert g_l + \lambda\theta_l\rVert + \varepsilon$ (smaller or equal) |
| zero norms | not discussed | ratio 1 if $\lVert\theta_l\rVert = 0$ or $\lVert g_l + \lambda\theta_l\rVert = 0$ |
| which tensors | every layer | `weight_decay_mask`, `trust_ratio_mask` (e.g. skip biases and batch-norm scales) |
| order | $v \leftarrow m v + \gamma_t r_l(g + \lambda\theta)$, $\theta \leftarrow \theta - v$ | the same: rate applied before the momentum buffer |

LAMB {cite:p}`you2020large` applies the same ratio to *Adam's* update instead of the gradient:
$u_l = \hat m_l/(\sqrt{\hat v_l} + \varepsilon) + \lambda\theta_l$, then
$\theta_l \leftarrow \theta_l - \eta\,\frac{\lVert\theta_l\rVert}{\lVert u_l\rVert}\,u_l$
(optax: `chain(scale_by_adam, add_decayed_weights, scale_by_trust_ratio, scale_by_learning_rate)`).
Both are tested against optax 0.2.8 in float64 at every step, with masks given as trees and as
functions, zero-initialised and never-updated tensors, and all-zero gradients
(`tests/test_large_batch.py`).

What the papers report, in their authors' words and on their hardware: with LARS, You et al.
"scaled Alexnet up to a batch size of 8K, and Resnet-50 to a batch size of 32K without loss in
accuracy", where linear scaling with warmup alone had lost accuracy or diverged
{cite:p}`you2017large`. The LAMB paper reports that LARS performs poorly on BERT, and that LAMB
trained BERT with batches of 32868 sequences without degradation, bringing the training time on
a TPUv3 Pod from 3 days to 76 minutes {cite:p}`you2020large`. These are results for specific
models, schedules and tuning budgets, not a limit that holds in general; whether a given batch
size works depends on the problem, as the measurement above shows on a small one.

### A network whose layers have very different scales

The trust ratio's purpose shows on a network rescaled layer by layer. A ReLU network computes
the same function if its first layer is multiplied by $\alpha$ and its second divided by
$\alpha$, but the gradients change by $1/\alpha$ and $\alpha$: the first layer's
$\lVert\theta\rVert/\lVert g\rVert$ grows by $\alpha^2$, the second's shrinks by $\alpha^2$.
We train `mlp((64, 32, 10))` and its copy with $\alpha = 10$, with LARS ($\eta = 3$, $c = 10^{-3}$,
momentum 0.9) and with momentum SGD ($\eta = 0.3$), 40 steps of batch 512, the same batches for
all four runs.
""")

C(r"""
hist = trust_ratio_history()
same_function = np.max(np.abs(hist.loss[("LARS", 1.0)] - hist.loss[("LARS", 10.0)]))
sgd_gap = np.max(np.abs(hist.loss[("SGD", 1.0)] - hist.loss[("SGD", 10.0)]))
print(f"LARS, original vs rescaled: max |loss difference| over training = {same_function:.1e}")
print(f"SGD,  original vs rescaled: max |loss difference| over training = {sgd_gap:.2f}")
for alpha in (1.0, 10.0):
    print(f"α = {alpha:g}: trust ratios at step 0: " + ", ".join(f"{n} {r:.1e}" for n, r in zip(hist.names, hist.ratio[alpha][0])))
assert same_function < 1e-9 and sgd_gap > 0.1
sgd10 = hist.loss[("SGD", 10.0)]
assert sgd10[:5].max() > sgd10[0]                                   # the rescaled SGD run first jumps up
assert all(hist.loss[("SGD", a)][-1] < hist.loss[("LARS", a)][-1] for a in (1.0, 10.0))
glue("tr_sgd_gap", sgd_gap, display=False)
""")

C(r"""
show(trust_ratio_widget())
""")

M(r"""
LARS trains the original and the rescaled network along the same function: its losses agree to
rounding at every step, because each layer's update is proportional to that layer's own norm and
the rescaling cancels, as derived above. Momentum SGD follows a different path on each: the two
loss curves differ by up to {glue:text}`tr_sgd_gap:.1f` during training, and the rescaled run
first jumps up, because the second layer's gradient is ten times larger while its weights are ten
times smaller. Equivariance is not the same as speed: here SGD at its rate reaches a lower loss
than LARS at its rate in 40 steps, on both networks. The trust ratios in the widget are the
per-layer rates LARS applies, spanning several orders of magnitude across the tensors of one
network.

(sec-sharpness)=
## Sharpness and the generalization gap

Keskar et al. observed that networks trained with large batches often generalize worse than
with small batches, and that large-batch training ends at *sharper* minima, where the loss rises
steeply in some directions {cite:p}`keskar2017large`. Hoffer et al. argued that much of the gap
comes from making fewer updates, and closed it by training longer, adapting the learning rate
and using ghost batch norm {cite:p}`hoffer2017train`. A standard measure of sharpness is the top
eigenvalue $\lambda_{\max}$ of the Hessian of the training loss. It needs no Hessian matrix: power
iteration, $v \leftarrow Hv/\lVert Hv\rVert$, needs only Hessian-vector products, and a
Hessian-vector product is the directional derivative of the gradient (chapter 2),
$Hv \approx (\nabla L(\theta + \epsilon v) - \nabla L(\theta - \epsilon v))/2\epsilon$.

```{literalinclude} ../lib/batch_size.py
:pyobject: top_hessian_eigenvalue
:language: python
```

We train the network with momentum SGD at the same rate $\eta = 0.03$ with batch 16 and batch
1024 until the full training loss drops below 0.02, and compute the sharpness of the full
training loss at both end points.
""")

C(r"""
def train_until(batch_size, lr, target_loss=0.02, max_steps=2000, seed=0):
    tx, p = optim.sgd(lr=lr, momentum=0.9), p0
    state, rng, pos = tx.init(p), np.random.default_rng(seed), len(X)
    for t in range(max_steps):
        if pos + batch_size > len(X):
            perm, pos = rng.permutation(len(X)), 0
        idx = perm[pos:pos + batch_size]
        pos += batch_size
        updates, state = tx.update(model.loss_and_grad(p, X[idx], y[idx])[1], state, p)
        p = optim.apply_updates(p, updates)
        if t % 10 == 0 and model.loss_and_grad(p, X, y)[0] < target_loss:
            break
    return p, t + 1


def sharpness(params):
    theta = flatten(params)
    grad = lambda v: flatten(model.loss_and_grad(unflatten(v, params), X, y)[1])  # noqa: E731
    return top_hessian_eigenvalue(lambda v: hvp_finite_difference(grad, theta, v), theta.size, iters=100, tol=1e-5)


sharp = {}
for b in (16, 1024):
    p, steps = train_until(b, 0.03)
    res = sharpness(p)
    acc = float(np.mean(model.predict(p, X_val).argmax(1) == y_val))
    sharp[b] = (res.eigenvalue, acc, steps, p)
    print(f"B = {b:4d}: {steps} steps, λ_max = {res.eigenvalue:.3f} ({len(res.history)} HVP iterations, "
          f"converged: {res.converged}), validation accuracy {acc:.1%}")
assert sharp[1024][0] > sharp[16][0] and sharp[1024][1] >= sharp[16][1] - 0.01   # the claims of the next paragraph
glue("sharp_small", sharp[16][0], display=False)
glue("sharp_large", sharp[1024][0], display=False)
glue("sharp_acc_small", 100 * sharp[16][1], display=False)
glue("sharp_acc_large", 100 * sharp[1024][1], display=False)
""")

M(r"""
The large-batch solution is the sharper one here, $\lambda_{\max} \approx$
{glue:text}`sharp_large:.2f` against {glue:text}`sharp_small:.2f`, the direction Keskar et al.
report; its validation accuracy is {glue:text}`sharp_acc_large:.1f`% against
{glue:text}`sharp_acc_small:.1f`%, so on this small problem and one seed the sharper minimum
does not generalize measurably worse.

Sharpness also has a flaw as an explanation. Dinh et al. showed that sharpness can be changed at
will without changing the function: the rescaling of the previous section multiplies some
Hessian entries by $\alpha^2$ and others by $1/\alpha^2$, so any minimum of a ReLU network can be
made arbitrarily sharp while computing exactly the same predictions {cite:p}`dinh2017sharp`.
Measured on the large-batch solution:
""")

C(r"""
p_large = sharp[1024][3]
for alpha in (1.0, 3.0, 10.0):
    q = rescale(p_large, alpha)
    print(f"α = {alpha:4g}: λ_max = {sharpness(q).eigenvalue:9.3f}, "
          f"max |logit difference| = {np.max(np.abs(model.predict(q, X_val) - model.predict(p_large, X_val))):.1e}")
lam_10 = sharpness(rescale(p_large, 10.0)).eigenvalue
assert np.allclose(model.predict(rescale(p_large, 10.0), X_val), model.predict(p_large, X_val))
assert lam_10 > 5 * sharp[1024][0]
glue("dinh_ratio", lam_10 / sharp[1024][0], display=False)
""")

M(r"""
The same predictions, with a top eigenvalue {glue:text}`dinh_ratio:.0f` times larger at
$\alpha = 10$. A sharpness measure that is to explain generalization must be invariant to such
reparameterisations (normalised or relative measures are proposed for this); the raw
$\lambda_{\max}$ is not, so a difference in sharpness between two runs is a description of
where the optimizer ended, not by itself a cause of a generalization gap.

````{admonition} In PyTorch and optax
```python
# data parallelism: one process per device, launched by torchrun
torch.distributed.init_process_group("nccl")          # or "gloo" on CPUs
model = torch.nn.parallel.DistributedDataParallel(model)   # all-reduces gradients in buckets
sampler = torch.utils.data.DistributedSampler(dataset)     # each process its shard of the batch
# gradient accumulation: skip the all-reduce on the first k-1 micro-batches
for i, (xb, yb) in enumerate(loader):
    ctx = model.no_sync() if (i + 1) % k else contextlib.nullcontext()
    with ctx:
        (loss_fn(model(xb), yb) / k).backward()            # divide by k: the mean, not the sum
    if (i + 1) % k == 0:
        opt.step(); opt.zero_grad()
torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)   # batch statistics over all workers

# optax / jax
optax.MultiSteps(optax.adam(1e-3), every_k_schedule=k)     # lib.optim.multi_steps
optax.lars(learning_rate, weight_decay, weight_decay_mask, trust_coefficient=1e-3, eps=0.0,
           trust_ratio_mask, momentum=0.9, nesterov=False)  # lib.optim.lars
optax.lamb(learning_rate, b1=0.9, b2=0.999, eps=1e-6, eps_root=0.0, weight_decay=0.0, mask=None)
jax.pmap(step, axis_name="batch")  # with jax.lax.pmean(grads, "batch") inside: the all-reduce
# (or jax.sharding: shard the batch axis of the inputs over a mesh of devices)
```
Where this chapter's experiments sit: `train_data_parallel(..., backend="processes")` is a
two-process `DistributedDataParallel` without bucketing (one all-reduce of the whole gradient
after the backward pass, through shared memory instead of NCCL or Gloo); `data_parallel_gradient`
is what `jax.pmap` + `pmean` computes; the accumulation check is `MultiSteps` (torch: `no_sync()`
plus `loss / k`); the batch-norm shards are what `DistributedDataParallel` does by default, and
`SyncBatchNorm` is the fix. torch has no LARS or LAMB in `torch.optim`; `lib.optim.lars` and
`lib.optim.lamb` take torch-style names (`lr`, `betas`) and reproduce optax's numbers. optax's
`MultiSteps` keeps its accumulator in float32 by default (`accumulator_dtype`); `lib` uses the
gradients' dtype.
````

## Summary

- A batch of $B$ examples has gradient noise $\operatorname{tr}\Sigma/B$; the noise scale
  $\mathcal B_{\text{simple}} = \operatorname{tr}\Sigma/\lVert G\rVert^2$ is where noise and
  signal are equal, and it grows during training.
- On a quadratic model the best step gains $\Delta L_{\max}/(1 + \mathcal B_{\text{noise}}/B)$,
  so steps to a target follow $S_{\min}(1 + B_{\text{crit}}/B)$: perfect scaling for small
  batches, diminishing returns for large ones (measured on the digits, and in Shallue et al.'s
  workloads at workload-dependent batch sizes).
- The linear scaling rule ($\eta \propto B$) is exact to first order in $\eta$ and fails when
  $k\eta h$ is not small; a warmup makes it survive the first steps.
- Gradient accumulation (`multi_steps`) and synchronous data parallelism compute the
  large-batch gradient exactly for a mean loss (average, do not sum), but not with batch norm,
  whose statistics are per shard (ghost batch norm; `SyncBatchNorm` restores them).
- Two real processes give the same parameters as one; they are faster only when the computation
  per step outweighs the synchronisation.
- LARS and LAMB scale each layer's update by $\lVert\theta_l\rVert/\lVert u_l\rVert$ (ratio 1 if
  a norm is 0), which makes the update equivariant to per-layer rescaling; optax's LARS uses
  $\lVert g + \lambda\theta\rVert$ where the paper has $\lVert g\rVert + \lambda\lVert\theta\rVert$.
- Sharpness, $\lambda_{\max}$ by power iteration on Hessian-vector products, differed between
  small and large batches here, but it is not invariant to reparameterisation.

## Exercises

The graded exercises are in the notebook {doc}`../exercises/09-large-batch`. Each one is checked
by a test cell right below it; to check the whole notebook at once, run
`pytest --nbval-lax exercises/09-large-batch.ipynb` from the root of the repository.

```{exercise} The LARS trust ratio of one layer
:label: ex09-trust-ratio

Write `lars_trust_ratio(param, grad, weight_decay, trust_coefficient, eps)`: the ratio optax's
LARS applies to one tensor, with the guard for zero norms.
```

```{exercise} One LAMB step
:label: ex09-lamb-step

Write `lamb_step(params, grads, m, v, t, lr, betas, eps, weight_decay)`: update number $t$ of
LAMB on a dict of tensors, one trust ratio per tensor.
```

```{exercise} Gradient accumulation
:label: ex09-accumulate

Write `accumulate_gradients(grad_fn, params, X, y, k)`: the gradient of the batch from $k$
micro-batches.
```

```{exercise} A new batch size
:label: ex09-scale-lr

Write `scaled_lr_and_warmup(base_lr, base_batch_size, batch_size, n, warmup_epochs)`: the learning
rate by the linear scaling rule and the warmup length in steps.
```

```{exercise} Power iteration
:label: ex09-power-iteration

Write `top_eigenvalue(hvp, dim, iters, seed)`: the largest-magnitude eigenvalue of a symmetric
matrix you can only multiply by.
```

The next one is for practice; it is not graded.

```{exercise} The noise scale from two batch sizes
:label: ex09-practice-two-batches

In data-parallel training each worker has the gradient of $B/W$ examples and the all-reduce gives
that of $B$. Use $\mathbb E\lVert G_B\rVert^2 = \lVert G\rVert^2 + \operatorname{tr}\Sigma/B$ at the
two sizes to estimate $\lVert G\rVert^2$ and $\operatorname{tr}\Sigma$ without per-example
gradients, and compare with `lib.batch_size.noise_scale_from_two_batches` on the digits.
```

```{solution} ex09-practice-two-batches
:class: dropdown

Two equations, two unknowns: subtracting gives
$\operatorname{tr}\Sigma = (\lVert G_{b}\rVert^2 - \lVert G_{B}\rVert^2)/(1/b - 1/B)$ with $b = B/W$,
and then $\lVert G\rVert^2 = (B\lVert G_B\rVert^2 - b\lVert G_b\rVert^2)/(B - b)$. Each estimate is
noisy; McCandlish et al. average them over many steps before dividing {cite:p}`mccandlish2018empirical`.
```

## References

```{bibliography}
:filter: docname in docnames
```
""")

nb = new_notebook(cells=cells, metadata={
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"}})
nbformat.write(nb, "chapters/09-large-batch.ipynb")
