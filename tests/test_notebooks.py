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


# ---- Prose figures come from the code (issue 23, point 14) ------------------------------------------
#
# A number that an experiment produces must reach the prose through `glue` (or be printed by the
# cell), never be typed: a typed copy goes stale silently when the code changes. The check below
# finds typed copies. It reads the *executed* notebook (outputs from the book's jupyter-cache,
# merged into the current markdown), collects every number the code computed (glued values,
# printed text, displayed formulas), drops the numbers typed in the code itself (inputs such as
# `lr = 0.1`), and flags every number in the markdown with at least two significant digits that
# equals a computed number at the precision the prose gives it. Equation numbers, chapter numbers
# and counts like "50 points" have one significant digit or are inputs; years are skipped; roles
# (`{glue:text}`, `{cite:p}`, `{ref}`), inline code, code blocks, URLs and labels are not prose.

_SCI = re.compile(r"(\d+(?:\.\d+)?)\s*(?:\\times|×|\\cdot)\s*10\^\{?([-−]?\d+)\}?")
_POW10 = re.compile(r"(?<![\d.])10\^\{?([-−]?\d+)\}?")
_FIGURE = re.compile(r"(?<![\w.\\])(\d{1,3}(?:,\d{3})+(?![\d])|\d*\.\d+|\d+)(?:e([-+]?\d+))?(\s*%)?")
_OUTPUT_NUMBER = re.compile(r"(?<![\w.])-?(\d+(?:\.\d+)?(?:e[-+]?\d+)?)")


def _significant_digits(mantissa: str) -> int:
    digits = mantissa.replace(",", "")
    if "." in digits:
        return len(digits.replace(".", "").lstrip("0"))
    return len(digits.lstrip("0").rstrip("0"))


def prose_text(markdown: str) -> str:
    """The prose of a markdown cell: without code, roles, labels, directive options, URLs, scripts."""
    text = re.sub(r"<!--.*?-->", " ", markdown, flags=re.S)
    # fenced code (``` or ~~~ with a language or none); directive fences (```{...}) hold prose
    text = re.sub(r"^(`{3,}|~{3,})(?!\{)[^\n]*\n.*?^\1[ \t]*$", " ", text, flags=re.S | re.M)
    text = re.sub(r"^(`{3,}|~{3,}).*$", " ", text, flags=re.M)
    text = re.sub(r"^:[\w-]+:.*$", " ", text, flags=re.M)  # directive options (:label:, :class:)
    text = re.sub(r"^\([\w-]+\)=\s*$", " ", text, flags=re.M)  # targets
    text = re.sub(r"\{[\w:-]+\}`[^`]*`", " ", text)  # roles: glue, cite, ref, doc, prf:ref, ...
    text = re.sub(r"`[^`]*`", " ", text)  # inline code
    text = re.sub(r"\]\([^)]*\)|https?://\S+", " ", text)  # link targets, URLs
    text = re.sub(r"\\(?:label|ref|eqref|tag)\{[^}]*\}", " ", text)
    text = _SCI.sub(lambda m: f" {m.group(1)}e{m.group(2).replace('−', '-')} ", text)
    text = _POW10.sub(lambda m: f" 1e{m.group(1).replace('−', '-')} ", text)
    text = re.sub(r"[\^_](?:\{[^{}]*\}|\\?\w)", " ", text)  # sub- and superscripts: indices, powers
    return text


def prose_figures(markdown: str) -> list[tuple[str, float, int]]:
    """(as written, value, significant digits) of every number in the prose of a markdown cell."""
    figures = []
    text = prose_text(markdown)
    for m in _FIGURE.finditer(text):
        mantissa, exponent, percent = m.group(1), m.group(2), m.group(3)
        if re.match(r"[A-Za-z]", text[m.end() : m.end() + 1]):
            continue  # a coefficient ("12h", "2x") or a name ("2D", "3rd"), not a figure
        value = float(mantissa.replace(",", "")) * 10 ** int(exponent or 0)
        if exponent is None and "." not in mantissa and "," not in mantissa and 1600 <= value <= 2100:
            continue  # a year
        figures.append((m.group(0).strip(), value / 100 if percent else value, _significant_digits(mantissa)))
    return figures


def _numbers_in(text: str) -> set[float]:
    return {float(m.group(1)) for m in _OUTPUT_NUMBER.finditer(text)}


def typed_in_code(nb) -> set[float]:
    """The numbers typed in the notebook's code cells: its inputs (``lr = 0.1``, ``steps = 60``)."""
    return {abs(v) for cell in nb.cells if cell.cell_type == "code" for v in _numbers_in(cell.source)}


def computed_numbers(nb) -> dict[float, str]:
    """Every number the executed notebook's code produced (value -> where), minus those typed in its code."""
    from ast import literal_eval

    typed = typed_in_code(nb)
    found: dict[float, str] = {}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            texts = []
            record = out.get("metadata", {}).get("scrapbook")
            if record:
                plain = out["data"].get(record["mime_prefix"] + "text/plain", "")
                try:
                    value = literal_eval(plain)
                except (SyntaxError, ValueError):
                    value = plain
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    found.setdefault(abs(float(value)), f"cell {i}, glue {record['name']!r}")
                    continue
                texts.append(str(value))
            elif out.get("output_type") == "stream":
                texts.append("".join(out.get("text", "")))
            elif "data" in out:
                data = out["data"]
                if "text/latex" in data:
                    texts.append(prose_text("".join(data["text/latex"])))
                elif "text/plain" in data and "text/html" not in data and "image/png" not in data:
                    texts.append("".join(data["text/plain"]))
            for text in texts:
                for value in _numbers_in(text):
                    found.setdefault(abs(value), f"cell {i}, output")
    return {v: where for v, where in found.items() if not any(_same(v, t) for t in typed)}


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1e-300)


def _rounds_to(value: float, figure: float, digits: int) -> bool:
    return value != 0 and _same(float(f"{value:.{digits}g}"), abs(figure))


def typed_figures(nb) -> list[str]:
    """Numbers in the markdown that repeat, at their printed precision, a number the code computed."""
    computed = computed_numbers(nb)
    typed = typed_in_code(nb)
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for written, value, digits in prose_figures(cell.source):
            if digits < 2 or value == 0 or any(_same(value, t) for t in typed):
                continue  # one digit, or an input the code types too ("with eta = 0.13")
            for c, where in computed.items():
                if _rounds_to(c, value, digits):
                    problems.append(f"markdown cell {i}: {written!r} is computed ({c:g}, {where}): glue it")
                    break
    return problems


def _notebook(*cells):
    import nbformat

    nb = nbformat.v4.new_notebook()
    for kind, source, outputs in cells:
        if kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(source))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(source, outputs=outputs))
    return nb


def _glued(name, value):
    import nbformat

    return nbformat.v4.new_output(
        "display_data",
        data={"application/papermill.record/text/plain": repr(value)},
        metadata={"scrapbook": {"name": name, "mime_prefix": "application/papermill.record/"}},
    )


def _printed(text):
    import nbformat

    return nbformat.v4.new_output("stream", name="stdout", text=text)


def test_prose_figures_are_found():
    md = (
        "About 1500 at the start, $\\eta = 2.5 \\times 10^{-3}$, a factor $10^{-6}$, 30,000 times, 57%, "
        "$\\theta_{t-1}$, $x^2$, $(12h)$, in 1847 {cite:p}`cauchy1847methode`, `lr=0.25`, {glue:text}`x:.2f`.\n\n"
        "```python\nprint(0.123)\n```\n\n```{prf:algorithm} Steps\n:label: alg-1\nstep 0.75\n```\n"
    )
    assert [(w, v, d) for w, v, d in prose_figures(md)] == [
        ("1500", 1500.0, 2),
        ("2.5e-3", 0.0025, 2),
        ("1e-6", 1e-6, 1),
        ("30,000", 30000.0, 1),
        ("57%", 0.57, 2),
        ("0.75", 0.75, 2),
    ]


def test_a_typed_figure_fails_and_a_glued_one_passes():
    code = "import numpy as np\nratio = np.sqrt(2) * 100\nprint(f'ratio {ratio:.2f}')\nglue('r', float(ratio))"
    outputs = [_printed("ratio 141.42\n"), _glued("r", 141.4213562)]
    bad = _notebook(("code", code, outputs), ("markdown", "The ratio is about 141.4, or 140 in round numbers.", None))
    problems = typed_figures(bad)
    assert len(problems) == 2 and "'141.4'" in problems[0] and "'140'" in problems[1], problems
    good = _notebook(("code", code, outputs), ("markdown", "The ratio is about {glue:text}`r:.1f`.", None))
    assert typed_figures(good) == []


def test_inputs_counts_and_other_precisions_are_not_typed_figures():
    code = "lr = 0.25\nsteps = 60\nprint(f'lr = {lr}: loss {run(lr, steps):.4f} after {steps} steps')"
    nb = _notebook(
        ("code", code, [_printed("lr = 0.25: loss 0.1234 after 60 steps\n")]),
        # 0.25 and 60 are typed in the code (inputs), 3 and 1 have one significant digit, and
        # 0.13 is not 0.1234 at two digits; 0.123 is
        ("markdown", "With $\\eta = 0.25$ for 60 steps (chapter 3, eq. 1) the loss is 0.13, no, 0.123.", None),
    )
    assert typed_figures(nb) == ["markdown cell 1: '0.123' is computed (0.1234, cell 0, output): glue it"]


CACHE = ROOT / "_build" / ".jupyter_cache"  # where `jupyter-book build` keeps executed notebooks
CHAPTERS = sorted(ROOT.glob("chapters/[0-9][0-9]-*.ipynb"))


def executed(path: Path):
    """The notebook at `path` with the outputs of its executed copy in the book's cache."""
    from jupyter_cache import get_cache

    if not CACHE.is_dir():
        pytest.fail(f"no {CACHE.relative_to(ROOT)}: build the book first (`make book`)")
    try:
        return get_cache(str(CACHE)).merge_match_into_file(str(path))[1]
    except KeyError:
        pytest.fail(f"{rel(path)}: no executed copy of its current code in the cache: rebuild the book (`make book`)")


@pytest.mark.site
@pytest.mark.parametrize("path", CHAPTERS, ids=rel)
def test_prose_figures_are_glued_not_typed(path: Path):
    problems = typed_figures(executed(path))
    assert not problems, "\n".join([f"{rel(path)}: numbers the code computes are typed in the prose:", *problems])


@pytest.mark.site
def test_a_figure_typed_into_a_real_chapter_is_caught():
    import nbformat

    nb = executed(ROOT / "chapters" / "01-gradient-descent.ipynb")
    nb.cells.append(nbformat.v4.new_markdown_cell("The curvature is about 1500 at the start and 2500 at the end."))
    problems = typed_figures(nb)
    assert any("'1500'" in p for p in problems), problems  # lambda_max at the start, printed
    assert any("'2500'" in p for p in problems), problems  # the local condition number, glued


def test_the_execution_cache_is_keyed_on_lib_too(tmp_path, monkeypatch):
    """jupyter-cache keys a lesson on its cells only; tools/execute_notebooks.py also fingerprints
    lib/ (and _config.yml) and runs every lesson again when the fingerprint changes."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("execute_notebooks", ROOT / "tools" / "execute_notebooks.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    (tmp_path / "lib" / "widgets").mkdir(parents=True)
    (tmp_path / "lib" / "a.py").write_text("x = 1\n")
    (tmp_path / "lib" / "widgets" / "b.py").write_text("y = 1\n")
    (tmp_path / "_config.yml").write_text("title: t\n")
    monkeypatch.setattr(tool, "ROOT", tmp_path)
    before = tool.lib_hash()
    (tmp_path / "lib" / "widgets" / "b.py").write_text("y = 2\n")
    changed = tool.lib_hash()
    (tmp_path / "lib" / "widgets" / "b.py").write_text("y = 1\n")
    assert changed != before and tool.lib_hash() == before
    (tmp_path / "_config.yml").write_text("title: u\n")
    assert tool.lib_hash() != before
