r"""Comparing optimizers fairly: a benchmark protocol as code (chapter 12).

The protocol, for every optimizer and every problem :cite:p:`choi2019empirical,schmidt2021descending`:

1. **The same tuning budget.** Each optimizer gets exactly ``budget`` trial runs, a log-spaced
   grid of learning rates (optionally crossed with a few values of one more hyperparameter),
   all run with the tuning seed. The setting with the lowest **validation** loss wins; the test
   split is never looked at while tuning.
2. **Several seeds at the chosen setting.** The winner is rerun with fresh seeds (new
   initialisation and mini-batch order), and the spread is reported: the median and the
   interquartile range of the final test metric, and of the number of steps and the wall time
   needed to reach a target validation loss (time-to-result, as in AlgoPerf
   :cite:p:`dahl2023benchmarking`).
3. **Tidy results.** Every run is one row (a ``dict``): problem, optimizer, phase
   (``"tune"`` / ``"final"``), hyperparameters, seed, metrics. :func:`summarize` reduces the rows,
   :func:`to_csv` writes them, :func:`plot_summary` draws medians with their spread, and
   :func:`performance_profile` summarises many problems without naming a single winner
   :cite:p:`dolan2002benchmarking`.

An optimizer enters as a factory ``make_optimizer(lr, **hyper) -> GradientTransformation``;
:func:`named_optimizers` builds one for every named optimizer exported by :mod:`lib.optim`, so
an optimizer added to the library runs through the protocol unchanged.

>>> from lib import optim
>>> problem = least_squares_problem(kappa=10.0, d=3, n=60, steps=40)
>>> rows = protocol([problem], {"sgd": lambda lr: optim.sgd(lr=lr)}, budget=3, seeds=2,
...                 lr_range=(1e-2, 1.0))
>>> [(r["phase"], r["seed"]) for r in rows][-2:]
[('final', 1), ('final', 2)]
"""

from lib.compare.problems import Problem, Run, least_squares_problem, model_problem, objective_problem
from lib.compare.reports import (
    cost_table,
    performance_profile,
    plot_performance_profile,
    plot_summary,
    summarize,
    to_csv,
)
from lib.compare.tuning import (
    _BLOCK_PREFIXES as _BLOCK_PREFIXES,  # tests check the registry against it
)
from lib.compare.tuning import (
    VARIANTS,
    final_runs,
    lr_grid,
    map_tasks,
    named_optimizers,
    protocol,
    search_space,
    steps_to_target,
    tune,
)

__all__ = [
    "Run",
    "Problem",
    "model_problem",
    "least_squares_problem",
    "objective_problem",
    "named_optimizers",
    "VARIANTS",
    "lr_grid",
    "search_space",
    "steps_to_target",
    "tune",
    "final_runs",
    "protocol",
    "map_tasks",
    "summarize",
    "to_csv",
    "cost_table",
    "performance_profile",
    "plot_summary",
    "plot_performance_profile",
]
