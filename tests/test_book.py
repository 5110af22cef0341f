"""lib.book.glue emits exactly what myst_nb.glue does (the build reads it back), minus NumPy reprs."""

import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell

from lib.book import glue


def _displayed(fn, *args, **kwargs):
    shell = InteractiveShell.instance()
    captured = []
    original = shell.display_pub.publish
    shell.display_pub.publish = lambda data, metadata=None, **kw: captured.append((data, metadata))
    try:
        fn(*args, **kwargs)
    finally:
        shell.display_pub.publish = original
    return captured


@pytest.mark.parametrize("value", [0.25, 3, "text", [1, 2]])
@pytest.mark.parametrize("display", [True, False])
def test_same_output_as_myst_nb(value, display):
    from myst_nb import glue as myst_glue

    assert _displayed(glue, "x", value, display=display) == _displayed(myst_glue, "x", value, display=display)


def test_numpy_scalars_are_glued_as_python_numbers():
    ((data, meta),) = _displayed(glue, "x", np.float64(0.25))
    assert data["text/plain"] == "0.25" and meta["scrapbook"] == {"name": "x", "mime_prefix": ""}
    ((data, _),) = _displayed(glue, "n", np.int64(7), display=False)
    assert data == {"application/papermill.record/text/plain": "7"}


def test_a_name_is_required():
    with pytest.raises(TypeError, match="non-empty string name"):
        glue("", 1.0)
