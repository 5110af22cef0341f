"""``python -m lib.grading`` is ``python -m lib.grade``."""

import sys

from lib.grading.cli import main

sys.exit(main())
