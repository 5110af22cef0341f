r"""Chapter 07 (schedules, warmup and clipping): the graded exercises and their reference solutions.

Notebook: ``exercises/source/07-schedules.ipynb``. Conventions: the update index ``t`` starts at
**0** (the first update uses the rate at ``t = 0``), every schedule is a pure function of ``t``
with torch's numbers (``torch.optim.lr_scheduler`` stepped once per update), and clipping by
global norm is optax's (no ``1e-6``). The reference solutions call :mod:`lib.schedules` and
:mod:`lib.optim`.

=======================  ======  =======================================================================
id                       points  the student writes
=======================  ======  =======================================================================
``sgdr_lr``              3       the rate of ``CosineAnnealingWarmRestarts`` at step t, from t alone
``warmup_cosine``        3       ``SequentialLR([LinearLR, CosineAnnealingLR])`` at listed steps
``one_cycle_landmarks``  2       ``OneCycleLR``'s first rate, the end of its rising phase, its last rate
``clip_global_norm``     3       optax's ``clip_by_global_norm`` on a dict of arrays
``pick_lr``              1       a tenth of the rate at the lowest (finite) loss of a range test
=======================  ======  =======================================================================
"""

from __future__ import annotations

import numpy as np

from lib import optim, schedules
from lib.exercises import Case, Exercise

__all__ = ["EXERCISES", "sgdr_lr", "warmup_cosine", "one_cycle_landmarks", "clip_global_norm", "pick_lr"]

CHAPTER = "07-schedules"


def sgdr_lr(t, base_lr, T_0, T_mult, eta_min):
    r"""The rate of torch's ``CosineAnnealingWarmRestarts(T_0, T_mult, eta_min)`` at update ``t``.

    .. math:: \eta_t = \eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})(1 + \cos(\pi T_{cur}/T_i))

    :cite:p:`loshchilov2017sgdr`.
    """
    return schedules.cosine_annealing_warm_restarts(float(base_lr), int(T_0), int(T_mult), float(eta_min))(int(t))


def warmup_cosine(base_lr, warmup_steps, total_steps, start_factor, steps):
    r"""The rates at ``steps`` of ``SequentialLR([LinearLR(start_factor, 1, W), CosineAnnealingLR(T - W)], [W])``.

    .. math:: \eta_t = \eta_0\bigl(a + (1-a)\,t/W\bigr) \ (t < W), \qquad
              \eta_t = \tfrac12\eta_0\bigl(1 + \cos(\pi (t - W)/(T - W))\bigr) \ (t \ge W)

    :cite:p:`goyal2017accurate,loshchilov2017sgdr`.
    """
    W, T = int(warmup_steps), int(total_steps)
    f = schedules.sequential_lr(
        [
            schedules.linear_lr(float(base_lr), float(start_factor), 1.0, W),
            schedules.cosine_annealing_lr(base_lr, T - W),
        ],
        [W],
    )
    return np.array([f(int(t)) for t in steps], dtype=float)


def one_cycle_landmarks(max_lr, total_steps, pct_start, div_factor, final_div_factor):
    r"""``(first rate, end of the rising phase, last rate)`` of torch's ``OneCycleLR`` (two phases).

    .. math:: \eta_0 = \eta_{\max}/d, \quad t_{\text{peak}} = pT - 1, \quad \eta_{T-1} = \eta_{\max}/(d\,d_f)

    :cite:p:`smith2019super`.
    """
    f = schedules.one_cycle_lr(
        float(max_lr),
        int(total_steps),
        pct_start=float(pct_start),
        div_factor=float(div_factor),
        final_div_factor=float(final_div_factor),
    )
    return f(0), float(pct_start * total_steps) - 1, f(int(total_steps) - 1)


def clip_global_norm(grads, max_norm):
    r"""optax's ``clip_by_global_norm(max_norm)`` applied to ``grads`` (a dict of arrays).

    .. math:: g \leftarrow g \quad (\|g\| < c), \qquad g \leftarrow g\,c/\|g\| \quad \text{otherwise}

    with :math:`\|g\|` the norm of all the arrays together :cite:p:`pascanu2013difficulty`.
    """
    clipped, _ = optim.clip_by_global_norm(float(max_norm)).update(grads, ())
    return {k: np.asarray(v, dtype=float) for k, v in clipped.items()}


def pick_lr(lrs, losses):
    r"""A tenth of the learning rate at which the (smoothed) loss of a range test is lowest;
    NaN or infinite losses (a diverged tail) are ignored :cite:p:`smith2017cyclical`."""
    losses = np.asarray(losses, dtype=float)
    ok = np.isfinite(losses)
    i = int(np.flatnonzero(ok)[np.argmin(losses[ok])])
    return float(np.asarray(lrs, dtype=float)[i] / 10)


# --- cases -----------------------------------------------------------------------------------


def _sgdr_cases(rng):
    T0, mult = int(rng.integers(3, 12)), int(rng.integers(1, 4))
    restart = T0 + T0 * mult  # the start of the third period
    return [
        Case((0, 0.1, 10, 1, 0.0), note="t = 0: the base rate"),
        Case((7, 0.1, 10, 1, 0.001), note="inside the first period"),
        Case((10, 0.1, 10, 1, 0.0), note="t = T_0: the first restart"),
        Case((9, 0.1, 10, 2, 0.0), note="the last step of the first period"),
        Case((29, 0.5, 10, 2, 0.01), note="the last step of the second period (T_mult = 2)"),
        Case((45, 0.5, 10, 2, 0.01), note="inside the third period"),
        Case((1210, 1.0, 10, 3, 0.0), note="a restart at t = 1210 with T_mult = 3"),
        Case((int(restart), 0.2, T0, mult, 0.0), note="a restart"),
        Case((int(rng.integers(0, 500)), float(rng.uniform(0.01, 1.0)), T0, mult, 0.0), note="a random step"),
        Case((int(rng.integers(500, 5000)), 0.3, T0, mult, 0.003), note="a late step"),
    ]


def _warmup_cases(rng):
    W, T = int(rng.integers(3, 20)), int(rng.integers(40, 120))
    ts = [int(x) for x in rng.permutation(T)[:12]]
    return [
        Case((0.1, 5, 50, 0.1, [0, 1, 2, 3, 4, 5, 6]), note="the warmup and the first cosine steps, in order"),
        Case((0.1, 5, 50, 0.1, [49, 5, 0, 4, 4, 25]), note="out of order, with a repeat"),
        Case((1.0, 10, 30, 0.01, [9, 10, 11, 29, 30]), note="around the milestone and at the end"),
        Case((0.3, 1, 20, 0.5, [0, 1, 10, 19]), note="a warmup of one step"),
        Case((float(rng.uniform(0.01, 1.0)), W, T, float(rng.uniform(0.01, 0.5)), ts), note="random steps"),
        Case((0.05, W, T, 1.0 / 3, [T - 1, W - 1, W, 0]), note="torch's default start_factor"),
    ]


def _one_cycle_cases(rng):
    return [
        Case((0.1, 100, 0.3, 25.0, 1e4), note="torch's defaults, pT an integer"),
        Case((1.0, 1000, 0.25, 10.0, 100.0), note="other factors"),
        Case((0.3, 77, 0.3, 25.0, 1e4), note="pT not an integer"),
        Case((0.01, 50, 0.5, 5.0, 1e3), note="half the run rising"),
        Case(
            (
                float(rng.uniform(0.01, 2.0)),
                int(rng.integers(20, 2000)),
                float(rng.choice([0.1, 0.2, 0.3, 0.4])),
                float(rng.uniform(2.0, 50.0)),
                float(rng.uniform(10.0, 1e5)),
            ),
            note="random arguments",
        ),
        Case(
            (
                float(rng.uniform(0.01, 2.0)),
                int(rng.integers(20, 2000)),
                float(rng.choice([0.1, 0.2, 0.3, 0.4])),
                float(rng.uniform(2.0, 50.0)),
                float(rng.uniform(10.0, 1e5)),
            ),
            note="more random arguments",
        ),
    ]


def _tree(rng, scale):
    return {
        "W1": scale * rng.normal(size=(3, 4)),
        "b1": scale * rng.normal(size=4),
        "W2": scale * rng.normal(size=(4, 2)),
        "b2": scale * rng.normal(size=2),
    }


def _clip_cases(rng):
    return [
        Case(({"W": np.array([[3.0, 0.0], [0.0, 0.0]]), "b": np.array([4.0])}, 1.0), note="norm 5, clipped to 1"),
        Case(({"W": np.array([[0.3]]), "b": np.array([0.4])}, 1.0), note="norm 0.5 < 1: unchanged"),
        Case(({"W": np.array([[0.6]]), "b": np.array([0.8])}, 1.0), note="norm exactly 1 = max_norm"),
        Case(
            ({"W": np.array([[1.2e-6]]), "b": np.array([1.6e-6])}, 1e-6),
            note="tiny gradients, norm 2e-6, max_norm 1e-6",
        ),
        Case(({"W": np.array([[30.0, 40.0]]), "b": np.array([0.01])}, 2.0), note="one tensor much larger"),
        Case(({"W": np.zeros((2, 2)), "b": np.zeros(2)}, 1.0), note="a zero gradient"),
        Case((_tree(rng, 10.0), float(rng.uniform(0.5, 2.0))), note="a network's gradients, clipped"),
        Case((_tree(rng, 0.01), 5.0), note="a network's gradients, not clipped"),
    ]


def _range_cases(rng):
    lrs = list(np.geomspace(1e-3, 10.0, 40))
    x = np.log10(lrs)
    bowl = list(2.3 - 1.5 / (1 + np.exp(-3 * (x + 2))) + 0.8 * np.maximum(x + 0.3, 0) ** 2)
    noisy = list(np.array(bowl) + 0.01 * rng.normal(size=40))
    tail = bowl[:30] + [float("nan")] * 10
    exploded = bowl[:35] + [float("inf"), 1e30, float("nan"), float("nan"), float("nan")]
    return [
        Case((lrs, bowl), note="a smooth curve"),
        Case((lrs, tail), note="a curve with NaN at the end (the run diverged)"),
        Case((lrs, exploded), note="inf and NaN at the end"),
        Case((lrs, noisy), note="a noisy curve"),
        Case((lrs[:20], bowl[:20]), note="the run stopped before the minimum"),
        Case((lrs, list(np.array(bowl) + 0.02 * rng.normal(size=40))), note="another noisy curve"),
    ]


EXERCISES = (
    Exercise(
        id="sgdr_lr",
        chapter=CHAPTER,
        points=3,
        function="sgdr_lr",
        cases=_sgdr_cases,
        reference=sgdr_lr,
        rtol=1e-10,
        atol=1e-14,
        hint="Find the period by subtraction: T_cur, T_i = t, T_0; while T_cur >= T_i: T_cur -= T_i; "
        "T_i *= T_mult. Then eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2. The cosine's "
        "variable is T_cur / T_i, not t / T; t = 0 is the first update; a logarithm can round a restart "
        "away (try t = 1210, T_0 = 10, T_mult = 3); and compute from t alone, with no counter kept between calls.",
    ),
    Exercise(
        id="warmup_cosine",
        chapter=CHAPTER,
        points=3,
        function="warmup_cosine",
        cases=_warmup_cases,
        reference=warmup_cosine,
        rtol=1e-10,
        atol=1e-14,
        hint="For t < W: base_lr * (start_factor + (1 - start_factor) * t / W) (it reaches base_lr at t = W, "
        "never during the warmup). For t >= W the cosine restarts at its own step 0: "
        "base_lr * (1 + cos(pi * (t - W) / (T - W))) / 2. Return np.array([f(t) for t in steps]): the steps "
        "may come in any order and repeat, so f must depend on t only.",
    ),
    Exercise(
        id="one_cycle_landmarks",
        chapter=CHAPTER,
        points=2,
        function="one_cycle_landmarks",
        cases=_one_cycle_cases,
        reference=one_cycle_landmarks,
        rtol=1e-10,
        atol=1e-16,
        hint="initial = max_lr / div_factor; the rising phase ends at step float(pct_start * total_steps) - 1 "
        "(torch counts from 0); the last rate, at step total_steps - 1, is initial / final_div_factor, "
        "that is max_lr / (div_factor * final_div_factor). Return three floats.",
    ),
    Exercise(
        id="clip_global_norm",
        chapter=CHAPTER,
        points=3,
        function="clip_global_norm",
        cases=_clip_cases,
        reference=clip_global_norm,
        rtol=1e-10,
        atol=1e-18,
        hint="One norm for ALL arrays together: norm = np.sqrt(sum(np.sum(g**2) for g in grads.values())). "
        "If norm < max_norm return the gradients unchanged (as new arrays); otherwise multiply EVERY array by "
        "max_norm / norm (same factor for all, so the direction is kept). No 1e-6 (that is torch's "
        "clip_grad_norm_), and do not modify the inputs.",
    ),
    Exercise(
        id="pick_lr",
        chapter=CHAPTER,
        points=1,
        function="pick_lr",
        cases=_range_cases,
        reference=pick_lr,
        rtol=1e-12,
        atol=0.0,
        hint="Ignore the non-finite losses (np.isfinite), find the index of the smallest remaining loss, "
        "and return lrs[i] / 10 as a float. np.argmin alone returns the index of a NaN when there is one.",
    ),
)
