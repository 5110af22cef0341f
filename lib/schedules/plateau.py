"""ReduceLROnPlateau: the one schedule that is not a function of the step."""

from __future__ import annotations

import math

from lib.schedules.base import _int, _lr

__all__ = ["ReduceLROnPlateau", "reduce_lr_on_plateau"]


class ReduceLROnPlateau:
    r"""Divide the learning rate by ``1/factor`` when the monitored loss stops improving.

    Not a function of the step: the rate after ``t`` epochs depends on the losses seen so far,
    so it keeps state (``best``, ``num_bad_epochs``, ``cooldown_counter``, ``lr``) and is fed
    ``step(loss)`` once per evaluation. ``plateau(t)`` answers the current rate for any ``t``
    so it can be passed as an ``lr`` argument.

    .. math:: \eta \leftarrow \max(\phi\,\eta, \eta_{\min}) \text{ after more than
              \texttt{patience} evaluations without improvement}

    torch: ``ReduceLROnPlateau(opt, mode, factor, patience, threshold, threshold_mode,
    cooldown, min_lr, eps)``; optax: ``contrib.reduce_on_plateau``.
    Reference: :cite:t:`bottou2018optimization`.
    """

    def __init__(
        self,
        lr: float,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
    ):
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        if mode not in ("min", "max"):
            raise ValueError(f"mode {mode} is unknown!")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold mode {threshold_mode} is unknown!")
        self.lr, self.mode, self.factor = _lr(lr, "lr"), mode, float(factor)
        self.patience, self.cooldown = _int("patience", patience), _int("cooldown", cooldown)
        self.threshold, self.threshold_mode = float(threshold), threshold_mode
        self.min_lr, self.eps = float(min_lr), float(eps)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = self.last_epoch = 0

    def _is_better(self, a: float) -> bool:
        best, th = self.best, self.threshold
        if self.mode == "min":
            return a < best * (1.0 - th) if self.threshold_mode == "rel" else a < best - th
        return a > best * (th + 1.0) if self.threshold_mode == "rel" else a > best + th

    def step(self, metrics: float) -> float:
        """Feed one validation loss; returns the learning rate to use next."""
        current = float(metrics)
        if math.isnan(current):
            raise ValueError("reduce_lr_on_plateau.step got a NaN loss; check the training run")
        self.last_epoch += 1
        if self._is_better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            new_lr = max(self.lr * self.factor, self.min_lr)
            if self.lr - new_lr > self.eps:
                self.lr = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        return self.lr

    def __call__(self, t: int = 0) -> float:
        return self.lr


def reduce_lr_on_plateau(lr: float, **kwargs) -> ReduceLROnPlateau:
    """A :class:`ReduceLROnPlateau` (torch: ``ReduceLROnPlateau``; optax:
    ``contrib.reduce_on_plateau``). Reference: :cite:t:`bottou2018optimization`.

    .. math:: \\eta \\leftarrow \\max(\\phi\\,\\eta, \\eta_{\\min}) \\text{ on a plateau}
    """
    return ReduceLROnPlateau(lr, **kwargs)
