"""Optimizers as composable gradient transformations (COURSE.md §1).

The contract every optimizer follows::

    tx = lib.optim.sgd(lr=0.1, momentum=0.9)
    state = tx.init(params)
    updates, state = tx.update(grads, state, params)
    params = lib.optim.apply_updates(params, updates)

Named optimizers use PyTorch's hyperparameter names and defaults and reproduce
``torch.optim`` step for step (``optax`` where torch has none); the building blocks follow optax.

One module per family, each the home of one chapter's methods:

=========================  ==================================================================  =======
module                     what                                                                chapter
=========================  ==================================================================  =======
``base``                   ``GradientTransformation``, ``chain``, ``apply_updates``, ``run``    01
``transforms``             ``scale_by_learning_rate`` (the one sign flip), ``add_decayed_weights``,  01, 04
                           ``trace`` (momentum)
``sgd``                    ``sgd`` (momentum, dampening, Nesterov, weight decay)               01, 04
``adaptive``               ``scale_by_adagrad`` … ``scale_by_radam``: the scalings             05
``adaptive_optimizers``    ``adagrad``, ``rmsprop``, ``adam``, ``adamw``, ``adamax``, ``nadam``,   05, 06
                           ``radam``, ``adabelief``
``masking``                masks for weight decay                                              06
``clipping``, ``schedule_free``  gradient clipping; schedule-free SGD and AdamW                 07
``proximal``               the L1 proximal step                                                08
``large_batch``, ``accumulation``  LARS, LAMB, trust ratios; gradient accumulation              09
``adadelta``, ``adafactor``, ``lion``, ``muon``, ``partition``  beyond Adam; per-label transforms  11
=========================  ==================================================================  =======

Second-order methods are not gradient transformations and live in :mod:`lib.second_order`;
schedules (``step -> lr`` functions any ``lr`` accepts) in :mod:`lib.schedules`.
"""

# chapter 09: large-batch training
from lib.optim.accumulation import MultiStepsState, has_updated, multi_steps, split_batch

# chapter 11: beyond Adam
from lib.optim.adadelta import ScaleByAdadeltaState, adadelta
from lib.optim.adafactor import AdafactorState, adafactor, factored_second_moment
from lib.optim.adaptive import (
    ScaleByAdagradState,
    ScaleByAdamaxState,
    ScaleByAdamState,
    ScaleByBeliefState,
    ScaleByNadamState,
    ScaleByRadamState,
    ScaleByRmsState,
    scale_by_adagrad,
    scale_by_adam,
    scale_by_adamax,
    scale_by_belief,
    scale_by_nadam,
    scale_by_radam,
    scale_by_rms,
)
from lib.optim.adaptive_optimizers import adabelief, adagrad, adam, adamax, adamw, nadam, radam, rmsprop
from lib.optim.base import GradientTransformation, apply_updates, chain, check_grads, identity, run

# chapter 07: clipping
from lib.optim.clipping import (
    clip,
    clip_by_block_rms,
    clip_by_global_norm,
    clip_grad_norm_,
    clip_grad_value_,
    global_norm,
)
from lib.optim.large_batch import lamb, lars, scale_by_trust_ratio, trust_ratio
from lib.optim.lion import ScaleByLionState, add_masked_decayed_weights, lion, scale_by_lion

# chapter 06: weight decay and AdamW
from lib.optim.masking import mask_to_param_groups, resolve_mask, weight_decay_mask
from lib.optim.muon import MuonState, adjust_lr, matrix_labels, muon, muon_with_adamw, newton_schulz
from lib.optim.partition import PartitionState, multi_transform, partition

# chapter 08: L1 by a proximal step or a subgradient
from lib.optim.proximal import (
    AddL1ProxState,
    add_l1_prox,
    add_l1_subgradient,
    l1_subgradient_sgd,
    proximal_sgd,
    soft_threshold,
)
from lib.optim.schedule_free import (
    ScheduleFreeState,
    schedule_free_adamw,
    schedule_free_eval_params,
    schedule_free_sgd,
)
from lib.optim.sgd import sgd
from lib.optim.shampoo import ShampooStats, matrix_power_psd, shampoo_accumulate, shampoo_precondition
from lib.optim.transforms import (
    ScaleByLearningRateState,
    TraceState,
    add_decayed_weights,
    learning_rate_at,
    scale_by_learning_rate,
    trace,
)

__all__ = [
    "GradientTransformation",
    "chain",
    "identity",
    "apply_updates",
    "check_grads",
    "run",
    "scale_by_learning_rate",
    "add_decayed_weights",
    "trace",
    "learning_rate_at",
    "ScaleByLearningRateState",
    "TraceState",
    "sgd",
    # chapter 05: adaptive methods
    "scale_by_adagrad",
    "scale_by_rms",
    "scale_by_adam",
    "scale_by_adamax",
    "scale_by_nadam",
    "scale_by_radam",
    "scale_by_belief",
    "ScaleByAdagradState",
    "ScaleByRmsState",
    "ScaleByAdamState",
    "ScaleByAdamaxState",
    "ScaleByNadamState",
    "ScaleByRadamState",
    "ScaleByBeliefState",
    "adagrad",
    "rmsprop",
    "adam",
    "adamw",
    "adamax",
    "nadam",
    "radam",
    "adabelief",
    # chapter 08: L1 regularization
    "soft_threshold",
    "add_l1_prox",
    "add_l1_subgradient",
    "proximal_sgd",
    "l1_subgradient_sgd",
    "AddL1ProxState",
    # chapter 09: large-batch training
    "scale_by_trust_ratio",
    "trust_ratio",
    "lars",
    "lamb",
    "multi_steps",
    "MultiStepsState",
    "has_updated",
    "split_batch",
    # chapter 06: weight decay and AdamW
    "resolve_mask",
    "weight_decay_mask",
    "mask_to_param_groups",
    # chapter 11: beyond Adam
    "adadelta",
    "ScaleByAdadeltaState",
    "adafactor",
    "AdafactorState",
    "factored_second_moment",
    "lion",
    "scale_by_lion",
    "ScaleByLionState",
    "add_masked_decayed_weights",
    "muon",
    "MuonState",
    "newton_schulz",
    "adjust_lr",
    "matrix_labels",
    "muon_with_adamw",
    "partition",
    "multi_transform",
    "PartitionState",
    "shampoo_precondition",
    "shampoo_accumulate",
    "matrix_power_psd",
    "ShampooStats",
    # chapter 07: clipping
    "clip_by_global_norm",
    "clip",
    "clip_by_block_rms",
    "clip_grad_norm_",
    "clip_grad_value_",
    "global_norm",
    "schedule_free_sgd",
    "schedule_free_adamw",
    "schedule_free_eval_params",
    "ScheduleFreeState",
]
