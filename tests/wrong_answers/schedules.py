"""Plausible wrong answers to the chapter 07 exercises; each must be rejected by its check.

The mistakes the chapter warns about: off-by-one steps, the cosine's variable over the whole run
instead of inside the period, a logarithm that rounds a restart away, stateful (recursive)
implementations that count calls instead of reading t, a cosine that does not restart at the
milestone, torch's 1e-6 where optax has none, per-tensor instead of global norms, and a range
test read with np.argmin through NaN.
"""

import math

import numpy as np


def _cos(base, low, x):
    return low + (base - low) * (1 + math.cos(math.pi * x)) / 2


def _position(t, T_0, T_mult):
    T_cur, T_i = t, T_0
    while T_cur >= T_i:
        T_cur -= T_i
        T_i *= T_mult
    return T_cur, T_i


# --- sgdr_lr -------------------------------------------------------------------------------------


def sgdr_off_by_one(t, base_lr, T_0, T_mult, eta_min):  # counts updates from 1
    T_cur, T_i = _position(t + 1, T_0, T_mult)
    return _cos(base_lr, eta_min, T_cur / T_i)


def sgdr_restart_one_late(t, base_lr, T_0, T_mult, eta_min):  # `>` instead of `>=`
    T_cur, T_i = t, T_0
    while T_cur > T_i:
        T_cur -= T_i
        T_i *= T_mult
    return _cos(base_lr, eta_min, T_cur / T_i)


def sgdr_by_logarithm(t, base_lr, T_0, T_mult, eta_min):  # torch's step(epoch) branch
    if T_mult == 1:
        T_cur, T_i = t % T_0, T_0
    else:
        n = int(math.log(t / T_0 * (T_mult - 1) + 1, T_mult))
        T_cur, T_i = t - T_0 * (T_mult**n - 1) / (T_mult - 1), T_0 * T_mult**n
    return _cos(base_lr, eta_min, T_cur / T_i)


def sgdr_ignores_t_mult(t, base_lr, T_0, T_mult, eta_min):
    return _cos(base_lr, eta_min, (t % T_0) / T_0)


def sgdr_whole_run_variable(t, base_lr, T_0, T_mult, eta_min):  # t/T instead of T_cur/T_i (C18)
    _, T_i = _position(t, T_0, T_mult)
    return _cos(base_lr, eta_min, t / T_i)


_calls = {"n": 0}


def sgdr_stateful(t, base_lr, T_0, T_mult, eta_min):  # a scheduler object's counter, not t
    """Not in WRONG: the checker calls twice and reports it as ``nondeterministic`` (tested in
    tests/test_schedules_exercises.py)."""
    _calls["n"] += 1
    T_cur, T_i = _position(_calls["n"] - 1, T_0, T_mult)
    return _cos(base_lr, eta_min, T_cur / T_i)


# --- warmup_cosine -------------------------------------------------------------------------------


def _warmup_cosine(t, base_lr, W, T, a):
    if t < W:
        return base_lr * (a + (1 - a) * t / W)
    return _cos(base_lr, 0.0, (t - W) / (T - W))


def warmup_cosine_not_restarted(base_lr, warmup_steps, total_steps, start_factor, steps):  # cosine on t, not t - W
    W, T, a = warmup_steps, total_steps, start_factor
    return np.array([base_lr * (a + (1 - a) * t / W) if t < W else _cos(base_lr, 0.0, t / T) for t in steps])


def warmup_cosine_peak_inside_warmup(base_lr, warmup_steps, total_steps, start_factor, steps):  # t/(W-1)
    W, T, a = warmup_steps, total_steps, start_factor
    return np.array(
        [base_lr * (a + (1 - a) * t / max(W - 1, 1)) if t < W else _cos(base_lr, 0.0, (t - W) / (T - W)) for t in steps]
    )


def warmup_cosine_off_by_one(base_lr, warmup_steps, total_steps, start_factor, steps):
    return np.array([_warmup_cosine(t + 1, base_lr, warmup_steps, total_steps, start_factor) for t in steps])


def warmup_cosine_full_horizon(base_lr, warmup_steps, total_steps, start_factor, steps):  # T_max = T, not T - W
    W, T, a = warmup_steps, total_steps, start_factor
    return np.array([base_lr * (a + (1 - a) * t / W) if t < W else _cos(base_lr, 0.0, (t - W) / T) for t in steps])


def warmup_cosine_recursive(base_lr, warmup_steps, total_steps, start_factor, steps):
    # a scheduler stepped once per requested value: reads the k-th value, whatever t was asked
    return np.array([_warmup_cosine(k, base_lr, warmup_steps, total_steps, start_factor) for k in range(len(steps))])


# --- one_cycle_landmarks -------------------------------------------------------------------------


def one_cycle_peak_off_by_one(max_lr, total_steps, pct_start, div_factor, final_div_factor):
    initial = max_lr / div_factor
    return initial, float(pct_start * total_steps), initial / final_div_factor


def one_cycle_final_forgets_div(max_lr, total_steps, pct_start, div_factor, final_div_factor):
    return max_lr / div_factor, float(pct_start * total_steps) - 1, max_lr / final_div_factor


def one_cycle_peak_of_last_step(max_lr, total_steps, pct_start, div_factor, final_div_factor):
    initial = max_lr / div_factor
    return initial, pct_start * (total_steps - 1), initial / final_div_factor


def one_cycle_starts_at_max(max_lr, total_steps, pct_start, div_factor, final_div_factor):
    return max_lr, float(pct_start * total_steps) - 1, max_lr / (div_factor * final_div_factor)


# --- clip_global_norm ----------------------------------------------------------------------------


def _norm(grads):
    return math.sqrt(sum(float(np.sum(np.asarray(g) ** 2)) for g in grads.values()))


def clip_per_tensor(grads, max_norm):
    out = {}
    for k, g in grads.items():
        n = float(np.linalg.norm(g))
        out[k] = g * (max_norm / n) if n >= max_norm else np.array(g, dtype=float)
    return out


def clip_torch_epsilon(grads, max_norm):  # torch's clip_grad_norm_
    coef = min(1.0, max_norm / (_norm(grads) + 1e-6))
    return {k: g * coef for k, g in grads.items()}


def clip_by_value(grads, max_norm):
    return {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()}


def clip_always_rescales(grads, max_norm):  # normalises even small gradients
    n = _norm(grads)
    return {k: g * (max_norm / n) for k, g in grads.items()}


def clip_in_place(grads, max_norm):
    n = _norm(grads)
    if n >= max_norm:
        for g in grads.values():
            g *= max_norm / n
    return grads


# --- pick_lr -------------------------------------------------------------------------------------


def pick_lr_argmin_through_nan(lrs, losses):
    return float(lrs[int(np.argmin(losses))] / 10)


def pick_lr_at_the_minimum(lrs, losses):
    losses = np.asarray(losses, dtype=float)
    return float(lrs[int(np.nanargmin(np.where(np.isfinite(losses), losses, np.nan)))])


def pick_lr_last_finite(lrs, losses):  # the largest rate before the blow-up
    ok = np.flatnonzero(np.isfinite(losses))
    return float(lrs[int(ok[-1])] / 10)


WRONG = {
    "sgdr_lr": [
        sgdr_off_by_one,
        sgdr_restart_one_late,
        sgdr_by_logarithm,
        sgdr_ignores_t_mult,
        sgdr_whole_run_variable,
    ],
    "warmup_cosine": [
        warmup_cosine_not_restarted,
        warmup_cosine_peak_inside_warmup,
        warmup_cosine_off_by_one,
        warmup_cosine_full_horizon,
        warmup_cosine_recursive,
    ],
    "one_cycle_landmarks": [
        one_cycle_peak_off_by_one,
        one_cycle_final_forgets_div,
        one_cycle_peak_of_last_step,
        one_cycle_starts_at_max,
    ],
    "clip_global_norm": [clip_per_tensor, clip_torch_epsilon, clip_by_value, clip_always_rescales, clip_in_place],
    "pick_lr": [pick_lr_argmin_through_nan, pick_lr_at_the_minimum, pick_lr_last_finite],
}
