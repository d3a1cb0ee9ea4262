"""`RunRecorder`: writes a run's metrics and a checkpoint after every epoch, atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_write_text
from .._xp import to_numpy
from ..nn import save_model
from ..train import Callback, TrainingState
from .rundir import write_json

METRICS_CSV = "metrics.csv"
METRICS_JSON = "metrics.json"
MODEL_FILE = "model.npz"


class RunRecorder(Callback):
    """After each epoch: ``metrics.csv`` and ``metrics.json`` (the History so far) and ``model.npz``.

    The model is saved only while every parameter is finite, so after a divergence ``model.npz`` still holds
    the last good epoch's weights. Each file is replaced atomically: a crash leaves the previous version.
    """

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.checkpoint_epoch: int | None = None

    def on_epoch_end(self, state: TrainingState, epoch: int, logs: dict[str, Any]) -> None:
        self._write_history(state)
        if not state.history.diverged and _finite(state):  # a diverged epoch's weights were given back
            save_model(state.model, self.run_dir / MODEL_FILE)
            self.checkpoint_epoch = epoch

    def on_train_end(self, state: TrainingState) -> None:
        self._write_history(state)  # picks up stop_reason and restored weights
        if _finite(state):
            save_model(state.model, self.run_dir / MODEL_FILE)

    def _write_history(self, state: TrainingState) -> None:
        history = state.history
        if state.stop_reason and history.stop_reason is None:
            history.stop_reason = state.stop_reason
        atomic_write_text(self.run_dir / METRICS_CSV, history.to_csv())
        write_json(self.run_dir / METRICS_JSON, history.to_dict())


def _finite(state: TrainingState) -> bool:
    return all(np.isfinite(to_numpy(p.value)).all() for p in state.model.parameters())
