"""Log finished run and sweep directories to a tracker; the CLI's never-fail, time-bounded wrappers around that.

The tracking step of a run (`track_run_dir`, `track_sweep_dir`) never fails the run and never stalls it: it
runs in a helper thread and is given up after `TRACKING_SECONDS` (each request to a server also has its own
limit, see `backproplab.tracking.mlflow_backend`), with a one-line warning saying how to log the directory later.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ..rundir import SweepDir
from .base import Tracker, default_tracker_kind, make_tracker
from .records import RunRecord, is_sweep_dir, read_run_dir, read_sweep_dir

TRACKING_SECONDS = 30.0
T = TypeVar("T")

Say = Callable[[str], None]


def log_run_dir(
    tracker: Tracker,
    run_dir: str | Path,
    *,
    tags: dict[str, str] | None = None,
    parent: str | None = None,
    experiment: str | None = None,
) -> str | None:
    """Log one finished run directory (config as params, per-epoch metrics, tags, artifacts); return its id."""
    record = read_run_dir(run_dir, experiment=experiment or tracker.experiment, tags=tags)
    return tracker.log_run(record, parent=parent)


def trial_name(trial: dict[str, Any]) -> str:
    params = ", ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in (trial.get("params") or {}).items())
    seed = f", seed={trial['seed']}" if trial.get("seed") is not None else ""
    return f"{trial.get('trial')} {params}{seed}".strip()


def trial_tags(trial: dict[str, Any], sweep: str) -> dict[str, str]:
    tags = {
        "backproplab.kind": "trial",
        "backproplab.sweep": sweep,
        "backproplab.trial": str(trial.get("trial")),
        "backproplab.status": str(trial.get("status") or "ok"),
    }
    if trial.get("error"):
        tags["backproplab.error"] = str(trial["error"])[:5000]
    return tags


def log_sweep_dir(tracker: Tracker, sweep_dir: str | Path, *, experiment: str | None = None) -> str | None:
    """Log a sweep directory: a parent run (search space, best point, final metrics, trial counts, the sweep's
    report and tables) with one child run per trial and one for the retrained best point; return the parent id.

    Trials that crashed before writing a run directory are logged as failed children holding their params and
    error message, so the store shows every point of the search.
    """
    parent_record, children, retrain_dir = read_sweep_dir(sweep_dir, experiment=experiment or tracker.experiment)
    parent_id = tracker.log_run(parent_record, parent=None)
    sweep_name = parent_record.tags.get("backproplab.preset", parent_record.name)
    logged = set()
    for trial, run_dir in children:
        record = read_run_dir(run_dir, experiment=parent_record.experiment, tags=trial_tags(trial, sweep_name))
        record.name = trial_name(trial)
        if isinstance(trial.get("selection"), int | float):  # the value the sweep ranked this trial by
            record.final["selection"] = float(trial["selection"])
        tracker.log_run(record, parent=parent_id)
        logged.add(trial.get("trial"))
    for trial in _trials(sweep_dir):
        if trial.get("trial") in logged or trial.get("status") != "error":
            continue
        record = RunRecord(
            name=trial_name(trial),
            experiment=parent_record.experiment,
            key=str(Path(sweep_dir).resolve() / str(trial.get("run_dir") or trial.get("trial"))),
            params={k: str(v) for k, v in (trial.get("params") or {}).items()},
            tags=trial_tags(trial, sweep_name),
            status="error",
        )
        tracker.log_run(record, parent=parent_id)
    if retrain_dir is not None:
        record = read_run_dir(
            retrain_dir,
            experiment=parent_record.experiment,
            tags={"backproplab.kind": "retrain", "backproplab.sweep": sweep_name},
        )
        record.name = "retrain (best point on train+validation)"
        tracker.log_run(record, parent=parent_id)
    return parent_id


def _trials(sweep_dir: str | Path) -> list[dict[str, Any]]:
    return SweepDir(sweep_dir).read_trials()


class TrackingTimeout(TimeoutError):
    """The tracking step took longer than its limit."""


def bounded(work: Callable[[], T], seconds: float) -> T:
    """``work()`` in a daemon thread, given up after ``seconds`` (`TrackingTimeout`; the thread is left to end
    on its own, or with the process)."""
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = work()
        except BaseException as exc:  # handed to the caller
            result["error"] = exc

    thread = threading.Thread(target=target, name="backproplab-tracking", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise TrackingTimeout(f"no answer within {seconds:g} s")
    if "error" in result:
        raise result["error"]
    return result["value"]


def _track(
    directory: Path,
    kind: str | None,
    uri: str | None,
    runs_dir: Path | None,
    experiment: str | None,
    say: Say,
    sweep: bool,
    tags: dict[str, str] | None = None,
) -> bool:
    if kind is None:
        kind, note = default_tracker_kind()
        if note:
            say(note)
    if kind == "none":
        return True

    def work() -> tuple[Tracker, str | None]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # MLflow's deprecation and pydantic warnings are not the user's concern
            tracker = make_tracker(kind, uri, experiment, runs_dir=runs_dir)
            run_id = log_sweep_dir(tracker, directory) if sweep else log_run_dir(tracker, directory, tags=tags)
            close = getattr(tracker, "close", None)
            if close is not None:
                close()
        return tracker, run_id

    started = time.monotonic()
    try:
        tracker, run_id = bounded(work, TRACKING_SECONDS)
    except Exception as exc:  # noqa: BLE001 - tracking must never lose or fail a finished run
        reason = " ".join(str(exc).split())
        reason = reason if len(reason) <= 300 else reason[:297] + "..."
        say(
            f"warning: tracking with {kind} failed after {time.monotonic() - started:.1f} s "
            f"({type(exc).__name__}: {reason}); the directory {directory} is complete; log it later with "
            f"`backproplab track {directory}`"
        )
        return False
    say(
        f"Tracked in {tracker.describe()} (run {run_id}); browse with `backproplab ui`"
        if kind == "mlflow"
        else f"Tracked in {tracker.describe()} (run {run_id})"
    )
    return True


def track_run_dir(
    run_dir: str | Path,
    *,
    tracker: str | None = None,
    uri: str | None = None,
    runs_dir: str | Path | None = None,
    experiment: str | None = None,
    tags: dict[str, str] | None = None,
    say: Say = print,
) -> bool:
    """Log a finished run directory, for the CLI: ``tracker=None`` picks MLflow when installed (else none,
    with a note); the default store is ``mlflow.db`` beside the run directory (``runs_dir`` = its parent).
    Never raises: a failure is reported through ``say`` and returns False (the run directory stays the
    complete record)."""
    run_dir = Path(run_dir)
    root = Path(runs_dir) if runs_dir else run_dir.resolve().parent
    return _track(run_dir, tracker, uri, root, experiment, say, sweep=False, tags=tags)


def track_sweep_dir(
    sweep_dir: str | Path,
    *,
    tracker: str | None = None,
    uri: str | None = None,
    runs_dir: str | Path | None = None,
    experiment: str | None = None,
    say: Say = print,
) -> bool:
    """`track_run_dir` for a sweep directory (parent run + nested trials + retrain). ``runs_dir`` defaults
    to the sweep directory's parent, so the store sits beside the sweep (``<runs>/mlflow.db``)."""
    sweep_dir = Path(sweep_dir)
    root = Path(runs_dir) if runs_dir else sweep_dir.resolve().parent
    return _track(sweep_dir, tracker, uri, root, experiment, say, sweep=True)


def track_dir(directory: str | Path, **kwargs: Any) -> bool:
    """`track_sweep_dir` or `track_run_dir`, whichever ``directory`` is."""
    if is_sweep_dir(Path(directory)):
        return track_sweep_dir(directory, **{k: v for k, v in kwargs.items() if k != "tags"})
    return track_run_dir(directory, **kwargs)
