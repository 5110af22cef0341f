"""Gluing computed values into the prose, without the cost of importing MyST-NB in the kernel.

A lesson writes ``glue("name", value)`` in a code cell and ``{glue}`name``` in the prose, so every
number an experiment produces reaches the text from the code. This is MyST-NB's own protocol
(``myst_nb.glue``: a display of the value's MIME bundle with ``{"scrapbook": {"name": ...}}``
metadata, read back by the book build), written out here for two reasons:

- ``from myst_nb import glue`` imports nbformat, jsonschema and its format checkers in the kernel;
  one of them compiles a grammar at import, which cost 2-7 s of every chapter's execution;
- a NumPy scalar is glued as the Python number it holds: MyST-NB formats ``{glue:text}`x:.2f```
  with ``float(repr(value))``, which fails on NumPy 2's ``np.float64(0.25)``.

``tests/test_book.py`` checks that the output is the same as MyST-NB's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["glue", "GLUE_PREFIX"]

#: MyST-NB's MIME prefix for a glued value that is stored but not shown in the cell's output.
GLUE_PREFIX = "application/papermill.record/"


def glue(name: str, variable: Any, display: bool = True) -> None:
    """Store ``variable``'s display under ``name`` for ``{glue}`name``` in the book's prose.

    The same call as ``myst_nb.glue``: with ``display=False`` the value is recorded but not shown.
    NumPy scalars (``np.float64``, ``np.int64``, ``np.bool_``) are converted to Python numbers first.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"glue needs a non-empty string name, got {name!r}")
    from IPython.core.formatters import format_display_data
    from IPython.display import display as ipy_display

    if isinstance(variable, np.generic):
        variable = variable.item()
    mimebundle, metadata = format_display_data(variable)
    mime_prefix = "" if display else GLUE_PREFIX
    metadata["scrapbook"] = dict(name=name, mime_prefix=mime_prefix)
    ipy_display({mime_prefix + k: v for k, v in mimebundle.items()}, raw=True, metadata=metadata)
