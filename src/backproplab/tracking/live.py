"""Live tracking: runs and sweeps show in the experiment store while they train.

`LiveRun` follows one run directory (it is the run's `RunObserver`): when training starts it opens the tracker's
run (the resolved config as params, provenance tags, status running), after every epoch the run directory has
recorded it sends that epoch's metrics (MLflow ``log_batch``, W&B ``log``), and `finish` completes the run from
the finished directory: final metrics, tags and artifacts, what `backproplab track` logs. `LiveSweep` opens a
sweep's parent run before its trials start and gives each trial a `LiveRun` nested under it (trials in worker
processes complete their own run when they end; MLflow only: W&B cannot continue a run in another process).

Every call to the store runs in order in one background thread (`Sender`), so training never waits on it:
opening the store (importing MLflow, creating a new SQLite store) overlaps with loading data and training. The
first failure ends live tracking with one warning (training goes on; the run directory stays the complete
record, loggable later with `backproplab track`), and `finish` waits at most `TRACKING_SECONDS` for what is
pending; each request to a server has its own time limit (`backproplab.tracking.mlflow_backend`).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..experiments.run.provenance import environment
from ..experiments.sweep import Trial
from ..train import History
from . import directories
from .base import Tracker, default_tracker_kind, make_tracker
from .directories import log_sweep_dir, trial_name, trial_tags
from .records import read_run_dir, start_record, sweep_start_record

Say = Callable[[str], None]
# the most a run's end waits for tracking when an exception (or a second Ctrl-C) ended it
ABORT_SECONDS = 5.0


def _silent(_: str) -> None:
    pass


class Sender:
    """One daemon thread that runs tasks in the order given; after the first task that raises, the rest are
    dropped and ``error`` holds the exception (``failed_after``: seconds since the thread started)."""

    def __init__(self) -> None:
        self.tasks: queue.Queue[Callable[[], None] | threading.Event | None] = queue.Queue()
        self.error: BaseException | None = None
        self.failed_after = 0.0
        self.started = time.monotonic()
        self.thread = threading.Thread(target=self._loop, name="backproplab-live-tracking", daemon=True)
        self.thread.start()

    def submit(self, task: Callable[[], None]) -> None:
        if self.error is None:
            self.tasks.put(task)

    def _loop(self) -> None:
        while True:
            task = self.tasks.get()
            if task is None:
                return
            if isinstance(task, threading.Event):  # a marker of `wait`: set even after a failure
                task.set()
            elif self.error is None:
                try:
                    task()
                except BaseException as exc:  # noqa: BLE001 - reported by the owner on the main thread
                    self.error, self.failed_after = exc, time.monotonic() - self.started

    def wait(self, seconds: float) -> bool:
        """Whether every task submitted so far has run (or was dropped) within ``seconds``."""
        done = threading.Event()
        self.tasks.put(done)
        return done.wait(seconds)

    def close(self) -> None:
        self.tasks.put(None)


def _describe_failure(kind: str, exc: BaseException, seconds: float) -> str:
    reason = " ".join(str(exc).split())
    reason = reason if len(reason) <= 300 else reason[:297] + "..."
    return f"warning: tracking with {kind} failed after {seconds:.1f} s ({type(exc).__name__}: {reason})"


class LiveRun:
    """Tracks one run while it trains (see the module docstring); picklable until `run_started`.

    Args:
        kind: ``"mlflow"``, ``"wandb"`` or ``"none"``; None: MLflow when installed (else none, with a note).
        uri, runs_dir, experiment: as `make_tracker`; ``runs_dir`` default: the run directory's parent.
        parent: the id of the run to nest under (a sweep's parent run).
        name, tags, selection: for a sweep's trial: its run name, its tags, and the metric the sweep ranks
            trials by (logged as ``selection``, as `log_sweep_dir` does).
        say: where warnings and the closing "Tracked in ..." line go; ``verbose`` 0: warnings only.
    """

    def __init__(
        self,
        kind: str | None = None,
        uri: str | None = None,
        *,
        runs_dir: str | Path | None = None,
        experiment: str | None = None,
        parent: str | None = None,
        name: str | None = None,
        tags: dict[str, str] | None = None,
        selection: str | None = None,
        say: Say = _silent,
        verbose: int = 1,
    ) -> None:
        self.kind, self.uri, self.experiment, self.parent = kind, uri, experiment, parent
        self.runs_dir = None if runs_dir is None else str(runs_dir)
        self.name, self.tags, self.selection = name, dict(tags or {}), selection
        self.say, self.verbose = say, verbose
        self.run_dir: Path | None = None
        self.run_id: str | None = None
        self._sender: Sender | None = None
        self._tracker: Tracker | None = None
        self._logged: int | None = None  # the last epoch the tracked run holds (None: not asked yet)
        self._reported = False

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.update(say=_silent, _sender=None, _tracker=None, _logged=None)  # a worker process gets its own
        return state

    # ------------------------------------------------------------ RunObserver

    def run_started(self, run_dir: Path, config: dict[str, Any]) -> None:
        if not self._resolve_kind() or self._sender is not None:
            return
        record = start_record(run_dir, config, environment(), experiment=self.experiment, tags=self.tags)
        if self.name:
            record.name = self.name
        self._open(Path(run_dir), lambda tracker: tracker.open_run(record, parent=self.parent))

    def epoch_recorded(self, history: History) -> None:
        if self._sender is None:
            return
        epochs = list(history.records)

        def send() -> None:
            if self._tracker is None or self.run_id is None:
                return
            if self._logged is None:  # a continued run (resumed) already holds its first epochs
                self._logged = self._tracker.logged_epochs(self.run_id)
            new = [e for e in epochs if int(e["epoch"]) > self._logged]
            if new:
                self._tracker.log_epochs(self.run_id, new)
                self._logged = int(new[-1]["epoch"])

        self._sender.submit(send)
        self._report_failure()

    def run_finished(self, run_dir: Path) -> None:
        self.finish(run_dir)

    # ------------------------------------------------------------ the end

    @property
    def active(self) -> bool:
        """Whether this run is being tracked (started, not failed)."""
        return self._sender is not None and self._sender.error is None

    def finish(self, run_dir: str | Path | None = None, seconds: float | None = None) -> bool:
        """Complete the tracked run from its finished directory (final metrics, tags, artifacts), waiting at most
        ``seconds`` (default `TRACKING_SECONDS`); a failure is a warning (returns False), never an exception."""
        directory = Path(run_dir) if run_dir is not None else self.run_dir

        def complete(tracker: Tracker) -> str | None:
            record = read_run_dir(directory, experiment=self.experiment, tags=self.tags)
            if self.name:
                record.name = self.name
            value = record.final.get(f"final_{self.selection}")
            if self.selection and record.status == "ok" and value is not None:
                record.final["selection"] = value
            return tracker.log_run(record, parent=self.parent)

        return self._complete(complete, seconds)

    # ------------------------------------------------------------ the machinery (LiveSweep uses it too)

    def _resolve_kind(self) -> bool:
        """Pick the tracker (None: MLflow when installed, else none with a note); False for none."""
        if self.kind is None:
            self.kind, note = default_tracker_kind()
            if note:
                self.say(note)
        return self.kind != "none"

    def _open(self, run_dir: Path, opener: Callable[[Tracker], str | None]) -> None:
        """Start the background thread: make the tracker, then ``opener(tracker)`` gives the tracked run's id."""
        self.run_dir = Path(run_dir).resolve()
        self._sender = Sender()

        def open_run() -> None:
            self._tracker = make_tracker(
                self.kind or "none", self.uri, self.experiment, runs_dir=self.runs_dir or self.run_dir.parent
            )
            self.run_id = opener(self._tracker)

        self._sender.submit(open_run)

    def _complete(self, work: Callable[[Tracker], str | None], seconds: float | None) -> bool:
        """``work(tracker)`` (returning the run's id) after everything pending, waiting at most ``seconds``; then
        the thread ends. Says how it went (a warning on failure, "Tracked in ..." when verbose)."""
        sender = self._sender
        if sender is None:
            return self.kind == "none"
        started = time.monotonic()

        def complete() -> None:
            if self._tracker is not None:
                self.run_id = work(self._tracker)
                close = getattr(self._tracker, "close", None)
                if close is not None:
                    close()

        seconds = directories.TRACKING_SECONDS if seconds is None else seconds
        sender.submit(complete)
        finished = sender.wait(seconds)
        sender.close()
        if not finished:
            self._warn(
                f"warning: tracking with {self.kind} failed after {time.monotonic() - started:.1f} s "
                f"(TrackingTimeout: no answer within {seconds:g} s)"
            )
            return False
        if sender.error is not None:
            self._report_failure()
            return False
        if self.verbose and self._tracker is not None:
            browse = "; browse with `backproplab ui`" if self.kind == "mlflow" else ""
            self.say(f"Tracked in {self._tracker.describe()} (run {self.run_id}){browse}")
        return True

    def _report_failure(self) -> None:
        sender = self._sender
        if sender is not None and sender.error is not None:
            self._warn(_describe_failure(self.kind or "?", sender.error, sender.failed_after))

    def _warn(self, message: str) -> None:
        if not self._reported:
            self._reported = True
            where = self.run_dir or "the run directory"
            self.say(
                f"{message}; {where} keeps everything (training is not affected): log it later with "
                f"`backproplab track {where}`"
            )


class LiveSweep:
    """Tracks a sweep while it runs (a `SweepObserver`): its parent run opens before the first trial (waiting at
    most `TRACKING_SECONDS`), each trial gets a `LiveRun` nested under it, and `finish` logs the finished sweep
    directory (completing the parent; trials already complete are found, not logged twice)."""

    def __init__(
        self,
        kind: str | None = None,
        uri: str | None = None,
        *,
        runs_dir: str | Path | None = None,
        executor: str = "process",
        say: Say = _silent,
        verbose: int = 1,
    ) -> None:
        self.kind, self.uri, self.executor, self.say, self.verbose = kind, uri, executor, say, verbose
        self.runs_dir = None if runs_dir is None else str(runs_dir)
        self.sweep_dir: Path | None = None
        self.parent: str | None = None
        self.experiment: str | None = None
        self.metric: str | None = None
        self.live = LiveRun(kind, uri, runs_dir=runs_dir, say=say, verbose=verbose)

    def sweep_started(self, sweep_dir: Path, sweep: dict[str, Any]) -> None:
        live = self.live
        if not live._resolve_kind():
            return
        self.kind = live.kind
        record = sweep_start_record(sweep_dir, sweep, executor=self.executor)
        self.sweep_dir = Path(sweep_dir).resolve()
        self.experiment, self.metric = record.experiment, (sweep.get("selection") or {}).get("metric")
        live._open(self.sweep_dir, lambda tracker: tracker.open_run(record))
        seconds = directories.TRACKING_SECONDS
        assert live._sender is not None
        if not live._sender.wait(seconds):  # the trials need the parent's id
            live._warn(
                f"warning: tracking with {live.kind} failed after {seconds:g} s "
                f"(TrackingTimeout: no answer within {seconds:g} s)"
            )
            live._sender.error = TimeoutError("the parent run did not open")
        elif live._sender.error is not None:
            live._report_failure()
        else:
            self.parent = live.run_id

    def trial_observer(self, trial: Trial | None) -> LiveRun | None:
        if self.parent is None or self.kind != "mlflow":  # W&B runs end in the process that made them
            return None
        sweep = self.experiment or ""
        if trial is None:
            name, tags = (
                "retrain (best point on train+validation)",
                {"backproplab.kind": "retrain", "backproplab.sweep": sweep},
            )
        else:
            record = {"trial": trial.trial_id, "params": trial.params, "seed": trial.seed}
            name, tags = trial_name(record), trial_tags(record, sweep)
            tags.pop("backproplab.status")  # the run's own status, from its summary
        return LiveRun(
            self.kind,
            self.uri,
            runs_dir=self.runs_dir or (self.sweep_dir.parent if self.sweep_dir else None),
            experiment=self.experiment,
            parent=self.parent,
            name=name,
            tags=tags,
            selection=self.metric if trial is not None else None,
            verbose=0,
        )

    @property
    def active(self) -> bool:
        return self.live.active

    def finish(self, sweep_dir: str | Path, seconds: float | None = None) -> bool:
        """Log the finished sweep directory into the parent run (bounded, never raises)."""
        return self.live._complete(lambda tracker: log_sweep_dir(tracker, sweep_dir), seconds)
