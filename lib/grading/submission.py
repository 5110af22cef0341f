"""Reading a submission in the parent, without running it: the notebook, its chapter, its check cells."""

from __future__ import annotations

import json
import re
from pathlib import Path

from lib.grading.records import MAX_NOTEBOOK_BYTES

__all__ = ["NotGradable", "read_notebook", "find_chapter", "check_ids"]

class NotGradable(Exception):
    """The whole submission cannot be graded (unreadable, not a notebook, no chapter); the message says why."""


_CHECK_LINE = re.compile(r"""^check\(\s*(["'])(\w+)\1\s*,\s*[\w.]+\s*\)\s*;?\s*(#.*)?$""")
_DEF = re.compile(r"^def\s+(\w+)\s*\(", re.MULTILINE)


def check_ids(source: str) -> list[str] | None:
    """The exercise ids of a check cell (only ``check("id", fn)`` lines and comments), else None."""
    ids = []
    for line in source.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        m = _CHECK_LINE.match(s)
        if not m:
            return None
        ids.append(m.group(2))
    return ids or None


def read_notebook(path: Path):
    """Parse a submission in the parent (JSON only, no code runs): return the nbformat-4 notebook.
    Raise :class:`NotGradable` with the reason."""
    import nbformat
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise NotGradable(f"cannot read the file: {exc.strerror}") from None
    if size > MAX_NOTEBOOK_BYTES:
        raise NotGradable(f"the file is {size / 2**20:.0f} MiB; notebooks over {MAX_NOTEBOOK_BYTES // 2**20} MiB are refused")
    try:
        raw = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NotGradable(f"cannot read the file as UTF-8 text ({type(exc).__name__})") from None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise NotGradable(f"not a notebook: the file is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or "nbformat" not in data:
        raise NotGradable("not a notebook: no nbformat version in the file")
    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.reads(raw, as_version=4)
        cells = list(nb.cells)
        for c in cells:
            _ = c.cell_type, c.source
    except Exception as exc:
        raise NotGradable(f"not a readable notebook ({type(exc).__name__}: {str(exc)[:150]})") from None
    return nb


def find_chapter(nb) -> str:
    """The chapter of a submission: its metadata if that names a chapter whose functions the
    notebook defines, else the chapter whose functions (or check ids) it mentions most."""
    from lib import exercises
    sources = [c.source if isinstance(c.source, str) else "".join(c.source) for c in nb.cells if c.cell_type == "code"]
    defined = {name for s in sources for name in _DEF.findall(s)}
    checked = {i for s in sources for i in (check_ids(s) or [])}
    score = {}
    for chapter in exercises.chapters():
        exs = exercises.for_chapter(chapter)
        score[chapter] = len({ex.function for ex in exs} & defined) + len({ex.id for ex in exs} & checked)
    meta = nb.metadata.get("descent") if isinstance(nb.metadata, dict) else None
    claimed = meta.get("chapter") if isinstance(meta, dict) else None
    best = max(score, key=lambda c: score[c], default=None)
    if isinstance(claimed, str) and claimed in score and (score[claimed] > 0 or not best or score[best] == 0):
        return claimed
    if best is not None and score[best] > 0:
        return best
    raise NotGradable("no chapter: the notebook metadata names no known chapter (descent.chapter) "
                      "and it defines none of the exercises' functions")
