"""MLflow backend: `MlflowClient` against a SQLite store (default) or a tracking server; works offline.

Nothing here waits without bound: each request to a tracking server gets `HTTP_TIMEOUT_SECONDS` and no retries
(MLflow's defaults, 120 s and 7 retries with backoff, add up to minutes against a server that does not
answer), and `backproplab.tracking.directories` bounds the whole tracking step of a run. A new SQLite store is
created under a file lock beside it, so runs started together do not race MLflow's schema creation, and a
store whose creation was cut short (tables missing) is reported instead of being written into.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .._environ import environ
from .._lock import DirLock
from ..errors import BackproplabError
from .base import ARTIFACTS_DIR
from .records import RunRecord, epoch_metrics

# MLflow's per-request limits for log_batch.
MAX_PARAMS = 100
MAX_METRICS = 1000
MAX_TAGS = 100
MAX_PARAM_LENGTH = 6000
KEY_TAG = "backproplab.key"
COMPLETE_TAG = "backproplab.complete"
RUN_STATUS = {"error": "FAILED", "interrupted": "KILLED"}  # backproplab status -> MLflow run status
STATE_TAG = "backproplab.logged_state"  # what the directory held when logged (see RunRecord.state)
HTTP_TIMEOUT_SECONDS = 10  # per request to a tracking server
STORE_LOCK_SECONDS = 60.0  # waiting for another process creating the same SQLite store
# Tables every MLflow SQLite store has once created (its schema revision is in alembic_version).
STORE_TABLES = frozenset({"alembic_version", "experiments", "runs", "metrics", "params", "tags"})
# MLflow 3's UI opens an experiment of this kind on its runs table (untagged ones may open on GenAI traces).
EXPERIMENT_KIND = {"mlflow.experimentKind": "custom_model_development"}
EPOCH_KEY = "seconds"  # a metric every History epoch record has: its steps are the epochs a run has logged


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
        raise BackproplabError(
            "the MLflow tracker needs MLflow: pip install 'backproplab[track]' "
            f"(or use --tracker none); import failed: {exc}"
        ) from None
    _quiet_mlflow()  # importing mlflow configures its loggers; turn them down again
    return MlflowClient


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "experiment"


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (None for other stores)."""
    return Path(uri.removeprefix("sqlite:///")) if uri.startswith("sqlite:///") else None


@contextlib.contextmanager
def http_limits(timeout: int | None = None) -> Iterator[None]:
    """MLflow's HTTP requests within this block: at most ``timeout`` (default `HTTP_TIMEOUT_SECONDS`) seconds each
    (a smaller value the user set is kept) and no retries, so a refused connection fails at once and a silent
    server after ``timeout``."""
    limit = HTTP_TIMEOUT_SECONDS if timeout is None else timeout
    caps = {"MLFLOW_HTTP_REQUEST_TIMEOUT": limit, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": 0}
    values = {}
    for key, cap in caps.items():
        try:
            values[key] = str(min(int(os.environ.get(key, cap)), cap))
        except ValueError:
            values[key] = str(cap)
    with environ(values):
        yield


def store_tables(db: Path) -> set[str] | None:
    """The table names of an SQLite file (None when it is not a readable SQLite database)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as con:
            return {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error:
        return None


def check_store(db: Path) -> None:
    """Raise `BackproplabError` when ``db`` exists but is not a whole MLflow store (half-built or foreign)."""
    if not db.exists() or db.stat().st_size == 0:
        return
    tables = store_tables(db)
    if tables is None:
        raise BackproplabError(
            f"the MLflow store {db} is not an SQLite database; move it aside "
            f"(mv {db} {db}.broken) so that a new one is created, or pass --tracking-uri"
        )
    missing = sorted(STORE_TABLES - tables)
    if missing:
        raise BackproplabError(
            f"the MLflow store {db} is half-built (its creation was interrupted): it lacks the "
            f"tables {', '.join(missing)}. Move it aside (mv {db} {db}.broken) and log the runs "
            "again with `backproplab track RUN_DIR...`"
        )


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
        with _quiet_warnings(), http_limits():
            if db is None:
                self.client = client_cls(tracking_uri=uri)
            else:  # one process at a time creates (and migrates) a store; the others wait, then find it whole
                db.parent.mkdir(parents=True, exist_ok=True)
                with DirLock(db.parent / f".{db.name}.lock", what=f"MLflow store {db}", timeout=STORE_LOCK_SECONDS):
                    check_store(db)
                    if not db.exists() or db.stat().st_size == 0:
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
        """The id of experiment ``name``, created (as a machine-learning experiment, `EXPERIMENT_KIND`) or
        restored when needed; an experiment created without its kind gets it."""
        if name in self._experiments:
            return self._experiments[name]
        exp = self.client.get_experiment_by_name(name)
        if exp is None:
            location = (self.artifact_root / _slug(name)).as_uri() if self.artifact_root is not None else None
            exp_id = self.client.create_experiment(name, artifact_location=location, tags=EXPERIMENT_KIND)
        else:
            if exp.lifecycle_stage == "deleted":
                self.client.restore_experiment(exp.experiment_id)
            exp_id = exp.experiment_id
            for key, value in EXPERIMENT_KIND.items():
                if key not in exp.tags:
                    self.client.set_experiment_tag(exp_id, key, value)
        self._experiments[name] = exp_id
        return exp_id

    def find(self, experiment_id: str, key: str, state: str = "") -> tuple[Any | None, Any | None]:
        """``(done, started)`` for the runs logged from ``key`` (a run or sweep directory): ``done`` is the finished
        copy of this ``state`` of the directory, if any; else ``started`` is the run to continue (one opened
        while the run trained, or a copy of an earlier state, e.g. before it was resumed). Every other copy is
        deleted, so a directory has one run in the store."""
        quoted = key.replace("'", "\\'")
        runs = self.client.search_runs([experiment_id], filter_string=f"tags.`{KEY_TAG}` = '{quoted}'", max_results=10)
        done = next(
            (r for r in runs if r.data.tags.get(COMPLETE_TAG) == "true" and r.data.tags.get(STATE_TAG, "") == state),
            None,
        )
        keep = done or (runs[0] if runs else None)
        for run in runs:
            if run is not keep:
                self.client.delete_run(run.info.run_id)
        return (done, None) if done is not None else (None, keep)

    def open_run(self, record: RunRecord, *, parent: str | None = None) -> str:
        """Start (or continue) the run of ``record.key`` while it trains: params and tags now, metrics as epochs
        end (`log_epochs`), the rest when it ends (`log_run`)."""
        with _quiet_warnings(), http_limits():
            exp_id = self.experiment_id(record.experiment)
            done, started = self.find(exp_id, record.key, record.state)
            run = done or started
            if run is None:
                return self._create(exp_id, record, parent)
            from mlflow.entities import RunTag

            run_id = run.info.run_id
            self.client.update_run(run_id, status="RUNNING")
            self.client.log_batch(
                run_id, tags=[RunTag(COMPLETE_TAG, "false"), *(RunTag(k, v) for k, v in record.tags.items())]
            )
            self._log_new_params(run, record)
            return str(run_id)

    def logged_epochs(self, run_id: str) -> int:
        """The last epoch whose metrics run ``run_id`` holds (0 for none)."""
        with _quiet_warnings(), http_limits():
            return max((int(m.step) for m in self.client.get_metric_history(run_id, EPOCH_KEY)), default=0)

    def log_epochs(self, run_id: str, epochs: list[dict[str, Any]]) -> None:
        """Per-epoch metrics (step = epoch) of a run that is training, stamped now."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [Metric(k, v, now, int(e["epoch"])) for e in epochs for k, v in epoch_metrics(e).items()]
        with _quiet_warnings(), http_limits():
            for chunk in _chunks(metrics, MAX_METRICS):
                self.client.log_batch(run_id, metrics=chunk)

    def log_run(self, record: RunRecord, *, parent: str | None = None) -> str:
        with _quiet_warnings(), http_limits():
            return self._log_run(record, parent)

    def _create(self, exp_id: str, record: RunRecord, parent: str | None) -> str:
        from mlflow.entities import Param

        tags = {**record.tags, KEY_TAG: record.key, STATE_TAG: record.state}
        if record.description:
            tags["mlflow.note.content"] = record.description
        if parent:
            tags["mlflow.parentRunId"] = parent
        run = self.client.create_run(exp_id, start_time=record.start_ms, tags=tags, run_name=record.name)
        try:
            params = [Param(k, v[:MAX_PARAM_LENGTH]) for k, v in record.params.items()]
            for chunk in _chunks(params, MAX_PARAMS):
                self.client.log_batch(run.info.run_id, params=chunk)
        except BaseException:
            self.client.set_terminated(run.info.run_id, "FAILED")
            raise
        return str(run.info.run_id)

    def _log_new_params(self, run: Any, record: RunRecord) -> None:
        from mlflow.entities import Param

        params = [Param(k, v[:MAX_PARAM_LENGTH]) for k, v in record.params.items() if k not in run.data.params]
        for chunk in _chunks(params, MAX_PARAMS):
            self.client.log_batch(run.info.run_id, params=chunk)

    def _log_run(self, record: RunRecord, parent: str | None) -> str:
        from mlflow.entities import Metric, RunTag

        exp_id = self.experiment_id(record.experiment)
        done, started = self.find(exp_id, record.key, record.state)
        if done is not None:
            return str(done.info.run_id)
        if started is None:
            run_id, logged = self._create(exp_id, record, parent), 0
        else:  # the run opened while training (or an earlier state's copy): complete it
            run_id = str(started.info.run_id)
            self._log_new_params(started, record)
            logged = self.logged_epochs(run_id)
        try:
            epochs = [e for e in record.epochs if int(e["epoch"]) > logged]
            for chunk in _chunks(self._metrics(record, Metric, epochs), MAX_METRICS):
                self.client.log_batch(run_id, metrics=chunk)
            tags = {**record.tags, STATE_TAG: record.state}
            if record.description:
                tags["mlflow.note.content"] = record.description
            for chunk in _chunks([RunTag(k, v) for k, v in tags.items()], MAX_TAGS):
                self.client.log_batch(run_id, tags=chunk)
            for path in record.artifacts:
                self.client.log_artifact(run_id, str(path))
            self.client.log_batch(run_id, tags=[RunTag(COMPLETE_TAG, "true")])
        except BaseException:
            self.client.set_terminated(run_id, "FAILED")
            raise
        self.client.set_terminated(run_id, RUN_STATUS.get(record.status, "FINISHED"), end_time=record.end_ms)
        return run_id

    @staticmethod
    def _metrics(record: RunRecord, metric_cls: Any, epochs: list[dict[str, Any]] | None = None) -> list[Any]:
        """Per-epoch metrics of ``epochs`` (default all; step = epoch, timestamp = run start + elapsed seconds)
        then final ones."""
        start = record.start_ms or 0
        elapsed = 0.0
        out = []
        wanted = None if epochs is None else {int(e["epoch"]) for e in epochs}
        for epoch in record.epochs:
            elapsed += float(epoch.get("seconds", 0.0) or 0.0)
            step = int(epoch["epoch"])
            if wanted is not None and step not in wanted:
                continue
            stamp = start + int(1000 * elapsed)
            out += [metric_cls(k, v, stamp, step) for k, v in epoch_metrics(epoch).items()]
        end = record.end_ms or start
        out += [metric_cls(k, v, end, 0) for k, v in record.final.items()]
        return out
