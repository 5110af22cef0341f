"""The command line and its reports: ``python -m lib.grade SUBMISSION...`` (see :mod:`lib.grading`)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from lib.grading.records import (
    DEFAULT_BUDGET,
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT,
    STATUSES,
    Submission,
    clean,
    clean_tree,
)
from lib.grading.scheduler import default_options, grade

__all__ = ["main", "format_table", "write_json", "write_csv"]

# --- reports --------------------------------------------------------------------------------------


def _one_line(text: str, limit: int = 100) -> str:
    text = " ".join(clean(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _first_line(text: str) -> str:
    return str(text).strip().split("\n", 1)[0]


def format_table(subs: list[Submission]) -> str:
    """The table printed on stdout: one row per exercise, a TOTAL row per student."""
    rows = [("student", "exercise", "status", "points", "message")]
    for s in subs:
        student = _one_line(s.student, 40)
        if not s.gradable:
            rows.append((student, "-", "not gradable", "-", _one_line(s.reason)))
            continue
        for e in s.exercises:
            status = e.status + (f" ({e.reason})" if e.status == "fail" and e.reason else "")
            rows.append(
                (
                    student,
                    e.id,
                    status,
                    f"{e.points}/{e.max_points}",
                    _one_line("all cases pass" if e.status == "pass" else _first_line(e.message)),
                )
            )
        flags = []
        if s.output.get("truncated"):
            flags.append(f"output truncated ({s.output['bytes']} bytes)")
        if s.leftover_processes_killed:
            flags.append(f"{s.leftover_processes_killed} leftover processes killed")
        rows.append((student, "TOTAL", "", f"{s.total}/{s.max_total}", "; ".join(flags)))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = []
    for k, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4])
        if k == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 7)
    return "\n".join(line.rstrip() for line in lines)


def write_json(subs: list[Submission], path: Path, meta: dict | None = None) -> None:
    """Every detail of every submission, with the run's settings under ``grader``."""
    data = [clean_tree(dict(asdict(s), total=s.total, max_total=s.max_total)) for s in subs]
    Path(path).write_text(
        json.dumps({"grader": meta or {}, "submissions": data}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def write_csv(subs: list[Submission], path: Path) -> None:
    """The gradebook: one row per student, one column per exercise, the total."""
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
            w.writerow(
                [
                    _csv_cell(s.student),
                    *(pts.get(i, "" if not s.gradable else 0) for i in ids),
                    s.total if s.gradable else "",
                    "yes" if s.gradable else "no",
                ]
            )


def _csv_cell(text: str) -> str:
    """A student-derived CSV cell: control characters stripped, and a leading ``= + - @`` (which a
    spreadsheet would run as a formula) neutralised with a quote."""
    text = " ".join(clean(text).split())
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


class _Progress:
    def __init__(self, stream):
        self.stream = stream
        self.start = time.monotonic()

    def __call__(self, done: int, total: int, sub: Submission) -> None:
        width = 30
        filled = int(width * done / max(total, 1))
        text = (
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} graded "
            f"({time.monotonic() - self.start:.0f} s) {_one_line(sub.student, 30):<30}"
        )
        self.stream.write(text + ("\n" if done == total else ""))
        self.stream.flush()


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m lib.grade",
        description="Grade exercise notebooks, each in its own sandboxed process with OS resource limits.",
        epilog="Exit status: 0 all graded; 1 some submissions not gradable; 2 grader error. "
        "Statuses: " + "; ".join(f"{k}: {v}" for k, v in STATUSES.items()),
    )
    parser.add_argument(
        "submissions",
        nargs="+",
        type=Path,
        help="notebooks (student = file name) or folders of notebooks (student = folder name)",
    )
    parser.add_argument("--jobs", "-j", type=int, default=1, metavar="N", help="grade N submissions at a time")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write every detail as JSON")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="write a gradebook: one row per student")
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="S",
        help="grade on hidden cases drawn from seed S (default: the public cases of the notebook)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"wall-clock limit per cell and per exercise (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=DEFAULT_BUDGET,
        metavar="SECONDS",
        help=f"wall-clock budget per submission (default {DEFAULT_BUDGET:g}); exercises not graded "
        "when it runs out are reported as timeout",
    )
    parser.add_argument(
        "--memory",
        type=int,
        default=DEFAULT_MEMORY_MB,
        metavar="MIB",
        help=f"address-space limit of each child (default {DEFAULT_MEMORY_MB})",
    )
    parser.add_argument(
        "--isolation",
        choices=["auto", "user-namespaces", "process-group"],
        default="auto",
        help="use a weaker sandbox than the best available (for comparison and debugging)",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no table on stdout")
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    if args.budget <= 0:
        parser.error("--budget must be positive")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    try:
        for out in (args.json, args.csv):  # fail before hours of grading, not after
            if out is not None and not out.resolve().parent.is_dir():
                raise FileNotFoundError(f"no such directory for {out}")
        opts = default_options(
            args.timeout,
            seed=args.seed,
            memory_mb=args.memory,
            budget=args.budget,
            force_mode=None if args.isolation == "auto" else args.isolation,
        )
        progress = _Progress(sys.stderr) if sys.stderr.isatty() else None
        started = time.monotonic()
        subs = grade(args.submissions, jobs=args.jobs, progress=progress, opts=opts)
        if not args.quiet:
            print(format_table(subs))
        meta = {
            "isolation": asdict(opts.isolation),
            "isolation_summary": opts.isolation.describe(),
            "timeout": opts.timeout,
            "budget": opts.budget,
            "seed": opts.seed,
            "memory_mb": opts.memory_mb,
            "max_processes": opts.max_processes,
            "max_file_mb": opts.max_file_mb,
            "jobs": args.jobs,
            "seconds": round(time.monotonic() - started, 2),
            "statuses": STATUSES,
        }
        if args.json:
            write_json(subs, args.json, meta)
        if args.csv:
            write_csv(subs, args.csv)
        print(
            f"graded {len(subs)} submission(s) in {meta['seconds']:g} s; sandbox: {meta['isolation_summary']}",
            file=sys.stderr,
        )
    except Exception as exc:  # the grader's own failure (a bad --json path, ...)
        print(f"grader error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    if any(s.grader_error for s in subs):
        for s in subs:
            if s.grader_error:
                print(f"grader error on {_one_line(s.student)}: {_one_line(s.grader_error, 300)}", file=sys.stderr)
        return 2
    return 0 if all(s.gradable for s in subs) else 1
