"""MLflow backend: `MlflowClient` against a SQLite store (default) or a tracking server; works offline."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ...errors import BackproplabError
from .base import ARTIFACTS_DIR
from .records import RunRecord, epoch_metrics

# MLflow's per-request limits for log_batch.
MAX_PARAMS = 100
MAX_METRICS = 1000
MAX_TAGS = 100
MAX_PARAM_LENGTH = 6000
KEY_TAG = "backproplab.key"
COMPLETE_TAG = "backproplab.complete"


def _quiet_mlflow() -> None:
    """No telemetry, no INFO chatter from MLflow and Alembic (database migrations) on the console."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
    for name in ("mlflow", "alembic", "alembic.runtime.migration"):
        logging.getLogger(name).setLevel(logging.WARNING)


@contextlib.contextmanager
def _quiet_warnings() -> Iterator[None]:
    """MLflow's own deprecation warnings (e.g. SQLAlchemy's on its mappers) are not the user's concern."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.filterwarnings("ignore", module=r"(mlflow|sqlalchemy|alembic|pydantic)(\.|$)")
        yield


def _import_mlflow() -> Any:
    _quiet_mlflow()
    try:
        with _quiet_warnings():
            from mlflow.tracking import MlflowClient
    except ImportError as exc:
        raise BackproplabError("the MLflow tracker needs MLflow: pip install 'backproplab[track]' "
                               f"(or use --tracker none); import failed: {exc}") from None
    _quiet_mlflow()  # importing mlflow configures its loggers; turn them down again
    return MlflowClient


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "experiment"


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (None for other stores)."""
    return Path(uri.removeprefix("sqlite:///")) if uri.startswith("sqlite:///") else None


class MlflowTracker:
    """Logs `RunRecord`s with `MlflowClient`: params and per-epoch metrics through ``log_batch`` in chunks.

    With a SQLite store each experiment's artifacts go to ``<store dir>/mlartifacts/<experiment>`` (MLflow's
    own default would be ``./mlruns`` relative to wherever the command ran).
    """

    kind = "mlflow"

    def __init__(self, uri: str, experiment: str | None = None) -> None:
        client_cls = _import_mlflow()
        self.uri = uri
        self.experiment = experiment
        db = sqlite_path(uri)
        self.artifact_root = db.parent / ARTIFACTS_DIR if db is not None else None
        with _quiet_warnings():  # creates (and migrates) the store
            if db is not None and not db.exists():
                db.parent.mkdir(parents=True, exist_ok=True)
                self._create_store(uri)
            self.client = client_cls(tracking_uri=uri)
        self._experiments: dict[str, str] = {}

    def _create_store(self, uri: str) -> None:
        """A new SQLite store whose Default experiment also keeps its artifacts beside the database
        (through `MlflowClient` alone it would point at ./mlruns of the current directory)."""
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        assert self.artifact_root is not None
        SqlAlchemyStore(uri, (self.artifact_root / "Default").as_uri())

    def describe(self) -> str:
        return f"MLflow store {self.uri}"

    def experiment_id(self, name: str) -> str:
        if name in self._experiments:
            return self._experiments[name]
        exp = self.client.get_experiment_by_name(name)
        if exp is None:
            location = (self.artifact_root / _slug(name)).as_uri() if self.artifact_root is not None else None
            exp_id = self.client.create_experiment(name, artifact_location=location)
        else:
            if exp.lifecycle_stage == "deleted":
                self.client.restore_experiment(exp.experiment_id)
            exp_id = exp.experiment_id
        self._experiments[name] = exp_id
        return exp_id

    def find(self, experiment_id: str, key: str) -> Any | None:
        """The finished run logged from ``key`` (a run or sweep directory), if any; unfinished ones are deleted."""
        quoted = key.replace("'", "\\'")
        runs = self.client.search_runs([experiment_id], filter_string=f"tags.`{KEY_TAG}` = '{quoted}'",
                                       max_results=10)
        found = None
        for run in runs:
            complete = run.data.tags.get(COMPLETE_TAG) == "true"
            if complete and found is None:
                found = run
            elif not complete:
                self.client.delete_run(run.info.run_id)  # a half-logged copy from an interrupted attempt
        return found

    def log_run(self, record: RunRecord, *, parent: str | None = None) -> str:
        with _quiet_warnings():
            return self._log_run(record, parent)

    def _log_run(self, record: RunRecord, parent: str | None) -> str:
        from mlflow.entities import Metric, Param, RunTag

        exp_id = self.experiment_id(record.experiment)
        existing = self.find(exp_id, record.key)
        if existing is not None:
            return str(existing.info.run_id)
        tags = {**record.tags, KEY_TAG: record.key}
        if record.description:
            tags["mlflow.note.content"] = record.description
        if parent:
            tags["mlflow.parentRunId"] = parent
        run = self.client.create_run(exp_id, start_time=record.start_ms, tags=tags, run_name=record.name)
        run_id = run.info.run_id
        try:
            params = [Param(k, v[:MAX_PARAM_LENGTH]) for k, v in record.params.items()]
            for chunk in _chunks(params, MAX_PARAMS):
                self.client.log_batch(run_id, params=chunk)
            for chunk in _chunks(self._metrics(record, Metric), MAX_METRICS):
                self.client.log_batch(run_id, metrics=chunk)
            for path in record.artifacts:
                self.client.log_artifact(run_id, str(path))
            self.client.log_batch(run_id, tags=[RunTag(COMPLETE_TAG, "true")])
        except BaseException:
            self.client.set_terminated(run_id, "FAILED")
            raise
        self.client.set_terminated(run_id, "FAILED" if record.status == "error" else "FINISHED",
                                   end_time=record.end_ms)
        return str(run_id)

    @staticmethod
    def _metrics(record: RunRecord, metric_cls: Any) -> list[Any]:
        """Per-epoch metrics (step = epoch, timestamp = run start + elapsed seconds) then final ones."""
        start = record.start_ms or 0
        elapsed = 0.0
        out = []
        for epoch in record.epochs:
            elapsed += float(epoch.get("seconds", 0.0) or 0.0)
            step = int(epoch["epoch"])
            stamp = start + int(1000 * elapsed)
            out += [metric_cls(k, v, stamp, step) for k, v in epoch_metrics(epoch).items()]
        end = record.end_ms or start
        out += [metric_cls(k, v, end, 0) for k, v in record.final.items()]
        return out
