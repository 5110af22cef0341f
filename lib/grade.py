"""Grade exercise notebooks: ``python -m lib.grade NOTEBOOK... [--json FILE] [--csv FILE] [--timeout S]``.

Each submission runs in its own child process (:mod:`lib._grade_worker`), never in the
grader's: the child starts in a fresh temporary directory, in a new process group, with
``MPLBACKEND=Agg``, and is killed with its whole group (SIGKILL) when it exceeds the time
limit. The child executes the notebook's code cells, checks every exercise of the chapter
with :func:`lib.checks.run_exercise` and writes one JSON line per exercise, flushed at once,
so the results before a hang survive; the exercise that hung is reported ``timeout`` and a
fresh child checks the exercises after it.

Points come from the exercise definitions in :mod:`lib.exercises`, never from the
submission: an exercise that passes every case scores its points, anything else 0.

Output: a table (student = the notebook's file stem; exercise; points / max; message) and a
total per student; ``--json`` writes every detail, ``--csv`` one row per student (student,
the points of each exercise, total). Exit status: 0 when every submission was graded, 1 when
some were not gradable (a corrupt file, an unknown chapter), 2 on an error of the grader
itself. A bad submission never produces a traceback.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["ExerciseGrade", "Submission", "grade_notebook", "grade", "main"]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TIMEOUT = 60.0


@dataclass
class ExerciseGrade:
    id: str
    points: int
    max_points: int
    status: str
    passed_cases: int = 0
    total_cases: int = 0
    message: str = ""


@dataclass
class Submission:
    student: str
    path: str
    gradable: bool = True
    reason: str = ""
    chapter: str | None = None
    exercises: list[ExerciseGrade] = field(default_factory=list)
    cell_errors: list[dict] = field(default_factory=list)
    timed_out: bool = False
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(e.points for e in self.exercises)

    @property
    def max_total(self) -> int:
        return sum(e.max_points for e in self.exercises)


def _read_events(path: Path) -> list[dict]:
    events = []
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return events
    for line in text.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:  # a line cut short by the kill
            continue
    return events


def _run_child(notebook: Path, results: Path, workdir: Path, timeout: float,
               skip: list[str]) -> tuple[int | None, bool, str]:
    """Run the worker; return (exit code or None if killed, timed out?, tail of its stderr)."""
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    stderr_path = workdir / "stderr.txt"
    with open(workdir / "stdout.txt", "wb") as out, open(stderr_path, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "lib._grade_worker", str(notebook), str(results), *skip],
            cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
            start_new_session=True,
        )
        timed_out = False
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            code = None
        finally:
            try:  # kill the whole group: also what the submission may have started
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if proc.poll() is None:
                proc.wait()
    try:
        tail = stderr_path.read_text(errors="replace").strip().splitlines()[-1:]
    except OSError:
        tail = []
    return code, timed_out, tail[0][:200] if tail else ""


def grade_notebook(path: Path | str, timeout: float = DEFAULT_TIMEOUT) -> Submission:
    """Grade one notebook in child processes; never raises for a bad submission.

    When a run times out while checking an exercise, that exercise scores 0 (``timeout``)
    and a new child checks the exercises not yet checked, with a fresh time limit, so one
    infinite loop costs only its own exercise. A hang before the checks (in a top-level cell)
    stops the grading of the notebook: every remaining exercise is ``timeout``.
    """
    import time

    from lib import exercises

    path = Path(path)
    sub = Submission(student=path.stem, path=str(path))
    if not path.is_file():
        sub.gradable, sub.reason = False, "not gradable: no such file"
        return sub
    start = time.monotonic()
    grades: dict[str, ExerciseGrade] = {}
    cell_errors: list[dict] = []
    skip: list[str] = []
    while True:
        with tempfile.TemporaryDirectory(prefix="descent-grade-") as tmp:
            workdir = Path(tmp) / "work"
            workdir.mkdir()
            results = Path(tmp) / "results.jsonl"
            results.touch()
            code, timed_out, stderr_tail = _run_child(path.resolve(), results, workdir, timeout, skip)
            events = _read_events(results)
        sub.timed_out = sub.timed_out or timed_out
        for ev in events:
            if ev.get("event") == "not_gradable":
                sub.gradable, sub.reason = False, f"not gradable: {ev.get('reason', '')}"
                return sub
        chapter = next((ev.get("chapter") for ev in events if ev.get("event") == "chapter"), None)
        if chapter is None:
            sub.gradable = False
            sub.reason = ("not gradable: the notebook did not finish loading within the time limit" if timed_out
                          else f"not gradable: the grading process failed (exit code {code}) {stderr_tail}".rstrip())
            return sub
        sub.chapter = chapter
        if not cell_errors:
            cell_errors = [ev for ev in events if ev.get("event") == "cell_error"]
        results_by_id = {ev["id"]: ev for ev in events if ev.get("event") == "result"}
        started = [ev["id"] for ev in events if ev.get("event") == "start"]
        hung = None
        for ex in exercises.for_chapter(chapter):
            ev = results_by_id.get(ex.id)
            if ev is not None:
                status = str(ev.get("status", "error"))
                grades[ex.id] = ExerciseGrade(
                    ex.id, ex.points if status == "pass" else 0, ex.points, status,
                    int(ev.get("passed_cases", 0)), int(ev.get("total_cases", 0)), str(ev.get("message", "")))
            elif ex.id in started and ex.id not in grades:
                hung = ex
                grades[ex.id] = ExerciseGrade(
                    ex.id, 0, ex.points, "timeout" if timed_out else "error",
                    message=(f"timeout: {ex.function} was still running after {timeout:g} s (an infinite loop?)"
                             if timed_out else
                             f"the grading process died while checking {ex.function} (exit code {code}) "
                             f"{stderr_tail}".rstrip()))
        remaining = [ex for ex in exercises.for_chapter(chapter) if ex.id not in grades]
        if hung is None or not remaining:
            break
        skip = list(grades)  # check the rest in a fresh process
    for ex in exercises.for_chapter(chapter):
        if ex.id not in grades:
            grades[ex.id] = ExerciseGrade(
                ex.id, 0, ex.points, "timeout" if timed_out else "error",
                message=(f"timeout: the notebook's cells ran for {timeout:g} s before {ex.function} could be checked"
                         if timed_out else
                         f"not checked: the grading process stopped (exit code {code}) {stderr_tail}".rstrip()))
    sub.exercises = [grades[ex.id] for ex in exercises.for_chapter(chapter)]
    sub.cell_errors = cell_errors
    sub.seconds = round(time.monotonic() - start, 2)
    return sub


def grade(paths, timeout: float = DEFAULT_TIMEOUT) -> list[Submission]:
    """Grade several notebooks one after the other (see :func:`grade_notebook`)."""
    return [grade_notebook(p, timeout=timeout) for p in paths]


def _one_line(text: str, limit: int = 100) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_table(subs: list[Submission]) -> str:
    rows = [("student", "exercise", "points", "message")]
    for s in subs:
        if not s.gradable:
            rows.append((s.student, "-", "-", _one_line(s.reason)))
            continue
        for e in s.exercises:
            rows.append((s.student, e.id, f"{e.points}/{e.max_points}",
                         _one_line("✓ all cases pass" if e.status == "pass" else e.message)))
        rows.append((s.student, "TOTAL", f"{s.total}/{s.max_total}", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = []
    for k, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(r[:3], widths)) + "  " + r[3])
        if k == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 7)
    return "\n".join(line.rstrip() for line in lines)


def write_json(subs: list[Submission], path: Path) -> None:
    data = [dict(asdict(s), total=s.total, max_total=s.max_total) for s in subs]
    Path(path).write_text(json.dumps({"submissions": data}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_csv(subs: list[Submission], path: Path) -> None:
    ids: list[str] = []
    for s in subs:
        for e in s.exercises:
            if e.id not in ids:
                ids.append(e.id)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", *ids, "total", "gradable"])
        for s in subs:
            pts = {e.id: e.points for e in s.exercises}
            w.writerow([s.student, *(pts.get(i, "" if not s.gradable else 0) for i in ids),
                        s.total if s.gradable else "", "yes" if s.gradable else "no"])


def main(argv: list[str] | None = None) -> int:
    """The command line: ``python -m lib.grade NOTEBOOK... [--json F] [--csv F] [--timeout S]``."""
    parser = argparse.ArgumentParser(
        prog="python -m lib.grade",
        description="Grade exercise notebooks, each in its own process with a time limit.",
        epilog="Exit status: 0 all graded; 1 some submissions not gradable; 2 grader error.",
    )
    parser.add_argument("notebooks", nargs="+", type=Path, help="submitted .ipynb files (student = file stem)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write every detail as JSON")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="write one row per student as CSV")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help=f"wall-clock limit per submission (default {DEFAULT_TIMEOUT:g})")
    args = parser.parse_args(argv)
    try:
        if args.timeout <= 0:
            parser.error("--timeout must be positive")
        subs = grade(args.notebooks, timeout=args.timeout)
        print(format_table(subs))
        if args.json:
            write_json(subs, args.json)
        if args.csv:
            write_csv(subs, args.csv)
    except SystemExit:
        raise
    except Exception as exc:  # the grader's own failure (a bad --json path, ...)
        print(f"grader error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    return 0 if all(s.gradable for s in subs) else 1


if __name__ == "__main__":
    sys.exit(main())
