r"""Chapter 12 (comparing optimizers fairly): the graded exercises and their reference solutions.

Notebook: ``exercises/source/12-comparing-optimizers.ipynb``. The references call
:mod:`lib.compare` where it has the function, so the exercises and the library agree.

=========================  ======  =====================================================================
id                         points  the student writes
=========================  ======  =====================================================================
``tune_lr_budget``         2       a log-spaced grid of ``budget`` rates; the best **validation** loss
``median_iqr``             2       the median and quartiles over seeds (not the best seed, not the mean)
``steps_to_target_first``  2       the step count of the first evaluation at or below the target
``performance_profile``    3       Dolan-Moré ρ_s(τ) from a table of costs (failures never count)
=========================  ======  =====================================================================
"""

from __future__ import annotations

import math

import numpy as np

from lib import compare
from lib.exercises import Case, Exercise, Lazy

__all__ = ["EXERCISES", "tune_lr_budget", "median_iqr", "steps_to_target_first", "performance_profile", "make_trial"]

CHAPTER = "12-comparing-optimizers"


# --- reference solutions ---------------------------------------------------------------------


def tune_lr_budget(run, low, high, budget):
    r"""The learning rate, among ``budget`` values log-spaced from ``low`` to ``high``, whose trial
    ``run(lr) -> {"val_loss": ..., "test_loss": ...}`` has the lowest validation loss.

    .. math:: \eta^\star = \arg\min_{\eta \in \{\text{low}\cdot(\text{high}/\text{low})^{k/(B-1)}\}} L_{\text{val}}(\eta)

    Non-finite validation losses (diverged trials) never win; ties go to the smaller rate.
    """
    best, best_val = None, math.inf
    for lr in compare.lr_grid(int(budget), low, high):
        val = float(run(float(lr))["val_loss"])
        if math.isfinite(val) and val < best_val:
            best, best_val = float(lr), val
    return best


def median_iqr(values):
    """``(median, q25, q75)`` of the final metric over seeds (``numpy.percentile``, linear)."""
    q25, med, q75 = np.percentile(np.asarray(values, dtype=float), [25, 50, 75])
    return float(med), float(q25), float(q75)


def steps_to_target_first(curve, steps, target):
    """The ``steps`` value (an int) of the first evaluation with ``curve <= target``; ``-1`` if
    the curve never reaches it."""
    s = compare.steps_to_target(curve, steps, target)
    return int(s) if math.isfinite(s) else -1


def performance_profile(costs, taus):
    r"""Dolan-Moré profile: ``costs[s, p]`` (methods × problems, ``inf`` = failure) to the array
    ``rho[s, k]`` = fraction of problems with :math:`t_{p,s} / \min_{s'} t_{p,s'} \le \tau_k`."""
    costs = np.asarray(costs, dtype=float)
    table = {s: {p: costs[s, p] for p in range(costs.shape[1])} for s in range(costs.shape[0])}
    prof = compare.performance_profile(table, taus)
    return np.array([prof[s] for s in range(costs.shape[0])])


# --- cases -------------------------------------------------------------------------------------


class _Trial:
    """A synthetic tuning trial: validation and test losses are parabolas in log10(lr) with
    different minima, and learning rates above ``diverge`` give NaN."""

    def __init__(self, val_centre, test_centre, diverge, wiggle):
        self.val_centre, self.test_centre, self.diverge, self.wiggle = val_centre, test_centre, diverge, wiggle

    def __call__(self, lr):
        x = math.log10(lr)
        if lr > self.diverge:
            return {"val_loss": math.nan, "test_loss": math.nan}
        return {
            "val_loss": 0.1 + (x - self.val_centre) ** 2 + self.wiggle * math.sin(7 * x),
            "test_loss": 0.1 + (x - self.test_centre) ** 2,
        }


def make_trial(val_centre: float, test_centre: float, diverge: float = math.inf, wiggle: float = 0.0) -> Lazy:
    """A :class:`~lib.exercises.Lazy` trial function for the cases of ``tune_lr_budget``."""
    return Lazy(
        lambda: _Trial(val_centre, test_centre, diverge, wiggle),
        f"run (validation loss lowest near lr = 1e{val_centre:g}, test loss near 1e{test_centre:g}"
        + (f", NaN above lr = {diverge:g})" if math.isfinite(diverge) else ")"),
    )


def _tune_cases(rng):
    cases = [
        Case((make_trial(-2.0, -1.0), 1e-4, 1.0, 9), note="validation and test disagree: tune on validation"),
        Case(
            (make_trial(-0.6, -0.6, diverge=0.3), 1e-3, 10.0, 5),
            note="the largest rates diverge (NaN): they must not win",
        ),
        Case((make_trial(-3.2, -2.0), 1e-4, 1e-1, 4), note="a budget of 4: exactly 4 log-spaced rates"),
    ]
    for _ in range(2):
        v = float(rng.uniform(-3.5, -0.5))
        cases.append(
            Case(
                (
                    make_trial(
                        v, v + float(rng.choice([-1.0, 1.0])), diverge=float(10 ** rng.uniform(-0.3, 0.3)), wiggle=0.05
                    ),
                    1e-4,
                    3.0,
                    int(rng.integers(5, 11)),
                ),
                note="random trial function",
            )
        )
    return cases


def _median_cases(rng):
    return [
        Case(([0.31, 0.29, 0.35, 0.30, 0.95],), note="one bad seed: the median ignores it, the mean does not"),
        Case(([2.0, 1.0, 4.0, 3.0],), note="an even number of seeds"),
        Case((np.array([0.12, 0.10, 0.11]),), note="three seeds, an array"),
        Case((rng.lognormal(0.0, 0.5, size=int(rng.integers(5, 10))),), note="random seeds"),
        Case((np.concatenate([rng.normal(1.0, 0.05, size=6), [5.0]]),), note="random seeds and an outlier"),
    ]


def _steps_cases(rng):
    cases = [
        Case(([2.3, 1.1, 0.6, 0.3, 0.2], [10, 20, 30, 40, 50], 0.5), note="reached at the 4th evaluation"),
        Case(
            ([2.3, 1.1, 0.5, 0.7, 0.2], [10, 20, 30, 40, 50], 0.5),
            note="exactly at the target at step 30, then up again: count the first time",
        ),
        Case(([1.0, 0.9, 0.8], [1, 2, 3], 0.1), note="never reached: -1"),
        Case(([0.05, 0.04], [100, 200], 0.1), note="reached at the first evaluation"),
    ]
    for _ in range(2):
        n = int(rng.integers(8, 20))
        curve = np.exp(-np.linspace(0, 4, n)) * (1 + 0.2 * rng.random(n))
        steps = np.cumsum(rng.integers(5, 40, size=n))
        cases.append(Case((curve, steps, float(rng.uniform(0.05, 0.5))), note="random noisy curve"))
    return cases


def _profile_cases(rng):
    inf = np.inf
    taus = np.array([1.0, 1.5, 2.0, 4.0, 100.0])
    cases = [
        Case(
            (np.array([[1.0, 4.0, inf], [2.0, 2.0, 10.0], [1.0, 8.0, 5.0]]), taus),
            note="3 methods × 3 problems, a tie at τ = 1 and a failure (inf)",
        ),
        Case(
            (np.array([[10.0, 20.0], [20.0, 10.0]]), np.array([1.0, 1.9, 2.0])),
            note="ratios exactly 2: within τ = 2 counts (≤, not <)",
        ),
        Case(
            (np.array([[inf, 3.0], [inf, 6.0]]), np.array([1.0, 3.0])),
            note="a problem that no method solves counts for nobody",
        ),
    ]
    for _ in range(2):
        S, P = int(rng.integers(3, 6)), int(rng.integers(4, 9))
        C = np.round(rng.lognormal(3.0, 0.6, size=(S, P)))
        C[rng.random((S, P)) < 0.15] = inf
        cases.append(Case((C, np.array([1.0, 1.2, 1.5, 2.0, 3.0, 10.0])), note="random costs with failures"))
    return cases


# --- the exercises ---------------------------------------------------------------------------

EXERCISES = (
    Exercise(
        id="tune_lr_budget",
        chapter=CHAPTER,
        points=2,
        function="tune_lr_budget",
        cases=_tune_cases,
        reference=tune_lr_budget,
        hint="Try exactly budget learning rates, np.geomspace(low, high, budget) (log-spaced, not "
        "np.linspace), call run(lr) once for each and keep the lr with the lowest "
        "result['val_loss']: never look at 'test_loss'. Skip NaN/inf (diverged) trials "
        "(math.isfinite) and keep the first lr on ties; return it as a float.",
    ),
    Exercise(
        id="median_iqr",
        chapter=CHAPTER,
        points=2,
        function="median_iqr",
        cases=_median_cases,
        reference=median_iqr,
        hint="Return (np.median(v), np.percentile(v, 25), np.percentile(v, 75)) as floats. Not "
        "the best seed (min), not the mean, not mean ± std: a single lucky or unlucky seed "
        "must not move the summary.",
    ),
    Exercise(
        id="steps_to_target_first",
        chapter=CHAPTER,
        points=2,
        function="steps_to_target_first",
        cases=_steps_cases,
        reference=steps_to_target_first,
        hint="Find the FIRST index i with curve[i] <= target (<=, not <) and return int(steps[i]), "
        "the step count at that evaluation (not i, not steps[i + 1], not the last crossing); "
        "return -1 if no value reaches the target.",
    ),
    Exercise(
        id="performance_profile",
        chapter=CHAPTER,
        points=3,
        function="performance_profile",
        cases=_profile_cases,
        reference=performance_profile,
        hint="For each problem (a COLUMN) divide by the best cost of that column: "
        "ratio = costs / costs.min(axis=0). A failure (inf) is never within τ, and a column "
        "whose best is inf counts for nobody. rho[s, k] = mean over problems of "
        "(ratio[s] <= taus[k]); shape (methods, len(taus)).",
    ),
)
