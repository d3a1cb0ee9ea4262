"""Callbacks: hooks `fit` calls at the start and end of training and of every epoch (Keras-style)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._xp import to_numpy

if TYPE_CHECKING:
    from ..nn.losses import Loss
    from ..nn.module import Module
    from ..optim.optimizer import Optimizer
    from .history import History


@dataclass
class Position:
    """Where training continues: in ``epoch`` (1-based), after ``step`` of its steps, whose batch losses sum to
    ``loss_total``; ``shuffle_state`` is the shuffling generator's state before that epoch's permutation, and
    ``seconds`` the training time already spent in that epoch. ``window_loss`` and ``window_steps`` are the sum
    and count of the batch losses not yet recorded in ``History.batch_losses`` (`batch_losses.BatchLossLog`)."""

    epoch: int
    step: int = 0
    loss_total: float = 0.0
    shuffle_state: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    window_loss: float = 0.0
    window_steps: int = 0


@dataclass
class TrainingState:
    """What callbacks can see and change during `fit`. Set ``stop_training = True`` to stop after this epoch.

    ``train_data`` is the training set ``(X, y)`` as fit trains on it (on the model's device when it fits);
    ``bad_batch`` the 1-based batch of the epoch just trained whose loss was NaN or infinite (the epoch stopped
    there, before that batch's update), else None.
    ``position`` (set by `fit` after every epoch and when a stop request stops training mid-epoch) is the step
    boundary a checkpoint taken now would resume from; ``callbacks``, ``shuffle_rng`` and ``augment`` (the
    training-batch augmentation, if any) are `fit`'s own.
    """

    model: Module
    loss: Loss
    optimizer: Optimizer
    history: History
    epochs: int
    stop_training: bool = False
    stop_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    train_data: tuple[Any, Any] | None = None
    bad_batch: int | None = None
    callbacks: list[Callback] = field(default_factory=list)
    shuffle_rng: Any = None
    position: Position | None = None
    augment: Any = None


class Callback:
    """Hooks `fit` calls. Callbacks whose ``runs_last`` is True are called after all others (a checkpoint that
    must see every other callback's end-of-epoch state). ``state_dict()`` / ``load_state_dict()`` carry a
    callback's own state through a checkpoint (arrays allowed); the default has none."""

    runs_last = False

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` returned (called after ``on_train_begin`` when `fit` resumes)."""

    def on_train_begin(self, state: TrainingState) -> None:
        """Before the first epoch."""

    def on_epoch_begin(self, state: TrainingState, epoch: int) -> None:
        """Before epoch ``epoch`` (1-based)."""

    def on_epoch_end(self, state: TrainingState, epoch: int, logs: dict[str, Any]) -> None:
        """After epoch ``epoch`` has been evaluated; ``logs`` is its History record."""

    def on_interrupt(self, state: TrainingState) -> None:
        """Training was stopped by a stop request (Ctrl-C, SIGTERM) at the step boundary ``state.position``;
        called before ``on_train_end``, with the model, optimizer and generators as they are at that boundary."""

    def on_train_end(self, state: TrainingState) -> None:
        """After the last epoch, also when training stopped early, diverged or was interrupted."""


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    ``mode`` is ``min``, ``max`` or ``auto`` (max for accuracies, min otherwise). With
    ``restore_best_weights=True`` the model gets back the parameters of its best epoch when training ends.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        restore_best_weights: bool = False,
        mode: str = "auto",
    ) -> None:
        if patience < 0:
            raise ValueError(f"EarlyStopping patience must be >= 0; got {patience}")
        if min_delta < 0:
            raise ValueError(f"EarlyStopping min_delta must be >= 0; got {min_delta}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping mode: expected 'auto', 'min' or 'max'; got {mode!r}")
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.restore_best_weights = bool(restore_best_weights)
        self.maximize = mode == "max" or (mode == "auto" and monitor.endswith(("acc", "accuracy")))
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.best_state: dict[str, Any] | None = None
        self.wait = 0

    def on_train_begin(self, state: TrainingState) -> None:
        self.best, self.best_epoch, self.best_state, self.wait = None, None, None, 0

    def state_dict(self) -> dict[str, Any]:
        best_state = None if self.best_state is None else {k: to_numpy(v) for k, v in self.best_state.items()}
        return {"best": self.best, "best_epoch": self.best_epoch, "best_state": best_state, "wait": self.wait}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch = state["best"], state["best_epoch"]
        self.best_state, self.wait = state["best_state"], int(state["wait"])

    def _improved(self, value: float) -> bool:
        if self.best is None:
            return True
        if self.maximize:
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta

    def on_epoch_end(self, state: TrainingState, epoch: int, logs: dict[str, Any]) -> None:
        if self.monitor not in logs:
            raise KeyError(
                f"EarlyStopping monitors {self.monitor!r}, which this run does not measure; "
                f"available: {sorted(k for k in logs if k not in ('epoch', 'iteration', 'seconds'))}"
            )
        value = float(logs[self.monitor])
        if math.isfinite(value) and self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_state = state.model.state_dict()
            return
        self.wait += 1
        if self.wait >= self.patience:  # `patience` epochs in a row without improvement (Keras' rule)
            state.stop_training = True
            epochs = f"{self.wait} epoch{'s' if self.wait != 1 else ''}"
            best = "no finite value" if self.best is None else f"best {self.best:.6g} at epoch {self.best_epoch}"
            state.stop_reason = f"early stopping: {self.monitor} did not improve for {epochs} ({best})"

    def on_train_end(self, state: TrainingState) -> None:
        if self.restore_best_weights and self.best_state is not None:
            state.model.load_state_dict(self.best_state)
            state.history.params["restored_epoch"] = self.best_epoch


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=lambda s, e, logs: ...)``."""

    def __init__(
        self, on_train_begin: Any = None, on_epoch_begin: Any = None, on_epoch_end: Any = None, on_train_end: Any = None
    ) -> None:
        self._hooks = {
            "on_train_begin": on_train_begin,
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_end": on_train_end,
        }

    def on_train_begin(self, state: TrainingState) -> None:
        if self._hooks["on_train_begin"]:
            self._hooks["on_train_begin"](state)

    def on_epoch_begin(self, state: TrainingState, epoch: int) -> None:
        if self._hooks["on_epoch_begin"]:
            self._hooks["on_epoch_begin"](state, epoch)

    def on_epoch_end(self, state: TrainingState, epoch: int, logs: dict[str, Any]) -> None:
        if self._hooks["on_epoch_end"]:
            self._hooks["on_epoch_end"](state, epoch, logs)

    def on_train_end(self, state: TrainingState) -> None:
        if self._hooks["on_train_end"]:
            self._hooks["on_train_end"](state)
