r"""Learning-rate schedules as pure functions of the update index (chapter 07).

Every schedule is a :class:`Schedule`: a callable ``f(t) -> lr`` of the 0-based update index
``t`` (the first update uses ``f(0)``), with no hidden counter, so ``f(37)`` is the same number
however often and in whatever order it is asked. It can be passed as any ``lr`` argument in
:mod:`lib.optim`. Names and arguments are ``torch.optim.lr_scheduler``'s in snake case, with the
optimizer's learning rate (``base_lr`` or ``max_lr``) first; the values equal what torch 2.13
writes into ``param_group["lr"]`` before update ``t`` when ``scheduler.step()`` follows every
``optimizer.step()`` (checked against recorded golden data).

:func:`reduce_lr_on_plateau` is the exception: its learning rate depends on the losses seen so
far, not on ``t``, so it is a small object fed the validation loss.
"""

from lib.schedules.base import Schedule
from lib.schedules.composite import (
    sequential_lr,
    warmup_stable_decay,
)
from lib.schedules.plateau import (
    ReduceLROnPlateau,
    reduce_lr_on_plateau,
)
from lib.schedules.standard import (
    constant_lr,
    cosine_annealing_lr,
    cosine_annealing_warm_restarts,
    cyclic_lr,
    exponential_lr,
    lambda_lr,
    linear_lr,
    multi_step_lr,
    one_cycle_lr,
    polynomial_lr,
    sgdr_position,
    step_lr,
)
from lib.schedules.tools import (
    lr_range_test,
    plot_schedule,
    schedule_values,
)

__all__ = [
    "Schedule",
    "constant_lr",
    "step_lr",
    "multi_step_lr",
    "exponential_lr",
    "cosine_annealing_lr",
    "sgdr_position",
    "cosine_annealing_warm_restarts",
    "linear_lr",
    "polynomial_lr",
    "lambda_lr",
    "one_cycle_lr",
    "cyclic_lr",
    "sequential_lr",
    "warmup_stable_decay",
    "ReduceLROnPlateau",
    "reduce_lr_on_plateau",
    "schedule_values",
    "plot_schedule",
    "lr_range_test",
]
