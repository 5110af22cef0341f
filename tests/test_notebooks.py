"""Notebook hygiene and book structure: checks that need no kernel.

Executing the notebooks is done by nbval (`make test-notebooks`) and by the book build.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    p
    for p in [*ROOT.glob("chapters/*.ipynb"), *ROOT.glob("exercises/*.ipynb"), *ROOT.glob("exercises/source/*.ipynb")]
    if ".ipynb_checkpoints" not in p.parts
)
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
ABSOLUTE_PATH = re.compile(r"(?<![\w.])(/work/|/home/|/root/|/tmp/|/Users/|[A-Z]:\\\\)")


def rel(p: Path) -> str:
    return str(p.relative_to(ROOT))


def test_there_are_notebooks():
    assert any(p.parent.name == "chapters" for p in NOTEBOOKS)
    assert any(p.parent.name == "source" for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=rel)
def test_notebook_is_clean(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb.get("nbformat") == 4, f"{rel(path)}: not an nbformat 4 notebook"
    spec = nb.get("metadata", {}).get("kernelspec")
    assert spec == KERNELSPEC, f"{rel(path)}: kernelspec must be {KERNELSPEC}, got {spec}"
    for i, cell in enumerate(nb["cells"]):
        where = f"{rel(path)} cell {i}"
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{where} has stored outputs: clear outputs before committing"
            assert cell.get("execution_count") is None, f"{where} has an execution count: clear outputs"
        source = "".join(cell["source"])
        match = ABSOLUTE_PATH.search(source)
        assert match is None, f"{where} contains an absolute path ({match.group(0)}...): use relative paths"
        assert "pip install" not in source or cell["cell_type"] == "markdown", (
            f"{where} installs packages: dependencies belong in requirements.txt"
        )


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
        for c in part.get("chapters", []):
            files += [s["file"] for s in c.get("sections", [])]
    return files


def test_every_toc_entry_exists():
    for f in _toc_files():
        assert (ROOT / f"{f}.md").exists() or (ROOT / f"{f}.ipynb").exists(), f"_toc.yml lists missing {f}"


def test_every_chapter_and_exercise_is_in_the_toc():
    listed = set(_toc_files())
    pages = [*ROOT.glob("chapters/*.ipynb"), *ROOT.glob("chapters/*.md"), *ROOT.glob("exercises/*.ipynb")]
    for p in pages:
        name = str(p.relative_to(ROOT).with_suffix(""))
        assert name in listed, f"{name} is not in _toc.yml: add it or the book will not show it"


def test_every_chapter_has_an_exercise_notebook_and_source():
    for chapter in ROOT.glob("chapters/[0-9][0-9]-*.ipynb"):
        assert (ROOT / "exercises" / chapter.name).exists(), f"no exercises/{chapter.name}"
        assert (ROOT / "exercises" / "source" / chapter.name).exists(), f"no exercises/source/{chapter.name}"


def test_book_config_is_offline():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    sphinx = cfg["sphinx"]["config"]
    assert sphinx["intersphinx_mapping"] == {}, "intersphinx would fetch inventories from the network"
    assert "://" not in sphinx["mathjax_path"], "MathJax must be served by the site, not a CDN"
    assert sphinx["html_extra_path"] == ["_vendor"]
    assert not (ROOT / "_static").exists() or not list((ROOT / "_static").rglob("*.js")), (
        "vendored JavaScript under _static/ would be injected into every page"
    )
    assert cfg["execute"]["execute_notebooks"] == "cache"
    assert cfg["repository"]["url"].startswith("https://")


def test_requirements_never_include_torch_or_jax():
    reqs = (ROOT / "requirements.txt").read_text().lower()
    names = {
        re.split(r"[<>=!~\[; ]", line.strip())[0]
        for line in reqs.splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert not names & {"torch", "jax", "jaxlib", "optax"}
    assert reqs.strip().splitlines()[-1].strip() == "-e .", "requirements.txt must end with `-e .`"


def test_every_literalinclude_names_an_existing_file_and_object():
    """A moved or renamed lib module breaks the book only at build time; this finds it in seconds."""
    import ast

    import nbformat

    pattern = re.compile(r"```\{literalinclude\}\s+(\S+)\s*\n((?::[^\n]*\n)*)")
    problems = []
    pages = [*ROOT.glob("chapters/*.ipynb"), *ROOT.glob("chapters/*.md"), *ROOT.glob("exercises/source/*.ipynb")]
    for page in pages:
        if page.suffix == ".ipynb":
            nb = nbformat.read(page, as_version=4)
            texts = ["".join(c.source) + "\n" for c in nb.cells if c.cell_type == "markdown"]
        else:
            texts = [page.read_text()]
        for text in texts:
            for target, options in pattern.findall(text):
                path = (page.parent / target).resolve()
                if not path.is_file():
                    problems.append(f"{page.name}: {target} does not exist")
                    continue
                obj = re.search(r":pyobject:\s*(\S+)", options)
                if obj and path.suffix == ".py":
                    names = {
                        n.name
                        for n in ast.walk(ast.parse(path.read_text()))
                        if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                    }
                    if obj.group(1).split(".")[-1] not in names:
                        problems.append(f"{page.name}: {target} has no {obj.group(1)}")
    assert not problems, problems
