import nbformat as nbf

cells = []


def md(s, cid):
    c = nbf.v4.new_markdown_cell(s.strip("\n")); c.id = cid; cells.append(c)


def code(s, cid, grade=None, points=None):
    c = nbf.v4.new_code_cell(s.strip("\n").replace("\'\'\'", '"' * 3)); c.id = cid
    if grade:
        c.metadata["descent"] = {"grade_id": grade, "points": points}
    cells.append(c)


md(r"""
# Exercises 06: weight decay and AdamW

Four exercises, 8 points. Each asks for a small function written with NumPy from the formulas of
the chapter; a **check cell** after each one tests your function on several inputs and tells you
what differs.

**How to work.** Run the cells from the top. Replace each `raise NotImplementedError()` with
your code, then run the check cell below it: it prints `✓ ... all cases pass` or explains, on
which input, what was expected and what your function returned.

**How to check everything at once.** From the repository root:

```bash
pytest --nbval-lax exercises/06-weight-decay.ipynb   # every cell runs; check cells must pass
python -m lib.grade exercises/06-weight-decay.ipynb  # your score, exercise by exercise
```

**Conventions** (the book's notation): the L2 penalty is $\tfrac{\lambda'}{2}\lVert\theta\rVert^2$,
so its gradient is $\lambda'\theta$; learning rate $\eta$ (`lr`), `betas` $= (\beta_1, \beta_2)$,
the update counter $t$ starts at **1**, and $\varepsilon$ sits outside the square root. "AdamW"
means PyTorch's form, with the decay multiplied by `lr`. Return new arrays; never modify the
inputs in place.
""", "md-01")

code(r"""
import numpy as np

from lib.checks import check
""", "setup")

md(r"""
## 1. One AdamW step (3 points)

PyTorch's `AdamW` first shrinks the weights, then takes Adam's step with moments computed from
the **raw** gradient $g$:

$$
\theta \leftarrow (1 - \eta\lambda)\,\theta, \qquad
m_t = \beta_1 m_{t-1} + (1-\beta_1) g, \quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g^2,
$$
$$
\theta \leftarrow \theta - \eta\,\frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)} + \varepsilon}.
$$

Write `adamw_step(theta, g, m, v, t, lr, betas, eps, weight_decay)` returning
`(theta_new, m_new, v_new)` (uncorrected moments).

*Hint:* three different optimizers hide in small slips: a decay of $\lambda$ instead of
$\eta\lambda$ (the paper's form with $\eta_t = 1$, not PyTorch's), a decay applied to the
already-updated $\theta$, and $\lambda\theta$ added to $g$ (that is Adam + L2).
""", "md-02")

code(r"""
def adamw_step(theta, g, m, v, t, lr, betas, eps, weight_decay):
    '''Return (theta_new, m_new, v_new) after AdamW's update number t (PyTorch's form).'''
    ### BEGIN SOLUTION
    beta1, beta2 = betas
    decayed = theta * (1 - lr * weight_decay)
    m_new = beta1 * m + (1 - beta1) * g
    v_new = beta2 * v + (1 - beta2) * g**2
    m_hat = m_new / (1 - beta1**t)
    v_hat = v_new / (1 - beta2**t)
    return decayed - lr * m_hat / (np.sqrt(v_hat) + eps), m_new, v_new
    ### END SOLUTION
""", "adamw-step")

code(r"""
# Checks five updates: a first step, a zero gradient (only the decay acts), t = 5 and t = 100, tiny gradients.
check("adamw_step", adamw_step)
""", "check-adamw-step", "adamw_step", 3)

md(r"""
## 2. From an L2 coefficient to a decoupled decay (1 point)

SGD on the penalised loss takes $\theta \leftarrow \theta - \eta(g + \lambda'\theta)$; SGD with
weight decay in the paper's form takes $\theta \leftarrow (1-\lambda)\theta - \eta g$. Write
`l2_to_decoupled(l2, lr)`: the $\lambda$ that makes the two steps identical, for $\lambda'$ =
`l2` and $\eta$ = `lr`.
""", "md-03")

code(r"""
def l2_to_decoupled(l2, lr):
    '''The per-step decay lambda equivalent to the L2 coefficient l2 for SGD with learning rate lr.'''
    ### BEGIN SOLUTION
    return lr * l2
    ### END SOLUTION
""", "l2-to-decoupled")

code(r"""
# Checks five (l2, lr) pairs, including l2 = 0.
check("l2_to_decoupled", l2_to_decoupled)
""", "check-l2-to-decoupled", "l2_to_decoupled", 1)

md(r"""
## 3. The effective decay of Adam + L2 (2 points)

With an L2 penalty, Adam divides the penalty's gradient $\lambda'\theta$ by $\sqrt{\hat v_t} +
\varepsilon$, like every gradient. Write `adam_l2_effective_decay(v, t, lr, weight_decay, beta2,
eps)`: for each coordinate, the fraction of $\theta$ that this term removes in one step,

$$
\frac{\eta\,\lambda'}{\sqrt{\hat v_t} + \varepsilon}, \qquad \hat v_t = \frac{v_t}{1-\beta_2^t}.
$$

(AdamW's is $\eta\lambda$ for every coordinate.)
""", "md-04")

code(r"""
def adam_l2_effective_decay(v, t, lr, weight_decay, beta2, eps):
    '''The per-coordinate fraction of theta removed per step by the L2 term under Adam.'''
    ### BEGIN SOLUTION
    v_hat = v / (1 - beta2**t)
    return lr * weight_decay / (np.sqrt(v_hat) + eps)
    ### END SOLUTION
""", "adam-l2-effective-decay")

code(r"""
# Checks five second-moment arrays: several gradient scales, v = 0 (eps bounds the factor), t = 1, a large eps.
check("adam_l2_effective_decay", adam_l2_effective_decay)
""", "check-adam-l2-effective-decay", "adam_l2_effective_decay", 2)

md(r"""
## 4. A decay mask (2 points)

Write `decay_mask(params)`: for a dict `{name: array}`, return a dict with the same keys and a
Python `bool` for each: `True` (decay) when the parameter has **at least two dimensions** and its
name does **not** start with `"norm"`; `False` otherwise (biases, scalars, normalisation
parameters). This is the mask that `lib.optim.adamw(..., mask=...)` and `optax.adamw(...,
mask=...)` accept.
""", "md-05")

code(r"""
def decay_mask(params):
    '''{name: bool}: True for parameters to decay.'''
    ### BEGIN SOLUTION
    return {name: bool(np.ndim(p) >= 2 and not name.startswith("norm")) for name, p in params.items()}
    ### END SOLUTION
""", "decay-mask")

code(r"""
# Checks five parameter dicts, with biases, scalars, a 4-D kernel and 2-D normalisation parameters.
check("decay_mask", decay_mask)
""", "check-decay-mask", "decay_mask", 2)

md(r"""
## Practice (not graded)

1. Run `lib.widgets.weight_decay.decay_paths(1.0, 0.01)` and check numerically that Adam + L2's
   decay of $\theta_1$ per step is about `GRAD_SCALE[1] / GRAD_SCALE[0]` times its decay of
   $\theta_2$ late in the run. Why only about?
2. Convert `optax.adamw(learning_rate=3e-4)`'s default decay into the `weight_decay` of
   `torch.optim.AdamW(lr=3e-4)` that gives the same steps, and into the paper's $\lambda$.
""", "md-06")

nb = nbf.v4.new_notebook()
nb.cells = cells
nb.metadata = {"descent": {"chapter": "06-weight-decay"},
               "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
               "language_info": {"name": "python"}}
nbf.write(nb, "exercises/source/06-weight-decay.ipynb")
