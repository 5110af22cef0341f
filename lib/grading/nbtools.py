"""Notebook tools: release the student version of an exercise notebook, and keep notebooks clean.

Usage::

    python -m lib.grading.nbtools release exercises/source/01-gradient-descent.ipynb -o exercises/01-gradient-descent.ipynb
    python -m lib.grading.nbtools release-all            # every exercises/source/*.ipynb -> exercises/*.ipynb
    python -m lib.grading.nbtools release-all --check    # exit 1 if a committed student notebook is stale
    python -m lib.grading.nbtools strip NOTEBOOK...      # remove outputs and execution counts in place
    python -m lib.grading.nbtools strip --check NOTEBOOK...   # exit 1 if one has outputs

A *source* notebook holds the answers between nbgrader's markers::

    def gd_step(params, grads, lr):
        ### BEGIN SOLUTION
        return tree_map(lambda p, g: p - lr * g, params, grads)
        ### END SOLUTION

and the release replaces each marked region (markers included) by ``# YOUR CODE HERE`` and
``raise NotImplementedError()`` at the marker's indentation (in a markdown cell, by
``YOUR ANSWER HERE``). Each graded check cell carries the cell metadata
``{"descent": {"grade_id": ..., "points": ...}}``; the release refuses a notebook whose
check cells disagree with :mod:`lib.exercises` (unknown id, other points, a missing or
duplicated check), and one with unbalanced markers. The student notebook has no outputs, no
execution counts, the cell ids of the source, and bytes that depend only on the source, so a
test can regenerate it in memory and compare it with the committed file.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

__all__ = [
    "ReleaseError",
    "release",
    "release_notebook",
    "release_all",
    "strip_outputs",
    "notebook_bytes",
    "grade_cells",
    "BEGIN",
    "END",
]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
MARKDOWN_STUB = ("YOUR ANSWER HERE",)

ROOT = Path(__file__).resolve().parent.parent.parent  # the course checkout
SOURCE_DIR = ROOT / "exercises" / "source"
RELEASE_DIR = ROOT / "exercises"

# cell metadata written by Jupyter front ends and nbclient that must not be committed
_VOLATILE_CELL_METADATA = ("execution", "ExecuteTime", "collapsed", "scrolled")


class ReleaseError(ValueError):
    """A source notebook that cannot be released; the message says which cell and why."""


def _cell_name(index: int, cell) -> str:
    cid = cell.get("id")
    return f"cell {index}" + (f" (id {cid})" if cid else "")


def replace_solutions(source: str, stub: tuple[str, ...], where: str = "cell") -> str:
    """Replace every ``BEGIN``/``END`` region of ``source`` (markers included) by ``stub``
    lines at the indentation of the ``BEGIN`` marker. Raise :class:`ReleaseError` if the
    markers are unbalanced or nested."""
    out: list[str] = []
    begin_line = None
    for lineno, line in enumerate(source.splitlines(), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if begin_line is not None:
                raise ReleaseError(
                    f"{where}, line {lineno}: `{BEGIN}` inside the solution region "
                    f"opened at line {begin_line}; close it with `{END}` first"
                )
            begin_line = lineno
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + s for s in stub)
        elif marker == END:
            if begin_line is None:
                raise ReleaseError(f"{where}, line {lineno}: `{END}` without a `{BEGIN}` before it")
            begin_line = None
        elif begin_line is None:
            out.append(line)
    if begin_line is not None:
        raise ReleaseError(f"{where}, line {begin_line}: `{BEGIN}` is never closed by `{END}`")
    return "\n".join(out)


def _check_misspelled(source: str, where: str) -> None:
    for lineno, line in enumerate(source.splitlines(), start=1):
        s = line.strip()
        if re.match(r"^#+\s*(begin|end)\s+solution", s, re.IGNORECASE) and s not in (BEGIN, END):
            raise ReleaseError(
                f"{where}, line {lineno}: misspelled solution marker {s!r}; write exactly `{BEGIN}` / `{END}`"
            )


def grade_cells(nb) -> list[tuple[int, dict]]:
    """``(index, descent metadata)`` of every graded check cell of ``nb``, in order."""
    return [
        (i, dict(c.metadata["descent"]))
        for i, c in enumerate(nb.cells)
        if isinstance(c.get("metadata", {}).get("descent"), dict) and "grade_id" in c.metadata["descent"]
    ]


def validate(nb) -> str:
    """Check the grading metadata of a source notebook against :mod:`lib.exercises`; return
    its chapter. Raise :class:`ReleaseError` naming the problem."""
    from lib import exercises

    chapter = nb.metadata.get("descent", {}).get("chapter")
    if not chapter:
        raise ReleaseError('the notebook metadata has no {"descent": {"chapter": ...}} entry')
    try:
        defined = {ex.id: ex for ex in exercises.for_chapter(chapter)}
    except LookupError as exc:
        raise ReleaseError(str(exc)) from None
    seen: dict[str, int] = {}
    for i, meta in grade_cells(nb):
        cell, gid = nb.cells[i], meta["grade_id"]
        where = _cell_name(i, cell)
        if cell.cell_type != "code":
            raise ReleaseError(f"{where}: only code cells can be graded check cells")
        try:
            ex = exercises.get(gid)
        except LookupError as exc:
            raise ReleaseError(f"{where}: {exc}") from None
        if gid not in defined:
            raise ReleaseError(f"{where}: exercise {gid!r} belongs to chapter {ex.chapter!r}, not {chapter!r}")
        if gid in seen:
            raise ReleaseError(f"{where}: grade_id {gid!r} is used twice (also in cell {seen[gid]})")
        seen[gid] = i
        if meta.get("points") != ex.points:
            raise ReleaseError(
                f"{where}: the metadata gives {gid!r} {meta.get('points')!r} points but "
                f"lib/exercises says {ex.points}; change one of them"
            )
        if BEGIN in cell.source or END in cell.source:
            raise ReleaseError(f"{where}: a check cell must not contain solution markers")
        if not re.search(
            rf"""^\s*check\(\s*["']{re.escape(gid)}["']\s*,\s*{re.escape(ex.function)}\s*\)\s*$""",
            cell.source,
            re.MULTILINE,
        ):
            raise ReleaseError(f'{where}: a check cell must call check("{gid}", {ex.function})')
    missing = [gid for gid in defined if gid not in seen]
    if missing:
        raise ReleaseError(f"chapter {chapter!r} has no check cell for {', '.join(missing)}")
    return chapter


def strip_outputs(nb):
    """Remove outputs, execution counts and volatile cell metadata, in place; return ``nb``."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in _VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
    return nb


def release_notebook(source_nb):
    """The student notebook of a source notebook (a new object; the source is not modified)."""
    validate(source_nb)
    nb = copy.deepcopy(source_nb)
    for i, cell in enumerate(nb.cells):
        where = _cell_name(i, cell)
        _check_misspelled(cell.source, where)
        if BEGIN in cell.source or END in cell.source:
            stub = CODE_STUB if cell.cell_type == "code" else MARKDOWN_STUB
            cell.source = replace_solutions(cell.source, stub, where)
    return strip_outputs(nb)


def notebook_bytes(nb) -> bytes:
    """The canonical bytes of a notebook (nbformat's JSON layout, a final newline)."""
    nbformat.validate(nb)
    text = nbformat.writes(nb)
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def release(source: Path | str) -> bytes:
    """The bytes of the student notebook for the source notebook at ``source``."""
    source = Path(source)
    nb = nbformat.read(source, as_version=4)
    try:
        return notebook_bytes(release_notebook(nb))
    except ReleaseError as exc:
        raise ReleaseError(f"{source}: {exc}") from None


def release_all(check: bool = False, source_dir: Path = SOURCE_DIR, out_dir: Path = RELEASE_DIR) -> list[Path]:
    """Release every ``source_dir/*.ipynb`` to ``out_dir``; with ``check``, write nothing and
    return the student notebooks that are missing or stale."""
    stale = []
    for src in sorted(Path(source_dir).glob("*.ipynb")):
        target = Path(out_dir) / src.name
        data = release(src)
        if target.exists() and target.read_bytes() == data:
            continue
        stale.append(target)
        if not check:
            target.write_bytes(data)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.grading.nbtools", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("release", help="write the student notebook of one source notebook")
    p.add_argument("source", type=Path)
    p.add_argument("-o", "--output", type=Path, help="default: exercises/<name of the source>")
    p = sub.add_parser("release-all", help="release every exercises/source/*.ipynb to exercises/")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 if a release is stale")
    p = sub.add_parser("strip", help="remove outputs and execution counts in place")
    p.add_argument("notebooks", nargs="+", type=Path)
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 if a notebook has outputs")
    args = parser.parse_args(argv)
    try:
        if args.command == "release":
            out = args.output or RELEASE_DIR / args.source.name
            out.write_bytes(release(args.source))
            print(f"released {args.source} -> {out}")
        elif args.command == "release-all":
            changed = release_all(check=args.check)
            if args.check and changed:
                print("stale student notebooks (run `make exercises`): " + ", ".join(map(str, changed)))
                return 1
            print("\n".join(f"released {p}" for p in changed) or "all student notebooks are up to date")
        elif args.command == "strip":
            dirty = []
            for path in args.notebooks:
                nb = strip_outputs(nbformat.read(path, as_version=4))
                data = notebook_bytes(nb)
                if path.read_bytes() != data:
                    dirty.append(path)
                    if not args.check:
                        path.write_bytes(data)
                        print(f"stripped {path}")
            if args.check and dirty:
                print(
                    "notebooks with outputs or volatile metadata (run `python -m lib.grading.nbtools strip`): "
                    + ", ".join(map(str, dirty))
                )
                return 1
    except (ReleaseError, OSError, nbformat.ValidationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
