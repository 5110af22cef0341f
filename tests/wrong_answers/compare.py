"""Plausible wrong answers to the chapter 12 exercises; each must be rejected by its check.

``WRONG[exercise_id]`` lists them; the function names say what is wrong. The mistakes the chapter
warns about are here: tuning on the test split, a linear instead of a log grid, picking the best
seed instead of the median, the mean and standard deviation, counting steps after the target (or
the last crossing), ratios to the wrong best and failures counted as solved.
"""

import math

import numpy as np

# --- tune_lr_budget ------------------------------------------------------------------------------


def _tune(run, lrs, key="val_loss", skip_nan=True):
    best, best_val = None, math.inf
    for lr in lrs:
        val = run(float(lr))[key]
        if skip_nan and not math.isfinite(val):
            continue
        if not val >= best_val:  # NaN compares False: a NaN trial wins when not skipped
            best, best_val = float(lr), val
    return best


def tune_on_test_split(run, low, high, budget):
    return _tune(run, np.geomspace(low, high, budget), key="test_loss")


def tune_linear_grid(run, low, high, budget):
    return _tune(run, np.linspace(low, high, budget))


def tune_keeps_diverged_trials(run, low, high, budget):
    return _tune(run, np.geomspace(low, high, budget), skip_nan=False)


def tune_one_trial_too_many(run, low, high, budget):
    return _tune(run, np.geomspace(low, high, budget + 1))


# --- median_iqr ----------------------------------------------------------------------------------


def best_seed(values):
    v = np.asarray(values, dtype=float)
    return float(v.min()), float(np.percentile(v, 25)), float(np.percentile(v, 75))


def mean_and_std(values):
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(v.mean() - v.std()), float(v.mean() + v.std())


def min_and_max(values):
    v = np.asarray(values, dtype=float)
    return float(np.median(v)), float(v.min()), float(v.max())


# --- steps_to_target_first -----------------------------------------------------------------------


def steps_counted_after_target(curve, steps, target):
    hit = np.flatnonzero(np.asarray(curve) <= target)
    if not hit.size:
        return -1
    return int(steps[min(hit[0] + 1, len(steps) - 1)])


def steps_returns_the_index(curve, steps, target):
    hit = np.flatnonzero(np.asarray(curve) <= target)
    return int(hit[0]) if hit.size else -1


def steps_strict_inequality(curve, steps, target):
    hit = np.flatnonzero(np.asarray(curve) < target)
    return int(steps[hit[0]]) if hit.size else -1


def steps_last_crossing(curve, steps, target):
    c = np.asarray(curve)
    above = np.flatnonzero(c > target)
    if not np.any(c <= target):
        return -1
    i = above[-1] + 1 if above.size and above[-1] + 1 < len(c) else (0 if not above.size else len(c) - 1)
    return int(steps[i])


def steps_never_returns_the_length(curve, steps, target):
    hit = np.flatnonzero(np.asarray(curve) <= target)
    return int(steps[hit[0]]) if hit.size else int(steps[-1])


# --- performance_profile -------------------------------------------------------------------------


def profile_ratio_to_own_best(costs, taus):
    c = np.asarray(costs, dtype=float)
    with np.errstate(invalid="ignore"):
        r = c / c.min(axis=1, keepdims=True)
    return np.array([[np.mean(r[s] <= t) for t in taus] for s in range(c.shape[0])])


def profile_strict_inequality(costs, taus):
    c = np.asarray(costs, dtype=float)
    with np.errstate(invalid="ignore"):
        r = c / c.min(axis=0)
    return np.array([[np.mean(r[s] < t) if t > 1 else np.mean(r[s] <= t) for t in taus] for s in range(c.shape[0])])


def profile_failures_count(costs, taus):
    c = np.asarray(costs, dtype=float)
    c = np.where(np.isfinite(c), c, np.nanmax(np.where(np.isfinite(c), c, np.nan)))
    r = c / c.min(axis=0)
    return np.array([[np.mean(r[s] <= t) for t in taus] for s in range(c.shape[0])])


def profile_counts_problems_not_fraction(costs, taus):
    c = np.asarray(costs, dtype=float)
    with np.errstate(invalid="ignore"):
        r = c / c.min(axis=0)
    return np.array([[float(np.sum(r[s] <= t)) for t in taus] for s in range(c.shape[0])])


WRONG = {
    "tune_lr_budget": [tune_on_test_split, tune_linear_grid, tune_keeps_diverged_trials, tune_one_trial_too_many],
    "median_iqr": [best_seed, mean_and_std, min_and_max],
    "steps_to_target_first": [
        steps_counted_after_target,
        steps_returns_the_index,
        steps_strict_inequality,
        steps_last_crossing,
        steps_never_returns_the_length,
    ],
    "performance_profile": [
        profile_ratio_to_own_best,
        profile_strict_inequality,
        profile_failures_count,
        profile_counts_problems_not_fraction,
    ],
}
