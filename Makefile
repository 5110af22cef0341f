# Descent: two commands do everything on a fresh machine with Python >= 3.10.
#   make book   build the website (prints the path of index.html)
#   make test   run every test, including the book build
# Each target creates .venv and installs what it needs on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
MATHJAX := _vendor/mathjax/tex-chtml.js
BOOK_FLAGS := --all -W -n --keep-going
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: help setup browser execute lint book test test-unit test-notebooks test-site lab exercises grade golden freeze clean distclean

help:
	@echo "make book        build the book into _build/html"
	@echo "make test        every test: unit, notebooks (nbval), book build, built-site checks"
	@echo "make browser     playwright (pip) + Debian chromium (apt) for the in-browser site checks"
	@echo "make lint        ruff check + format check, notebooks stripped and released"
	@echo "make lab         JupyterLab on the course"
	@echo "make exercises   regenerate the student notebooks from exercises/source/"
	@echo "make grade NB='a.ipynb b/' [ARGS='--jobs 2 --csv grades.csv']   grade submissions (see README)"
	@echo "make golden      re-record the golden trajectories (torch==2.13.0, optax==0.2.8 in .venv-golden)"
	@echo "make clean       remove build outputs (distclean: also .venv and _vendor)"

# pip compiles the packages' .pyc here, on purpose: the grader's sandboxed children cannot write
# __pycache__, and compiling NumPy in every child times the exercises out (--no-compile did).
$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

setup: $(STAMP) $(MATHJAX)

$(MATHJAX):
	$(PYTHON) tools/vendor_mathjax.py _vendor/mathjax

# The lessons run first, one per core, into the build's execution cache (tools/execute_notebooks.py);
# the build then renders them from the cache and fails (-W) on any cell error.
execute: setup
	$(PY) tools/execute_notebooks.py

# A warm rebuild writes only the pages whose sources changed (make book: 12 s, against 23 s with --all).
# Sphinx reports the warnings of the pages it writes, so the stamp below says the last build
# passed -W; without it (first build, a failed one, FULL=1, and always in `make test`) every
# page is written again and checked.
BOOK_OK := _build/.book-ok

book: execute
	@if [ -f $(BOOK_OK) ] && [ -z "$(FULL)" ]; then flags="-W -n --keep-going"; else flags="$(BOOK_FLAGS)"; fi; \
	rm -f $(BOOK_OK); echo "jupyter-book build $$flags ."; \
	$(BIN)/jupyter-book build $$flags . && touch $(BOOK_OK)
	@echo "Book built: $(CURDIR)/_build/html/index.html"

# Tests run on every core (pytest-xdist; JOBS=1 for one process). The grading tests share one
# worker (grouped in tests/conftest.py): they count the grading processes alive on the machine.
JOBS ?= auto
XDIST := -n $(JOBS) --dist loadgroup

test-unit: setup
	$(PY) -m pytest $(XDIST) -m "not site" tests

# The lessons are executed once, by the book build (static widgets, -W); their live widgets are
# covered by tests/test_widget*.py. nbval runs what the build does not execute: the exercise sources.
test-notebooks: setup
	$(PY) -m pytest -n $(JOBS) --dist loadscope --nbval-lax -p no:cacheprovider exercises/source

# The built-site checks in a real browser (tests/test_site_browser.py) need playwright (pip, into
# .venv) and Debian's chromium (apt-get, as root; playwright downloads no browser of its own).
# A machine that cannot install chromium gets a message here and a skip, with the reason, there.
CHROMIUM ?= /usr/bin/chromium
BROWSER_STAMP := $(VENV)/.browser

browser: $(BROWSER_STAMP)

$(BROWSER_STAMP): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check "playwright>=1.45,<2"
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
	    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; \
	  fi; }
	@test -x $(CHROMIUM) && touch $@ || echo "make browser: no chromium at $(CHROMIUM) (apt-get install chromium as root); the browser checks will skip"

test-site: setup browser
	$(PY) -m pytest $(XDIST) -rs -m site tests

# ruff (lint + format check) over the Python files and the notebooks' code cells, outputs stripped,
# student notebooks in sync with their sources. The same commands run in .pre-commit-config.yaml.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(PY) -m lib.grading.nbtools strip --check chapters/*.ipynb exercises/*.ipynb exercises/source/*.ipynb
	$(PY) -m lib.grading.nbtools release-all --check

test: FULL := 1
test: lint test-unit test-notebooks book test-site

lab: setup
	$(BIN)/jupyter lab

exercises: setup
	$(PY) -m lib.grading.nbtools release-all

grade: setup
	@test -n "$(NB)" || { echo "usage: make grade NB='submissions/alice.ipynb submissions/bob/'"; exit 2; }
	$(PY) -m lib.grade $(NB) $(ARGS)

golden:
	@test -x .venv-golden/bin/python || $(PYTHON) -m venv .venv-golden
	.venv-golden/bin/python -m pip install --quiet torch==2.13.0 numpy jax==0.10.2 optax==0.2.8
	@for f in tests/golden/record_*.py; do echo ".venv-golden/bin/python $$f"; .venv-golden/bin/python $$f || exit 1; done

freeze: $(STAMP)
	$(PY) -m pip freeze --exclude-editable | grep -v '^-e ' > requirements-tested.txt

clean:
	rm -rf _build .pytest_cache .hypothesis
	find . -name __pycache__ -not -path './.venv*' -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) .venv-golden _vendor *.egg-info
