"""Exercise notebooks: the student release is fresh and correct, the source notebook agrees with
lib.exercises, the solved notebook runs clean and the unsolved one fails exactly at its checks."""

import copy
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
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


def _execute(path, tmp_path, allow_errors):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    return nb


def _errored(nb):
    return [c.id for c in nb.cells if c.cell_type == "code" and any(o.output_type == "error" for o in c.outputs)]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_source_notebook_runs_without_errors(source, tmp_path):
    nb = _execute(source, tmp_path, allow_errors=False)
    checks = [nb.cells[i] for i, _ in grade_cells(nb)]
    assert all("✓" in "".join(o.get("text", "") for o in c.outputs) for c in checks)


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_student_notebook_fails_exactly_at_its_check_cells(source, tmp_path):
    nb = _execute(ROOT / "exercises" / source.name, tmp_path, allow_errors=True)
    assert _errored(nb) == [nb.cells[i].id for i, _ in grade_cells(nb)]
    for i, _ in grade_cells(nb):
        error = next(o for o in nb.cells[i].outputs if o.output_type == "error")
        assert error.ename == "AssertionError" and "not implemented yet" in error.evalue


# The solved sources pass nbval in `make test-notebooks` (and run above, in process); here the
# released stubs must fail nbval, once per check cell.
NBVAL_CASES = [pytest.param(ROOT / "exercises" / source.name, False, id=f"{source.stem}-student") for source in SOURCES]


@pytest.mark.parametrize("path, passes", NBVAL_CASES)
def test_nbval_lax(path, passes, tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            str(path),
            "-p",
            "no:cacheprovider",
            "-q",
            "--rootdir",
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, MPLBACKEND="Agg"),
    )
    assert (proc.returncode == 0) == passes, proc.stdout[-3000:] + proc.stderr[-2000:]
    if not passes:
        n_checks = len(grade_cells(nbformat.read(path, as_version=4)))
        assert f"{n_checks} failed" in proc.stdout
