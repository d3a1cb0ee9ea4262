"""`TerminateOnDivergence`: stop a run that diverged and give the model back its last finite weights."""

from __future__ import annotations

import math
from typing import Any

from .._xp import namespace, to_numpy
from .callbacks import Callback, TrainingState
from .metrics import evaluate

REFERENCE_ROWS = 1024


class TerminateOnDivergence(Callback):
    """Stop training when it diverges (Keras's ``TerminateOnNaN``, extended); `fit` adds one when none is given.

    After each epoch, training has diverged when
    - a batch loss was NaN or infinite (the epoch stopped before that batch's update),
    - a loss of the epoch's record (``train_loss``, ``test_loss``, ...) is NaN or infinite,
    - (unless ``factor`` is None) the training loss grew to more than ``factor`` times max(1, initial loss), the
      initial loss measured on the first 1024 training examples before the first step (a stable softmax
      cross-entropy stays finite even when the weights explode, so a NaN test alone misses divergence), or
    - a parameter holds NaN or infinite values.
    Then training stops with a message saying which and suggesting a smaller learning rate, ``History.diverged``
    is set, and the model gets back the weights it had before the diverging epoch (the last finite ones).
    """

    def __init__(self, factor: float | None = 1e3) -> None:
        if factor is not None and not factor > 0:
            raise ValueError(f"TerminateOnDivergence factor must be > 0 or None; got {factor}")
        self.factor = factor
        self.reference: float | None = None
        self._before: dict[str, Any] | None = None

    def on_train_begin(self, state: TrainingState) -> None:
        self.reference = None
        if self.factor is not None and state.train_data is not None:
            X, y = state.train_data
            self.reference = evaluate(state.model, state.loss, X[:REFERENCE_ROWS], y[:REFERENCE_ROWS])["loss"]

    def state_dict(self) -> dict[str, Any]:
        """The reference loss and, within an epoch (a checkpoint of an interrupted run), that epoch's starting
        weights."""
        before = None if self._before is None else {k: to_numpy(v) for k, v in self._before.items()}
        return {"reference": self.reference, "before": before}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.reference, self._before = state["reference"], state["before"]

    def on_epoch_begin(self, state: TrainingState, epoch: int) -> None:
        position = state.position
        if position is not None and position.epoch == epoch and position.step and self._before is not None:
            return  # continuing an epoch stopped midway: its starting weights came with the checkpoint
        self._before = state.model.state_dict()

    def on_epoch_end(self, state: TrainingState, epoch: int, logs: dict[str, Any]) -> None:
        reason = self.reason(state, epoch, logs)
        if reason is None:
            self._before = None  # the next epoch takes its own; an end-of-epoch checkpoint need not carry them
            return
        state.history.diverged = True
        state.stop_training, state.stop_reason = True, reason
        if self._before is not None:
            state.model.load_state_dict(self._before)

    def reason(self, state: TrainingState, epoch: int, logs: dict[str, Any]) -> str | None:
        """Why the epoch just ended counts as divergence, or None."""
        lr = logs.get("lr", state.optimizer.lr)
        if state.bad_batch is not None:
            return (
                f"Training diverged: the loss became NaN or infinite at epoch {epoch}, batch {state.bad_batch} "
                f"(learning rate {lr:g}); stopped. Try a smaller learning rate."
            )
        for key, value in logs.items():
            if key.endswith("_loss") and not math.isfinite(value):
                return (
                    f"Training diverged: {key} is {value} after epoch {epoch} (learning rate {lr:g}); stopped. "
                    "Try a smaller learning rate."
                )
        if self.factor is not None and self.reference is not None:
            # The whole-set loss decides; the epoch's batch average (which can spike and recover) only without it.
            key = "train_loss" if "train_loss" in logs else "batch_loss"
            value = logs.get(key)
            if value is not None and value > self.factor * max(self.reference, 1.0):
                return (
                    f"Training diverged: {key} grew to {value:.4g} after epoch {epoch}, more than "
                    f"{self.factor:g} times the initial loss {self.reference:.4g} (learning rate {lr:g}); "
                    "stopped. Try a smaller learning rate."
                )
        for p in state.model.parameters():
            xp = namespace(p.value)
            if not bool(xp.all(xp.isfinite(p.value))):
                return (
                    f"Training diverged: parameter {p.name!r} holds NaN or infinite values after epoch {epoch} "
                    f"(learning rate {lr:g}); stopped."
                )
        return None

    def __repr__(self) -> str:
        return f"TerminateOnDivergence(factor={self.factor})"
