"""The `Tracker` protocol, the no-op tracker, and `make_tracker` (which backend, which store)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .._text import did_you_mean
from ..errors import ConfigError
from ..rundir import default_runs_dir
from .records import RunRecord

TRACKERS = ("none", "mlflow", "wandb")
STORE_FILE = "mlflow.db"
ARTIFACTS_DIR = "mlartifacts"


@runtime_checkable
class Tracker(Protocol):
    """Mirrors finished runs into an experiment store.

    ``log_run`` logs one `RunRecord` (params, per-epoch metrics with step = epoch, final metrics, tags,
    artifacts) as a finished run, nested under ``parent`` (a run id this tracker returned) when given, and
    returns the new run's id. Logging a record whose ``key`` the store already holds as a finished run
    returns that run's id instead of a duplicate; a run opened for that key (``open_run``) is completed.

    While a run trains (`backproplab.tracking.live`): ``open_run`` starts it with the record's params and tags
    and returns its id, ``log_epochs`` adds per-epoch metrics, ``logged_epochs`` says how many it holds.
    """

    kind: str
    experiment: str | None

    def log_run(self, record: RunRecord, *, parent: str | None = None) -> str | None: ...

    def open_run(self, record: RunRecord, *, parent: str | None = None) -> str | None: ...

    def log_epochs(self, run_id: str, epochs: list[dict[str, Any]]) -> None: ...

    def logged_epochs(self, run_id: str) -> int: ...

    def describe(self) -> str: ...


class NullTracker:
    """``--tracker none``: logs nothing (the run directory is the record)."""

    kind = "none"
    experiment: str | None = None

    def log_run(self, record: RunRecord, *, parent: str | None = None) -> str | None:
        return None

    def open_run(self, record: RunRecord, *, parent: str | None = None) -> str | None:
        return None

    def log_epochs(self, run_id: str, epochs: list[dict[str, Any]]) -> None:
        pass

    def logged_epochs(self, run_id: str) -> int:
        return 0

    def describe(self) -> str:
        return "not tracked (--tracker none)"


def mlflow_available() -> bool:
    return importlib.util.find_spec("mlflow") is not None


def default_tracker_kind() -> tuple[str, str | None]:
    """``("mlflow", None)`` when MLflow is importable, else ``("none", a one-line note saying why)``."""
    if mlflow_available():
        return "mlflow", None
    return "none", (
        "note: run not tracked (MLflow is not installed; pip install 'backproplab[track]' "
        "or pass --tracker none to silence this)"
    )


def default_store_uri(runs_dir: str | Path | None = None) -> str:
    """``sqlite:///<abs runs dir>/mlflow.db``: the local MLflow store beside the run directories."""
    root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    return "sqlite:///" + str((root / STORE_FILE).resolve())


def make_tracker(
    kind: str = "mlflow", uri: str | None = None, experiment: str | None = None, *, runs_dir: str | Path | None = None
) -> Tracker:
    """A tracker by name.

    Args:
        kind: ``"none"``, ``"mlflow"`` or ``"wandb"``.
        uri: MLflow tracking URI (``http://host:5000`` for a shared server, ``sqlite:///path.db``); default
            ``$MLFLOW_TRACKING_URI`` if set, else the SQLite store ``<runs_dir>/mlflow.db`` with artifacts in
            ``<runs_dir>/mlartifacts``. For W&B: the directory its offline files go to (default ``<runs_dir>``).
        experiment: MLflow experiment / W&B project for every run logged; default: the run's (or sweep's) name.
        runs_dir: the runs directory (default ``./runs`` or ``$BACKPROPLAB_RUNS``).
    """
    if kind == "none":
        return NullTracker()
    if kind == "mlflow":
        from .mlflow_backend import MlflowTracker

        return MlflowTracker(
            uri or os.environ.get("MLFLOW_TRACKING_URI") or default_store_uri(runs_dir), experiment=experiment
        )
    if kind == "wandb":
        from .wandb_backend import WandbTracker

        root = Path(uri) if uri else (Path(runs_dir) if runs_dir is not None else default_runs_dir())
        return WandbTracker(directory=root, experiment=experiment)
    raise ConfigError(
        f"tracker: expected one of {', '.join(repr(t) for t in TRACKERS)}; got {kind!r}{did_you_mean(kind, TRACKERS)}"
    )
