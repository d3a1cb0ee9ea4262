"""`run_sweep`: run every trial of a sweep in parallel, record each as it finishes, pick the best, retrain it.

The sweep directory (``<runs>/<name>-sweep`` by default)::

    sweep.toml           the resolved sweep (base folded in)       trials/<id>/   one run directory per trial
    trials.json, .csv    finished trials, rewritten atomically     retrain/       the retrained best point
    sweep_summary.json   best trial, its params and final metrics, published comparison, status counts

Re-running the same sweep into its directory resumes it: a trial whose ``summary.json`` exists (for the same
config) is not run again; a half-written trial directory is cleared and the trial rerun.
"""

from __future__ import annotations

import csv
import io
import math
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._io import atomic_write_text
from ..errors import BackproplabError, ConfigError
from ..train import History
from .config import RunConfig, flatten_dotted, parse_config, read_toml
from .executors import LazyExecutor, run_trial
from .published import compare_published
from .rundir import default_runs_dir, read_json, write_json
from .sweep_config import SweepConfig, parse_sweep
from .sweep_trials import Trial, check_placements, expand_trials

SWEEP_FILE = "sweep.toml"
TRIALS_JSON = "trials.json"
TRIALS_CSV = "trials.csv"
SWEEP_SUMMARY = "sweep_summary.json"
TRIALS_DIR = "trials"
RETRAIN_DIR = "retrain"

Say = Callable[[str], None]


class SweepDirError(BackproplabError):
    """The sweep directory holds something else (another sweep, or files that are not a sweep)."""


@dataclass
class SweepResult:
    sweep_dir: Path
    sweep: SweepConfig
    trials: list[dict[str, Any]]
    best: dict[str, Any] | None
    summary: dict[str, Any]


def _quiet(_: str) -> None:
    pass


def run_sweep(sweep: SweepConfig, *, sweep_dir: str | Path | None = None, runs_dir: str | Path | None = None,
              executor: str = "process", address: str | None = None, workers: int | None = None,
              say: Say = _quiet) -> SweepResult:
    """Run (or resume) ``sweep``; returns the trial records, the best one and ``sweep_summary.json``'s content.

    ``sweep_dir`` None: ``<runs_dir>/<name>-sweep`` (runs_dir default ./runs or $BACKPROPLAB_RUNS); if that
    holds a different sweep, ``<name>-sweep-2``, ``-3`` ... An explicit ``sweep_dir`` holding a different sweep
    is refused. Every trial's config is validated before anything runs.
    """
    started = time.perf_counter()
    pool = LazyExecutor(executor, address=address, workers=workers)  # checks the options before anything runs
    trials = expand_trials(sweep)
    if address is None:  # the trials run on this machine: a backend or device it lacks fails now, once
        check_placements(trials)
    resolved = sweep.resolved()
    sweep_dir = _prepare_dir(resolved, sweep_dir, runs_dir)
    atomic_write_text(sweep_dir / SWEEP_FILE, resolved.to_toml())
    records: dict[str, dict[str, Any]] = {}
    todo: list[Trial] = []
    for trial in trials:
        done = _finished(trial.config, sweep_dir / TRIALS_DIR / trial.trial_id)
        if done is None:
            _clear(sweep_dir / TRIALS_DIR / trial.trial_id)
            todo.append(trial)
        else:
            records[trial.trial_id] = make_record(trial, done, sweep)
    _write_trials(sweep_dir, records)
    if todo:  # a summary from an earlier, interrupted pass would not describe these trials
        (sweep_dir / SWEEP_SUMMARY).unlink(missing_ok=True)
    if records:
        say(f"Resuming {sweep_dir}: {len(records)} of {len(trials)} trials already finished")
    say(f"Sweep {sweep.name}: {len(todo)} trial(s) to run on the {executor} executor -> {sweep_dir}")
    retrain: dict[str, Any] | None = None
    with pool:
        for n, (trial, future) in enumerate(_completed(pool, todo, sweep_dir), 1):
            try:
                outcome = future.result()
            except Exception as exc:  # the worker itself died (killed process, lost Dask worker ...)
                outcome = {"status": "error", "final": {}, "epochs_run": 0, "best_epoch": None, "seconds": None,
                           "error": f"{type(exc).__name__}: {exc} (the worker died, e.g. killed or out of "
                                    "memory; run the sweep again to retry)"}
            record = make_record(trial, outcome, sweep)
            records[trial.trial_id] = record
            _write_trials(sweep_dir, records)
            say(f"[{n}/{len(todo)}] {_describe(record, sweep)}")
        best = choose_best(list(records.values()), sweep)
        if best is not None and sweep.selection.retrain:
            retrain = _retrain(pool, trials[best["index"]], best, sweep, sweep_dir, say)
    summary = _summary(sweep, sweep_dir, records, best, retrain, executor, time.perf_counter() - started)
    write_json(sweep_dir / SWEEP_SUMMARY, summary)
    return SweepResult(sweep_dir, resolved, _ordered(records), best, summary)


def _completed(pool: LazyExecutor, todo: list[Trial], sweep_dir: Path) -> Iterator[tuple[Trial, Future]]:
    """(trial, finished future) as trials finish; the serial executor runs one trial per step."""
    def submit(t: Trial) -> Future:
        return pool.submit(run_trial, _dump(t.config), str(sweep_dir / TRIALS_DIR / t.trial_id))

    if pool.kind == "serial":
        yield from ((t, submit(t)) for t in todo)
        return
    futures = {submit(t): t for t in todo}
    for future in as_completed(futures):
        yield futures[future], future


def _dump(config: RunConfig) -> dict[str, Any]:
    return config.model_dump(mode="json", exclude_none=True)


# ---------------------------------------------------------------- the sweep directory

# settings that do not change what a run computes
_NOT_TRAINING = ("name", "description", "published", "quick")


def _training_part(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k not in _NOT_TRAINING}


def _spec(sweep: SweepConfig) -> dict[str, Any]:
    """What decides the trials: the resolved run config (what it trains), the search and the seeds."""
    return {"config": _training_part(sweep.config), "search": sweep.search.model_dump(mode="json"),
            "selection": {"seeds": sweep.selection.seeds}}


def spec_differences(old: SweepConfig, new: SweepConfig) -> list[str]:
    """``key: old -> new`` for every setting that changes the trials."""
    a, b = flatten_dotted(_spec(old)), flatten_dotted(_spec(new))
    return [f"{k}: {a.get(k, '(unset)')!r} -> {b.get(k, '(unset)')!r}"
            for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def _existing_differences(path: Path, resolved: SweepConfig) -> list[str] | None:
    """None if ``path`` is free or holds this sweep; else what differs (refusal reasons)."""
    if not path.exists() or (path.is_dir() and not any(path.iterdir())):
        return None
    if not (path / SWEEP_FILE).is_file():
        return [f"{path} exists and is not a sweep directory (no {SWEEP_FILE})"]
    try:
        old = parse_sweep(read_toml(path / SWEEP_FILE), str(path / SWEEP_FILE))
    except ConfigError as exc:
        return [f"its {SWEEP_FILE} is not readable: {exc}"]
    return spec_differences(old, resolved) or None


def _prepare_dir(resolved: SweepConfig, sweep_dir: str | Path | None, runs_dir: str | Path | None) -> Path:
    if sweep_dir is not None:
        path = Path(sweep_dir)
        diffs = _existing_differences(path, resolved)
        if diffs:
            raise SweepDirError(f"{path} holds a different sweep, so it cannot be resumed with this one:\n  "
                                + "\n  ".join(diffs[:8]) + "\nGive another directory (--dir), or delete it to "
                                "start over.")
    else:
        root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
        for i in range(1, 1000):
            path = root / (f"{resolved.name}-sweep" + ("" if i == 1 else f"-{i}"))
            if _existing_differences(path, resolved) is None:
                break
    (path / TRIALS_DIR).mkdir(parents=True, exist_ok=True)
    return path


def _finished(config: RunConfig, run_dir: Path) -> dict[str, Any] | None:
    """The outcome of a trial finished earlier with this same config, else None."""
    try:
        summary = read_json(run_dir / "summary.json")
        old = parse_config(read_toml(run_dir / "config.toml"))
    except (OSError, ValueError):
        return None
    if _training_part(_dump(old)) != _training_part(_dump(config)):
        return None
    return {"status": "diverged" if summary.get("diverged") else "ok",
            "error": summary.get("stop_reason") if summary.get("diverged") else None,
            "final": summary.get("final", {}), "epochs_run": summary.get("epochs_run"),
            "best_epoch": summary.get("best_epoch"), "seconds": summary.get("wall_seconds"), "resumed": True}


def _clear(run_dir: Path) -> None:
    if run_dir.exists():
        shutil.rmtree(run_dir)


# ---------------------------------------------------------------- records

def make_record(trial: Trial, outcome: dict[str, Any], sweep: SweepConfig) -> dict[str, Any]:
    """A row of trials.json (see the sweep-directory contract)."""
    final = {k: _finite(v) for k, v in (outcome.get("final") or {}).items()}
    selection = final.get(sweep.selection.metric) if outcome["status"] == "ok" else None
    return {"trial": trial.trial_id, "index": trial.index, "point": trial.point, "params": trial.params,
            "seed": trial.seed, "status": outcome["status"], "error": outcome.get("error"),
            "run_dir": f"{TRIALS_DIR}/{trial.trial_id}", "final": final, "selection": selection,
            "epochs_run": outcome.get("epochs_run"), "best_epoch": outcome.get("best_epoch"),
            "seconds": outcome.get("seconds")}


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _ordered(records: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(records.values(), key=lambda r: r["index"])


def _write_trials(sweep_dir: Path, records: dict[str, dict[str, Any]]) -> None:
    rows = _ordered(records)
    write_json(sweep_dir / TRIALS_JSON, rows)
    atomic_write_text(sweep_dir / TRIALS_CSV, trials_csv(rows))


def trials_csv(rows: list[dict[str, Any]]) -> str:
    """One line per trial: id, seed, status, selection, then the params and final metrics as columns."""
    params = list(dict.fromkeys(k for r in rows for k in r["params"]))
    finals = list(dict.fromkeys(k for r in rows for k in r["final"]))
    head = ["trial", "index", "point", "seed", "status", "selection", "epochs_run", "best_epoch", "seconds",
            "run_dir"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(head + params + finals + ["error"])
    for r in rows:
        writer.writerow([_cell(r[k]) for k in head] + [_cell(r["params"].get(k)) for k in params]
                        + [_cell(r["final"].get(k)) for k in finals] + [_cell(r["error"])])
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
        training["epochs"] = int(best.get("best_epoch") or best.get("epochs_run") or training["epochs"])
    return parse_config(data, f"the retrain of {trial.trial_id}")


def _retrain(pool: Executor, trial: Trial, best: dict[str, Any], sweep: SweepConfig, sweep_dir: Path,
             say: Say) -> dict[str, Any]:
    config = retrain_config(trial, best, sweep)
    run_dir = sweep_dir / RETRAIN_DIR
    outcome = _finished(config, run_dir)
    if outcome is None:
        _clear(run_dir)
        say(f"Retraining {best['trial']} on all training data ({config.training.epochs} epochs)")
        try:
            outcome = pool.submit(run_trial, _dump(config), str(run_dir)).result()
        except Exception as exc:
            outcome = {"status": "error", "error": f"{type(exc).__name__}: {exc}", "final": {}}
        if outcome["status"] != "ok":
            say(f"Retrain {outcome['status']}: {outcome['error']}")
    return {**outcome, "config": config}


def _history(run_dir: Path) -> History:
    try:
        return History.from_dict(read_json(run_dir / "metrics.json"))
    except (OSError, ValueError, KeyError):
        return History()


def _summary(sweep: SweepConfig, sweep_dir: Path, records: dict[str, dict[str, Any]], best: dict[str, Any] | None,
             retrain: dict[str, Any] | None, executor: str, seconds: float) -> dict[str, Any]:
    counts = {s: sum(r["status"] == s for r in records.values()) for s in ("ok", "diverged", "error")}
    final: dict[str, Any] = {}
    published: list[dict[str, Any]] = []
    source_dir: Path | None = None
    if retrain is not None and retrain["status"] == "ok":
        source_dir, final = sweep_dir / RETRAIN_DIR, retrain["final"]
    elif best is not None:
        source_dir, final = sweep_dir / best["run_dir"], best["final"]
    if source_dir is not None:
        published = compare_published(sweep.published, _history(source_dir), final)
    return {
        "kind": "sweep", "name": sweep.name, "description": sweep.description,
        "selection": {"metric": sweep.selection.metric, "mode": sweep.selection.mode},
        "space": sweep.search.space, "method": sweep.search.method, "seeds": sweep.selection.seeds,
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
