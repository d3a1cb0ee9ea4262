"""`RunRecord`: everything a tracker logs about one run, read back from a finished run or sweep directory
(`read_run_dir`, `read_sweep_dir`), or what is known when it starts (`start_record`, `sweep_start_record`).

The run directory is always written first and is the primary copy; a tracker only mirrors it (so a tracker
failure can never lose a run, and any old run or sweep can be logged after the fact). While a run trains,
`backproplab.tracking.live` sends the epochs the run directory has recorded.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..experiments.config import flatten_dotted
from ..rundir import RunDir, SweepDir, summary_status

# Per-epoch record keys that are not metrics.
NOT_METRICS = frozenset({"epoch"})


@dataclass
class RunRecord:
    """One run as a tracker sees it.

    ``epochs`` are History records (``{"epoch": 1, "train_loss": ..., ...}``): every numeric key except
    ``epoch`` is logged as a metric at step = epoch. ``final`` metrics are logged once (no step).
    ``key`` identifies the run directory so logging the same directory twice finds the first copy.
    """

    name: str
    experiment: str
    key: str
    params: dict[str, str] = field(default_factory=dict)
    epochs: list[dict[str, Any]] = field(default_factory=list)
    final: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    artifacts: list[Path] = field(default_factory=list)
    description: str = ""
    status: str = "ok"  # ok | diverged | interrupted | error
    start_ms: int | None = None
    end_ms: int | None = None
    config: dict[str, Any] = field(default_factory=dict)  # nested, for trackers that take a dict (W&B)
    state: str = ""  # what the directory held (a digest of its summary): a resumed run is logged again


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested tables -> dotted keys; leaves as text (strings as they are, everything else as JSON).

    ``{"optimizer": {"lr": 0.01, "nesterov": False}, "model": {"hidden": [256]}}`` ->
    ``{"optimizer.lr": "0.01", "optimizer.nesterov": "false", "model.hidden": "[256]"}``.
    """
    return {
        key: value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        for key, value in flatten_dotted(data, prefix).items()
    }


def epoch_metrics(record: dict[str, Any]) -> dict[str, float]:
    """The numeric entries of one History epoch record (``epoch`` itself excluded)."""
    return {
        k: float(v)
        for k, v in record.items()
        if k not in NOT_METRICS and isinstance(v, int | float) and not isinstance(v, bool)
    }


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return ""


def _mtime_ms(path: Path) -> int | None:
    try:
        return int(path.stat().st_mtime * 1000)
    except OSError:
        return None


def _numeric(values: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in values.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def is_run_dir(path: Path) -> bool:
    """A run directory whose run ended (it has ``summary.json``), so there is something to log."""
    return RunDir.is_finished(path)


def is_sweep_dir(path: Path) -> bool:
    """A sweep directory whose sweep ended (``sweep_summary.json``)."""
    return SweepDir.is_finished(path)


def _provenance_tags(env: dict[str, Any]) -> dict[str, str]:
    """backproplab's version and the git commit of the directory the run was started in (see
    `backproplab.experiments.run.provenance.environment`)."""
    return {
        "backproplab.version": str(env.get("backproplab") or ""),
        "git_commit": str(env.get("git_commit") or "none (not started in a git repository)"),
        "mlflow.source.git.commit": str(env.get("git_commit") or ""),
    }


def start_record(
    run_dir: str | Path,
    config: dict[str, Any],
    environment: dict[str, Any],
    *,
    experiment: str | None = None,
    tags: dict[str, str] | None = None,
) -> RunRecord:
    """The record of a run that starts training in ``run_dir``: the resolved ``config`` as params, provenance
    tags and status ``running`` (its metrics and artifacts come later)."""
    run_dir = Path(run_dir).resolve()
    name = str(config.get("name") or run_dir.name)
    data, model = config.get("data") or {}, config.get("model") or {}
    record_tags = {
        "backproplab.preset": name,
        "backproplab.status": "running",
        "backproplab.dataset": str(data.get("dataset") or ""),
        "backproplab.backend": str(model.get("backend") or ""),
        "backproplab.run_dir": str(run_dir),
        "backproplab.variant": str(config.get("variant") or ""),
        "torch_version": str(environment.get("torch") or ""),
        **_provenance_tags(environment),
    }
    record_tags = {k: v for k, v in record_tags.items() if v}
    record_tags.update(tags or {})
    return RunRecord(
        name=run_dir.name,
        experiment=experiment or name,
        key=str(run_dir),
        params=flatten(config),
        tags=record_tags,
        description=str(config.get("description", "")),
        status="running",
        start_ms=int(time.time() * 1000),
        config=config,
    )


def _sweep_params(summary: dict[str, Any]) -> dict[str, str]:
    selection = summary.get("selection") or {}
    return flatten(
        {
            "space": summary.get("space") or {},
            "selection": selection,
            **{k: summary[k] for k in ("executor", "method", "seeds") if summary.get(k) is not None},
        }
    )


def sweep_start_record(
    sweep_dir: str | Path, sweep: dict[str, Any], *, executor: str, experiment: str | None = None
) -> RunRecord:
    """The parent record of a sweep that starts in ``sweep_dir`` (``sweep``: the resolved sweep file as a
    table): its search space, selection, executor, method and seeds as params, status ``running``."""
    sweep_dir = Path(sweep_dir).resolve()
    name = str(sweep.get("name") or sweep_dir.name)
    search, selection = sweep.get("search") or {}, sweep.get("selection") or {}
    summary = {
        "space": search.get("space") or {},
        "method": search.get("method"),
        "seeds": selection.get("seeds"),
        "selection": {"metric": selection.get("metric"), "mode": selection.get("mode")},
        "executor": executor,
    }
    tags = {
        "backproplab.kind": "sweep",
        "backproplab.preset": name,
        "backproplab.sweep_dir": str(sweep_dir),
        "backproplab.status": "running",
    }
    return RunRecord(
        name=sweep_dir.name,
        experiment=experiment or name,
        key=str(sweep_dir),
        params=_sweep_params(summary),
        tags=tags,
        description=str(sweep.get("description") or ""),
        status="running",
        start_ms=int(time.time() * 1000),
        config=summary,
    )


_TRACKED_STATUS = {"complete": "ok"}  # a run's status as the tracker's (ok | diverged | interrupted | error)


def read_run_dir(
    run_dir: str | Path, *, experiment: str | None = None, tags: dict[str, str] | None = None
) -> RunRecord:
    """A `RunRecord` from a finished run directory (``summary.json``, ``metrics.json``, ``config.toml`` ...)."""
    run = RunDir(Path(run_dir).resolve())
    run_dir = run.path
    summary = run.read_summary()
    metrics = run.read_metrics() if run.has(RunDir.METRICS_JSON) else {}
    config = run.read_config() if run.has(RunDir.CONFIG) else {}
    config_path = run.file(RunDir.CONFIG)
    env = summary.get("environment") or {}
    data = summary.get("data") or {}
    run_status = summary_status(summary)
    status = _TRACKED_STATUS.get(run_status, run_status)
    # named apart from the per-epoch keys (an epoch record has its own train_seconds)
    extra = {
        "epochs_run": summary.get("epochs_run"),
        "total_train_seconds": summary.get("train_seconds"),
        "wall_seconds": summary.get("wall_seconds"),
    }
    final = {f"final_{k}": v for k, v in _numeric(summary.get("final") or {}).items()}
    final.update(_numeric({k: v for k, v in extra.items() if v is not None}))
    record_tags = {
        "backproplab.preset": str(summary.get("name") or config.get("name") or run_dir.name),
        "backproplab.engine": str(summary.get("engine") or metrics.get("engine") or ""),
        "backproplab.backend": str((summary.get("model") or {}).get("backend") or ""),
        "backproplab.device": str((summary.get("model") or {}).get("device") or ""),
        "torch_version": str(env.get("torch") or ""),
        "backproplab.status": status,
        "backproplab.stop_reason": str(summary.get("stop_reason") or ""),
        "backproplab.dataset": str(data.get("dataset") or ""),
        "backproplab.dataset_checksum": str(data.get("checksum") or "none (generated data)"),
        "backproplab.run_dir": str(run_dir),
        "backproplab.epochs_run": str(summary.get("epochs_run", "")),
        "backproplab.variant": str(config.get("variant") or ""),
        **_provenance_tags(env),
    }
    record_tags = {k: v for k, v in record_tags.items() if v}
    record_tags.update(tags or {})
    name = str(summary.get("name") or run_dir.name)
    return RunRecord(
        name=run_dir.name,
        experiment=experiment or name,
        key=str(run_dir),
        params=flatten(config),
        epochs=list(metrics.get("epochs", [])),
        final=final,
        tags=record_tags,
        artifacts=run.files(),
        description=str(config.get("description", "")),
        status=status,
        start_ms=_mtime_ms(config_path),
        end_ms=_mtime_ms(run.file(RunDir.SUMMARY)),
        config=config,
        state=_digest(run.file(RunDir.SUMMARY)),
    )


def read_sweep_dir(
    sweep_dir: str | Path, *, experiment: str | None = None
) -> tuple[RunRecord, list[tuple[dict[str, Any], Path]], Path | None]:
    """The sweep's parent record, its trials as ``(trial record, run dir)`` (trials with a finished run
    directory only), and the retrain run directory (or None). Layout: see the sweep directory contract."""
    sweep = SweepDir(Path(sweep_dir).resolve())
    sweep_dir = sweep.path
    summary = sweep.read_summary()
    trials = sweep.read_trials()
    name = str(summary.get("name") or sweep_dir.name)
    selection = summary.get("selection") or {}
    counts = summary.get("trials") or {}
    params = _sweep_params(summary)
    params.update(
        {f"best.{k}": v if isinstance(v, str) else json.dumps(v) for k, v in (summary.get("best_params") or {}).items()}
    )
    final = {f"final_{k}": v for k, v in _numeric(summary.get("final") or {}).items()}
    final.update({f"trials_{k}": float(v) for k, v in counts.items() if isinstance(v, int | float)})
    final.update(_numeric({k: v for k, v in summary.items() if k in ("best_selection", "seconds")}))
    tags = {
        "backproplab.kind": "sweep",
        "backproplab.preset": name,
        "backproplab.sweep_dir": str(sweep_dir),
        "backproplab.best_trial": str(summary.get("best") or ""),
        "backproplab.status": (
            "interrupted" if summary.get("status") == "interrupted" else "ok" if summary.get("best") else "error"
        ),
    }
    if selection:
        tags["backproplab.selection"] = f"{selection.get('metric')} ({selection.get('mode')})"
    tags = {k: v for k, v in tags.items() if v}
    parent = RunRecord(
        name=sweep_dir.name,
        experiment=experiment or name,
        key=str(sweep_dir),
        params=params,
        final=final,
        tags=tags,
        artifacts=sweep.files(),
        description=str(summary.get("description") or ""),
        status=tags["backproplab.status"],
        start_ms=_mtime_ms(sweep.path / SweepDir.SPEC),
        end_ms=_mtime_ms(sweep.path / SweepDir.SUMMARY),
        state=_digest(sweep.path / SweepDir.SUMMARY),
        config={"space": summary.get("space"), "selection": selection, "best_params": summary.get("best_params")},
    )
    children = []
    for trial in trials:
        run_dir = sweep_dir / str(trial.get("run_dir") or os.path.join(SweepDir.TRIALS, str(trial.get("trial"))))
        if is_run_dir(run_dir):
            children.append((trial, run_dir))
    retrain = summary.get("retrain")
    retrain_dir = sweep_dir / str(retrain) if retrain else None
    if retrain_dir is not None and not is_run_dir(retrain_dir):
        retrain_dir = None
    return parent, children, retrain_dir
