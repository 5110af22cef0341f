"""Optimizers as composable gradient transformations (COURSE.md §1).

The contract every optimizer follows::

    tx = lib.optim.sgd(lr=0.1, momentum=0.9)
    state = tx.init(params)
    updates, state = tx.update(grads, state, params)
    params = lib.optim.apply_updates(params, updates)

Named optimizers use PyTorch's hyperparameter names and defaults and reproduce
``torch.optim`` step for step; the building blocks follow optax.
"""

from lib.optim.base import GradientTransformation, apply_updates, chain, check_grads, identity, run
from lib.optim.adaptive import (
    ScaleByAdagradState, ScaleByAdamaxState, ScaleByAdamState, ScaleByBeliefState, ScaleByNadamState,
    ScaleByRadamState, ScaleByRmsState, scale_by_adagrad, scale_by_adam, scale_by_adamax, scale_by_belief,
    scale_by_nadam, scale_by_radam, scale_by_rms,
)
from lib.optim.adaptive_optimizers import adabelief, adagrad, adam, adamax, adamw, nadam, radam, rmsprop
from lib.optim.sgd import sgd
# chapter 07: clipping
from lib.optim.clipping import (
    clip, clip_by_block_rms, clip_by_global_norm, clip_grad_norm_, clip_grad_value_, global_norm,
)
from lib.optim.schedule_free import (
    ScheduleFreeState, schedule_free_adamw, schedule_free_eval_params, schedule_free_sgd,
)
from lib.optim.transforms import (
    ScaleByLearningRateState, TraceState, add_decayed_weights, learning_rate_at,
    scale_by_learning_rate, trace,
)

__all__ = [
    "GradientTransformation", "chain", "identity", "apply_updates", "check_grads", "run",
    "scale_by_learning_rate", "add_decayed_weights", "trace", "learning_rate_at",
    "ScaleByLearningRateState", "TraceState", "sgd",
    # chapter 05: adaptive methods
    "scale_by_adagrad", "scale_by_rms", "scale_by_adam", "scale_by_adamax", "scale_by_nadam",
    "scale_by_radam", "scale_by_belief",
    "ScaleByAdagradState", "ScaleByRmsState", "ScaleByAdamState", "ScaleByAdamaxState",
    "ScaleByNadamState", "ScaleByRadamState", "ScaleByBeliefState",
    "adagrad", "rmsprop", "adam", "adamw", "adamax", "nadam", "radam", "adabelief",
    # chapter 07: clipping
    "clip_by_global_norm", "clip", "clip_by_block_rms", "clip_grad_norm_", "clip_grad_value_",
    "global_norm",
    "schedule_free_sgd", "schedule_free_adamw", "schedule_free_eval_params", "ScheduleFreeState",
]
