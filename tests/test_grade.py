"""The grader (python -m lib.grade) on submissions built from the chapter 01 notebooks.

All submissions are graded in one run (a module fixture) to keep the test short."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "exercises" / "source" / "01-gradient-descent.ipynb"
STUDENT = ROOT / "exercises" / "01-gradient-descent.ipynb"
POINTS = {"mse_loss_and_grad": 2, "gd_step": 2, "gradient_descent": 3, "learning_rates": 2,
          "steps_to_tolerance": 1}
TIMEOUT = 10


def _with_cell(cell_id, source, nb_path=SOURCE):
    nb = nbformat.read(nb_path, as_version=4)
    cell = next(c for c in nb.cells if c.id == cell_id)
    cell.source = source
    return nb


def _submissions(tmp: Path) -> list[Path]:
    subs = {
        "solved": nbformat.read(SOURCE, as_version=4),
        "stub": nbformat.read(STUDENT, as_version=4),
        "wrong_gd_step": _with_cell("gd-step", "def gd_step(params, grads, lr):\n"
                                               "    return tree_map(lambda p, g: p + lr * g, params, grads)"),
        "syntax_error": _with_cell("learning-rates", "def learning_rates(H):\n    return 2 / (\n"),
        "infinite_loop": _with_cell("gradient-descent", "def gradient_descent(grad_fn, theta0, lr, tol, max_steps):\n"
                                                        "    while True:\n        pass"),
    }
    # no chapter metadata: found from the grade ids; a magic and a print in a cell
    nb = nbformat.read(SOURCE, as_version=4)
    del nb.metadata["descent"]
    nb.cells[1].source = "%matplotlib inline\nprint('hello')\n" + nb.cells[1].source
    subs["no_metadata"] = nb
    paths = []
    for name, nb in subs.items():
        path = tmp / f"{name}.ipynb"
        nbformat.write(nb, path)
        paths.append(path)
    corrupt = tmp / "corrupt.ipynb"
    corrupt.write_text("{ this is not json")
    return paths + [corrupt]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grade")
    paths = _submissions(tmp)
    proc = subprocess.run(
        [sys.executable, "-m", "lib.grade", *map(str, paths), "--json", str(tmp / "out.json"),
         "--csv", str(tmp / "out.csv"), "--timeout", str(TIMEOUT)],
        cwd=tmp, capture_output=True, text=True, timeout=300)
    data = json.loads((tmp / "out.json").read_text())
    by_student = {s["student"]: s for s in data["submissions"]}
    with open(tmp / "out.csv", newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    return proc, by_student, rows


def _points(sub):
    return {e["id"]: e["points"] for e in sub["exercises"]}


def _messages(sub):
    return {e["id"]: e["message"] for e in sub["exercises"]}


def test_exit_code_is_1_when_one_submission_is_not_gradable(graded):
    proc, _, _ = graded
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_solved_notebook_gets_full_marks(graded):
    _, subs, _ = graded
    assert _points(subs["solved"]) == POINTS
    assert subs["solved"]["total"] == subs["solved"]["max_total"] == 10
    assert subs["solved"]["cell_errors"] == []


def test_unsolved_stub_gets_zero_with_not_implemented(graded):
    _, subs, _ = graded
    assert subs["stub"]["total"] == 0
    assert all("not implemented" in m for m in _messages(subs["stub"]).values())


def test_one_wrong_solution_loses_exactly_its_points(graded):
    _, subs, _ = graded
    assert _points(subs["wrong_gd_step"]) == dict(POINTS, gd_step=0)
    assert "expected" in _messages(subs["wrong_gd_step"])["gd_step"]


def test_syntax_error_in_one_cell(graded):
    _, subs, _ = graded
    sub = subs["syntax_error"]
    assert _points(sub) == dict(POINTS, learning_rates=0)
    assert "SyntaxError" in _messages(sub)["learning_rates"]
    assert any("SyntaxError" in e["error"] for e in sub["cell_errors"])


def test_infinite_loop_costs_only_its_own_exercise(graded):
    _, subs, _ = graded
    sub = subs["infinite_loop"]
    assert sub["timed_out"] and sub["gradable"]
    # earlier exercises keep their points; later ones are checked by a fresh process
    assert _points(sub) == dict(POINTS, gradient_descent=0)
    statuses = {e["id"]: e["status"] for e in sub["exercises"]}
    assert statuses["gradient_descent"] == "timeout"
    assert "gradient_descent was still running" in _messages(sub)["gradient_descent"]
    assert sub["seconds"] < 2 * TIMEOUT


def test_chapter_is_found_without_metadata_and_magics_are_ignored(graded):
    _, subs, _ = graded
    assert subs["no_metadata"]["chapter"] == "01-gradient-descent"
    assert subs["no_metadata"]["total"] == 10


def test_corrupt_file_is_not_gradable_and_the_others_are_graded(graded):
    proc, subs, rows = graded
    assert not subs["corrupt"]["gradable"]
    assert subs["corrupt"]["reason"].startswith("not gradable:")
    assert "corrupt" in proc.stdout and "not gradable" in proc.stdout
    assert len(subs) == 7


def test_table_and_csv(graded):
    proc, _, rows = graded
    assert "TOTAL" in proc.stdout and "10/10" in proc.stdout
    assert max(len(line) for line in proc.stdout.splitlines()) < 200
    assert rows["solved"]["total"] == "10" and rows["solved"]["gd_step"] == "2"
    assert rows["wrong_gd_step"]["gd_step"] == "0" and rows["wrong_gd_step"]["total"] == "8"
    assert rows["corrupt"]["gradable"] == "no"
    assert list(rows["solved"]) == ["student", *POINTS, "total", "gradable"]


def test_help_documents_the_options():
    proc = subprocess.run([sys.executable, "-m", "lib.grade", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert all(opt in proc.stdout for opt in ("--json", "--csv", "--timeout", "Exit status"))


def test_grader_error_exit_code_2(tmp_path):
    bad = tmp_path / "missing-dir" / "out.json"
    proc = subprocess.run([sys.executable, "-m", "lib.grade", str(tmp_path / "none.ipynb"), "--json", str(bad)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "grader error" in proc.stderr and "Traceback" not in proc.stderr
