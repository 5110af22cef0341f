"""Chapter 07 exercises: what tests/test_checks.py does not cover for them.

A schedule kept as a counter (torch's scheduler object) instead of a function of t is
reported as state kept between calls; the torch and log-based variants fail on the cases
the chapter names.
"""

import importlib.util
from pathlib import Path

from lib.checks import run_exercise

_spec = importlib.util.spec_from_file_location(
    "wrong_answers_schedules", Path(__file__).parent / "wrong_answers" / "schedules.py"
)
W = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(W)


def test_a_counter_instead_of_t_is_reported_as_state():
    result = run_exercise("sgdr_lr", W.sgdr_stateful)
    assert result.status == "nondeterministic"
    assert "no state kept between calls" in result.message


def test_the_logarithm_fails_at_the_restart_the_chapter_names():
    result = run_exercise("sgdr_lr", W.sgdr_by_logarithm)
    assert result.status == "fail" and "1210" in result.message


def test_torch_epsilon_is_rejected_even_where_it_is_a_relative_1e_minus_7():
    result = run_exercise("clip_global_norm", W.clip_torch_epsilon)  # norm 5: factor 1/(5 + 1e-6) vs 1/5
    assert result.status == "fail" and "norm 5, clipped to 1" in result.message


def test_per_tensor_norm_fails():
    result = run_exercise("clip_global_norm", W.clip_per_tensor)
    assert result.status == "fail" and "norm 5, clipped to 1" in result.message


def test_reading_the_kth_value_fails_out_of_order():
    result = run_exercise("warmup_cosine", W.warmup_cosine_recursive)
    assert result.status == "fail" and "out of order" in result.message
