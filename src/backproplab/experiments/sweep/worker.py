"""`run_trial`: one trial of a sweep, as a worker process runs it, and the worker's tie to its sweep.

A worker never outlives the sweep that started it: `watch_parent` starts (once per process) a thread that
polls the sweep's process; when it is gone (whatever killed it, SIGKILL included) the thread asks the running
trial to stop at its next step boundary (it checkpoints, as on Ctrl-C), waits for that (at most
`STOP_GRACE_SECONDS`) and ends the process. A trial stopped by a signal in a process-pool worker also ends that
worker shortly after handing back its result, so a pool being shut down never waits on it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from ..._lock import pid_alive
from ...rundir import COMPLETE, DIVERGED, INTERRUPTED, RunDir
from ...train import interrupts
from ..config import parse_config
from ..run.epoch_writer import RunObserver
from ..run.runner import resume_experiment, run_experiment

POLL_SECONDS = 0.2
STOP_GRACE_SECONDS = 60.0
EXIT_AFTER_SIGNAL_SECONDS = 2.0  # time for a pool worker to hand back the result of a trial a signal stopped
# trial statuses in trials.json: a run's status, with "ok" for complete
TRIAL_STATUS = {COMPLETE: "ok", DIVERGED: "diverged", INTERRUPTED: "interrupted"}


class _Worker:
    in_pool = False  # a process-pool worker (see init_pool_worker)
    watching: int | None = None  # the sweep process watched
    busy = threading.Event()  # set while a trial runs


def init_pool_worker(parent_pid: int) -> None:
    """Initializer of process-pool workers: watch the sweep process; an idle worker ignores Ctrl-C (the sweep
    decides what happens; a running trial still sees it and stops at a step boundary)."""
    _Worker.in_pool = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch_parent(parent_pid)


def watch_parent(parent_pid: int) -> None:
    """End this process soon after process ``parent_pid`` is gone (see the module docstring); once per process."""
    if _Worker.watching is not None or parent_pid == os.getpid():
        return
    _Worker.watching = parent_pid
    ppid = os.getppid()

    def watch() -> None:
        while os.getppid() == ppid and pid_alive(parent_pid):
            time.sleep(POLL_SECONDS)
        interrupts.request(signal.SIGTERM)  # a running trial checkpoints at its next step boundary
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while _Worker.busy.is_set() and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="backproplab-parent-watch", daemon=True).start()


def run_trial(
    config: dict[str, Any],
    run_dir: str,
    resume: bool = False,
    watch_pid: int | None = None,
    observer: RunObserver | None = None,
) -> dict[str, Any]:
    """Train one trial into ``run_dir`` (``resume``: continue the run there from its checkpoint); never raises:
    a failure comes back as ``status = "error"``. With ``watch_pid``, this process ends when that one does.
    ``observer`` (picklable) follows the trial's directory, and is told when it is complete.

    Returns ``status`` ("ok" | "diverged" | "interrupted" | "error"), ``error``, ``final``, ``epochs_run``,
    ``best_epoch`` and ``seconds`` (wall time of the trial).
    """
    if watch_pid is not None:
        watch_parent(watch_pid)
    started = time.perf_counter()
    _Worker.busy.set()
    signum = None
    try:
        with interrupts.stop_on_signals(signal.SIGINT, signal.SIGTERM), _single_threaded():
            try:
                if resume:
                    result = resume_experiment(run_dir, verbose=0, say=lambda _: None, observer=observer)
                else:
                    result = run_experiment(parse_config(config), run_dir=run_dir, verbose=0, observer=observer)
            finally:
                signum = interrupts.requested()
                if observer is not None and RunDir.is_finished(Path(run_dir)):
                    observer.run_finished(Path(run_dir))
        return outcome(result.summary, result.summary.get("wall_seconds"))
    except Exception as exc:  # the sweep records it and goes on with the other trials
        last = traceback.extract_tb(exc.__traceback__)[-1:] or None
        where = f" (at {last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
        return {
            "status": "error",
            "error": f"{type(exc).__name__}: {exc}{where}",
            "final": {},
            "epochs_run": 0,
            "best_epoch": None,
            "seconds": time.perf_counter() - started,
        }
    finally:
        _Worker.busy.clear()
        if signum is not None and _Worker.in_pool:
            threading.Timer(EXIT_AFTER_SIGNAL_SECONDS, os._exit, (128 + signum,)).start()


def outcome(summary: dict[str, Any], seconds: float | None) -> dict[str, Any]:
    """A trial's outcome from its run's ``summary.json``."""
    status = TRIAL_STATUS.get(str(summary.get("status")), "error")
    error = {
        "ok": None,
        "diverged": summary.get("stop_reason"),
        "error": summary.get("error"),
        "interrupted": f"stopped by {summary.get('stopped_by') or 'a signal'} after "
        f"{summary.get('epochs_run')} epoch(s); resumable from its checkpoint",
    }[status]
    return {
        "status": status,
        "error": error,
        "final": summary.get("final", {}),
        "epochs_run": summary.get("epochs_run"),
        "best_epoch": summary.get("best_epoch"),
        "seconds": seconds,
    }


def outcome_from_dir(run: RunDir) -> dict[str, Any] | None:
    """The outcome a trial's directory records (None when it holds no summary)."""
    if not RunDir.is_finished(run.path):
        return None
    try:
        summary = run.read_summary()
    except Exception:  # noqa: BLE001 - a damaged summary is a trial to run again
        return None
    return outcome(summary, summary.get("wall_seconds"))


@contextlib.contextmanager
def _single_threaded() -> Iterator[None]:
    """Limit the BLAS/OpenMP pools already loaded to one thread (the serial executor runs in this process,
    whose BLAS started with the machine's thread count)."""
    with threadpool_limits(limits=1):
        yield
