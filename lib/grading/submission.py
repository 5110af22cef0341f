"""Reading a submission in the parent, without running it: the notebook, its chapter, its check cells."""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from pathlib import Path

from lib.grading.records import MAX_NOTEBOOK_BYTES

__all__ = ["NotGradable", "read_notebook", "read_notebook_bytes", "list_notebooks", "find_chapter", "check_ids"]


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


def read_notebook_bytes(path: Path):
    """Parse a submission in the parent (JSON only, no code runs): return the nbformat-4 notebook
    and the bytes it was read from. Raise :class:`NotGradable` with the reason.

    The file is opened with ``O_NOFOLLOW``: a symbolic link (say ``homework.ipynb ->
    ../alice.ipynb``) is refused, even one swapped in after the folder was listed."""
    import nbformat

    if path.is_symlink():
        raise NotGradable(
            f"{path.name} is a symbolic link (to {os.readlink(path)}); submit the notebook file itself, not a link"
        )
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotGradable(f"{path.name} is a symbolic link; submit the notebook file itself") from None
        raise NotGradable(f"cannot read the file: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise NotGradable(f"{path.name} is not a regular file")
        if size > MAX_NOTEBOOK_BYTES:
            raise NotGradable(
                f"the file is {size / 2**20:.0f} MiB; notebooks over {MAX_NOTEBOOK_BYTES // 2**20} MiB are refused"
            )
        data = f.read(MAX_NOTEBOOK_BYTES + 1)
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotGradable(f"cannot read the file as UTF-8 text ({type(exc).__name__})") from None
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise NotGradable(f"not a notebook: the file is not valid JSON ({str(exc)[:150]})") from None
    if not isinstance(parsed, dict) or "nbformat" not in parsed:
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
    return nb, data


def read_notebook(path: Path):
    """The nbformat-4 notebook of a submission (see :func:`read_notebook_bytes`)."""
    return read_notebook_bytes(path)[0]


def list_notebooks(folder: Path) -> tuple[list[Path], list[str]]:
    """The notebooks of a submission folder, and the reasons for what was refused.

    Symbolic links are never followed: a linked notebook or folder could be another student's
    work. ``.ipynb_checkpoints`` folders are skipped."""
    found, refused = [], []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        base = Path(dirpath)
        for d in list(dirnames):
            if (base / d).is_symlink():
                refused.append(f"{(base / d).relative_to(folder)}/ is a symbolic link to a folder; not followed")
                dirnames.remove(d)
            elif d == ".ipynb_checkpoints":
                dirnames.remove(d)
        for name in filenames:
            if not name.endswith(".ipynb"):
                continue
            p = base / name
            if p.is_symlink():
                refused.append(f"{p.relative_to(folder)} is a symbolic link (to {os.readlink(p)}); not graded")
            else:
                found.append(p)
    return sorted(found), refused


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
    raise NotGradable(
        "no chapter: the notebook metadata names no known chapter (descent.chapter) "
        "and it defines none of the exercises' functions"
    )
