"""Sphinx extension loaded by _config.yml: settings that only the book build needs.

Notebooks executed for the book inherit this process's environment. Setting
``DESCENT_WIDGETS=static`` makes :func:`lib.widgets.show` emit each widget's static form
(a frame scrubber that works without a kernel) instead of live sliders, which would be dead
on the website. In Jupyter, the variable is unset and the live form is shown.
"""

import os


def setup(app):
    os.environ["DESCENT_WIDGETS"] = "static"
    return {"parallel_read_safe": True, "parallel_write_safe": True}
