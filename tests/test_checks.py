"""The checking engine (lib.checks) on every chapter's exercises: references pass, wrong answers
are rejected with messages that teach, and student exceptions are reported as theirs.

Wrong answers live in ``tests/wrong_answers/<topic>.py`` (``WRONG = {exercise_id: [fn, ...]}``),
one module per ``lib/exercises/<topic>.py``."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from lib import exercises
from lib.checks import check, compare, run_exercise, short_repr

CHAPTER = "01-gradient-descent"
EXERCISES = [ex for chapter in exercises.chapters() for ex in exercises.for_chapter(chapter)]


def _load_wrong_answers(topic):
    path = Path(__file__).parent / "wrong_answers" / f"{topic}.py"
    assert path.exists(), f"no wrong answers for lib/exercises/{topic}.py: write {path.name}"
    spec = importlib.util.spec_from_file_location(f"wrong_answers_{topic}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.WRONG


WRONG = {
    ex_id: fns
    for module in sorted(set(exercises.CHAPTERS.values()))
    for ex_id, fns in _load_wrong_answers(module.rsplit(".", 1)[1]).items()
}
WRONG_CASES = [pytest.param(ex_id, fn, id=f"{ex_id}-{fn.__name__}") for ex_id, fns in WRONG.items() for fn in fns]


@pytest.mark.parametrize("chapter", exercises.chapters())
def test_every_chapter_has_three_to_six_exercises(chapter):
    assert 3 <= len(exercises.for_chapter(chapter)) <= 6


def test_exercise_ids_are_unique_across_the_course():
    ids = [ex.id for ex in EXERCISES]
    assert len(ids) == len(set(ids))


def test_chapter_01_has_five_exercises_worth_ten_points():
    assert [ex.id for ex in exercises.for_chapter(CHAPTER)] == [
        "mse_loss_and_grad",
        "gd_step",
        "gradient_descent",
        "learning_rates",
        "steps_to_tolerance",
    ]
    assert sum(ex.points for ex in exercises.for_chapter(CHAPTER)) == 10


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda ex: ex.id)
def test_reference_passes(ex):
    result = run_exercise(ex.id, ex.reference)
    assert result.status == "pass", result.message
    assert result.passed_cases == result.total_cases >= 4


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda ex: ex.id)
def test_cases_are_deterministic(ex):
    a, b = ex.make_cases(), ex.make_cases()
    assert [short_repr(c.args, 10_000) for c in a] == [short_repr(c.args, 10_000) for c in b]


def test_every_exercise_has_at_least_two_wrong_answers():
    assert {ex.id for ex in EXERCISES} == set(WRONG)
    assert all(len(fns) >= 2 for fns in WRONG.values())


@pytest.mark.parametrize("ex_id, wrong", WRONG_CASES)
def test_wrong_answer_is_rejected(ex_id, wrong):
    result = run_exercise(ex_id, wrong)
    assert result.status in ("fail", "error"), f"{wrong.__name__} was accepted"
    assert result.passed_cases < result.total_cases
    assert "input: " + exercises.get(ex_id).function + "(" in result.message  # names the input
    assert "Hint:" in result.message
    if result.status == "fail":
        assert "expected" in result.message or "modified its input" in result.message


@pytest.mark.parametrize("ex_id, wrong", WRONG_CASES)
def test_check_raises_assertion_error_for_wrong_answer(ex_id, wrong):
    with pytest.raises(AssertionError) as info:
        check(ex_id, wrong)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_check_prints_one_line_on_success(capsys):
    check("gd_step", exercises.get("gd_step").reference)
    assert capsys.readouterr().out == "✓ gd_step: all 5 cases pass (2 points)\n"


def test_in_place_update_is_reported_as_modified_input():
    result = run_exercise("gd_step", WRONG["gd_step"][1])  # gd_step_in_place
    assert "modified its input `params` in place" in result.message


def test_returning_a_float_instead_of_an_int_is_explained():
    result = run_exercise("steps_to_tolerance", lambda kappa, tol: 35.0)
    assert "expected an integer, got a float" in result.message


def test_nan_in_result_has_its_own_message():
    result = run_exercise("learning_rates", lambda H: (np.nan, 1.0))
    assert result.status == "fail" and "contains NaN" in result.message


def test_wrong_structure_is_explained():
    result = run_exercise("mse_loss_and_grad", lambda X, y, theta: 1.0)
    assert "expected a tuple of length 2" in result.message


def test_exception_in_student_code_is_reported_as_theirs():
    def mse_loss_and_grad(X, y, theta):
        n = 0
        return 1 / n, theta

    result = run_exercise("mse_loss_and_grad", mse_loss_and_grad)
    assert result.status == "error"
    assert result.message.startswith("your mse_loss_and_grad raised ZeroDivisionError: division by zero")
    assert "of your code: `return 1 / n, theta`" in result.message
    assert "input: mse_loss_and_grad(X=" in result.message
    with pytest.raises(AssertionError, match="your mse_loss_and_grad raised ZeroDivisionError"):
        check("mse_loss_and_grad", mse_loss_and_grad)


def test_not_implemented_is_reported():
    def gd_step(params, grads, lr):
        raise NotImplementedError()

    result = run_exercise("gd_step", gd_step)
    assert result.status == "not_implemented"
    assert "not implemented" in result.message and "raise NotImplementedError" in result.message


@pytest.mark.parametrize(
    "value, words", [(None, "passed None"), (3, "an int"), (np.zeros(2), "an ndarray"), (dict, "the class dict")]
)
def test_non_callable_is_explained(value, words):
    result = run_exercise("gd_step", value)
    assert result.status == "not_callable"
    assert "gd_step should be a function" in result.message and words in result.message
    with pytest.raises(AssertionError, match="should be a function"):
        check("gd_step", value)


def test_unknown_id_lists_the_known_ids():
    with pytest.raises(LookupError, match="known ids: mse_loss_and_grad, gd_step"):
        check("q2", print)
    assert run_exercise("q2", print).status == "error"


def test_run_exercise_never_raises_on_hostile_results():
    class Weird:
        def __repr__(self):
            raise RuntimeError("no repr")

    assert run_exercise("learning_rates", lambda H: Weird()).status == "fail"
    assert run_exercise("learning_rates", lambda H: (Weird(), Weird())).status == "fail"


def test_compare_lists_and_tuples_are_interchangeable_but_shapes_are_not():
    assert compare((1.0, np.ones(2)), [1.0, np.ones(2)], 1e-7, 1e-10) is None
    assert "shape (2,)" in compare(np.ones(2), np.ones((2, 1)), 1e-7, 1e-10)
    assert "keys" in compare({"W": 1.0}, {"w": 1.0}, 1e-7, 1e-10)
    assert compare(1.0, 1.0 + 1e-12, 1e-7, 1e-10) is None


def test_steps_to_tolerance_cases_are_far_from_rounding_boundaries():
    # a student's ceil(log(tol)/log(q)) must not differ from the reference by rounding
    for case in exercises.get("steps_to_tolerance").make_cases():
        kappa, tol = case.args
        x = np.log(tol) / np.log((kappa - 1) / (kappa + 1))
        assert x == 0 or abs(x - round(x)) > 1e-6, case
