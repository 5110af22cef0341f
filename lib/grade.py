"""The grader's command: ``python -m lib.grade SUBMISSION... [--jobs N] [--csv F] [--json F] [--seed S]``.

The implementation is the package :mod:`lib.grading`; this module is only its short entry point.
"""

import sys

from lib.grading.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
