"""`EpochWriter`: writes a run's metrics and model into its run directory after every epoch, atomically, and
tells a `RunObserver`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..._xp import to_numpy
from ...rundir import RunDir
from ...train import Callback, History, TrainingState


class RunObserver(Protocol):
    """Follows a run directory as it is written, e.g. to show the run in an experiment tracker while it trains
    (`backproplab.tracking.LiveRun`). It must not raise, nor make training wait.

    ``run_started``: training starts in ``run_dir`` with the resolved ``config`` (a table);
    ``epoch_recorded``: the run directory now holds ``history`` (after every epoch, and once more at the end);
    ``run_finished``: the directory is complete; `run_experiment` never calls it: its caller does, after what it
    adds (the report).
    """

    def run_started(self, run_dir: Path, config: dict[str, Any]) -> None: ...

    def epoch_recorded(self, history: History) -> None: ...

    def run_finished(self, run_dir: Path) -> None: ...


class EpochWriter(Callback):
    """After each epoch: ``metrics.csv`` and ``metrics.json`` (the History so far) and ``model.npz``, then the
    observer (if any) is told.

    The model is saved only while every parameter is finite, so after a divergence ``model.npz`` still holds
    the last good epoch's weights. Each file is replaced atomically: a crash leaves the previous version.
    """

    def __init__(self, run: RunDir, observer: RunObserver | None = None) -> None:
        self.run = run
        self.observer = observer
        self.checkpoint_epoch: int | None = None

    def on_epoch_end(self, state: TrainingState, epoch: int, logs: dict[str, Any]) -> None:
        self._write_history(state)
        if not state.history.diverged and _finite(state):  # a diverged epoch's weights were given back
            self.run.write_model(state.model)
            self.checkpoint_epoch = epoch
        if self.observer is not None:
            self.observer.epoch_recorded(state.history)

    def on_train_end(self, state: TrainingState) -> None:
        self._write_history(state)  # picks up stop_reason and restored weights
        if _finite(state):
            self.run.write_model(state.model)
        if self.observer is not None:
            self.observer.epoch_recorded(state.history)

    def state_dict(self) -> dict[str, Any]:
        return {"checkpoint_epoch": self.checkpoint_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.checkpoint_epoch = state["checkpoint_epoch"]

    def _write_history(self, state: TrainingState) -> None:
        history = state.history
        if state.stop_reason and history.stop_reason is None:
            history.stop_reason = state.stop_reason
        self.run.write_history(history)


def _finite(state: TrainingState) -> bool:
    return all(np.isfinite(to_numpy(p.value)).all() for p in state.model.parameters())
