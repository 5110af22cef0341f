"""The grader's child process: run one submission and report each exercise as a JSON line.

    python -m lib._grade_worker NOTEBOOK RESULTS_FILE [EXERCISE_ID_TO_SKIP...]

Started by :mod:`lib.grade` in a fresh temporary directory, in its own process group and
under a time limit; student code runs here, never in the grader's process. The worker

1. reads the notebook (a corrupt file gives a ``not_gradable`` line and exit status 0:
   that is a result, not a crash);
2. finds the chapter: the notebook metadata ``descent.chapter``, else the chapter whose
   exercises the check cells' ``grade_id`` name;
3. executes the code cells in order in one namespace, as a kernel would (IPython magics are
   transformed and ignored; check cells are skipped; an exception is recorded and execution
   continues, like ``pytest --nbval-lax``);
4. for each exercise of the chapter, writes ``{"event": "start", "id": ...}``, runs
   :func:`lib.checks.run_exercise` on the function the student defined, and writes the result.

Every line is flushed as it is written, so if the parent kills the process for running too
long, the results so far survive and the exercise that hung is the one started but not
finished.
"""

from __future__ import annotations

import json
import linecache
import sys
import traceback


class _Reporter:
    def __init__(self, path: str):
        self._file = open(path, "a", encoding="utf-8")

    def __call__(self, event: str, **fields) -> None:
        self._file.write(json.dumps({"event": event, **fields}, default=str) + "\n")
        self._file.flush()


class _NoShell:
    """What ``get_ipython()`` returns here: magics and shell commands do nothing."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _find_chapter(nb) -> str:
    from lib import exercises
    chapter = (nb.metadata.get("descent") or {}).get("chapter")
    if chapter:
        exercises.for_chapter(chapter)  # LookupError if unknown
        return chapter
    ids = {(c.get("metadata", {}).get("descent") or {}).get("grade_id") for c in nb.cells} - {None}
    for chapter in exercises.chapters():
        if ids & {ex.id for ex in exercises.for_chapter(chapter)}:
            return chapter
    raise LookupError("the notebook names no chapter (metadata descent.chapter) and has no known check cells")


def _short_error(exc: BaseException, filename: str) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    where = f" (line {frames[-1].lineno})" if frames else ""
    if isinstance(exc, SyntaxError):
        where = f" (line {exc.lineno})" if exc.lineno else ""
        return f"SyntaxError: {exc.msg}{where}"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}{': ' + text[0][:150] if text else ''}{where}"


def run(notebook_path: str, results_path: str, skip: tuple[str, ...] = ()) -> None:
    report = _Reporter(results_path)
    try:
        import nbformat
        nb = nbformat.read(notebook_path, as_version=4)
        chapter = _find_chapter(nb)
    except Exception as exc:  # unreadable, not JSON, not a notebook, unknown chapter
        report("not_gradable", reason=f"{type(exc).__name__}: {str(exc).strip()[:300]}")
        return

    from lib import exercises
    from lib.checks import run_exercise
    exs = exercises.for_chapter(chapter)
    report("chapter", chapter=chapter, exercises=[ex.id for ex in exs])

    from IPython.core.inputtransformer2 import TransformerManager
    transform = TransformerManager().transform_cell
    namespace = {"__name__": "__main__", "get_ipython": lambda: _NoShell()}
    try:
        from IPython.display import display
        namespace["display"] = display
    except ImportError:  # pragma: no cover
        pass

    cell_errors: dict[int, str] = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if (cell.get("metadata", {}).get("descent") or {}).get("grade_id"):
            continue  # check cells are run below, one exercise at a time
        filename = f"<cell {index}>"
        try:
            source = transform(cell.source)
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            exec(compile(source, filename, "exec"), namespace)
        except BaseException as exc:  # noqa: BLE001 - student code may raise anything, even SystemExit
            if isinstance(exc, KeyboardInterrupt):
                raise
            error = _short_error(exc, filename)
            cell_errors[index] = error
            report("cell_error", cell=index, error=error)

    for ex in exs:
        if ex.id in skip:
            continue
        report("start", id=ex.id)
        if ex.function not in namespace:
            culprit = [i for i in cell_errors if f"def {ex.function}(" in nb.cells[i].source]
            why = (f": its cell (cell {culprit[0]}) raised {cell_errors[culprit[0]]}" if culprit
                   else ": keep the function's name and its `def` cell")
            report("result", id=ex.id, status="missing", passed_cases=0, total_cases=0,
                   message=f"{ex.function} is not defined{why}")
            continue
        try:
            result = run_exercise(ex.id, namespace[ex.function])
            report("result", id=ex.id, **result._asdict())
        except BaseException as exc:  # noqa: BLE001 - SystemExit from student code, say
            if isinstance(exc, KeyboardInterrupt):
                raise
            report("result", id=ex.id, status="error", passed_cases=0, total_cases=0,
                   message=f"your {ex.function} raised {type(exc).__name__}")
    report("done")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    run(argv[0], argv[1], tuple(argv[2:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
