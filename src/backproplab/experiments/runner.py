"""`run_experiment`: train one configuration end to end and write everything to its run directory."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_write, atomic_write_text
from ..data import Dataset
from ..nn.regularization import as_regularizers
from ..train import EarlyStopping, History, confusion_matrix, evaluate, first_misclassified, fit
from ..train.engine import choose_engine
from .build import Experiment, build_experiment
from .checks import CHECK_FILE, format_checks, initial_checks
from .config import RunConfig
from .init_from import resolve_init_from, runs_root
from .provenance import dataset_checksum, environment
from .published import compare_published, format_published
from .recorder import RunRecorder
from .rundir import create_run_dir, write_json

CONFIG_FILE = "config.toml"
SUMMARY_FILE = "summary.json"
CONFUSION_FILE = "confusion.json"
MISCLASSIFIED_FILE = "misclassified.npz"

Say = Callable[[str], None]


@dataclass
class RunResult:
    run_dir: Path
    config: RunConfig
    history: History
    experiment: Experiment
    summary: dict[str, Any]


def _describe(exp: Experiment) -> str:
    c = exp.config
    train = exp.datasets["train"]
    sizes = " -> ".join(str(s) for s in [train.num_features, *c.model.hidden, train.num_classes])
    sets = ", ".join(f"{k} {len(v)}" for k, v in exp.datasets.items())
    opt = c.optimizer
    extra = f", momentum {opt.momentum}" if opt.momentum else ""
    return (f"{c.name}: {c.data.dataset} ({sets}; scale {c.data.scale})\n"
            f"  model {sizes}, {c.model.activation if c.model.hidden else 'no hidden layer'}, init {c.model.init}, "
            f"{c.model.dtype}, {exp.model.placement}\n"
            f"  {opt.name} lr {opt.lr}{extra}, batch {c.training.batch_size}, {c.training.epochs} epochs, "
            f"{'shuffled' if c.training.shuffle else 'file order'}")


def final_evaluation(exp: Experiment) -> tuple[dict[str, float], dict[str, Any], dict[str, Any]]:
    """Metrics of the final model on every split, confusion matrices, and first misclassified test images."""
    final: dict[str, float] = {}
    confusion: dict[str, Any] = {"classes": list(exp.datasets["train"].classes)}
    misclassified: dict[str, Any] = {}
    for split, ds in exp.datasets.items():
        short = {"validation": "val"}.get(split, split)
        m = evaluate(exp.model, exp.loss, ds, predictions=True)  # one forward pass for metrics and labels
        final[f"{short}_loss"], final[f"{short}_acc"] = m["loss"], m["accuracy"]
        pred = m["predictions"]
        confusion[split] = confusion_matrix(ds.y, pred, ds.num_classes).tolist()
        if split == "test":
            misclassified = _misclassified(ds, pred)
    return final, confusion, misclassified


def _misclassified(ds: Dataset, pred: np.ndarray) -> dict[str, Any]:
    first = first_misclassified(ds.y, pred, ds.num_classes)
    idx = np.array(list(first.values()), dtype=np.int64)
    return {"index": idx, "true": ds.y[idx], "pred": pred[idx], "images": ds.X[idx],
            "image_shape": np.array(ds.image_shape or (), dtype=np.int64),
            "classes": np.array(ds.classes)}


def run_experiment(config: RunConfig, *, runs_dir: str | Path | None = None, run_dir: str | Path | None = None,
                   verbose: int = 1, say: Say = print) -> RunResult:
    """Train ``config`` and write ``config.toml``, ``metrics.csv/json``, ``model.npz``, ``summary.json``,
    ``confusion.json`` and ``misclassified.npz`` into a new run directory (plots come from `backproplab.report`).

    The directory is a new one under ``runs_dir``, or ``run_dir`` itself when given (it is created if missing
    and must be empty: a sweep puts each trial in ``<sweep>/trials/<id>``).
    """
    started = time.perf_counter()
    # config.toml keeps model.init_from as given (a sweep resumes by comparing configs); the model file it
    # resolved to is recorded in summary.json
    resolved = resolve_init_from(config, runs_root(runs_dir, run_dir), say=say if verbose else lambda _: None)
    exp = build_experiment(resolved)
    t = config.training
    if t.engine == "fast":  # an unsupported run fails here, before its run directory exists
        train = exp.datasets["train"]
        choose_engine(t.engine, exp.model, exp.loss, exp.optimizer, as_regularizers(exp.regularizers),
                      t.batch_size, train.X, train.y)
    run_dir = create_run_dir(runs_dir, config.name) if run_dir is None else _empty_dir(Path(run_dir))
    atomic_write_text(run_dir / CONFIG_FILE, config.to_toml())
    if verbose:
        say(_describe(exp))
        say(f"  run directory: {run_dir}")
    checks = initial_checks(exp) if config.check.enabled else None
    if checks is not None:
        write_json(run_dir / CHECK_FILE, checks)
        if verbose:
            say(format_checks(checks))
    recorder = RunRecorder(run_dir)
    history = fit(exp.model, exp.loss, exp.optimizer, exp.datasets["train"], epochs=t.epochs,
                  batch_size=t.batch_size, shuffle=t.shuffle, seed=t.seed, eval_sets=exp.eval_sets,
                  callbacks=[*exp.callbacks, recorder], verbose=verbose, regularizer=exp.regularizers,
                  eval_train=t.eval_train, engine=t.engine)
    with np.errstate(all="ignore"):
        final, confusion, misclassified = final_evaluation(exp)
    published = compare_published(config.published, history, final)
    train = exp.datasets["train"]
    summary = {
        "name": config.name,
        "run_dir": str(run_dir),
        "final": final,
        "epochs_run": len(history),
        "engine": history.engine,
        "diverged": history.diverged,
        "stop_reason": history.stop_reason,
        "checkpoint_epoch": recorder.checkpoint_epoch,
        "best_epoch": _best_epoch(exp, history),
        "train_seconds": sum(e["train_seconds"] for e in history.epochs),
        "wall_seconds": time.perf_counter() - started,
        "published": published,
        "check": None if checks is None else {"file": CHECK_FILE, "passed": checks["passed"]},
        "init_from": resolved.model.init_from,
        "data": {"dataset": train.name, "source": train.source, "sizes": {k: len(v) for k, v in exp.datasets.items()},
                 "checksum": dataset_checksum(train.meta.get("files", [])), "scale": config.data.scale},
        "model": {"layers": repr(exp.model), "parameters": exp.model.num_parameters(), "backend": exp.model.backend,
                  "device": exp.model.device},
        "environment": environment(),
    }
    write_json(run_dir / CONFUSION_FILE, confusion)
    if misclassified:
        atomic_write(run_dir / MISCLASSIFIED_FILE, lambda fh: np.savez(fh, **misclassified))
    write_json(run_dir / SUMMARY_FILE, summary)
    if verbose:
        say(_final_lines(summary))
    return RunResult(run_dir, config, history, exp, summary)


def _empty_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    if any(path.iterdir()):
        raise FileExistsError(f"run directory {path} is not empty; give a new or empty directory")
    return path


def _best_epoch(exp: Experiment, history: History) -> int | None:
    """The epoch early stopping judged best (None without early stopping)."""
    restored = history.params.get("restored_epoch")
    if restored is not None:
        return int(restored)
    for cb in exp.callbacks:
        if isinstance(cb, EarlyStopping) and cb.best_epoch is not None:
            return int(cb.best_epoch)
    return None


def _final_lines(summary: dict[str, Any]) -> str:
    final = summary["final"]
    parts = [f"{k}: {100 * v:.2f}%" if k.endswith("acc") else f"{k}: {v:.4f}" for k, v in final.items()]
    lines = [f"Final ({summary['engine']} engine, {summary['train_seconds']:.1f}s training): " + ", ".join(parts)]
    if summary["diverged"] or summary["stop_reason"]:
        lines.append(f"Stopped: {summary['stop_reason']}")
    table = format_published(summary["published"])
    if table:
        lines += ["Published vs this run:", table]
    return "\n".join(lines)
