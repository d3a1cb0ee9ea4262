"""Checkpoints: everything `fit` needs to continue a run as if it had never stopped.

A `TrainingSnapshot` holds the parameters, the optimizer's state (learning rate, step count, momentum or Adam
moments), the state of every random generator (the shuffling generator of `fit` as it was before the current
epoch's permutation, each module's own, e.g. Dropout's, and the training-batch augmentation's), the `History`
so far, each callback's ``state_dict()``, `TrainingState.extra`, the engine, and the position: the epoch to
continue in, the steps of it already taken and the sum of their batch losses, and the batch losses not yet
recorded as a point of ``History.batch_losses`` (their sum and count). ``fit(..., resume=snapshot)`` restores
all of it and continues, so the final weights, History and metrics are bit-identical to those of an uninterrupted run.

On disk a snapshot is one ``.npz`` (no pickles): every array under ``a0``, ``a1``, ..., and the rest as JSON in
``meta.json`` with ``{"__array__": "a3"}`` where an array was. `Checkpoint` writes it atomically.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_write
from .._xp import to_numpy
from ..errors import BackproplabError
from .callbacks import Callback, Position, TrainingState
from .history import History

FORMAT = "backproplab-checkpoint"
VERSION = 1
_META = "meta.json"
# fit settings a resumed run must repeat exactly
FIT_KEYS = ("epochs", "batch_size", "shuffle", "seed", "train_size", "iterations", "loss_every", "augment")
# ... of which checkpoints written before they existed lack these (such a checkpoint is compared without them)
LATER_FIT_KEYS = ("iterations", "loss_every", "augment")


class CheckpointError(BackproplabError):
    """A checkpoint cannot be read, or does not fit the run it is asked to resume."""


@dataclass
class TrainingSnapshot:
    """The state of a `fit` run at a step boundary (see the module docstring)."""

    position: Position
    model: dict[str, np.ndarray]
    optimizer: dict[str, Any]
    module_rngs: list[dict[str, Any] | None]
    history: dict[str, Any]
    callbacks: list[dict[str, Any]]
    extra: dict[str, Any]
    engine: str
    stop_training: bool = False
    stop_reason: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    augment: dict[str, Any] | None = None  # the augmentation's state_dict() (its generators), if the run has one

    @property
    def epoch(self) -> int:
        """The epoch training continues in (1-based; ``epochs + 1`` when every epoch is done)."""
        return self.position.epoch

    @property
    def completed_epochs(self) -> int:
        return len(self.history.get("epochs", []))

    def __repr__(self) -> str:
        return (
            f"TrainingSnapshot(continues in epoch {self.epoch} after step {self.position.step}, engine "
            f"{self.engine!r}, {self.completed_epochs} complete epoch(s))"
        )

    # -- capture and restore --------------------------------------------------------------------------------
    @classmethod
    def capture(cls, state: TrainingState, meta: Mapping[str, Any] | None = None) -> TrainingSnapshot:
        """The snapshot of ``state`` at ``state.position`` (set by `fit` after each epoch and on a stop)."""
        if state.position is None:
            raise CheckpointError("no step boundary to checkpoint yet (fit sets TrainingState.position)")
        return cls(
            position=state.position,
            model={name: to_numpy(value) for name, value in state.model.state_dict().items()},
            optimizer=state.optimizer.state_dict(),
            module_rngs=[_rng_state(getattr(m, "rng", None)) for m in state.model.modules()],
            history=copy.deepcopy(state.history.to_dict()),
            callbacks=[{"type": type(cb).__name__, "state": cb.state_dict()} for cb in state.callbacks],
            extra=dict(state.extra),
            engine=state.history.engine,
            stop_training=state.stop_training,
            stop_reason=state.stop_reason,
            meta=dict(meta or {}),
            augment=copy.deepcopy(state.augment.state_dict()) if state.augment is not None else None,
        )

    def check_fits(self, fit_params: Mapping[str, Any], engine: str, callbacks: list[Callback]) -> None:
        """Raise `CheckpointError` naming every difference between this snapshot's run and the one resuming."""
        saved = self.history.get("params", {})
        diffs = [
            f"{k}: checkpoint {saved.get(k)!r}, now {fit_params.get(k)!r}"
            for k in FIT_KEYS
            if saved.get(k) != fit_params.get(k) and (k in saved or k not in LATER_FIT_KEYS)
        ]
        if engine != self.engine:
            diffs.append(f"engine: checkpoint {self.engine!r}, now {engine!r}")
        names = [type(cb).__name__ for cb in callbacks]
        if names != [c["type"] for c in self.callbacks]:
            diffs.append(f"callbacks: checkpoint {[c['type'] for c in self.callbacks]}, now {names}")
        if diffs:
            raise CheckpointError(
                "the checkpoint was written by a different run, so resuming it would not "
                "continue that run: " + "; ".join(diffs)
            )

    def restore(self, state: TrainingState) -> Position:
        """Put the snapshot into ``state`` (model, optimizer, generators, History, callbacks) and return where
        training continues. The History object and the generators are updated in place."""
        state.model.load_state_dict(self.model)
        state.optimizer.load_state_dict(self.optimizer)
        modules = list(state.model.modules())
        if len(modules) != len(self.module_rngs):
            raise CheckpointError(f"the checkpoint has {len(self.module_rngs)} modules; this model has {len(modules)}")
        for module, saved in zip(modules, self.module_rngs, strict=True):
            _set_rng_state(getattr(module, "rng", None), saved)
        if (state.augment is None) != (self.augment is None):
            raise CheckpointError(
                f"the checkpoint was written by a run {'with' if self.augment else 'without'} a "
                f"training-batch augmentation; this run has {state.augment or 'none'}"
            )
        if state.augment is not None:
            state.augment.load_state_dict(copy.deepcopy(self.augment))
        restored = History.from_dict(self.history)
        state.history.__dict__.update(restored.__dict__)
        state.history.interrupted = False  # this run goes on
        for cb, saved in zip(state.callbacks, self.callbacks, strict=True):
            cb.load_state_dict(saved["state"])
        state.extra.clear()
        state.extra.update(self.extra)
        if state.shuffle_rng is not None:
            state.shuffle_rng.bit_generator.state = self.position.shuffle_state
        state.stop_training, state.stop_reason = self.stop_training, self.stop_reason
        state.position = self.position
        return self.position

    # -- files ----------------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the snapshot to ``path`` atomically (a reader sees the previous checkpoint or this one)."""
        arrays: dict[str, np.ndarray] = {}
        meta = {
            "format": FORMAT,
            "version": VERSION,
            "engine": self.engine,
            "position": vars(self.position),
            "stop_training": self.stop_training,
            "stop_reason": self.stop_reason,
            "model": self.model,
            "optimizer": self.optimizer,
            "module_rngs": self.module_rngs,
            "history": self.history,
            "callbacks": self.callbacks,
            "extra": self.extra,
            "meta": self.meta,
            "augment": self.augment,
        }
        text = json.dumps(_encode(meta, arrays), allow_nan=True)
        arrays[_META] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
        return atomic_write(path, lambda fh: np.savez(fh, **arrays))

    @classmethod
    def load(cls, path: str | Path) -> TrainingSnapshot:
        """Read a snapshot written by `save`; `CheckpointError` (naming the file) if it cannot be."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
            meta = json.loads(arrays.pop(_META).tobytes().decode("utf-8"))
        except FileNotFoundError:
            raise CheckpointError(f"{path}: no checkpoint there") from None
        except Exception as exc:  # a damaged file: zipfile.BadZipFile, ValueError, KeyError, EOFError ...
            raise CheckpointError(f"{path}: not a readable checkpoint ({type(exc).__name__}: {exc})") from None
        if meta.get("format") != FORMAT or meta.get("version") != VERSION:
            raise CheckpointError(
                f"{path}: not a {FORMAT} file of version {VERSION} "
                f"(found {meta.get('format')!r} version {meta.get('version')!r})"
            )
        meta = _decode(meta, arrays)
        return cls(
            position=Position(**meta["position"]),
            model=meta["model"],
            optimizer=meta["optimizer"],
            module_rngs=meta["module_rngs"],
            history=meta["history"],
            callbacks=meta["callbacks"],
            extra=meta["extra"],
            engine=meta["engine"],
            stop_training=meta["stop_training"],
            stop_reason=meta["stop_reason"],
            meta=meta["meta"],
            augment=meta.get("augment"),
        )


class Checkpoint(Callback):
    """Write a `TrainingSnapshot` to ``path`` after every ``every_epochs`` epochs (0: never; at most once every
    ``min_seconds`` seconds) and whenever training is stopped by a stop request (Ctrl-C, SIGTERM).

    It runs after the other callbacks (``runs_last``), so their end-of-epoch state (e.g. early stopping's
    patience) is part of the snapshot. ``meta()`` (optional) adds a JSON-able dict of the caller's own
    bookkeeping to each snapshot. Resume with ``fit(..., resume=TrainingSnapshot.load(path))``.
    """

    runs_last = True

    def __init__(
        self,
        path: str | Path,
        every_epochs: int = 1,
        min_seconds: float = 0.0,
        meta: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        if int(every_epochs) < 0:
            raise ValueError(f"Checkpoint every_epochs must be >= 0 (0: only when stopped); got {every_epochs}")
        if not min_seconds >= 0:
            raise ValueError(f"Checkpoint min_seconds must be >= 0; got {min_seconds}")
        self.path = Path(path)
        self.every_epochs = int(every_epochs)
        self.min_seconds = float(min_seconds)
        self.meta = meta
        self.written_epoch: int | None = None  # completed epochs in the last snapshot written
        self._last_write = time.monotonic()

    def on_train_begin(self, state: TrainingState) -> None:
        self._last_write = time.monotonic()

    def on_epoch_end(self, state: TrainingState, epoch: int, logs: dict[str, Any]) -> None:
        due = (
            self.every_epochs > 0
            and epoch % self.every_epochs == 0
            and time.monotonic() - self._last_write >= self.min_seconds
        )
        if due:
            self.write(state)

    def on_interrupt(self, state: TrainingState) -> None:
        self.write(state)

    def write(self, state: TrainingState) -> Path:
        TrainingSnapshot.capture(state, self.meta() if self.meta else None).save(self.path)
        self.written_epoch = len(state.history)
        self._last_write = time.monotonic()
        return self.path


# ---------------------------------------------------------------- random generators


def _rng_state(rng: Any) -> dict[str, Any] | None:
    if isinstance(rng, np.random.Generator):
        return {"kind": "generator", "state": rng.bit_generator.state}
    if isinstance(rng, np.random.RandomState):
        return {"kind": "legacy", "state": rng.get_state(legacy=False)}
    return None


def _set_rng_state(rng: Any, saved: dict[str, Any] | None) -> None:
    if saved is None and _rng_state(rng) is None:
        return
    if saved is None or _rng_state(rng) is None or saved["kind"] != _rng_state(rng)["kind"]:
        raise CheckpointError("the checkpoint's random generators do not match this model's modules")
    if saved["kind"] == "generator":
        rng.bit_generator.state = saved["state"]
    else:
        rng.set_state(saved["state"])


# ---------------------------------------------------------------- JSON with arrays beside it


def _encode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    """``value`` with every array replaced by ``{"__array__": key}`` (the array stored in ``arrays[key]``)."""
    if isinstance(value, np.ndarray):
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {"__array__": key}
    if isinstance(value, Mapping):
        return {str(k): _encode(v, arrays) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v, arrays) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _decode(value: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__array__"}:
            try:
                return arrays[value["__array__"]]
            except KeyError:
                raise CheckpointError(f"the checkpoint lacks array {value['__array__']!r}") from None
        return {k: _decode(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    return value
