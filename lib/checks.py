"""The checking engine behind every exercise check cell and the grader.

A check cell of an exercise notebook is one call::

    check("gd_step", gd_step)

:func:`check` looks the exercise up in :mod:`lib.exercises` and runs every case: the
student's function is called on deep copies of the inputs, its result is compared with the
reference solution's (same structure, shape, kind of number, values within tolerances; NaN
and infinity are reported as such), and the inputs must come back unmodified. It prints one
line on success and raises an ``AssertionError`` that teaches on failure: which input, what
was expected, what came back, and the exercise's hint. An exception raised inside the
student's function is reported as *theirs* (type, message, line of their code), not as a
traceback through this module.

:func:`run_exercise` does the same work but never raises; it returns a :class:`Result`, which
is what the grader (:mod:`lib.grading`) records. ``check`` is a thin wrapper on it.

Both paths share one judge, :func:`assess`: it takes the exercise, its cases, the reference
results, and a ``call(index, case)`` that returns an :class:`Outcome` (the value returned and
the inputs as they were after the call, or the exception raised). In a notebook ``call`` runs
the function in this process; in the grader it asks the sandboxed child process and receives
plain data only (:mod:`lib.grading.wire`), so a check cell and the grader always agree.
"""

from __future__ import annotations

import copy
import linecache
import os
import sys
import traceback
from typing import Any, NamedTuple

import numpy as np

from lib import exercises as _registry
from lib.exercises import Exercise, Lazy

__all__ = [
    "check",
    "run_exercise",
    "assess",
    "CALLS_PER_CASE",
    "Outcome",
    "Opaque",
    "Result",
    "compare",
    "compare_kind",
    "short_repr",
]

PASS, FAIL, ERROR, NOT_IMPLEMENTED, NOT_CALLABLE = "pass", "fail", "error", "not_implemented", "not_callable"
NONDETERMINISTIC = "nondeterministic"

#: every case is called this many times, each on fresh copies of its inputs; results that differ
#: beyond the exercise's tolerance make the exercise "nondeterministic" (a flaky answer must not
#: pass by luck). The grader and the check cells use the same number.
CALLS_PER_CASE = 2


class Result(NamedTuple):
    """The outcome of checking one exercise: ``status`` is ``"pass"``, ``"fail"`` (a wrong
    result or a modified input), ``"error"`` (the function raised), ``"not_implemented"`` or
    ``"not_callable"``; ``message`` is the text a student reads."""

    status: str
    passed_cases: int
    total_cases: int
    message: str
    #: for "fail": "value", "shape", "dtype", "type", "non-finite" or "mutated";
    #: for "error": the exception's type name
    reason: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASS


class Opaque:
    """A value that is not plain data (not a number, numeric array, or tuple / list / dict of
    them), as received from the grader's child process: only its type name crosses over."""

    __slots__ = ("type_name",)

    def __init__(self, type_name: str):
        self.type_name = str(type_name)[:80]

    def __repr__(self) -> str:
        return f"<{self.type_name} object>"


class Outcome(NamedTuple):
    """What one call of the student's function did: ``value`` returned and the inputs
    ``args`` / ``kwargs`` as they were afterwards; or, if it raised, ``exc_type`` (a name),
    ``exc_message`` and ``where`` (" (line N of your code: ...)")."""

    value: Any = None
    args: tuple = ()
    kwargs: dict = {}
    exc_type: str | None = None
    exc_message: str = ""
    where: str = ""


# --- short, readable representations -----------------------------------------------------------


def short_repr(x: Any, limit: int = 120) -> str:
    """A one-line representation of a value for a message, at most ``limit`` characters."""
    text = _repr(x)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _truncate(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _repr(x: Any) -> str:
    if isinstance(x, Lazy):
        return x.description
    if isinstance(x, np.ndarray):
        if x.ndim == 0:
            return _repr(x[()])
        body = np.array2string(
            x, precision=4, threshold=12, edgeitems=2, separator=", ", suppress_small=False, max_line_width=10_000
        )
        suffix = "" if x.dtype.kind == "f" and x.dtype.itemsize == 8 else f", dtype={x.dtype}"
        return (
            f"array({body}{suffix})"
            if x.ndim == 1 and x.size <= 6 and not suffix
            else f"array({body}, shape={x.shape}{suffix})"
        )
    if isinstance(x, (float, np.floating)):
        text = f"{float(x):.6g}"
        return text if any(c in text for c in ".ein") else text + ".0"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k!r}: {_repr(v)}" for k, v in x.items()) + "}"
    if isinstance(x, tuple):
        inner = ", ".join(_repr(v) for v in x)
        return f"({inner},)" if len(x) == 1 else f"({inner})"
    if isinstance(x, list):
        return "[" + ", ".join(_repr(v) for v in x) + "]"
    if isinstance(x, Opaque):
        return repr(x)
    if callable(x):
        return getattr(x, "__name__", type(x).__name__)
    try:
        return repr(x)
    except Exception:  # a hostile __repr__
        return f"<{type(x).__name__}>"


def _describe_call(ex: Exercise, case) -> str:
    names = _parameter_names(ex)
    parts = []
    for i, a in enumerate(case.args):
        name = names[i] if i < len(names) else f"arg{i}"
        parts.append(f"{name}={short_repr(a, 200)}")
    parts += [f"{k}={short_repr(v, 200)}" for k, v in case.kwargs.items()]
    call = f"{ex.function}({', '.join(parts)})"
    return call + (f"  [{case.note}]" if case.note else "")


def _parameter_names(ex: Exercise) -> list[str]:
    import inspect

    try:
        return list(inspect.signature(ex.reference).parameters)
    except (TypeError, ValueError):
        return []


# --- comparing results ------------------------------------------------------------------------


def _kind(x: Any) -> str | None:
    """'b', 'i' or 'f' (complex as 'c') for numbers and numeric arrays, else None."""
    if isinstance(x, (bool, np.bool_)):
        return "b"
    if isinstance(x, (int, np.integer)):
        return "i"
    if isinstance(x, (float, np.floating)):
        return "f"
    if isinstance(x, (complex, np.complexfloating)):
        return "c"
    if isinstance(x, np.ndarray):
        k = x.dtype.kind
        return {"u": "i"}.get(k, k) if k in "biufc" else None
    return None


_KIND_NAMES = {"b": "a boolean", "i": "an integer", "f": "a float", "c": "a complex number"}


def _what(x: Any) -> str:
    if isinstance(x, Opaque):
        return f"an object of type {x.type_name} (return plain numbers and NumPy arrays)"
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    if isinstance(x, dict):
        return f"a dict with keys {sorted(map(str, x))}"
    if isinstance(x, (list, tuple)):
        return f"a {type(x).__name__} of length {len(x)}"
    return f"{type(x).__name__} {short_repr(x, 60)}"


def compare(expected: Any, got: Any, rtol: float, atol: float, path: str = "") -> str | None:
    """``None`` if ``got`` matches ``expected``, else a sentence saying where and how it differs.

    Containers must match (a list and a tuple are interchangeable; dict keys must be equal),
    numbers and arrays must have the same shape and kind (bool / integer / float), floats
    must agree within ``numpy.isclose(got, expected, rtol, atol)``, integers exactly.
    """
    problem = compare_kind(expected, got, rtol, atol, path)
    return None if problem is None else problem[1]


def compare_kind(expected: Any, got: Any, rtol: float, atol: float, path: str = "") -> tuple[str, str] | None:
    """Like :func:`compare`, but return ``(kind, sentence)``: ``kind`` is ``"type"`` (another
    kind of object or container), ``"shape"``, ``"dtype"``, ``"non-finite"`` or ``"value"``."""
    where = f" at {path}" if path else ""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return "type", f"expected a dict{where}, got {_what(got)}"
        if set(map(str, expected)) != set(map(str, got)) or set(expected) != set(got):
            return (
                "type",
                f"expected a dict with keys {sorted(map(str, expected))}{where}, got keys {sorted(map(str, got))}",
            )
        for k in expected:
            problem = compare_kind(expected[k], got[k], rtol, atol, f"{path}[{k!r}]")
            if problem:
                return problem
        return None
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)):
            return "type", f"expected a {type(expected).__name__} of length {len(expected)}{where}, got {_what(got)}"
        if len(got) != len(expected):
            return "type", f"expected a {type(expected).__name__} of length {len(expected)}{where}, got {_what(got)}"
        for i, (e, g) in enumerate(zip(expected, got)):
            problem = compare_kind(e, g, rtol, atol, f"{path}[{i}]")
            if problem:
                return problem
        return None
    # a number or an array
    ekind, gkind = _kind(expected), _kind(got)
    if gkind is None:
        if np.ndim(expected):
            return "type", f"expected an array of shape {np.shape(expected)}{where}, got {_what(got)}"
        return "type", f"expected {_KIND_NAMES.get(ekind, 'a number')}{where}, got {_what(got)}"
    eshape, gshape = np.shape(expected), np.shape(got)
    if eshape != gshape:
        if eshape == ():
            return "shape", f"expected a single number{where}, got {_what(got)}"
        return "shape", f"expected an array of shape {eshape}{where}, got shape {gshape}"
    if ekind != gkind:
        return "dtype", (
            f"expected {_KIND_NAMES.get(ekind, ekind)}{where}, got {_KIND_NAMES.get(gkind, gkind)} "
            f"({short_repr(got, 60)})" + (" -- return int(...)" if ekind == "i" and gkind == "f" else "")
        )
    if gkind in "fc" and _precision(expected) != _precision(got):
        return "dtype", (
            f"expected {_precision(expected)}{where}, got {_precision(got)}: keep the precision of the "
            "inputs (float64 in, float64 out, as NumPy and torch do); look for an astype or a "
            "float32 constant"
        )
    e, g = np.asarray(expected), np.asarray(got)
    if gkind in "fc" and not np.all(np.isfinite(g)):
        bad = "NaN" if np.any(np.isnan(g)) else "inf"
        return "non-finite", (
            f"{'your ' + path if path else 'your result'} contains {bad}: {short_repr(got)} (expected {short_repr(expected)}); "
            "look for a division by zero, a sign error that makes the iteration diverge, or an overflow"
        )
    if gkind in "fc":
        ok = np.isclose(g, e, rtol=rtol, atol=atol)
    else:
        ok = g == e
    if not np.all(ok):
        if e.ndim:
            idx = tuple(int(i) for i in np.argwhere(~ok)[0])
            return "value", (
                f"{path + ': ' if path else ''}expected {short_repr(expected)}, got {short_repr(got)} "
                f"(first difference at index {idx if len(idx) > 1 else idx[0]}: "
                f"expected {short_repr(e[idx])}, got {short_repr(g[idx])})"
            )
        return "value", f"{path + ': ' if path else ''}expected {short_repr(expected)}, got {short_repr(got)}"
    return None


def _consistent(a: Any, b: Any, rtol: float, atol: float) -> bool:
    """Whether two results of the same call agree: same structure, kinds and shapes, numbers
    within the tolerance, NaN equal to NaN and inf to inf. Two objects of another kind agree when
    they have the same type (the judge says whether they are right)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_consistent(a[k], b[k], rtol, atol) for k in a)
    if isinstance(a, (list, tuple)):
        return (
            isinstance(b, (list, tuple))
            and len(a) == len(b)
            and all(_consistent(x, y, rtol, atol) for x, y in zip(a, b))
        )
    ka, kb = _kind(a), _kind(b)
    if ka is None or kb is None:
        return ka == kb and (
            type(a) is type(b) or (isinstance(a, Opaque) and isinstance(b, Opaque) and a.type_name == b.type_name)
        )
    if ka != kb or np.shape(a) != np.shape(b):
        return False
    x, y = np.asarray(a), np.asarray(b)
    if ka in "fc":
        return bool(np.all(np.isclose(x, y, rtol=rtol, atol=atol, equal_nan=True) | (x == y)))
    return bool(np.array_equal(x, y))


def _precision(x: Any) -> str:
    """``"float64"``, ``"float32"`` ... of a float or complex number or array (a Python float is float64)."""
    return str(np.asarray(x).dtype)


def _unchanged(before: Any, after: Any) -> bool:
    """Exact equality of two copies of an input (NaN equal to NaN)."""
    if isinstance(before, dict):
        return (
            isinstance(after, dict)
            and before.keys() == after.keys()
            and all(_unchanged(before[k], after[k]) for k in before)
        )
    if isinstance(before, (list, tuple)):
        return (
            type(after) is type(before)
            and len(before) == len(after)
            and all(_unchanged(b, a) for b, a in zip(before, after))
        )
    if isinstance(before, np.ndarray):
        return (
            isinstance(after, np.ndarray)
            and before.shape == after.shape
            and before.dtype == after.dtype
            and np.array_equal(before, after, equal_nan=before.dtype.kind in "fc")
        )
    if isinstance(before, Lazy) or callable(before) or isinstance(after, Opaque):
        return isinstance(before, Lazy) or callable(before)
    try:
        return bool(before == after) or (before != before and after != after)
    except Exception:
        return False


def _materialise(x: Any) -> Any:
    if isinstance(x, Lazy):
        return x.build()
    if isinstance(x, dict):
        return {k: _materialise(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_materialise(v) for v in x)
    return x


# --- exceptions raised by the student's function --------------------------------------------

_LIB_DIR = os.path.dirname(os.path.abspath(__file__))
_SYSTEM_DIRS = tuple({os.path.abspath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})


def _is_student_frame(filename: str) -> bool:
    if filename.startswith("<frozen"):
        return False
    if filename.startswith("<"):  # "<cell 3>" in the grader, "<ipython-input-...>"
        return True
    path = os.path.abspath(filename)
    return not path.startswith(_LIB_DIR + os.sep) and not path.startswith(_SYSTEM_DIRS)


def _where(exc: BaseException) -> str:
    """ " (line N of your code: `source`)" for the last frame of the student's code."""
    frames = traceback.extract_tb(exc.__traceback__)
    student = [f for f in frames if _is_student_frame(f.filename)]
    if not student:
        return ""
    f = student[-1]
    line = (f.line or linecache.getline(f.filename, f.lineno)).strip()
    return f" (line {f.lineno} of your code: `{_truncate(line, 80)}`)" if line else f" (line {f.lineno} of your code)"


def _exception_message(ex: Exercise, exc_type: str, exc_message: str, where: str, case) -> tuple[str, str]:
    if exc_type == "NotImplementedError":
        return NOT_IMPLEMENTED, (
            f"{ex.function} is not implemented yet: replace `raise NotImplementedError` with your code"
        )
    text = str(exc_message).strip().splitlines()
    detail = f": {_truncate(text[0], 150)}" if text and text[0] else ""
    return ERROR, (
        f"your {ex.function} raised {exc_type}{detail}{where}\n  input: {_describe_call(ex, case)}\n  Hint: {ex.hint}"
    )


# --- running an exercise -----------------------------------------------------------------------


def run_exercise(exercise_id: str, fn: Any, seed: int | None = None) -> Result:
    """Check ``fn`` against exercise ``exercise_id`` on every case; never raises.

    The result's message is the first problem found (cases are tried in order and checking
    stops at the first failure, unless the exercise gives partial credit), or a one-line
    summary when every case passes. ``seed`` draws other cases (see ``Exercise.make_cases``).
    """
    try:
        ex = _registry.get(exercise_id)
    except LookupError as exc:
        return Result(ERROR, 0, 0, str(exc))
    try:
        not_callable = _not_callable(ex, fn)
        if not_callable:
            return not_callable
        cases = ex.make_cases(seed)
        expected = [reference_result(ex, case) for case in cases]
        return assess(ex, cases, expected, lambda i, case: call_here(fn, case))
    except Exception as exc:  # a bug in the checker or a hostile result: report, do not crash
        return Result(
            ERROR, 0, 0, f"the checker could not check {ex.function}: {type(exc).__name__}: {_truncate(str(exc), 200)}"
        )


def _not_callable(ex: Exercise, fn: Any) -> Result | None:
    if callable(fn) and not isinstance(fn, type):
        return None
    if fn is None:
        what = "None"
    elif isinstance(fn, type):
        what = f"the class {fn.__name__}"
    else:
        name = type(fn).__name__
        what = f"{'an' if name[0] in 'aeiou' or name == 'ndarray' else 'a'} {name} ({short_repr(fn, 40)})"
    return Result(
        NOT_CALLABLE,
        0,
        0,
        f"{ex.function} should be a function, but you passed {what}; "
        f"define it with `def {ex.function}(...):` and run that cell first",
    )


def reference_result(ex: Exercise, case) -> Any:
    """The reference solution's result on ``case`` (computed on copies of its inputs)."""
    return ex.reference(*_materialise(copy.deepcopy(case.args)), **_materialise(copy.deepcopy(case.kwargs)))


def call_here(fn: Any, case) -> Outcome:
    """Call ``fn`` on deep copies of the case's inputs in this process, as a check cell does."""
    args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
    try:
        with np.errstate(all="ignore"):
            value = _call(fn, args, kwargs)
    except (Exception, SystemExit) as exc:
        return Outcome(exc_type=type(exc).__name__, exc_message=str(exc), where=_where(exc))
    return Outcome(value, args, kwargs)


def assess(ex: Exercise, cases: list, expected: list, call) -> Result:
    """Judge the student's function on ``cases``: ``expected[i]`` is the reference result of
    ``cases[i]`` and ``call(i, case)`` returns the :class:`Outcome` of the student's function.

    Shared by the notebook checks (``call`` runs the function here) and the grader (``call``
    asks the sandboxed child, and may raise to abort the exercise). Each case is called
    :data:`CALLS_PER_CASE` times on fresh copies of its inputs; results that differ make the
    status ``"nondeterministic"``. Cases run in order; the first problem is the message.
    Without ``ex.partial_credit`` checking stops there; with it every case runs and
    ``passed_cases`` counts the cases that pass.
    """
    total = len(cases)
    first: Result | None = None
    passed = 0
    for i, case in enumerate(cases):
        out = call(i, case)
        problem: Result | None = None
        for _ in range(CALLS_PER_CASE - 1 if out.exc_type != "NotImplementedError" else 0):
            again = call(i, case)  # fresh copies of the same inputs
            differs = (again.exc_type != out.exc_type) or (
                out.exc_type is None and not _consistent(out.value, again.value, ex.rtol, ex.atol)
            )
            if differs:
                first_ = f"raised {out.exc_type}" if out.exc_type else f"returned {short_repr(out.value)}"
                then = f"raised {again.exc_type}" if again.exc_type else f"returned {short_repr(again.value)}"
                problem = Result(
                    NONDETERMINISTIC,
                    i,
                    total,
                    (
                        f"{ex.function} gave different results for the same input (case {i + 1} of {total}): first it "
                        f"{first_}, then it {then}\n  input: {_describe_call(ex, case)}\n  Hint: a function of its "
                        "inputs only: no unseeded random numbers, no state kept between calls"
                    ),
                    NONDETERMINISTIC,
                )
                break
        if problem is not None:
            pass
        elif out.exc_type is not None:
            status, message = _exception_message(ex, out.exc_type, out.exc_message, out.where, case)
            problem = Result(status, i, total, message, "" if status == NOT_IMPLEMENTED else out.exc_type)
        else:
            found = compare_kind(
                expected[i],
                out.value,
                ex.rtol,
                ex.atol,
                "result" if isinstance(expected[i], (tuple, list, dict)) else "",
            )
            if found is None and not ex.may_mutate:
                mutated = _mutation(ex, (case.args, case.kwargs), (out.args, out.kwargs))
                found = None if mutated is None else ("mutated", mutated)
            if found is not None:
                problem = Result(
                    FAIL,
                    i,
                    total,
                    f"{ex.function} is wrong for case {i + 1} of {total}: "
                    f"{found[1]}\n  input: {_describe_call(ex, case)}\n  Hint: {ex.hint}",
                    found[0],
                )
        if problem is None:
            passed += 1
            continue
        if first is None:
            first = problem
        if not getattr(ex, "partial_credit", False) or problem.status == NOT_IMPLEMENTED:
            break
    if first is None:
        return Result(PASS, total, total, f"{ex.id}: all {total} cases pass ({_points(ex.points)})")
    return first._replace(passed_cases=passed)


def _call(fn, args, kwargs):
    """Call the student's function on materialised inputs, keeping ``args`` / ``kwargs`` as the
    very objects handed over (so that an in-place modification shows up in them)."""
    margs = tuple(a.build() if isinstance(a, Lazy) else a for a in args)
    mkwargs = {k: (v.build() if isinstance(v, Lazy) else v) for k, v in kwargs.items()}
    return fn(*margs, **mkwargs)


def _mutation(ex: Exercise, pristine, after) -> str | None:
    names = _parameter_names(ex)
    (args0, kwargs0), (args1, kwargs1) = pristine, after
    for i, (a0, a1) in enumerate(zip(args0, args1)):
        if not _unchanged(a0, a1):
            name = names[i] if i < len(names) else f"argument {i + 1}"
            return (
                f"your function modified its input `{name}` in place (it was {short_repr(a0)}, "
                f"afterwards {short_repr(a1)}); work on a copy or build a new result"
            )
    for k in kwargs0:
        if not _unchanged(kwargs0[k], kwargs1[k]):
            return f"your function modified its input `{k}` in place; work on a copy or build a new result"
    return None


def _points(points: int) -> str:
    return f"{points} point" + ("" if points == 1 else "s")


def check(exercise_id: str, fn: Any) -> None:
    """Check the student's function ``fn`` for exercise ``exercise_id`` (a notebook check cell).

    Prints ``✓ <id>: all N cases pass (P points)``, or raises ``AssertionError`` with what
    differed, on which input, and a hint. An unknown id raises ``LookupError``.
    """
    __tracebackhide__ = True
    _registry.get(exercise_id)  # an unknown id is the author's mistake: a LookupError listing ids
    result = run_exercise(exercise_id, fn)
    if not result.passed:
        raise AssertionError(result.message) from None
    print(f"✓ {result.message}")
