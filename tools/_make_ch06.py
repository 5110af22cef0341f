"""Build chapters/06-weight-decay.ipynb (run once; the notebook is the source afterwards)."""
import nbformat as nbf

cells = []


def md(s):
    cells.append(nbf.v4.new_markdown_cell(s.strip("\n")))


def code(s, hide=False):
    c = nbf.v4.new_code_cell(s.strip("\n"))
    if hide:
        c.metadata["tags"] = ["hide-input"]
    cells.append(c)


md(r"""
# Weight decay and AdamW

Almost every network is trained with some pressure towards small weights. There are two ways to
apply it: add an **L2 penalty** $\tfrac{\lambda}{2}\lVert\theta\rVert^2$ to the loss and let the
optimizer follow its gradient, or shrink the weights directly at every step, $\theta \leftarrow
(1-\lambda)\theta$, which is **weight decay** in the sense of {cite:t}`hanson1988comparing`. For
plain SGD the two are the same algorithm. For Adam they are not, and the difference is the
reason AdamW exists {cite:p}`loshchilov2019decoupled`. This chapter derives both facts, measures
the difference on a 2-D problem and on a network, reads the conventions of PyTorch, optax and
the paper side by side, and shows how to exempt biases from decay.

**Learning objectives.** After this chapter you can:

- derive that SGD on an L2-penalised loss is SGD with weight decay, and convert one coefficient into the other;
- say what changes with momentum and with a learning-rate schedule;
- derive why Adam with an L2 penalty decays weights with large gradients *less*, and measure it;
- write AdamW's update in the paper's form and in PyTorch's, and map the hyperparameters of one to the other;
- read `torch.optim.Adam(weight_decay=...)`, `AdamW`, `optax.adamw` and `optax.add_decayed_weights` as chains of `lib.optim` transforms;
- build a decay mask that leaves biases and other 1-D parameters alone;
- run and read an (η, λ) grid comparison of Adam + L2 and AdamW, with its spread over seeds.
""")

code(r"""
import inspect

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp
from IPython.display import Math, display
from myst_nb import glue

from lib import optim, plotting
from lib.nn import mlp
from lib.widgets import show
from lib.widgets import weight_decay as wdw

plotting.apply_style()
COLORS = plotting.COLORS
""")

md(r"""
(sec-l2-sgd)=
## L2 penalty and weight decay under SGD

This book writes the penalty as $\tfrac{\lambda'}{2}\lVert\theta\rVert^2$, so that its gradient
is $\lambda'\theta$ (a source that writes $\lambda\lVert\theta\rVert^2$ gets $2\lambda\theta$;
the factor 2 moves into the coefficient). The penalised loss and one SGD step on it are

$$
\tilde L(\theta) = L(\theta) + \frac{\lambda'}{2}\lVert\theta\rVert^2, \qquad
\theta_{t} = \theta_{t-1} - \eta\big(\nabla L(\theta_{t-1}) + \lambda'\theta_{t-1}\big).
$$

Weight decay as Loshchilov and Hutter write it shrinks the weights by a factor per step and then
takes the gradient step on $L$ alone, $\theta_t = (1-\lambda)\,\theta_{t-1} - \eta\,\nabla
L(\theta_{t-1})$. SymPy compares the two updates:
""")

code(r"""
theta, grad, eta, lam, lam_l2 = sp.symbols("theta g eta lambda lambda'", real=True)
sgd_l2 = theta - eta * (grad + lam_l2 * theta)                # SGD on the penalised loss
sgd_decay = (1 - lam) * theta - eta * grad                    # the paper's weight decay
match = sp.solve(sp.Eq(sgd_l2, sgd_decay), lam)
assert match == [eta * lam_l2]
assert sp.expand(sgd_l2.subs(lam_l2, lam / eta) - sgd_decay) == 0
display(Math(r"\theta - \eta(g + \lambda'\theta) = (1-\lambda)\theta - \eta g \iff \lambda = "
             + sp.latex(match[0]) + r", \quad \lambda' = \lambda / \eta"))
""")

md(r"""
This is the paper's Proposition 1: for SGD, weight decay with per-step factor $\lambda$ **is** an
L2 penalty with $\lambda' = \lambda/\eta$ {cite:p}`loshchilov2019decoupled`. The factor between
the two coefficients is the learning rate. In PyTorch both are spelled `weight_decay`, and
`SGD(lr=η, weight_decay=λ')` computes $\theta - \eta(g + \lambda'\theta)$: its decay per step is
$\eta\lambda'$, already multiplied by the learning rate.

With a **schedule** $\eta_t$ the equivalence holds step by step only if one of the two
coefficients moves with $\eta_t$: a constant per-step factor $\lambda$ corresponds to an L2
coefficient $\lambda/\eta_t$ that grows as the learning rate decays. Run both with *constant*
coefficients under a step schedule and they part at the first change of $\eta$:
""")

code(r"""
A = np.diag([1.0, 0.2])                                    # L = ½ θᵀAθ − bᵀθ
b = np.array([1.0, 1.0])
grad_L = lambda th: A @ th - b                              # noqa: E731
eta_sched = lambda t: 0.5 if t < 30 else 0.05               # noqa: E731  (a step schedule)
lam_paper = 0.02                                            # decay per step
lam_equiv = lam_paper / eta_sched(0)                        # equivalent L2 coefficient at η = 0.5

th_l2 = th_wd = np.zeros(2)
gap = []
for t in range(60):
    th_l2 = th_l2 - eta_sched(t) * (grad_L(th_l2) + lam_equiv * th_l2)
    th_wd = (1 - lam_paper) * th_wd - eta_sched(t) * grad_L(th_wd)
    gap.append(np.abs(th_l2 - th_wd).max())
gap = np.array(gap)
print(f"max |difference| in the first 30 steps (η = 0.5): {gap[:30].max():.1e}")
print(f"max |difference| after the schedule drops η to 0.05: {gap[30:].max():.1e}")
assert gap[:30].max() < 1e-12 and gap[30:].max() > 1e-3
""")

md(r"""
The same holds with **momentum**, with one more subtlety. PyTorch's `SGD(momentum=μ,
weight_decay=λ')` adds $\lambda'\theta$ to the gradient *before* the momentum buffer, so the
penalty's gradient is accumulated like any other gradient. A decoupled variant (the paper's
SGDW) applies the decay outside the buffer. The two do not take the same steps, but for a
constant $\eta$ they stop at the same place once the coefficients are converted: at a fixed
point the buffer holds $b = g/(1-\mu)$, and SymPy solves both stationarity conditions:
""")

code(r"""
mu, buf, g_sym, th_sym = sp.symbols("mu b g theta", real=True)
lam_w = sp.Symbol("lambda", positive=True)
# torch SGD + L2:  b = μ b + g + λ'θ,  θ = θ − η b   → stationary when b = 0 for the update to vanish
fixed_l2 = sp.solve([sp.Eq(buf, mu * buf + g_sym + lam_l2 * th_sym), sp.Eq(eta * buf, 0)], [buf, g_sym], dict=True)[0]
# decoupled (SGDW, decay η·λ per step):  b = μ b + g,  θ = θ − η b − η λ θ
fixed_w = sp.solve([sp.Eq(buf, mu * buf + g_sym), sp.Eq(eta * buf + eta * lam_w * th_sym, 0)], [buf, g_sym], dict=True)[0]
display(Math(r"\text{L2: } g^\star = " + sp.latex(fixed_l2[g_sym]) + r", \qquad \text{decoupled: } g^\star = "
             + sp.latex(sp.factor(fixed_w[g_sym]))))
conversion = sp.solve(sp.Eq(fixed_l2[g_sym], fixed_w[g_sym]), lam_l2)[0]
assert sp.simplify(conversion - (1 - mu) * lam_w) == 0
display(Math(r"\text{same fixed points} \iff \lambda' = " + sp.latex(sp.factor(conversion))))
""")

md(r"""
So with momentum the decoupled coefficient $\lambda$ corresponds to $\lambda' = (1-\mu)\lambda$ at
the fixed point (the buffer amplifies a constant gradient by $1/(1-\mu)$), and the paths in
between differ. With a changing $\eta$ the two part again as above. None of this changes the
conclusion for SGD: penalty and decay are interchangeable once the coefficients are converted.
The common statement "L2 regularisation is weight decay" is true **for SGD**, in this sense;
it is false for adaptive methods, which is the next section.

(sec-adam-l2)=
## Why the equivalence breaks for Adam

Adam divides every coordinate's step by $\sqrt{\hat v_t}$, the running RMS of *that
coordinate's* gradients (chapter 5). With an L2 penalty, the gradient it sees is $g_t +
\lambda'\theta$, and the penalty's part is divided too. Because $m_t$ is linear in the
gradients, Adam's step splits into a data part and a penalty part,

$$
\eta\,\frac{\hat m_t}{\sqrt{\hat v_t}+\varepsilon} = \eta\,\frac{\hat m^{\text{data}}_t}{\sqrt{\hat v_t}+\varepsilon}
+ \eta\,\frac{\hat m^{\text{L2}}_t}{\sqrt{\hat v_t}+\varepsilon},
$$

and when $\theta$ moves slowly the bias-corrected average of the penalty gradient is
$\lambda'\theta$ itself. SymPy checks that a bias-corrected moving average of a constant is the
constant, for the first five steps, and writes the decay per step of one coordinate:
""")

code(r"""
beta1, c = sp.symbols("beta_1 c", positive=True)
m = sp.Integer(0)
for t in range(1, 6):
    m = beta1 * m + (1 - beta1) * c
    assert sp.simplify(m / (1 - beta1**t) - c) == 0          # \hat m^{L2}_t = λ'θ exactly

sqrt_v, eps = sp.symbols(r"\sqrt{\hat{v}} varepsilon", positive=True)
decay_l2 = eta * lam_l2 / (sqrt_v + eps)                     # fraction of θ removed per step, Adam + L2
decay_w = eta * lam                                          # AdamW: the same for every coordinate
ratio = sp.simplify(decay_l2.subs(sqrt_v, 10 * sqrt_v).subs(eps, 0) / decay_l2.subs(eps, 0))
assert ratio == sp.Rational(1, 10)
display(Math(r"\text{Adam + L2: } " + sp.latex(decay_l2) + r", \qquad \text{AdamW: } " + sp.latex(decay_w)
             + r", \qquad \frac{\text{decay at } 10\sqrt{\hat v}}{\text{decay at } \sqrt{\hat v}} = "
             + sp.latex(ratio)))
""")

md(r"""
This is Proposition 2 of {cite:t}`loshchilov2019decoupled` for one coordinate: under Adam + L2,
a weight whose gradients are ten times larger is decayed ten times less. The penalty does not
act uniformly; the weights that move most are regularised least. Decoupled weight decay applies
$\eta\lambda$ to every weight.

**On a 2-D problem.** Take $L(\theta) = \mathbb E\,\tfrac12\sum_i c_i(\theta_i - 1 -
\sigma\xi_i)^2$ with $c = (1, 10)$: both coordinates have their minimum at 1, but the second
one's gradients are ten times larger. Start at the minimum and let the decay pull:
""")

code(r"""
run = wdw.decay_paths(weight_decay=1.0, lr=0.01)
tail = slice(-100, None)                                    # average over the last 100 of 400 steps
for name in run.paths:
    end = run.paths[name][tail].mean(axis=0)
    per_step = run.decay[name][tail].mean(axis=0)
    print(f"{name:10s} θ at the end ≈ ({end[0]:.2f}, {end[1]:.2f}); decay per step: "
          f"θ₁ {per_step[0]:.4f}, θ₂ {per_step[1]:.4f}")
l2_decay = run.decay["Adam + L2"][tail].mean(axis=0)
decay_ratio_2d = l2_decay[0] / l2_decay[1]
end_l2, end_w = run.paths["Adam + L2"][tail].mean(axis=0), run.paths["AdamW"][tail].mean(axis=0)
glue("decay_ratio_2d", decay_ratio_2d, display=False)
glue("l2_end_1", end_l2[0], display=False)
glue("l2_end_2", end_l2[1], display=False)
glue("w_end_1", end_w[0], display=False)
glue("w_end_2", end_w[1], display=False)
assert decay_ratio_2d > 3 and end_l2[1] - end_l2[0] > 0.3 and abs(end_w[1] - end_w[0]) < 0.1
""")

code(r"""
fig = plt.figure(figsize=(9.5, 3.6))
wdw.draw_decay_paths(run, fig)
plt.show()
""", hide=True)

md(r"""
With $\lambda = 1$ and $\eta = 0.01$, Adam + L2 decays $\theta_1$ about
{glue:text}`decay_ratio_2d:.1f` times faster per step than $\theta_2$, and ends near
$({glue:text}`l2_end_1:.2f}, {glue:text}`l2_end_2:.2f})$, close to the minimiser of the penalised
loss $c_i/(c_i+\lambda)$ (the cross): the coordinate with large gradients is hardly regularised.
AdamW removes the same fraction $\eta\lambda$ of both coordinates every step and ends near
$({glue:text}`w_end_1:.2f}, {glue:text}`w_end_2:.2f})$, on the diagonal: the decay no longer
depends on the gradients' scale. Change $\lambda$ and $\eta$:
""")

code(r"""
show(wdw.decay_widget())
""")

md(r"""
**On the digits.** The same effect on a network: train `mlp((64, 32, 10))` on the digits with
Adam + L2 ($\eta = 3\cdot10^{-3}$, $\lambda' = 10^{-3}$, 4 epochs) and read, for every weight,
the RMS of its gradients $\sqrt{\hat v}$ from the optimizer's state and the factor
$\lambda'/(\sqrt{\hat v}+\varepsilon)$ that multiplies it in the penalty part of the step:
""")

code(r"""
factors = wdw.adam_l2_decay_factors(lr=3e-3, weight_decay=1e-3, epochs=4)
rms, factor = factors["rms"], factors["factor"]
p10, p90 = np.percentile(factor, [10, 90])
spread_digits = p90 / p10
glue("digits_factor_spread", spread_digits, display=False)
glue("digits_weights", rms.size, display=False)
print(f"{rms.size} weights; the factor λ'/(√v̂+ε) at the 10th and 90th percentile: {p10:.3g}, {p90:.3g} "
      f"(ratio {spread_digits:.1f}); AdamW: λ for every weight")
assert spread_digits > 3
""")

code(r"""
fig, ax = plotting.figure(width=6.5, height=3.4)
for layer, color in (("W1", COLORS[0]), ("W2", COLORS[1])):
    sel = factors["layer"] == layer
    ax.loglog(rms[sel], factor[sel], ".", ms=2, color=color, alpha=0.5, label=f"{layer} ({sel.sum()} weights)")
ax.axhline(1.0, color="0.3", ls="--", lw=1, label="AdamW: 1 for every weight (in units of λ)")
ax.set(xlabel=r"gradient RMS $\sqrt{\hat v}$ of the weight", ylabel=r"decay factor $\lambda'/(\sqrt{\hat v}+\varepsilon)$",
       title="Adam + L2 on the digits: per-weight decay falls as 1 / gradient scale")
ax.legend(fontsize=7)
plt.show()
""", hide=True)

md(r"""
The factor falls exactly as $1/\sqrt{\hat v}$ (that is the derivation); what the measurement
adds is how far apart the gradient scales of one small network are. Over its
{glue:text}`digits_weights` weights, the decay at the 10th and at the 90th percentile differ by
a factor {glue:text}`digits_factor_spread:.1f}, and the input layer's weights, whose gradients
are smaller, are decayed more than the output layer's.

(sec-adamw)=
## AdamW: the paper's update and PyTorch's

Loshchilov and Hutter's Algorithm 2 separates a base learning rate $\alpha$ from a **schedule
multiplier** $\eta_t$ (1 without a schedule) and decays with $\eta_t$ only
{cite:p}`loshchilov2019decoupled`:

$$
\theta_t = \theta_{t-1} - \eta_t\left(\alpha\,\frac{\hat m_t}{\sqrt{\hat v_t}+\varepsilon} + \lambda\,\theta_{t-1}\right),
$$

with $\hat m_t, \hat v_t$ bias-corrected from the *raw* gradients (chapter 5). PyTorch's
`AdamW(lr=γ, weight_decay=λ_torch)` and optax's `adamw` multiply the decay by the whole learning
rate $\gamma_t$ (base rate times schedule):

$$
\theta_t = (1 - \gamma_t\lambda_{\text{torch}})\,\theta_{t-1} - \gamma_t\,\frac{\hat m_t}{\sqrt{\hat v_t}+\varepsilon}.
$$
""")

code(r"""
alpha, eta_t, gamma, lam_p, lam_t, mhat, denom = sp.symbols(
    r"alpha eta_t gamma lambda_paper lambda_torch \hat{m} d", positive=True)
paper = theta - eta_t * (alpha * mhat / denom + lam_p * theta)
torch_form = (1 - gamma * lam_t) * theta - gamma * mhat / denom
paper_e, torch_e = sp.expand(paper), sp.expand(torch_form)
mapping = sp.solve([sp.Eq(paper_e.coeff(mhat), torch_e.coeff(mhat)),
                    sp.Eq(paper_e.coeff(theta), torch_e.coeff(theta))], [gamma, lam_t], dict=True)[0]
assert mapping == {gamma: alpha * eta_t, lam_t: lam_p / alpha}
display(Math(r"\gamma_t = " + sp.latex(mapping[gamma]) + r", \qquad \lambda_{\text{torch}} = "
             + sp.latex(mapping[lam_t]) + r" \quad(\text{equivalently } \gamma_t\lambda_{\text{torch}} = \eta_t\lambda_{\text{paper}})"))

# the same with numbers: lib.optim.adamw with lr = α·η_t and weight_decay = λ_paper/α is the paper's step
a_, lp_ = 1e-3, 0.05
p0, g0 = np.array([2.0, -1.0]), np.array([0.3, -4.0])
u, _ = optim.adamw(lr=a_, weight_decay=lp_ / a_).update(g0, optim.adamw(lr=a_).init(p0), p0)
paper_step = -(a_ * g0 / (np.abs(g0) + 1e-8) + lp_ * p0)      # t = 1: m̂ = g, √v̂ = |g|, η_t = 1
assert np.allclose(u, paper_step, rtol=1e-12)
""")

md(r"""
So a paper value $\lambda_{\text{paper}}$ becomes $\lambda_{\text{torch}} =
\lambda_{\text{paper}}/\alpha$ in PyTorch. The consequence matters for tuning: in PyTorch's
parameterisation the decay per step is $\gamma\lambda_{\text{torch}}$, so changing the learning
rate changes the decay too, which is the coupling the paper set out to remove. The paper's form
keeps the decay per step fixed when $\alpha$ changes. The grid experiment below uses the paper's
form for AdamW, as its heatmaps do.

The defaults differ as well:
""")

code(r"""
torch_default = inspect.signature(optim.adamw).parameters["weight_decay"].default
adam_default = inspect.signature(optim.adam).parameters["weight_decay"].default
glue("adamw_default", torch_default, display=False)
print(f"lib.optim.adamw (torch's AdamW): weight_decay = {torch_default}; lib.optim.adam: {adam_default}")
assert torch_default == 1e-2 and adam_default == 0
""")

md(r"""
`torch.optim.AdamW` defaults to `weight_decay=1e-2` ({glue:text}`adamw_default`), `optax.adamw`
to `weight_decay=1e-4` (read from optax 0.2.8's source), and `torch.optim.Adam` to 0. The same
code with the default decay in the two libraries therefore regularises a hundred times
differently. `lib.optim.adamw` follows PyTorch; pass `weight_decay` explicitly when you port a
recipe. (The golden test `optax_adamw_default_decay` checks optax's default step by step.)

````{admonition} In PyTorch and optax
Every line below is reproduced by the `lib.optim` chain next to it, step for step, by the
golden tests of this chapter and of chapter 5 (`tests/test_weight_decay.py`,
`tests/test_optim_adaptive.py`, recorded from torch 2.13 and optax 0.2.8):

| Library call | What it does | `lib.optim` chain |
|---|---|---|
| `torch.optim.Adam(p, lr, weight_decay=λ)` | **L2**: $\lambda\theta$ added to $g$, rescaled by Adam | `adam(lr, weight_decay=λ)` = `chain(add_decayed_weights(λ), scale_by_adam(), scale_by_learning_rate(lr))` |
| `torch.optim.AdamW(p, lr, weight_decay=λ)` | decoupled: $\theta \leftarrow (1-\text{lr}\,\lambda)\theta$, then Adam | `adamw(lr, weight_decay=λ)` = `chain(scale_by_adam(), add_decayed_weights(λ), scale_by_learning_rate(lr))` |
| `torch.optim.Adam(p, lr, weight_decay=λ, decoupled_weight_decay=True)` | the same as `AdamW` | `adam(lr, weight_decay=λ, decoupled_weight_decay=True)` |
| `torch.optim.SGD(p, lr, momentum=μ, weight_decay=λ)` | L2 inside the momentum buffer | `chain(add_decayed_weights(λ), trace(μ), scale_by_learning_rate(lr))` |
| `optax.adamw(lr, weight_decay=λ, mask=m)` | decoupled, decay × lr, default λ = 1e-4 | `adamw(lr, weight_decay=λ, mask=m)` |
| `optax.chain(optax.add_decayed_weights(λ, m), optax.scale_by_adam(), optax.scale_by_learning_rate(lr))` | L2 (the order decides) | `chain(add_decayed_weights(λ, m), scale_by_adam(), scale_by_learning_rate(lr))` |
| param groups `[{"params": W}, {"params": b, "weight_decay": 0.0}]` | no decay on `b` | `mask=weight_decay_mask` (next section) |

The chain order is the whole difference between L2 and decoupled decay: `add_decayed_weights`
**before** the scaling is an L2 penalty, **after** it is weight decay.
````

(sec-masks)=
## Which parameters to decay

Weight decay is meant to keep the weights small. Biases and the scales and shifts of
normalisation layers are usually exempt: shrinking a bias towards zero does not make the
function smoother in the way shrinking a weight matrix does, and for a scale that is followed
by normalisation the penalty mostly changes the effective learning rate. Recipes therefore
split the parameters, as BERT's does for its biases and layer-normalisation parameters
{cite:p}`devlin2019bert`. PyTorch expresses this with parameter groups; optax and `lib.optim`
with a **mask**, a tree of booleans (or a function that builds one from the parameters) that says
which leaves are decayed. The usual one decays every parameter with at least two dimensions:

```{literalinclude} ../lib/optim/masking.py
:pyobject: weight_decay_mask
:language: python
```
""")

code(r"""
params = mlp((64, 32, 10)).init(0)
mask = optim.weight_decay_mask(params)
print("mask:", mask)
print("torch parameter groups:", optim.mask_to_param_groups(optim.weight_decay_mask, params, 0.01))
n_decayed = sum(p.size for k, p in params.items() if mask[k])
n_total = sum(p.size for p in params.values())
glue("n_decayed", n_decayed, display=False)
glue("n_exempt", n_total - n_decayed, display=False)

tx = optim.adamw(lr=0.1, weight_decay=0.5, mask=optim.weight_decay_mask)
zero_grads = {k: np.zeros_like(p) for k, p in params.items()}
u, _ = tx.update(zero_grads, tx.init(params), params)
assert np.allclose(u["W1"], -0.1 * 0.5 * params["W1"]) and not np.any(u["b1"])
""")

md(r"""
Of the network's parameters, {glue:text}`n_decayed` are in weight matrices and decayed; the
{glue:text}`n_exempt` biases are not. With a zero gradient the masked AdamW step above moves only
the weights. A mask that does not match the parameters (a misspelt key, a number instead of a
boolean) raises an error naming the entry, rather than silently decaying the wrong tensors. The
function that resolves a mask, including prefix masks such as `{"encoder": False, "head": True}`:

```{literalinclude} ../lib/optim/masking.py
:pyobject: resolve_mask
:language: python
```

(sec-grid)=
## The experiment: Adam + L2 against AdamW over (η, λ)

Loshchilov and Hutter's best-known figure compares, over a grid of learning rates and
regularisation strengths, the final accuracy of Adam + L2 and of AdamW
{cite:p}`loshchilov2019decoupled`. We regenerate a small version on the digits:
`mlp((64, 32, 10))`, 10 epochs of mini-batches of 128 with `lib.train.train`, validation
accuracy on the 359 validation images, biases exempt (`mask=weight_decay_mask`), three seeds
(each fixes the initial weights and the order of the batches, the same for both methods). The
L2 coefficient $\lambda'$ and AdamW's decay per step $\lambda_{\text{paper}}$ (the paper's form,
so `adamw(lr=η, weight_decay=λ_paper/η)`) have their own grids, because they are different
quantities; each starts at 0, where both methods are plain Adam.
""")

code(r"""
LRS = (3e-3, 1e-2, 3e-2, 1e-1)
L2_GRID = (0.0, 1e-3, 1e-2, 1e-1)
DECAY_GRID = (0.0, 1e-3, 3e-3, 1e-2)
grid = wdw.digits_grid(LRS, L2_GRID, DECAY_GRID, seeds=(0, 1, 2), epochs=10, batch_size=128,
                       mask=optim.weight_decay_mask)
final = {name: acc[..., -1] for name, acc in grid.val_acc.items()}      # (seed, η, λ)
mean = {name: a.mean(axis=0) for name, a in final.items()}
spread = {name: a.max(axis=0) - a.min(axis=0) for name, a in final.items()}
for name in final:
    print(f"{name}: mean validation accuracy (%) over 3 seeds, rows η = {LRS}, columns λ = {grid.lambdas[name]}")
    print(np.array2string(100 * mean[name], precision=1, floatmode="fixed"))
    print(f"  spread (max − min over seeds) in points: median {100 * np.median(spread[name]):.1f}, "
          f"largest {100 * spread[name].max():.1f}")
assert np.array_equal(final["Adam + L2"][:, :, 0], final["AdamW"][:, :, 0])   # λ = 0: the same runs
""")

code(r"""
best = {name: np.unravel_index(np.argmax(m), m.shape) for name, m in mean.items()}
best_acc = {name: mean[name][best[name]] for name in mean}
best_spread = {name: spread[name][best[name]] for name in mean}
best_seedwise = {name: final[name][:, best[name][0], best[name][1]] for name in mean}
plain_best = mean["AdamW"][:, 0].max()                               # λ = 0, best η
for name in mean:
    i, j = best[name]
    print(f"best {name}: η = {LRS[i]:g}, λ = {grid.lambdas[name][j]:g}: {100 * best_acc[name]:.1f}% "
          f"(seeds: {', '.join(f'{100 * a:.1f}' for a in best_seedwise[name])})")
print(f"plain Adam (λ = 0), best η: {100 * plain_best:.1f}%")
gap_best = best_acc["AdamW"] - best_acc["Adam + L2"]
largest_l2_drop = mean["Adam + L2"][:, 0] - mean["Adam + L2"][:, -1]     # per η: λ' = 0 vs largest λ'
largest_w_gain = mean["AdamW"][:, -1] - mean["AdamW"][:, 0]
for k, v in {"best_w": best_acc["AdamW"], "best_l2": best_acc["Adam + L2"], "best_plain": plain_best,
             "best_w_spread": best_spread["AdamW"], "best_l2_spread": best_spread["Adam + L2"],
             "gap_best": gap_best, "l2_drop_min": largest_l2_drop.min(), "l2_drop_max": largest_l2_drop.max(),
             "w_gain_top_lr": largest_w_gain[-1], "w_gain_2nd_lr": largest_w_gain[-2],
             "median_spread": np.median(np.concatenate([s.ravel() for s in spread.values()]))}.items():
    glue(k, 100 * v, display=False)
glue("w_best_lr", LRS[best["AdamW"][0]], display=False)
glue("w_best_lam", DECAY_GRID[best["AdamW"][1]], display=False)
glue("l2_best_lr", LRS[best["Adam + L2"][0]], display=False)
glue("l2_best_lam", L2_GRID[best["Adam + L2"][1]], display=False)
# what the prose below claims, checked
assert abs(gap_best) <= max(best_spread.values()), "the best cells differ by less than the seed spread"
assert largest_l2_drop.min() > 0.02            # the largest L2 coefficient hurts at every η
assert largest_w_gain[-1] > 0.01 and largest_w_gain[-2] > 0.005     # the largest decay helps at the two largest η
assert best["AdamW"][1] == len(DECAY_GRID) - 1 and best["AdamW"][0] >= 2
""")

code(r"""
fig = plt.figure(figsize=(9.0, 3.6))
wdw.draw_heatmaps(wdw._heatmap_frame(grid, "mean over seeds", grid.epochs), fig)
plt.show()
""", hide=True)

md(r"""
What this grid shows, and no more:

- **The best cells are indistinguishable.** The best AdamW setting ($\eta$ =
  {glue:text}`w_best_lr:g}, $\lambda_{\text{paper}}$ = {glue:text}`w_best_lam:g}) reaches
  {glue:text}`best_w:.1f}% on average, the best Adam + L2 setting ($\eta$ =
  {glue:text}`l2_best_lr:g}, $\lambda'$ = {glue:text}`l2_best_lam:g}) {glue:text}`best_l2:.1f}%,
  and plain Adam at its best $\eta$ {glue:text}`best_plain:.1f}%. The difference between the two
  best cells, {glue:text}`gap_best:.1f} points, is smaller than the spread over the three seeds
  at those cells ({glue:text}`best_w_spread:.1f} and {glue:text}`best_l2_spread:.1f} points; the
  median spread over all cells is {glue:text}`median_spread:.1f} points, about 3-4 of the 359
  images). Three seeds and a data set this small cannot rank the two methods.
- **The strongest L2 penalty hurts everywhere.** With $\lambda' = 0.1$ the accuracy drops by
  {glue:text}`l2_drop_min:.1f} to {glue:text}`l2_drop_max:.1f} points compared with $\lambda' = 0$,
  at every learning rate.
- **The strongest decoupled decay helps at large learning rates.** With
  $\lambda_{\text{paper}} = 0.01$ AdamW gains {glue:text}`w_gain_top_lr:.1f} points at
  $\eta = 0.1$ and {glue:text}`w_gain_2nd_lr:.1f} at $\eta = 0.03$ over $\lambda = 0$, and its
  best cell lies there.

Loshchilov and Hutter's claim, on CIFAR-10 and ImageNet32 with long training, is about the
*shape* of the good region: with decoupled decay the best $\lambda$ depends less on $\eta$, so
the two can be tuned separately {cite:p}`loshchilov2019decoupled`. Our grid is too coarse and too
short to test that claim; it shows only that on this problem, in 10 epochs, the two regularisers
behave differently at the edges of their grids. The explorer shows each seed, the spread, and
earlier epochs:
""")

code(r"""
show(wdw.heatmap_widget(grid))
""")

md(r"""
## Summary

- With the penalty $\tfrac{\lambda'}{2}\lVert\theta\rVert^2$, SGD on the penalised loss is
  $\theta \leftarrow (1-\eta\lambda')\theta - \eta\nabla L$: weight decay with per-step factor
  $\lambda = \eta\lambda'$ (Proposition 1). With a schedule a fixed $\lambda$ needs
  $\lambda' = \lambda/\eta_t$; with momentum, the fixed points agree for $\lambda' = (1-\mu)\lambda$.
- "L2 = weight decay" is true for SGD only. Adam divides the penalty's gradient by
  $\sqrt{\hat v}$: the decay per step is $\eta\lambda'/(\sqrt{\hat v}+\varepsilon)$, smaller for
  weights with larger gradients (Proposition 2), as measured on a 2-D problem and on the digits.
- AdamW applies the decay outside Adam. Paper: $\eta_t(\alpha\,\hat m/(\sqrt{\hat v}+\varepsilon)
  + \lambda\theta)$; PyTorch and optax: $\gamma(\hat m/(\sqrt{\hat v}+\varepsilon) +
  \lambda_{\text{torch}}\theta)$, so $\lambda_{\text{torch}} = \lambda_{\text{paper}}/\alpha$.
- Defaults: `torch.optim.AdamW` $10^{-2}$, `optax.adamw` $10^{-4}$, `torch.optim.Adam` 0, and
  `Adam(weight_decay)` in PyTorch is an L2 penalty.
- In a chain, `add_decayed_weights` before the scaling is L2, after it is decoupled decay.
- Exempt biases and normalisation parameters with a mask (`weight_decay_mask`, or parameter
  groups in PyTorch).
- On the digits grid, the best settings of Adam + L2 and AdamW differ by less than the spread
  over seeds; report that spread before ranking optimizers.

## Exercises

The graded exercises are in the notebook {doc}`../exercises/06-weight-decay`. Each one is
checked by a test cell right below it; to check the whole notebook at once, run
`pytest --nbval-lax exercises/06-weight-decay.ipynb` from the root of the repository.

```{exercise} One AdamW step
:label: ex06-adamw-step

Write `adamw_step(theta, g, m, v, t, lr, betas, eps, weight_decay)`: update number $t$ of
PyTorch's AdamW, with the decay $\theta \leftarrow (1 - \text{lr}\cdot\lambda)\theta$ applied
before the Adam step and the moments computed from the raw gradient.
```

```{exercise} L2 coefficient to decoupled decay
:label: ex06-l2-to-decay

Write `l2_to_decoupled(l2, lr)`: the paper's per-step decay $\lambda$ for which SGD with weight
decay takes the same steps as SGD on the penalised loss with coefficient $\lambda'$ = `l2`.
```

```{exercise} The effective decay of Adam + L2
:label: ex06-effective-decay

Write `adam_l2_effective_decay(v, t, lr, weight_decay, beta2, eps)`: the fraction of each
weight that the L2 part of Adam's step removes, $\eta\lambda'/(\sqrt{\hat v_t}+\varepsilon)$.
```

```{exercise} A decay mask
:label: ex06-decay-mask

Write `decay_mask(params)`: a dict of booleans, `True` for every parameter with at least two
dimensions whose name does not start with `"norm"`.
```

## References

```{bibliography}
:filter: docname in docnames
```
""")

nb = nbf.v4.new_notebook()
nb.cells = cells
nb.metadata = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
               "language_info": {"name": "python"}}
nbf.write(nb, "chapters/06-weight-decay.ipynb")
print(len(cells), "cells")
