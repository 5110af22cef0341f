"""Grading one submission: its code cells in a child, then each exercise's cases, judged here.

A :class:`_Session` keeps one child at a time and starts a fresh one after a timeout or crash, so
a failure costs only its own exercise. Every comparison happens in this (the trusted) process,
with :func:`lib.checks.assess`, the judge the notebook's check cells use.
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

from lib.grading.child import Child, ChildLost, Output
from lib.grading.records import DEFAULT_TIMEOUT, OUTPUT_CAP, STATUSES, ExerciseGrade, Options, Submission, _round
from lib.grading.submission import NotGradable, check_ids, find_chapter, list_notebooks, read_notebook_bytes

__all__ = ["grade_notebook", "grade_submission"]

_REFERENCE_CACHE: dict = {}
_REFERENCE_LOCK = threading.Lock()


def _reference(ex, seed):
    """(cases, reference results) of an exercise, computed once per run in the parent."""
    from lib.checks import reference_result

    key = (ex.id, seed)
    with _REFERENCE_LOCK:
        if key not in _REFERENCE_CACHE:
            cases = ex.make_cases(seed)
            _REFERENCE_CACHE[key] = (cases, [reference_result(ex, c) for c in cases])
        return _REFERENCE_CACHE[key]


def _encode_case(ex, seed, index, case) -> tuple[dict, dict]:
    from lib.grading import wire as _wire

    def lazy(x, path):
        return {
            "t": "lazy",
            "exercise": ex.id,
            "seed": seed,
            "case": index,
            "path": list(path),
            "description": x.description,
        }

    args = _wire.encode(tuple(case.args), lambda x, p: lazy(x, ("args",) + p))
    kwargs = _wire.encode(dict(case.kwargs), lambda x, p: lazy(x, ("kwargs",) + p))
    return args, kwargs


class _Session:
    """Runs one notebook: a child at a time, fresh after a timeout or crash."""

    def __init__(
        self,
        nb,
        nb_bytes: bytes,
        filename: str,
        opts: Options,
        output: Output,
        sub: Submission,
        budget_deadline: float | None = None,
    ):
        self.opts, self.output, self.sub = opts, output, sub
        #: the submission's wall-clock budget (``--budget``) ends at this ``time.monotonic()``
        self.budget_deadline = budget_deadline if budget_deadline is not None else time.monotonic() + opts.budget
        self.nb_bytes, self.filename = nb_bytes, filename
        self.cells = []  # (index, source) of code cells to run
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
            if check_ids(source) is not None:
                continue  # a check cell: the grader does the checking
            self.cells.append((index, source))
        self.fatal: dict[int, tuple[str, str]] = {}  # cell index -> (status, detail): skipped in later children
        self.cell_errors: dict[int, dict] = {}
        self.child: Child | None = None

    def deadline(self) -> float:
        """The end of the next request: ``--timeout`` from now, or the budget's end if sooner."""
        return min(time.monotonic() + self.opts.timeout, self.budget_deadline)

    def budget_spent(self) -> bool:
        return time.monotonic() >= self.budget_deadline

    def child_ready(self) -> Child:
        while self.child is None:
            if self.budget_spent():
                raise _BudgetSpent()
            self.sub.children += 1
            child = Child(self.nb_bytes, self.filename, self.opts, self.output)
            self.child = child
            for index, source in self.cells:
                if index in self.fatal:
                    continue
                try:
                    reply = child.request({"op": "exec", "index": index, "source": source}, self.deadline())
                except ChildLost as lost:
                    if lost.status == "timeout" and self.budget_spent():
                        self.drop_child()  # the budget ran out: not this cell's fault
                        self.sub.timed_out = True
                        raise _BudgetSpent() from None
                    detail = lost.detail or f"the cell ran for more than {self.opts.timeout:g} s"
                    self.fatal[index] = (lost.status, detail)
                    self.cell_errors.setdefault(index, {"cell": index, "status": lost.status, "error": detail})
                    if lost.status == "timeout":
                        self.sub.timed_out = True
                    self.drop_child()
                    break
                if reply.get("op") == "executed" and reply.get("error"):
                    self.cell_errors.setdefault(
                        index, {"cell": index, "status": "error", "error": str(reply["error"])[:300]}
                    )
        return self.child

    def drop_child(self) -> None:
        if self.child is not None:
            self.sub.leftover_processes_killed += self.child.close()
            self.child = None

    def grade(self, ex) -> ExerciseGrade:
        from lib.checks import NOT_CALLABLE, Outcome, Result, assess
        from lib.grading import wire as _wire

        cases, expected = _reference(ex, self.opts.seed)
        try:
            child = self.child_ready()
        except _BudgetSpent:
            return self._budget_spent(ex, len(cases))
        deadline = self.deadline()
        missing: list[str] = []

        def call(i, case):
            args, kwargs = _encode_case(ex, self.opts.seed, i, case)
            reply = child.request(
                {
                    "op": "call",
                    "function": ex.function,
                    "exercise": ex.id,
                    "seed": self.opts.seed,
                    "args": args,
                    "kwargs": kwargs,
                },
                deadline,
            )
            op = reply.get("op")
            if op == "returned":
                try:
                    value = _wire.decode(reply.get("value"))
                    after_args = _wire.decode(reply.get("args"))
                    after_kwargs = _wire.decode(reply.get("kwargs"))
                except Exception:  # WireError, RecursionError, MemoryError ...: only this exercise pays
                    child.kill()
                    raise ChildLost("crashed", "the child sent a malformed result") from None
                if not isinstance(after_args, tuple) or not isinstance(after_kwargs, dict):
                    raise ChildLost("crashed", "the child sent a malformed result")
                return Outcome(value, after_args, after_kwargs)
            if op == "raised":
                return Outcome(
                    exc_type=str(reply.get("type", "Exception"))[:80],
                    exc_message=str(reply.get("message", ""))[:1000],
                    where=str(reply.get("where", ""))[:300],
                )
            if op in ("missing", "not_callable"):
                missing.append(str(reply.get("what", "")) if op == "not_callable" else "")
                raise _Missing()
            raise ChildLost("crashed", "the child sent an unexpected message")

        try:
            result: Result = assess(ex, cases, expected, call)
        except _Missing:
            return self._missing(ex, missing[0])
        except ChildLost as lost:
            self.drop_child()
            if lost.status == "timeout" and self.budget_spent():
                self.sub.timed_out = True
                return self._budget_spent(ex, len(cases))
            if lost.status == "timeout":
                self.sub.timed_out = True
                msg = (
                    (
                        f"timeout: {ex.function} was still running after {self.opts.timeout:g} s "
                        f"(an infinite loop, or far too slow?)"
                    )
                    if not lost.detail
                    else f"timeout: {lost.detail}"
                )
            elif lost.status == "memory limit":
                msg = (
                    f"memory limit: {ex.function} used more than {self.opts.memory_mb} MiB; "
                    "look for an array or list that grows without bound"
                )
            else:
                msg = (
                    f"crashed: the process running {ex.function} died ({lost.detail}); "
                    "do not call os._exit, kill processes or exhaust the file-size limit"
                )
            return ExerciseGrade(ex.id, 0, ex.points, lost.status, 0, len(cases), msg)
        status = {"not_implemented": "not attempted", "not_callable": "not found"}.get(result.status, result.status)
        if status == "error" and result.reason == "MemoryError":
            status = "memory limit"
            result = result._replace(
                message=f"memory limit: {ex.function} ran out of memory "
                f"({self.opts.memory_mb} MiB); " + result.message.split("\n", 1)[0]
            )
        points = ex.points if status == "pass" else 0
        if getattr(ex, "partial_credit", False) and status in ("fail", "error") and result.total_cases:
            points = _round(ex.points * result.passed_cases / result.total_cases)
        assert status in STATUSES or status == NOT_CALLABLE
        return ExerciseGrade(
            ex.id, points, ex.points, status, result.passed_cases, result.total_cases, result.message, result.reason
        )

    def _budget_spent(self, ex, total: int) -> ExerciseGrade:
        return ExerciseGrade(
            ex.id,
            0,
            ex.points,
            "timeout",
            0,
            total,
            (
                f"timeout: this submission's time budget ({self.opts.budget:g} s, --budget) ran out before "
                f"{ex.function} was graded; look for slow top-level cells or functions"
            ),
        )

    def _missing(self, ex, not_callable_what: str) -> ExerciseGrade:
        if not_callable_what:
            return ExerciseGrade(
                ex.id,
                0,
                ex.points,
                "not found",
                message=(
                    f"{ex.function} is a {not_callable_what}, not a function: define it with `def {ex.function}(...):`"
                ),
            )
        culprits = [i for i, src in self.cells if re.search(rf"^\s*def\s+{re.escape(ex.function)}\s*\(", src, re.M)]
        for i in culprits:
            if i in self.fatal:
                status, detail = self.fatal[i]
                return ExerciseGrade(
                    ex.id,
                    0,
                    ex.points,
                    status,
                    message=(f"{status}: the cell defining {ex.function} (cell {i}) did not finish: {detail}"),
                )
            if i in self.cell_errors:
                return ExerciseGrade(
                    ex.id,
                    0,
                    ex.points,
                    "error",
                    message=(
                        f"{ex.function} is not defined: its cell (cell {i}) raised {self.cell_errors[i]['error']}"
                    ),
                    reason=self.cell_errors[i]["error"].split(":")[0],
                )
        return ExerciseGrade(
            ex.id,
            0,
            ex.points,
            "not found",
            message=(
                f"{ex.function} is not defined: keep the function's name and its `def` cell (the notebook has no "
                f"`def {ex.function}(`)"
            ),
        )


class _Missing(Exception):
    pass


class _BudgetSpent(Exception):
    """The submission's wall-clock budget is used up: its remaining exercises are "timeout"."""


def grade_notebook(
    path: Path | str,
    timeout: float = DEFAULT_TIMEOUT,
    opts: Options | None = None,
    student: str | None = None,
    budget_deadline: float | None = None,
) -> Submission:
    """Grade one notebook; never raises for a bad submission. ``budget_deadline`` (a
    ``time.monotonic()`` value) ends the submission's budget; by default ``opts.budget`` from now."""
    from lib import exercises
    from lib.grading.scheduler import default_options  # scheduler imports this module

    opts = opts or default_options(timeout)
    path = Path(path)
    sub = Submission(student=student or path.stem, path=str(path))
    start = time.monotonic()
    try:
        nb, nb_bytes = read_notebook_bytes(path)
        chapter = find_chapter(nb)
    except NotGradable as exc:
        sub.gradable, sub.reason = False, f"not gradable: {exc}"
        return sub
    sub.chapter, sub.chapters = chapter, [chapter]
    output = Output()
    session = _Session(nb, nb_bytes, path.name, opts, output, sub, budget_deadline)
    try:
        for ex in exercises.for_chapter(chapter):
            grade_ = session.grade(ex)
            grade_.notebook = path.name
            sub.exercises.append(grade_)
    except ChildLost as lost:  # the sandbox itself does not start: the grader's problem
        sub.gradable, sub.reason = False, f"not gradable: {lost.detail}"
        sub.grader_error = lost.detail
    finally:
        session.drop_child()
    sub.cell_errors = [session.cell_errors[i] for i in sorted(session.cell_errors)]
    sub.output = output.as_dict()
    sub.seconds = round(time.monotonic() - start, 2)
    return sub


def grade_submission(path: Path | str, opts: Options) -> Submission:
    """A notebook, or a folder of notebooks (one student; each exercise keeps its best grade)."""
    path = Path(path)
    budget_deadline = time.monotonic() + opts.budget  # one budget for the whole submission
    if path.is_symlink():
        return Submission(
            student=path.stem if not path.is_dir() else path.name,
            path=str(path),
            gradable=False,
            reason=f"not gradable: {path.name} is a symbolic link (to {os.readlink(path)}); "
            "grade the submission itself, not a link to it",
        )
    if not path.is_dir():
        if not path.exists():
            return Submission(student=path.stem, path=str(path), gradable=False, reason="not gradable: no such file")
        return grade_notebook(path, opts=opts, budget_deadline=budget_deadline)
    notebooks, refused = list_notebooks(path)
    sub = Submission(student=path.name, path=str(path))
    if not notebooks:
        sub.gradable, sub.reason = (
            False,
            "not gradable: the folder holds no .ipynb file"
            + (" (refused: " + "; ".join(refused) + ")" if refused else ""),
        )
        return sub
    parts = [grade_notebook(nb, opts=opts, student=path.name, budget_deadline=budget_deadline) for nb in notebooks]
    graded = [p for p in parts if p.gradable]
    if not graded:
        sub.gradable, sub.reason = False, "; ".join([f"{Path(p.path).name}: {p.reason}" for p in parts] + refused)
        sub.grader_error = "; ".join(p.grader_error for p in parts if p.grader_error)
        return sub
    best: dict[str, ExerciseGrade] = {}
    for p in graded:
        for e in p.exercises:
            if e.id not in best or e.points > best[e.id].points:
                best[e.id] = e
    sub.chapters = sorted({p.chapter for p in graded})
    sub.chapter = sub.chapters[0] if len(sub.chapters) == 1 else ",".join(sub.chapters)
    sub.exercises = list(best.values())
    sub.cell_errors = [dict(e, notebook=Path(p.path).name) for p in graded for e in p.cell_errors]
    sub.timed_out = any(p.timed_out for p in parts)
    sub.children = sum(p.children for p in parts)
    sub.leftover_processes_killed = sum(p.leftover_processes_killed for p in parts)
    sub.output = {
        "stdout": "".join(p.output["stdout"] for p in parts)[:OUTPUT_CAP],
        "stderr": "".join(p.output["stderr"] for p in parts)[:OUTPUT_CAP],
        "bytes": sum(p.output["bytes"] for p in parts),
        "truncated": any(p.output["truncated"] for p in parts),
    }
    sub.seconds = round(sum(p.seconds for p in parts), 2)
    skipped = [f"{Path(p.path).name}: {p.reason}" for p in parts if not p.gradable] + refused
    if skipped:
        sub.reason = "some notebooks not gradable: " + "; ".join(skipped)
    return sub
