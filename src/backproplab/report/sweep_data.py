"""Reading a sweep directory (see the layout in docs/reports.md) and the facts its report is built from.

Nothing here draws: the trial order, the labels, which keys are rates or categorical, and the best
validation loss per learning rate are plain functions that the tests check against trials.json directly.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BackproplabError
from ..rundir import RunDir, SweepDir

SWEEP_SUMMARY = SweepDir.SUMMARY
TRIALS_JSON = SweepDir.TRIALS_JSON
STATUS_ORDER = {"ok": 0, "diverged": 1, "interrupted": 2, "error": 3}
RATE_NAMES = ("lr", "learning_rate", "eta")


@dataclass
class SweepData:
    """A finished sweep directory, read once."""

    path: Path
    summary: dict[str, Any]
    trials: list[dict[str, Any]]
    sweep_text: str = ""
    sweep_file: dict[str, Any] = field(default_factory=dict)
    _histories: dict[str, dict[str, list[float]] | None] = field(default_factory=dict, repr=False)

    @property
    def metric(self) -> str:
        return str(self.summary.get("selection", {}).get("metric", "val_loss"))

    @property
    def mode(self) -> str:
        return str(self.summary.get("selection", {}).get("mode", "min"))

    @property
    def space(self) -> dict[str, Any]:
        space = self.summary.get("space") or self.sweep_file.get("search", {}).get("space") or {}
        if space:
            return dict(space)
        keys: dict[str, list[Any]] = {}
        for t in self.trials:  # fall back on the trials' own parameters
            for k, v in t.get("params", {}).items():
                keys.setdefault(k, [])
                if v not in keys[k]:
                    keys[k].append(v)
        return keys

    @property
    def keys(self) -> list[str]:
        return list(self.space)

    @property
    def seeds(self) -> list[Any]:
        return sorted({t.get("seed") for t in self.trials}, key=str)

    def run_dir(self, trial: Mapping[str, Any]) -> Path | None:
        rel = trial.get("run_dir")
        path = self.path / (rel or f"{SweepDir.TRIALS}/{trial['trial']}")
        return path if path.is_dir() else None

    def history(self, trial: Mapping[str, Any]) -> dict[str, list[float]] | None:
        """The trial's per-epoch ``history`` (``{"train_loss": [...], ...}``) or None when it has none."""
        tid = str(trial["trial"])
        if tid not in self._histories:
            run = self.run_dir(trial)
            hist = None
            if run is not None and RunDir(run).has(RunDir.METRICS_JSON):
                try:
                    hist = RunDir(run).read_metrics().get("history")
                except (BackproplabError, AttributeError):
                    hist = None
            self._histories[tid] = hist or None
        return self._histories[tid]


def read_sweep(sweep_dir: str | Path) -> SweepData:
    """Read ``sweep_summary.json``, ``trials.json`` and ``sweep.toml`` of a sweep directory."""
    sweep = SweepDir(sweep_dir)
    summary = sweep.read_summary()
    if not (sweep.path / TRIALS_JSON).is_file():
        raise BackproplabError(f"{sweep.path}: not a finished sweep directory ({TRIALS_JSON} is missing)")
    trials = sweep.read_trials()
    text = sweep.read_spec_text()
    try:
        parsed = tomllib.loads(text) if text else {}
    except tomllib.TOMLDecodeError:
        parsed = {}
    return SweepData(sweep.path, summary, trials, text, parsed)


def selection_value(trial: Mapping[str, Any]) -> float | None:
    """The trial's selection metric when it finished ok with a finite value; None otherwise."""
    value = trial.get("selection")
    if trial.get("status") != "ok" or value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def sort_trials(trials: Sequence[Mapping[str, Any]], mode: str) -> list[Mapping[str, Any]]:
    """Best first: ok trials by the selection metric (``mode`` "min" or "max"; ties by trial index), then
    ok trials without a value, then diverged, then errors (each by index)."""
    sign = -1.0 if mode == "max" else 1.0

    def key(t: Mapping[str, Any]) -> tuple[int, int, float, int]:
        value = selection_value(t)
        group = STATUS_ORDER.get(str(t.get("status")), 3)
        return group, 0 if value is not None else 1, sign * value if value is not None else 0.0, int(t.get("index", 0))

    return sorted(trials, key=key)


def short_names(keys: Sequence[str]) -> dict[str, str]:
    """``training.batch_size`` -> ``batch_size`` unless two keys share their last part."""
    last = [k.rsplit(".", 1)[-1] for k in keys]
    return {k: (s if last.count(s) == 1 else k) for k, s in zip(keys, last, strict=True)}


def format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


def params_label(params: Mapping[str, Any], keys: Sequence[str]) -> str:
    names = short_names(keys)
    return ", ".join(f"{names[k]}={format_value(params.get(k))}" for k in keys if k in params)


def is_rate_key(key: str) -> bool:
    last = key.rsplit(".", 1)[-1].lower()
    return last in RATE_NAMES or last.endswith("_lr")


def lr_key(space: Mapping[str, Any]) -> str | None:
    """The learning-rate key of a search space (``optimizer.lr`` ...), or None."""
    return next((k for k in space if is_rate_key(k)), None)


def is_log_key(key: str, spec: Any, values: Sequence[Any]) -> bool:
    """Log axis for rates and ``log_uniform`` keys, when every value is a positive number."""
    numeric = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numeric) != len(values) or not numeric or min(numeric) <= 0:
        return False
    return is_rate_key(key) or (isinstance(spec, Mapping) and "log_uniform" in spec)


def is_categorical(values: Sequence[Any]) -> bool:
    return any(isinstance(v, str | bool | list | dict) or v is None for v in values)


def best_loss(
    history: Mapping[str, list[float]] | None, prefer: Sequence[str] = ("val", "test", "train")
) -> tuple[str, float] | None:
    """``(metric, min over epochs)`` of the first of val/test/train loss the history has (finite values)."""
    if not history:
        return None
    for split in prefer:
        values = [float(v) for v in history.get(f"{split}_loss") or [] if v is not None and math.isfinite(v)]
        if values:
            return f"{split}_loss", min(values)
    return None


@dataclass
class RatePoint:
    """One learning rate of one group (the other hyperparameters) in the loss-vs-rate plot."""

    lr: float
    group: str
    best: float | None  # mean over seeds of each ok trial's best loss; None when none finished ok
    status: str  # "ok", "diverged" (every finished trial diverged) or "error"
    trials: list[str]


def lr_points(data: SweepData) -> tuple[str | None, str, list[RatePoint]]:
    """``(lr key, loss metric, points)`` for the best-loss-vs-learning-rate plot; no key: ``(None, "", [])``.

    Each trial's score is the minimum over epochs of its validation loss (else test, else train loss).
    Trials are grouped by their other hyperparameters (seeds pooled: the mean of the seeds' scores).
    """
    key = lr_key(data.space)
    if key is None:
        return None, "", []
    others = [k for k in data.keys if k != key]
    prefer = ("val", "test", "train")
    metric = ""
    for split in prefer:  # one loss for all points: the first split every scored trial has
        if any((data.history(t) or {}).get(f"{split}_loss") for t in data.trials if t.get("status") == "ok"):
            metric = f"{split}_loss"
            break
    groups: dict[tuple[str, float], list[Mapping[str, Any]]] = {}
    for t in data.trials:
        lr = t.get("params", {}).get(key)
        if not isinstance(lr, int | float) or lr <= 0:
            continue
        groups.setdefault((params_label(t.get("params", {}), others), float(lr)), []).append(t)
    points = []
    for (group, lr), trials in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        scores = []
        for t in trials:
            if t.get("status") != "ok":
                continue
            found = best_loss(data.history(t), (metric.split("_")[0],) if metric else prefer)
            if found is not None:
                scores.append(found[1])
        if scores:
            status, best = "ok", sum(scores) / len(scores)
        else:
            status = "diverged" if any(t.get("status") == "diverged" for t in trials) else "error"
            best = None
        points.append(RatePoint(lr, group, best, status, [str(t["trial"]) for t in trials]))
    return key, metric, points
