"""Run and sweep directories: every file name, and a typed, atomic read and write for each file.

A run directory (``runs/<YYYYmmdd-HHMMSS>-<name>/``)::

    config.toml          the run's config, written first        checkpoint.npz   the training state to resume
    metrics.json, .csv   the History so far, after every epoch  summary.json     written when the run ends:
    model.npz            the weights (last finite epoch)                         status, final metrics, ...
    check.json           checks of the initial model            confusion.json, misclassified.npz
    pca.json             with data.pca_variance: the variance   test_pred.npy    with training.predict: the
                         ratio of every principal component                      predicted class of each test row

``summary.json`` holds ``status``: ``complete``, ``interrupted`` (stopped by Ctrl-C or SIGTERM: resumable),
``diverged`` or ``error``; a directory with ``config.toml`` but no summary is a run that is still going or was
killed (resumable from its checkpoint, if any). A sweep directory holds ``sweep.toml``, ``trials.json/.csv``,
``sweep_summary.json``, and run directories under ``trials/<id>/`` and ``retrain/``.

Every write replaces its file atomically, so a killed process leaves each file whole (old or new). A process
working in a directory holds its ``.lock`` (`backproplab._lock.DirLock`); opening a directory for work also
deletes temporary files that killed writers left behind.
"""

from __future__ import annotations

import json
import os
import re
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ._io import atomic_write, atomic_write_text, is_storage_error, remove_stale_temps
from ._lock import DirLock
from .errors import BackproplabError
from .nn import Sequential, load_model, save_model
from .train.checkpoint import TrainingSnapshot
from .train.history import History

RUNS_ENV = "BACKPROPLAB_RUNS"
COMPLETE, INTERRUPTED, DIVERGED, ERROR = "complete", "interrupted", "diverged", "error"
STATUSES = (COMPLETE, INTERRUPTED, DIVERGED, ERROR)
LOCK_FILE = ".lock"


class RunDirError(BackproplabError):
    """A run or sweep directory is missing a file, holds a damaged one, or cannot be written."""


def default_runs_dir() -> Path:
    return Path(os.environ.get(RUNS_ENV, "runs"))


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "run"


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def write_json(path: Path, data: Any) -> Path:
    return atomic_write_text(path, json.dumps(data, indent=2, default=_jsonable) + "\n")


def read_json(path: Path, what: str = "run") -> Any:
    """The JSON in ``path``; `RunDirError` naming the file when it is missing or damaged."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunDirError(f"{path.parent}: not a finished {what} directory ({path.name} is missing)") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise RunDirError(f"{path}: not valid JSON ({exc})") from None


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunDirError(f"{path}: missing") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RunDirError(f"{path}: not valid TOML ({exc})") from None


class _Directory:
    """What run and sweep directories share: a path, a lock, stale temp files, storage errors."""

    kind = "run"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    def __fspath__(self) -> str:
        return str(self.path)

    def lock(self, timeout: float = 0.0) -> DirLock:
        """The directory's lock (a context manager); `backproplab._lock.LockedError` if another process
        holds it for longer than ``timeout`` seconds."""
        return DirLock(self.path / LOCK_FILE, what=f"{self.kind} directory {self.path}", timeout=timeout)

    def clean(self) -> list[Path]:
        """Delete temporary files that killed writers left in this directory; return them."""
        return remove_stale_temps(self.path)

    def storage_error(self, exc: OSError, doing: str) -> RunDirError:
        """A `RunDirError` for a write the file system refused, saying what the directory holds."""
        kept = self.kept()
        return RunDirError(
            f"could not {doing} in {self.path}: {exc.strerror or exc} [{type(exc).__name__}]. Kept: {kept}"
        )

    def files(self) -> list[Path]:
        """Top-level regular files (no hidden lock or temporaries, no sub-directories), sorted."""
        return sorted(p for p in self.path.iterdir() if p.is_file() and not p.name.startswith("."))

    def _write(self, name: str, write: Callable[[Path], Any]) -> Path:
        """``write(path)`` for the file ``name``; a refused write (disk full, read-only ...) -> `RunDirError`."""
        path = self.path / name
        try:
            write(path)
        except OSError as exc:
            if is_storage_error(exc):
                raise self.storage_error(exc, f"write {name}") from exc
            raise
        return path

    def kept(self) -> str:
        """What this directory holds, in words (for messages after a failure)."""
        try:
            names = sorted(p.name for p in self.path.iterdir() if not p.name.startswith("."))
        except OSError:
            return "nothing (the directory cannot be read)"
        return ", ".join(names) if names else "nothing"


class RunDir(_Directory):
    """A run directory (see the module docstring for its files)."""

    CONFIG = "config.toml"
    SUMMARY = "summary.json"
    METRICS_JSON = "metrics.json"
    METRICS_CSV = "metrics.csv"
    MODEL = "model.npz"
    CHECKPOINT = "checkpoint.npz"
    CHECK = "check.json"
    CONFUSION = "confusion.json"
    MISCLASSIFIED = "misclassified.npz"
    PCA = "pca.json"
    PREDICTIONS = "test_pred.npy"
    REPORT = "report.html"

    # -- creating -------------------------------------------------------------------------------------------
    @classmethod
    def create(cls, runs_dir: str | Path | None, name: str) -> RunDir:
        """A new, empty directory ``<runs_dir>/<YYYYmmdd-HHMMSS>-<name>`` (``-2``, ``-3`` ... if taken)."""
        root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
        try:
            root.mkdir(parents=True, exist_ok=True)
            base = f"{time.strftime('%Y%m%d-%H%M%S')}-{_slug(name)}"
            for i in range(1, 1000):
                path = root / (base if i == 1 else f"{base}-{i}")
                try:
                    path.mkdir()
                    return cls(path)
                except FileExistsError:
                    continue
        except OSError as exc:
            raise RunDirError(
                f"cannot create a run directory under {root}: {exc.strerror or exc} "
                f"[{type(exc).__name__}]; nothing was written. Choose another place with "
                f"--runs-dir or ${RUNS_ENV}."
            ) from None
        raise RunDirError(f"could not create a run directory under {root}")

    @classmethod
    def empty(cls, path: str | Path) -> RunDir:
        """``path`` as a new run directory: created if missing, and it must be empty (a sweep's trial)."""
        run = cls(path)
        try:
            run.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunDirError(f"cannot create the run directory {run.path}: {exc.strerror or exc}") from None
        if any(p.name != LOCK_FILE for p in run.path.iterdir()):
            raise RunDirError(f"run directory {run.path} is not empty; give a new or empty directory")
        return run

    # -- what it is -----------------------------------------------------------------------------------------
    @staticmethod
    def is_run_dir(path: str | Path) -> bool:
        """A run directory that was started (it has ``config.toml``)."""
        return (Path(path) / RunDir.CONFIG).is_file()

    @staticmethod
    def is_finished(path: str | Path) -> bool:
        """A run directory whose run ended (``summary.json``: complete, interrupted, diverged or error)."""
        return (Path(path) / RunDir.SUMMARY).is_file()

    def file(self, name: str) -> Path:
        return self.path / name

    @property
    def model_path(self) -> Path:
        return self.path / self.MODEL

    @property
    def checkpoint_path(self) -> Path:
        return self.path / self.CHECKPOINT

    def has(self, name: str) -> bool:
        return (self.path / name).is_file()

    def status(self) -> str | None:
        """The ``status`` in ``summary.json`` (older summaries: from ``diverged``); None without a summary."""
        if not self.is_finished(self.path):
            return None
        try:
            return summary_status(self.read_summary())
        except RunDirError:
            return None

    # -- reads ----------------------------------------------------------------------------------------------
    def read_config_text(self) -> str:
        path = self.path / self.CONFIG
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise RunDirError(f"{self.path}: not a run directory ({self.CONFIG} is missing)") from None

    def read_config(self) -> dict[str, Any]:
        """``config.toml`` as a mapping (validate it with `backproplab.experiments.parse_config`)."""
        self.read_config_text()
        return read_toml(self.path / self.CONFIG)

    def read_summary(self) -> dict[str, Any]:
        return read_json(self.path / self.SUMMARY)

    def read_metrics(self) -> dict[str, Any]:
        """``metrics.json`` as written (``History.to_dict()``)."""
        return read_json(self.path / self.METRICS_JSON)

    def read_history(self) -> History:
        return History.from_dict(self.read_metrics())

    def read_model(self) -> Sequential:
        return load_model(self.model_path)

    def read_checkpoint(self) -> TrainingSnapshot:
        return TrainingSnapshot.load(self.checkpoint_path)

    def read_check(self) -> dict[str, Any]:
        return read_json(self.path / self.CHECK)

    def read_confusion(self) -> dict[str, Any] | None:
        return read_json(self.path / self.CONFUSION) if self.has(self.CONFUSION) else None

    def read_pca(self) -> dict[str, Any] | None:
        """``pca.json`` (`backproplab.data.PCA.curve`), or None for a run without PCA."""
        return read_json(self.path / self.PCA) if self.has(self.PCA) else None

    def read_predictions(self) -> np.ndarray:
        """``test_pred.npy``: the predicted class of each test row, int64 ``(N,)``."""
        path = self.path / self.PREDICTIONS
        try:
            return np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise RunDirError(
                f"{self.path}: no {self.PREDICTIONS} (run with --predict or training.predict = true)"
            ) from None
        except ValueError as exc:
            raise RunDirError(f"{path}: not a readable .npy array ({exc})") from None

    def read_misclassified(self) -> dict[str, np.ndarray] | None:
        if not self.has(self.MISCLASSIFIED):
            return None
        with np.load(self.path / self.MISCLASSIFIED, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}

    # -- writes (each atomic; a write the file system refuses is a RunDirError saying what is kept) ---------
    def write_config(self, text: str) -> Path:
        return self._write(self.CONFIG, lambda p: atomic_write_text(p, text))

    def write_summary(self, summary: dict[str, Any]) -> Path:
        return self._write(self.SUMMARY, lambda p: write_json(p, summary))

    def write_history(self, history: History) -> None:
        self._write(self.METRICS_CSV, lambda p: atomic_write_text(p, history.to_csv()))
        self._write(self.METRICS_JSON, lambda p: write_json(p, history.to_dict()))

    def write_model(self, model: Any) -> Path:
        return self._write(self.MODEL, lambda p: save_model(model, p))

    def write_checkpoint(self, snapshot: TrainingSnapshot) -> Path:
        return self._write(self.CHECKPOINT, snapshot.save)

    def write_check(self, checks: dict[str, Any]) -> Path:
        return self._write(self.CHECK, lambda p: write_json(p, checks))

    def write_confusion(self, confusion: dict[str, Any]) -> Path:
        return self._write(self.CONFUSION, lambda p: write_json(p, confusion))

    def write_pca(self, curve: dict[str, Any]) -> Path:
        return self._write(self.PCA, lambda p: write_json(p, curve))

    def write_predictions(self, labels: np.ndarray) -> Path:
        return self._write(self.PREDICTIONS, lambda p: atomic_write(p, lambda fh: np.save(fh, labels)))

    def write_misclassified(self, arrays: dict[str, Any]) -> Path:
        return self._write(self.MISCLASSIFIED, lambda p: atomic_write(p, lambda fh: np.savez(fh, **arrays)))

    def remove(self, name: str) -> None:
        (self.path / name).unlink(missing_ok=True)


def summary_status(summary: dict[str, Any]) -> str:
    """A summary's status (summaries written before statuses existed: complete or diverged)."""
    status = summary.get("status")
    if status in STATUSES:
        return str(status)
    return DIVERGED if summary.get("diverged") else COMPLETE


class SweepDir(_Directory):
    """A sweep directory (see the module docstring)."""

    kind = "sweep"
    SPEC = "sweep.toml"
    TRIALS_JSON = "trials.json"
    TRIALS_CSV = "trials.csv"
    SUMMARY = "sweep_summary.json"
    TRIALS = "trials"
    RETRAIN = "retrain"
    REPORT = RunDir.REPORT

    @staticmethod
    def is_sweep_dir(path: str | Path) -> bool:
        """A sweep directory that was started (it has ``sweep.toml``)."""
        return (Path(path) / SweepDir.SPEC).is_file()

    @staticmethod
    def is_finished(path: str | Path) -> bool:
        return (Path(path) / SweepDir.SUMMARY).is_file()

    def trial(self, trial_id: str) -> RunDir:
        return RunDir(self.path / self.TRIALS / trial_id)

    def run(self, rel: str) -> RunDir:
        """The run directory at ``rel`` (``trials/t003``, ``retrain``) inside the sweep."""
        return RunDir(self.path / rel)

    @property
    def retrain(self) -> RunDir:
        return RunDir(self.path / self.RETRAIN)

    def read_spec_text(self) -> str:
        path = self.path / self.SPEC
        return path.read_text(encoding="utf-8") if path.is_file() else ""

    def read_spec(self) -> dict[str, Any]:
        return read_toml(self.path / self.SPEC)

    def read_trials(self) -> list[dict[str, Any]]:
        path = self.path / self.TRIALS_JSON
        if not path.is_file():
            return []
        trials = read_json(path, "sweep")
        if not isinstance(trials, list):
            raise RunDirError(f"{path}: expected a list of trial records; got {type(trials).__name__}")
        return trials

    def read_summary(self) -> dict[str, Any]:
        return read_json(self.path / self.SUMMARY, "sweep")

    def write_spec(self, text: str) -> Path:
        return self._write(self.SPEC, lambda p: atomic_write_text(p, text))

    def write_trials(self, rows: list[dict[str, Any]], csv_text: str) -> None:
        self._write(self.TRIALS_JSON, lambda p: write_json(p, rows))
        self._write(self.TRIALS_CSV, lambda p: atomic_write_text(p, csv_text))

    def write_summary(self, summary: dict[str, Any]) -> Path:
        return self._write(self.SUMMARY, lambda p: write_json(p, summary))

    def remove_summary(self) -> None:
        (self.path / self.SUMMARY).unlink(missing_ok=True)
