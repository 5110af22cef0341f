"""Sphinx extension loaded by _config.yml: settings that only the book build needs.

Notebooks executed for the book inherit this process's environment. Setting
``DESCENT_WIDGETS=static`` makes :func:`lib.widgets.show` emit each widget's static form
(a frame scrubber that works without a kernel) instead of live sliders, which would be dead
on the website. In Jupyter, the variable is unset and the live form is shown.

``OPENBLAS_NUM_THREADS=1`` (unless set): the build runs one notebook per core, so a second
BLAS thread per kernel only spins waiting for a core. On the lessons' small matrices it
tripled the CPU time of a training loop (digits MLP: 1.45 s -> 0.47 s with one thread), with
the same results (training histories bit-identical; eigenvalues at round-off level, ~1e-16,
may differ in their last digits).
"""

import os


def setup(app):
    os.environ["DESCENT_WIDGETS"] = "static"
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
