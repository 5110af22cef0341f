"""Descent's reference library: small, tested NumPy implementations the lessons import.

The course's mathematics: :mod:`lib.optim` (first-order optimizers as composable gradient
transformations, torch-exact, one module per family), :mod:`lib.theory` (closed-form results
and the papers' reference steps, for proofs), :mod:`lib.functions` (SymPy-defined test
functions), :mod:`lib.gradcheck` and :mod:`lib.autodiff` (finite differences, forward and
reverse mode), :mod:`lib.data`, :mod:`lib.nn` and :mod:`lib.train` (data sets, models with
explicit backward passes, the training loop), :mod:`lib.tree`, :mod:`lib.plotting` and
:mod:`lib.widgets` (live and static widgets). Chapters 06-12 add :mod:`lib.schedules`,
:mod:`lib.parallel`, :mod:`lib.batch_size`, :mod:`lib.second_order` and :mod:`lib.compare`.

Exercises and grading: :mod:`lib.checks` (what check cells import), :mod:`lib.exercises`
(the exercise definitions, one module per chapter) and :mod:`lib.grading` (the grader;
``python -m lib.grade``).
"""

__version__ = "0.1.0"

from lib._memory import keep_freed_memory as _keep_freed_memory

_keep_freed_memory()  # fresh arrays reuse freed memory instead of new pages: see lib/_memory.py
