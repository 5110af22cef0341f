"""Exercise notebooks: the student release is fresh and correct, the source notebook agrees with
lib.exercises, and the unsolved one fails nbval exactly at its checks (the solved one passes
nbval in ``make test-notebooks``)."""

import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from lib import exercises
from lib.grading.nbtools import ReleaseError, grade_cells, release, release_notebook

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "exercises" / "source").glob("*.ipynb"))
CHAPTER = "01-gradient-descent"
SOURCE = ROOT / "exercises" / "source" / f"{CHAPTER}.ipynb"
STUDENT = ROOT / "exercises" / f"{CHAPTER}.ipynb"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def test_there_is_a_source_notebook_per_chapter_with_exercises():
    assert {p.stem for p in SOURCES} == set(exercises.chapters())


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_student_notebook_is_up_to_date(source):
    student = ROOT / "exercises" / source.name
    assert student.exists(), f"{student} is missing: run `make exercises`"
    assert student.read_bytes() == release(source), (
        f"{student.relative_to(ROOT)} is stale (it differs from a fresh release of "
        f"{source.relative_to(ROOT)}): run `make exercises` (python -m lib.grading.nbtools release-all)"
    )


@pytest.mark.parametrize(
    "path", SOURCES + [ROOT / "exercises" / p.name for p in SOURCES], ids=lambda p: str(p.relative_to(ROOT))
)
def test_notebook_is_committed_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"] == KERNELSPEC
    for cell in nb.cells:
        assert cell.get("id"), "every cell needs an id"
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "run `python -m lib.grading.nbtools strip`"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_check_cells_agree_with_lib(source):
    nb = nbformat.read(source, as_version=4)
    chapter = nb.metadata["descent"]["chapter"]
    assert chapter == source.stem
    found = {meta["grade_id"]: (i, meta["points"]) for i, meta in grade_cells(nb)}
    defined = exercises.for_chapter(chapter)
    assert list(found) == [ex.id for ex in defined]
    for ex in defined:
        i, points = found[ex.id]
        assert points == ex.points
        lines = nb.cells[i].source.splitlines()
        assert lines[0].startswith("# ") and lines[1:] == [f'check("{ex.id}", {ex.function})']


def test_student_and_source_have_the_same_cell_ids():
    src, stu = nbformat.read(SOURCE, as_version=4), nbformat.read(STUDENT, as_version=4)
    assert [c.id for c in src.cells] == [c.id for c in stu.cells]
    assert "BEGIN SOLUTION" not in STUDENT.read_text() and "END SOLUTION" not in STUDENT.read_text()


# --- the release on tiny notebooks -------------------------------------------------------------


def _tiny(*cells, points=None):
    """A chapter-01 notebook with one check cell per exercise, after ``cells``."""
    checks = []
    for ex in exercises.for_chapter(CHAPTER):
        c = new_code_cell(f'# Checks {ex.id}.\ncheck("{ex.id}", {ex.function})', id=f"check-{ex.id}")
        c.metadata["descent"] = {"grade_id": ex.id, "points": (points or {}).get(ex.id, ex.points)}
        checks.append(c)
    nb = new_notebook(cells=list(cells) + checks)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["descent"] = {"chapter": CHAPTER}
    return nb


def test_release_replaces_markers_at_their_indentation():
    code = new_code_cell(
        "x = 1\n"
        "### BEGIN SOLUTION\n"
        "y = 2\n"
        "### END SOLUTION\n"
        "def f(a):\n"
        '    """Doc."""\n'
        "    ### BEGIN SOLUTION\n"
        "    return a + 1\n"
        "    ### END SOLUTION",
        id="code",
    )
    code.outputs = [nbformat.v4.new_output("stream", text="hi")]
    code.execution_count = 3
    text = new_markdown_cell("Answer:\n### BEGIN SOLUTION\nforty-two\n### END SOLUTION", id="text")
    nb = _tiny(code, text)
    before = copy.deepcopy(nb)
    out = release_notebook(nb)
    assert nb == before, "the source notebook must not be modified"
    assert out.cells[0].source == (
        "x = 1\n# YOUR CODE HERE\nraise NotImplementedError()\n"
        'def f(a):\n    """Doc."""\n    # YOUR CODE HERE\n    raise NotImplementedError()'
    )
    assert out.cells[0].outputs == [] and out.cells[0].execution_count is None
    assert out.cells[1].source == "Answer:\nYOUR ANSWER HERE"
    assert [c.id for c in out.cells] == [c.id for c in nb.cells]


@pytest.mark.parametrize(
    "source, words",
    [
        ("### BEGIN SOLUTION\nx = 1", "never closed"),
        ("x = 1\n### END SOLUTION", "without a `### BEGIN SOLUTION`"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n### END SOLUTION", "inside the solution region"),
        ("## BEGIN SOLUTION\nx = 1\n### END SOLUTION", "misspelled"),
    ],
)
def test_unbalanced_markers_raise_a_clear_error(source, words):
    with pytest.raises(ReleaseError, match=words) as info:
        release_notebook(_tiny(new_code_cell(source, id="bad")))
    assert "cell 0 (id bad), line" in str(info.value)


def test_unknown_grade_id_raises():
    nb = _tiny()
    nb.cells[0].metadata["descent"]["grade_id"] = "q2"
    with pytest.raises(ReleaseError, match="unknown exercise id 'q2'; known ids: mse_loss_and_grad"):
        release_notebook(nb)


def test_points_disagreeing_with_lib_raise():
    with pytest.raises(ReleaseError, match="gives 'gd_step' 5 points but lib/exercises says 2"):
        release_notebook(_tiny(points={"gd_step": 5}))


def test_missing_check_cell_and_chapter_raise():
    nb = _tiny()
    del nb.cells[-1]
    with pytest.raises(ReleaseError, match="no check cell for steps_to_tolerance"):
        release_notebook(nb)
    nb = _tiny()
    del nb.metadata["descent"]
    with pytest.raises(ReleaseError, match="metadata has no"):
        release_notebook(nb)


# --- executing the notebooks ------------------------------------------------------------------
# Each notebook runs once in `make test`. The solved sources run under nbval in
# `make test-notebooks`: a check cell raises when its check fails and prints "✓" otherwise
# (lib.checks.check), so a clean nbval run means every check passed. The released stubs run
# here, under nbval too: they must fail it exactly at their check cells, each with the
# "not implemented yet" message, and nowhere else.

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _nbval(path, tmp_path):
    """Run nbval (lax) on ``path`` in a fresh process; return (exit code, output without colours)."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", str(path), "-p", "no:cacheprovider", "-q", "-rf"]
        + ["--color=no", "--rootdir", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        # without CI: pytest then prints each failure's whole message again in its summary
        env={**{k: v for k, v in os.environ.items() if k != "CI"}, "MPLBACKEND": "Agg"},
    )
    return proc.returncode, _ANSI.sub("", proc.stdout + proc.stderr)


def nbval_failures(output: str) -> list[int]:
    """The code-cell numbers that nbval reports as failed (``FAILED ...::Cell 4 - ...``)."""
    return sorted(int(n) for n in re.findall(r"^FAILED \S*::Cell (\d+)\b", output, flags=re.M))


def check_cell_numbers(nb) -> list[int]:
    """The check cells' numbers among the code cells (nbval's ``Cell N``)."""
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    return [code.index(i) for i, _ in grade_cells(nb)]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: f"{p.stem}-student")
def test_student_notebook_fails_nbval_exactly_at_its_check_cells(source, tmp_path):
    path = ROOT / "exercises" / source.name
    nb = nbformat.read(path, as_version=4)
    code, out = _nbval(path, tmp_path)
    expected = check_cell_numbers(nb)
    assert code == 1, out[-3000:]
    assert nbval_failures(out) == expected, out[-3000:]
    assert f"{len(expected)} failed" in out, out[-3000:]
    stubbed = re.findall(r"^AssertionError: \S+ is not implemented yet", out, flags=re.M)
    assert len(stubbed) == len(expected), out[-3000:]  # each failure is its stub's message, nothing else


def test_nbval_failures_reads_the_summary():
    out = "x\nFAILED exercises/a.ipynb::Cell 4 - Notebook cell execution failed\nFAILED ::Cell 10 - y\n2 failed"
    assert nbval_failures(out) == [4, 10]
    assert nbval_failures("3 passed") == []
