"""Descent's reference library: small, tested NumPy implementations the lessons import.

Modules: :mod:`lib.tree` (tree map), :mod:`lib.optim` (optimizers as composable gradient
transformations, torch-exact), :mod:`lib.functions` (SymPy-defined test functions),
:mod:`lib.convergence` (rates on quadratics), :mod:`lib.gradcheck` (finite differences),
:mod:`lib.autodiff` (forward and reverse mode), :mod:`lib.data`, :mod:`lib.nn` and
:mod:`lib.train` (data sets, models with explicit backward passes, the training loop),
:mod:`lib.plotting`, :mod:`lib.widgets` (live and static widgets), :mod:`lib.checks` and
:mod:`lib.exercises` (exercise checks) and :mod:`lib.grade` (the grader).
"""

__version__ = "0.1.0"
