"""What a grade is: the statuses, one exercise's grade, one submission's, the run's options.

Plain dataclasses shared by every part of :mod:`lib.grading`; nothing here runs student code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ExerciseGrade", "Submission", "Options", "STATUSES"]

ROOT = Path(__file__).resolve().parent.parent.parent  # the course checkout
WORKER = Path(__file__).resolve().parent / "worker.py"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MEMORY_MB = 3072
MAX_NOTEBOOK_BYTES = 20 * 2**20
OUTPUT_CAP = 64 * 1024  # bytes of the child's stdout / stderr kept (each)
PROTOCOL_CAP = 128 * 2**20  # longest response line accepted
START_TIMEOUT = 60.0  # the child's imports and sandbox set-up

#: every status an exercise can get, with its meaning (the README's table)
STATUSES = {
    "pass": "every case agrees with the reference",
    "fail": "a wrong value, shape, dtype or kind of object, a NaN / inf, or a modified input",
    "error": "the function (or the cell defining it) raised an exception",
    "not attempted": "the function still raises NotImplementedError (the released stub)",
    "not found": "no function of that name is defined (or it is not a function)",
    "timeout": "a call or the cell defining it ran past the wall-clock or CPU limit",
    "memory limit": "the function ran out of the memory limit",
    "crashed": "the process died while running it (os._exit, a signal, a file-size limit ...)",
    "not gradable": "the whole submission: unreadable file, not a notebook, unknown chapter",
}


@dataclass
class ExerciseGrade:
    """One exercise of one submission: its status (a key of :data:`STATUSES`), points and message."""

    id: str
    points: float
    max_points: int
    status: str
    passed_cases: int = 0
    total_cases: int = 0
    message: str = ""
    reason: str = ""  # fail: value / shape / dtype / type / non-finite / mutated; error: exception type
    notebook: str = ""


@dataclass
class Submission:
    """One student's result: every exercise grade, cell errors, captured output, timings."""

    student: str
    path: str
    gradable: bool = True
    reason: str = ""
    chapter: str | None = None
    chapters: list[str] = field(default_factory=list)
    exercises: list[ExerciseGrade] = field(default_factory=list)
    cell_errors: list[dict] = field(default_factory=list)
    timed_out: bool = False
    children: int = 0
    output: dict = field(default_factory=lambda: {"stdout": "", "stderr": "", "bytes": 0, "truncated": False})
    leftover_processes_killed: int = 0
    seconds: float = 0.0
    grader_error: str = ""

    @property
    def total(self) -> float:
        return _round(sum(e.points for e in self.exercises))

    @property
    def max_total(self) -> int:
        return sum(e.max_points for e in self.exercises)


@dataclass
class Options:
    """The run's settings: limits per child, the hidden-case seed, the sandbox probed once."""

    timeout: float = DEFAULT_TIMEOUT
    seed: int | None = None
    memory_mb: int = DEFAULT_MEMORY_MB
    max_processes: int = 64
    max_file_mb: int = 16
    isolation: Any = None  # lib.grading.sandbox.Isolation, probed once per run
    hide: list[str] = field(default_factory=list)


def _round(x: float) -> float:
    x = round(float(x), 2)
    return int(x) if x == int(x) else x


# --- notebooks -----------------------------------------------------------------------------------
