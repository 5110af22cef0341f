"""Scheduling a batch: the sandbox probed once, submissions graded ``jobs`` at a time."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lib.grading.records import DEFAULT_TIMEOUT, ROOT, WORKER, Options, Submission
from lib.grading.session import grade_submission

__all__ = ["grade", "default_options"]


def default_options(timeout: float = DEFAULT_TIMEOUT, **kwargs) -> Options:
    """Options with the best sandbox this platform offers (probed now; ``force_mode`` picks a weaker one)."""
    from lib.grading import sandbox as _sandbox

    return Options(timeout=timeout, isolation=_sandbox.probe(kwargs.pop("force_mode", None)), **kwargs)


def _hide_dirs(paths: list[Path]) -> list[str]:
    """Folders holding submissions, covered by an empty tmpfs in the child (when it has a mount
    namespace), unless that would also hide what the child needs (the course, Python)."""
    needed = [ROOT, Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent, WORKER]
    out = set()
    for p in paths:
        p = Path(p).resolve()
        for d in (p if p.is_dir() else None, p.parent):
            if d is None or d == Path("/"):
                continue
            if any(n.resolve() == d or d in n.resolve().parents for n in needed):
                continue
            out.add(str(d))
    return sorted(out)


def grade(
    paths,
    timeout: float = DEFAULT_TIMEOUT,
    jobs: int = 1,
    seed: int | None = None,
    progress=None,
    opts: Options | None = None,
) -> list[Submission]:
    """Grade submissions, ``jobs`` at a time; results in the order of ``paths``."""
    paths = [Path(p) for p in paths]
    opts = opts or default_options(timeout, seed=seed)
    opts.hide = _hide_dirs(paths)
    results: list[Submission | None] = [None] * len(paths)
    done = 0
    lock = threading.Lock()

    def one(i: int) -> None:
        nonlocal done
        try:
            results[i] = grade_submission(paths[i], opts)
        except Exception as exc:  # a bug of the grader on this submission: say so, go on
            results[i] = Submission(
                student=paths[i].stem,
                path=str(paths[i]),
                gradable=False,
                reason=f"not gradable: grader error {type(exc).__name__}: {exc}",
                grader_error=f"{type(exc).__name__}: {exc}",
            )
        with lock:
            done += 1
            if progress:
                progress(done, len(paths), results[i])

    if jobs <= 1:
        for i in range(len(paths)):
            one(i)
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(one, range(len(paths))))
    return results  # type: ignore[return-value]
