r"""Early stopping: stop training when the validation loss stops improving, keep the best epoch.

After every epoch the monitored quantity :math:`v_e` (by default the validation loss) is
compared with the best so far; epoch :math:`e` is an *improvement* when

.. math:: v_e < v_{\text{best}} - \delta \quad(\text{mode "min"}), \qquad
          v_e > v_{\text{best}} + \delta \quad(\text{mode "max"}),

with :math:`\delta` = ``min_delta``. Training stops once ``patience`` epochs in a row bring
no improvement, and with ``restore_best`` the parameters (and batch-norm statistics) of the
best epoch are returned instead of the last ones :cite:p:`prechelt1998early`. On a quadratic,
stopping gradient descent after :math:`t` steps acts like an L2 penalty of strength about
:math:`1/(\eta t)` (chapter 8, :cite:t:`goodfellow2016deep` §7.8).

:class:`EarlyStopping` is the configuration passed to :func:`lib.train.train`;
:func:`early_stopping_update` is the pure rule it applies after each epoch. Keras:
``keras.callbacks.EarlyStopping(monitor="val_loss", min_delta, patience,
restore_best_weights=True)``; PyTorch Lightning: ``EarlyStopping(monitor, min_delta,
patience, mode)``; plain torch has none (a loop keeps ``best_state = copy.deepcopy(model.state_dict())``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real
from typing import NamedTuple

__all__ = ["EarlyStopping", "EarlyStoppingState", "EarlyStoppingMonitor", "early_stopping_update", "MONITORS"]

MONITORS = {"val_loss": "min", "val_acc": "max", "train_loss": "min", "train_acc": "max"}


@dataclass(frozen=True)
class EarlyStopping:
    r"""How :func:`lib.train.train` stops early: after ``patience`` epochs in a row whose
    ``monitor`` (``"val_loss"``, ``"val_acc"``, ``"train_loss"`` or ``"train_acc"``) did not
    improve on the best by more than ``min_delta`` (see :func:`early_stopping_update`); with
    ``restore_best`` the run returns the parameters of the best epoch. Keras:
    ``EarlyStopping(monitor="val_loss", min_delta=0, patience=5, restore_best_weights=True)``
    :cite:p:`prechelt1998early`.

    >>> EarlyStopping(patience=3).mode
    'min'
    """

    patience: int = 5
    min_delta: float = 0.0
    monitor: str = "val_loss"
    restore_best: bool = True

    def __post_init__(self):
        if isinstance(self.patience, bool) or not isinstance(self.patience, Integral) or self.patience < 1:
            raise ValueError(f"patience must be an integer >= 1 (epochs without improvement), got {self.patience!r}")
        if (
            isinstance(self.min_delta, bool)
            or not isinstance(self.min_delta, Real)
            or not (math.isfinite(self.min_delta) and self.min_delta >= 0)
        ):
            raise ValueError(f"min_delta must be a finite number >= 0, got {self.min_delta!r}")
        if self.monitor not in MONITORS:
            raise ValueError(f"monitor must be one of {sorted(MONITORS)}, got {self.monitor!r}")

    @property
    def mode(self) -> str:
        """``"min"`` for a loss, ``"max"`` for an accuracy."""
        return MONITORS[self.monitor]


class EarlyStoppingState(NamedTuple):
    """``best`` value so far, the ``best_epoch`` (1-based, 0 before the first epoch) and ``wait``,
    the number of epochs since it."""

    best: float = math.nan
    best_epoch: int = 0
    wait: int = 0


def early_stopping_update(
    rule: EarlyStopping, state: EarlyStoppingState, value: float, epoch: int
) -> tuple[EarlyStoppingState, bool, bool]:
    r"""Apply the rule after epoch ``epoch`` (1-based) whose monitored value is ``value``.

    .. math:: \text{improved} = [v < v_{\text{best}} - \delta] \ (\text{"min"}), \qquad
              \text{wait} \leftarrow 0 \text{ if improved else wait} + 1, \qquad
              \text{stop} = [\text{wait} \ge \text{patience}]

    The first finite value is always an improvement; a NaN never is. Returns ``(state,
    improved, stop)``. Keras: ``EarlyStopping.on_epoch_end``; Lightning:
    ``EarlyStopping._evaluate_stopping_criteria`` :cite:p:`prechelt1998early`.

    >>> rule, s = EarlyStopping(patience=2), EarlyStoppingState()
    >>> for e, v in enumerate([1.0, 0.8, 0.9, 0.85], start=1):
    ...     s, improved, stop = early_stopping_update(rule, s, v, e)
    >>> s.best_epoch, stop
    (2, True)
    """
    if not isinstance(rule, EarlyStopping):
        raise TypeError(f"rule must be an EarlyStopping, got {type(rule).__name__}")
    value = float(value)
    if math.isnan(state.best):
        improved = not math.isnan(value)
    elif rule.mode == "min":
        improved = value < state.best - rule.min_delta
    else:
        improved = value > state.best + rule.min_delta
    if improved:
        state = EarlyStoppingState(value, int(epoch), 0)
    else:
        state = state._replace(wait=state.wait + 1)
    return state, improved, state.wait >= rule.patience


class EarlyStoppingMonitor:
    """The bookkeeping :func:`lib.train.train` does with an :class:`EarlyStopping` rule: apply
    :func:`early_stopping_update` after each epoch, keep the best parameters (and the model's
    batch-norm statistics, if it has any), and say why the run stopped."""

    def __init__(self, rule: EarlyStopping, has_val: bool):
        if not isinstance(rule, EarlyStopping):
            raise TypeError(
                "early_stopping must be a lib.early_stopping.EarlyStopping, e.g. "
                f"EarlyStopping(patience=5), got {type(rule).__name__}"
            )
        if rule.monitor.startswith("val") and not has_val:
            raise ValueError(
                f"early stopping monitors {rule.monitor!r} but no val data was given: "
                "pass val=(X_val, y_val) or monitor='train_loss'"
            )
        self.rule, self.state = rule, EarlyStoppingState()
        self.best_params, self.best_buffers = None, None
        self.stopped_epoch = 0

    def after_epoch(self, epoch: int, metrics: dict, params, model) -> bool:
        """Record epoch ``epoch`` (1-based) with ``metrics[monitor]``; True means stop now."""
        self.state, improved, stop = early_stopping_update(self.rule, self.state, metrics[self.rule.monitor], epoch)
        if improved:
            self.best_params = params  # updates never modify arrays in place
            if getattr(model, "state", None) is not None:
                self.best_buffers = model.state.snapshot()
        if stop:
            self.stopped_epoch = epoch
        return stop

    def finish(self, params, model):
        """The parameters to return: the best ones with ``restore_best`` (buffers restored too)."""
        if not self.rule.restore_best or self.best_params is None:
            return params
        if self.best_buffers is not None:
            model.state.restore(self.best_buffers)
        return self.best_params

    def message(self) -> str:
        """Why the run stopped, in a sentence."""
        r, s = self.rule, self.state
        text = (
            f"stopped early after epoch {self.stopped_epoch}: {r.monitor} did not improve by more than "
            f"{r.min_delta:g} for {r.patience} epoch{'s' if r.patience != 1 else ''} "
            f"(best {s.best:.4g} at epoch {s.best_epoch})"
        )
        if r.restore_best:
            text += f"; restored the parameters of epoch {s.best_epoch}"
        return text
