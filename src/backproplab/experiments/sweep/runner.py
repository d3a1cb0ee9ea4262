"""`run_sweep`: run every trial of a sweep in parallel, record each as it finishes, pick the best, retrain it.

The sweep directory (``<runs>/<name>-sweep`` by default, see `backproplab.rundir.SweepDir`)::

    sweep.toml           the resolved sweep (base folded in)       trials/<id>/   one run directory per trial
    trials.json, .csv    trials as they finish, rewritten atomically   retrain/   the retrained best point
    sweep_summary.json   status, best trial, its params and final metrics, published comparison, status counts

One sweep at a time works in a directory: a second one is refused, naming the first one's process. Re-running
the same sweep into its directory resumes it: a trial that finished (complete or diverged, for the same config)
is not run again; one that was interrupted, killed or failed continues from its checkpoint (bit-identical to an
uninterrupted trial). A trial whose worker process died is retried, at most `MAX_ATTEMPTS` times in all, each
attempt recorded in its ``attempts``/``worker_errors``. Ctrl-C or SIGTERM stops the sweep: queued trials are
cancelled, running ones checkpoint, and ``sweep_summary.json`` says ``status = "interrupted"``.
"""

from __future__ import annotations

import csv
import io
import math
import os
import shutil
import signal
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ...errors import BackproplabError
from ...rundir import COMPLETE, INTERRUPTED, RunDir, SweepDir, default_runs_dir
from ...train import History, interrupts
from ..config import RunConfig, config_differences, flatten_dotted, parse_config, training_part
from ..run.epoch_writer import RunObserver
from ..run.published import compare_published
from .executors import LazyExecutor
from .spec import SweepConfig, parse_sweep
from .trials import Trial, check_placements, expand_trials
from .worker import outcome_from_dir, run_trial

SWEEP_FILE = SweepDir.SPEC
TRIALS_JSON = SweepDir.TRIALS_JSON
TRIALS_CSV = SweepDir.TRIALS_CSV
SWEEP_SUMMARY = SweepDir.SUMMARY
TRIALS_DIR = SweepDir.TRIALS
RETRAIN_DIR = SweepDir.RETRAIN
MAX_ATTEMPTS = 3  # per trial, counting attempts whose worker process died
TRIAL_STATUSES = ("ok", "diverged", "interrupted", "error")

Say = Callable[[str], None]


class SweepDirError(BackproplabError):
    """The sweep directory holds something else (another sweep, or files that are not a sweep)."""


class SweepObserver(Protocol):
    """Follows a sweep as it runs (e.g. live tracking: `backproplab.tracking.LiveSweep`); must not raise.

    ``sweep_started``: the sweep works in ``sweep_dir`` (its resolved file as a table), before any trial runs;
    ``trial_observer``: a picklable `RunObserver` for ``trial`` (None: the retrain of the best point), or None.
    """

    def sweep_started(self, sweep_dir: Path, sweep: dict[str, Any]) -> None: ...

    def trial_observer(self, trial: Trial | None) -> RunObserver | None: ...


@dataclass
class SweepResult:
    sweep_dir: Path
    sweep: SweepConfig
    trials: list[dict[str, Any]]
    best: dict[str, Any] | None
    summary: dict[str, Any]

    @property
    def status(self) -> str:
        return str(self.summary.get("status", COMPLETE))

    def __repr__(self) -> str:
        best = f", best {self.best['trial']} {self.best['params']}" if self.best else ", no best trial"
        return f"SweepResult({self.status}, {self.sweep_dir}, {len(self.trials)} trials{best})"


def _quiet(_: str) -> None:
    pass


def run_sweep(
    sweep: SweepConfig,
    *,
    sweep_dir: str | Path | None = None,
    runs_dir: str | Path | None = None,
    executor: str = "process",
    address: str | None = None,
    workers: int | None = None,
    say: Say = _quiet,
    observer: SweepObserver | None = None,
) -> SweepResult:
    """Run (or resume) ``sweep``; returns the trial records, the best one and ``sweep_summary.json``'s content.

    ``sweep_dir`` None: ``<runs_dir>/<name>-sweep`` (runs_dir default ./runs or $BACKPROPLAB_RUNS); if that
    holds a different sweep, ``<name>-sweep-2``, ``-3`` ... An explicit ``sweep_dir`` holding a different sweep
    is refused, and so is a directory another sweep is working in (`backproplab._lock.LockedError`). Every
    trial's config is validated before anything runs. ``observer`` follows the sweep and its trials.
    """
    started = time.perf_counter()
    pool = LazyExecutor(executor, address=address, workers=workers)  # checks the options before anything runs
    trials = expand_trials(sweep)
    if address is None:  # the trials run on this machine: a backend or device it lacks fails now, once
        check_placements(trials)
    resolved = sweep.resolved()
    directory = _prepare_dir(resolved, sweep_dir, runs_dir)
    with directory.lock() as lock:
        if lock.took_over:
            say(lock.takeover_note() or "")
        directory.clean()
        directory.write_spec(resolved.to_toml())
        if observer is not None:
            observer.sweep_started(directory.path, resolved.model_dump(mode="json", exclude_none=True))
        return _run(sweep, resolved, trials, directory, pool, executor, started, say, observer)


def _run(
    sweep: SweepConfig,
    resolved: SweepConfig,
    trials: list[Trial],
    directory: SweepDir,
    pool: LazyExecutor,
    executor: str,
    started: float,
    say: Say,
    observer: SweepObserver | None,
) -> SweepResult:
    records: dict[str, dict[str, Any]] = {}
    todo: list[Trial] = []
    for trial in trials:
        run = directory.trial(trial.trial_id)
        done = _finished(trial.config, run)
        if done is None:
            todo.append(trial)
        else:
            records[trial.trial_id] = make_record(trial, done, sweep)
    _write_trials(directory, records)
    if todo:  # a summary from an earlier, interrupted pass would not describe these trials
        directory.remove_summary()
    if records:
        say(f"Resuming {directory.path}: {len(records)} of {len(trials)} trials already finished")
    say(f"Sweep {sweep.name}: {len(todo)} trial(s) to run on the {executor} executor -> {directory.path}")
    retrain: dict[str, Any] | None = None
    with pool:
        stopped = _run_trials(pool, todo, directory, sweep, records, say, observer)
        best = choose_best(list(records.values()), sweep)
        if best is not None and sweep.selection.retrain and not stopped:
            retrain = _retrain(pool, trials[best["index"]], best, sweep, directory, say, observer)
            stopped = retrain.get("status") == "interrupted"
    summary = _summary(
        sweep,
        directory,
        records,
        best,
        retrain,
        executor,
        time.perf_counter() - started,
        INTERRUPTED if stopped else COMPLETE,
    )
    directory.write_summary(summary)
    return SweepResult(directory.path, resolved, _ordered(records), best, summary)


def _submit(pool: LazyExecutor, trial_config: RunConfig, run: RunDir, observer: RunObserver | None = None) -> Future:
    """Run a trial: continue it from its directory when that holds a start of it, else afresh."""
    resume = _resumable(trial_config, run)
    if not resume:
        _clear(run.path)
    watch = os.getpid() if pool.owns_workers else None
    return pool.submit(run_trial, _dump(trial_config), str(run.path), resume, watch, observer)


def _run_trials(
    pool: LazyExecutor,
    todo: list[Trial],
    directory: SweepDir,
    sweep: SweepConfig,
    records: dict[str, dict[str, Any]],
    say: Say,
    observer: SweepObserver | None = None,
) -> bool:
    """Run ``todo`` and record each trial as it finishes; True when a stop request ended the sweep early.

    A trial whose future failed (its worker died) is judged by its directory: finished there, it is recorded;
    else it runs again (on a new pool) until `MAX_ATTEMPTS`."""
    attempts = {t.trial_id: 1 for t in todo}
    worker_errors: dict[str, list[str]] = {t.trial_id: [] for t in todo}
    queue = list(todo)
    done_count = 0

    def record(trial: Trial, outcome: dict[str, Any]) -> None:
        nonlocal done_count
        outcome = {**outcome, "attempts": attempts[trial.trial_id], "worker_errors": worker_errors[trial.trial_id]}
        records[trial.trial_id] = make_record(trial, outcome, sweep)
        _write_trials(directory, records)
        done_count += 1
        say(f"[{done_count}/{len(todo)}] {_describe(records[trial.trial_id], sweep)}")

    while queue:
        futures: dict[Future, Trial] = {}
        for trial in queue:
            if interrupts.requested() is not None:
                break
            watcher = observer.trial_observer(trial) if observer is not None else None
            futures[_submit(pool, trial.config, directory.trial(trial.trial_id), watcher)] = trial
        queue = []
        while futures:
            finished, _ = wait(futures, timeout=0.25, return_when=FIRST_COMPLETED)
            if interrupts.requested() is not None and not finished:
                _stop(pool, futures, directory, sweep, record, say)
                return True
            for future in finished:
                trial = futures.pop(future)
                if future.cancelled():
                    record(trial, _interrupted_outcome(directory.trial(trial.trial_id)))
                    continue
                try:
                    outcome = future.result()
                except Exception as exc:  # the worker itself died (killed process, lost Dask worker ...)
                    outcome = outcome_from_dir(directory.trial(trial.trial_id))
                    if outcome is None or outcome["status"] not in ("ok", "diverged"):
                        worker_errors[trial.trial_id].append(f"{type(exc).__name__}: {exc}")
                        if attempts[trial.trial_id] < MAX_ATTEMPTS:
                            attempts[trial.trial_id] += 1
                            queue.append(trial)
                            say(
                                f"{trial.trial_id}: its worker died ({type(exc).__name__}); running it again "
                                f"(attempt {attempts[trial.trial_id]} of {MAX_ATTEMPTS})"
                            )
                            continue
                        outcome = {
                            "status": "error",
                            "final": {},
                            "epochs_run": 0,
                            "best_epoch": None,
                            "seconds": None,
                            "error": f"its worker died {MAX_ATTEMPTS} times, last: "
                            f"{type(exc).__name__}: {exc} (e.g. killed or out of memory)",
                        }
                record(trial, outcome)
        if interrupts.requested() is not None:
            for trial in queue:
                record(trial, _interrupted_outcome(directory.trial(trial.trial_id)))
            return True
        if queue:
            pool.restart()  # a pool with a dead worker takes no more work
    return interrupts.requested() is not None


def _stop(
    pool: LazyExecutor,
    futures: dict[Future, Trial],
    directory: SweepDir,
    sweep: SweepConfig,
    record: Callable[[Trial, dict[str, Any]], None],
    say: Say,
) -> None:
    """A stop request: cancel queued trials, let running ones checkpoint, record what each directory holds."""
    signum = interrupts.requested() or signal.SIGINT
    say(f"Stopping the sweep ({signal.Signals(signum).name}): queued trials cancelled, running ones checkpoint")
    pool.interrupt()
    for future, trial in futures.items():
        outcome = None
        if future.done() and not future.cancelled():
            try:
                outcome = future.result()
            except Exception:  # noqa: BLE001 - the worker ended while stopping; its directory tells the rest
                outcome = None
        record(
            trial,
            outcome
            or outcome_from_dir(directory.trial(trial.trial_id))
            or _interrupted_outcome(directory.trial(trial.trial_id)),
        )


def _interrupted_outcome(run: RunDir) -> dict[str, Any]:
    found = outcome_from_dir(run)
    if found is not None:
        return found
    return {
        "status": "interrupted",
        "error": "stopped before it finished (resumable)",
        "final": {},
        "epochs_run": 0,
        "best_epoch": None,
        "seconds": None,
    }


def _dump(config: RunConfig) -> dict[str, Any]:
    return config.model_dump(mode="json", exclude_none=True)


# ---------------------------------------------------------------- the sweep directory


def _spec(sweep: SweepConfig) -> dict[str, Any]:
    """What decides the trials: the resolved run config (what it trains), the search and the seeds."""
    return {
        "config": training_part(sweep.config),
        "search": sweep.search.model_dump(mode="json"),
        "selection": {"seeds": sweep.selection.seeds},
    }


def spec_differences(old: SweepConfig, new: SweepConfig) -> list[str]:
    """``key: old -> new`` for every setting that changes the trials."""
    a, b = flatten_dotted(_spec(old)), flatten_dotted(_spec(new))
    return [
        f"{k}: {a.get(k, '(unset)')!r} -> {b.get(k, '(unset)')!r}"
        for k in sorted(set(a) | set(b))
        if a.get(k) != b.get(k)
    ]


def _existing_differences(path: Path, resolved: SweepConfig) -> list[str] | None:
    """None if ``path`` is free or holds this sweep; else what differs (refusal reasons)."""
    if not path.exists() or (path.is_dir() and not any(not p.name.startswith(".") for p in path.iterdir())):
        return None
    if not SweepDir.is_sweep_dir(path):
        return [f"{path} exists and is not a sweep directory (no {SWEEP_FILE})"]
    try:
        old = parse_sweep(SweepDir(path).read_spec(), str(path / SWEEP_FILE))
    except BackproplabError as exc:
        return [f"its {SWEEP_FILE} is not readable: {exc}"]
    return spec_differences(old, resolved) or None


def _prepare_dir(resolved: SweepConfig, sweep_dir: str | Path | None, runs_dir: str | Path | None) -> SweepDir:
    if sweep_dir is not None:
        path = Path(sweep_dir)
        diffs = _existing_differences(path, resolved)
        if diffs:
            raise SweepDirError(
                f"{path} holds a different sweep, so it cannot be resumed with this one:\n  "
                + "\n  ".join(diffs[:8])
                + "\nGive another directory (--sweep-dir), or delete it to "
                "start over."
            )
    else:
        root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
        for i in range(1, 1000):
            path = root / (f"{resolved.name}-sweep" + ("" if i == 1 else f"-{i}"))
            if _existing_differences(path, resolved) is None:
                break
    try:
        (path / TRIALS_DIR).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SweepDirError(
            f"cannot create the sweep directory {path}: {exc.strerror or exc} "
            f"[{type(exc).__name__}]; nothing was written"
        ) from None
    return SweepDir(path)


def _same_run(config: RunConfig, run: RunDir) -> bool:
    """Whether ``run`` holds a run (finished or not) of this same config."""
    try:
        old = parse_config(run.read_config())
    except BackproplabError:
        return False
    return not config_differences(old, config)


def _finished(config: RunConfig, run: RunDir) -> dict[str, Any] | None:
    """The outcome of a trial that finished earlier (complete or diverged) with this same config, else None."""
    found = outcome_from_dir(run)
    if found is None or found["status"] not in ("ok", "diverged") or not _same_run(config, run):
        return None
    return {**found, "resumed": True}


def _resumable(config: RunConfig, run: RunDir) -> bool:
    """A started, unfinished run of this config (interrupted, killed or failed): continue it."""
    return RunDir.is_run_dir(run.path) and _finished(config, run) is None and _same_run(config, run)


def _clear(run_dir: Path) -> None:
    if run_dir.exists():
        shutil.rmtree(run_dir)


# ---------------------------------------------------------------- records


def make_record(trial: Trial, outcome: dict[str, Any], sweep: SweepConfig) -> dict[str, Any]:
    """A row of trials.json (see the sweep-directory contract); ``status`` is one of `TRIAL_STATUSES`."""
    final = {k: _finite(v) for k, v in (outcome.get("final") or {}).items()}
    selection = final.get(sweep.selection.metric) if outcome["status"] == "ok" else None
    return {
        "trial": trial.trial_id,
        "index": trial.index,
        "point": trial.point,
        "params": trial.params,
        "seed": trial.seed,
        "status": outcome["status"],
        "error": outcome.get("error"),
        "run_dir": f"{TRIALS_DIR}/{trial.trial_id}",
        "final": final,
        "selection": selection,
        "epochs_run": outcome.get("epochs_run"),
        "best_epoch": outcome.get("best_epoch"),
        "seconds": outcome.get("seconds"),
        "attempts": outcome.get("attempts", 1),
        "worker_errors": outcome.get("worker_errors") or [],
    }


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _ordered(records: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(records.values(), key=lambda r: r["index"])


def _write_trials(directory: SweepDir, records: dict[str, dict[str, Any]]) -> None:
    rows = _ordered(records)
    directory.write_trials(rows, trials_csv(rows))


def trials_csv(rows: list[dict[str, Any]]) -> str:
    """One line per trial: id, seed, status, selection, then the params and final metrics as columns."""
    params = list(dict.fromkeys(k for r in rows for k in r["params"]))
    finals = list(dict.fromkeys(k for r in rows for k in r["final"]))
    head = ["trial", "index", "point", "seed", "status", "selection", "epochs_run", "best_epoch", "seconds", "run_dir"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(head + params + finals + ["error"])
    for r in rows:
        writer.writerow(
            [_cell(r[k]) for k in head]
            + [_cell(r["params"].get(k)) for k in params]
            + [_cell(r["final"].get(k)) for k in finals]
            + [_cell(r["error"])]
        )
    return out.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return value


def _describe(record: dict[str, Any], sweep: SweepConfig) -> str:
    params = " ".join(f"{k}={v}" for k, v in record["params"].items())
    metric = sweep.selection.metric
    if record["status"] == "ok":
        sel = record["selection"]
        outcome = f"{metric} {sel:.4f}" if isinstance(sel, float) else f"{metric} n/a"
    else:
        outcome = f"{record['status'].upper()}: {record['error']}"
    seconds = f" ({record['seconds']:.1f}s)" if record.get("seconds") else ""
    return f"{record['trial']} {params} seed={record['seed']}: {outcome}{seconds}"


def choose_best(records: list[dict[str, Any]], sweep: SweepConfig) -> dict[str, Any] | None:
    """The best trial: the point with the best mean selection metric over its successful seeds, and within it
    the best seed. Diverged and failed trials never count; ties go to the earlier trial."""
    sign = -1.0 if sweep.selection.mode == "max" else 1.0
    by_point: dict[int, list[dict[str, Any]]] = {}
    for r in records:
        if r["status"] == "ok" and isinstance(r["selection"], int | float):
            by_point.setdefault(r["point"], []).append(r)
    if not by_point:
        return None

    def point_score(p: int) -> tuple[float, int]:
        rs = by_point[p]
        return sign * sum(r["selection"] for r in rs) / len(rs), min(r["index"] for r in rs)

    point = min(by_point, key=point_score)
    return min(by_point[point], key=lambda r: (sign * r["selection"], r["index"]))


# ---------------------------------------------------------------- retrain and summary


def retrain_config(trial: Trial, best: dict[str, Any], sweep: SweepConfig) -> RunConfig:
    """The best trial's config trained on all training rows (``data.validation_size = 0``); with early
    stopping, for the best trial's best epoch count and without early stopping."""
    data = _dump(trial.config)
    data["name"] = f"{sweep.name}-retrain"
    data["data"]["validation_size"] = 0
    training = data["training"]
    training["eval"] = [s for s in training.get("eval", []) if s != "validation"] or ["test"]
    if training.pop("early_stopping", None) is not None:
        training.pop("iterations", None)  # the best epoch count replaces the length in iterations
        training["epochs"] = int(best.get("best_epoch") or best.get("epochs_run") or training.get("epochs") or 1)
    return parse_config(data, f"the retrain of {trial.trial_id}")


def _retrain(
    pool: LazyExecutor,
    trial: Trial,
    best: dict[str, Any],
    sweep: SweepConfig,
    directory: SweepDir,
    say: Say,
    observer: SweepObserver | None = None,
) -> dict[str, Any]:
    config = retrain_config(trial, best, sweep)
    run = directory.retrain
    outcome = _finished(config, run)
    if outcome is None:
        t = config.training
        length = f"{t.iterations} iterations" if t.iterations else f"{t.epochs} epochs"
        say(f"Retraining {best['trial']} on all training data ({length})")
        future = _submit(pool, config, run, observer.trial_observer(None) if observer is not None else None)
        while True:  # wait in short steps, so that a stop request is honoured while the retrain runs
            done, _ = wait([future], timeout=0.25)
            if done or interrupts.requested() is not None:
                break
        if not done:
            pool.interrupt()
        try:
            outcome = future.result() if not future.cancelled() else _interrupted_outcome(run)
        except Exception as exc:
            outcome = outcome_from_dir(run) or {"status": "error", "error": f"{type(exc).__name__}: {exc}", "final": {}}
        if outcome["status"] != "ok":
            say(f"Retrain {outcome['status']}: {outcome['error']}")
    return {**outcome, "config": config}


def _history(run: RunDir) -> History:
    try:
        return run.read_history()
    except (BackproplabError, KeyError):
        return History()


def _summary(
    sweep: SweepConfig,
    directory: SweepDir,
    records: dict[str, dict[str, Any]],
    best: dict[str, Any] | None,
    retrain: dict[str, Any] | None,
    executor: str,
    seconds: float,
    status: str,
) -> dict[str, Any]:
    counts = {s: sum(r["status"] == s for r in records.values()) for s in TRIAL_STATUSES}
    final: dict[str, Any] = {}
    published: list[dict[str, Any]] = []
    source: RunDir | None = None
    if retrain is not None and retrain["status"] == "ok":
        source, final = directory.retrain, retrain["final"]
    elif best is not None:
        source, final = directory.run(best["run_dir"]), best["final"]
    quick = sweep.config.get("variant") == "quick"
    if source is not None:
        published = compare_published(
            sweep.published, _history(source), final, full_length=not quick and status != INTERRUPTED
        )
    return {
        "kind": "sweep",
        "name": sweep.name,
        "description": sweep.description,
        "status": status,
        "variant": "quick" if quick else "full",
        "stopped_by": (signal.Signals(interrupts.requested() or signal.SIGINT).name if status == INTERRUPTED else None),
        "selection": {"metric": sweep.selection.metric, "mode": sweep.selection.mode},
        "space": sweep.search.space,
        "method": sweep.search.method,
        "seeds": sweep.selection.seeds,
        "executor": executor,
        "best": best["trial"] if best else None,
        "best_params": best["params"] if best else {},
        "best_selection": best["selection"] if best else None,
        "retrain": RETRAIN_DIR if retrain is not None and retrain["status"] == "ok" else None,
        "retrain_error": retrain["error"] if retrain is not None and retrain["status"] != "ok" else None,
        "final": {k: _finite(v) for k, v in final.items()},
        "published": published,
        "trials": {**counts, "total": len(records)},
        "seconds": seconds,
    }
