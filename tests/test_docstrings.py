"""Every public function of lib is documented; optimizer docs name torch / optax and a reference."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import lib

ROOT = Path(__file__).resolve().parents[1]
BIB_KEYS = set(re.findall(r"@\w+\{([^,]+),", (ROOT / "references.bib").read_text()))
MODULES = sorted(
    m.name for m in pkgutil.walk_packages(lib.__path__, "lib.") if not m.name.split(".")[-1].startswith("_")
)


def public_functions(module):
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    for name in names:
        obj = getattr(module, name, None)
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module.__name__:
            yield name, obj


@pytest.mark.parametrize("modname", MODULES)
def test_public_functions_have_docstrings(modname):
    module = importlib.import_module(modname)
    assert module.__doc__, f"{modname} has no module docstring"
    missing = [n for n, obj in public_functions(module) if not (obj.__doc__ or "").strip()]
    assert not missing, f"{modname}: public names without a docstring: {missing}"


@pytest.mark.parametrize("modname", [m for m in MODULES if m.startswith("lib.optim.") and m not in {"lib.optim.base"}])
def test_optimizer_docs_name_torch_or_optax_and_cite(modname):
    module = importlib.import_module(modname)
    for name, obj in public_functions(module):
        if inspect.isclass(obj):
            continue
        doc = obj.__doc__
        assert "torch" in doc or "optax" in doc, f"{modname}.{name}: name its torch / optax equivalent"
        assert ".. math::" in doc or ":math:" in doc, f"{modname}.{name}: give the update rule in math"
        keys = re.findall(r":cite:[pt]?:`([^`]+)`", doc)
        assert keys, f"{modname}.{name}: cite a reference key from references.bib"
        for key in ",".join(keys).split(","):
            assert key.strip() in BIB_KEYS, f"{modname}.{name} cites unknown key {key!r}"
