"""Descent's reference library: small, tested NumPy implementations the lessons import.

Modules: :mod:`lib.tree` (tree map), :mod:`lib.optim` (optimizers), :mod:`lib.functions`
(test functions), :mod:`lib.plotting`, :mod:`lib.widgets`, :mod:`lib.checks` (exercise
checks) and :mod:`lib.grade` (the grader).
"""

__version__ = "0.1.0"
