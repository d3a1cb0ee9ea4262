"""`run_experiment` / `resume_experiment`: train one configuration end to end into its run directory.

The run directory (`backproplab.rundir.RunDir`) is written as training goes: ``config.toml`` first, the History,
the model and a checkpoint after every epoch, and at the end ``summary.json`` with the run's ``status``:

- ``complete``: every epoch ran (or early stopping ended it); the checkpoint is removed.
- ``diverged``: a loss or parameter became NaN or infinite; ``model.npz`` keeps the last finite weights.
- ``interrupted``: Ctrl-C or SIGTERM stopped it at a step boundary; ``checkpoint.npz`` holds that point, and
  `resume_experiment` (``backproplab resume RUN_DIR``) continues it, bit-identical to a run that never stopped.
- ``error``: an exception ended it (its message is in ``error``); the last checkpoint is kept.

Final metrics, confusion matrices and misclassified images describe ``model.npz`` as it is when the run ends, and
so do the test predictions (``test_pred.npy``, with ``training.predict``). A split given without labels (a
course's test set) is predicted but not scored: no metrics, confusion matrix or misclassified images for it.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...data import Dataset
from ...errors import BackproplabError
from ...nn.regularization import as_regularizers
from ...rundir import COMPLETE, DIVERGED, ERROR, INTERRUPTED, RunDir, RunDirError, summary_status
from ...train import (
    Callback,
    EarlyStopping,
    History,
    confusion_matrix,
    evaluate,
    first_misclassified,
    fit,
    interrupts,
    predict,
)
from ...train.checkpoint import Checkpoint, TrainingSnapshot
from ...train.engine import choose_engine
from ...train.metrics import metric_prefix
from ...train.threads import AUTO, blas_threads, largest_product, resolve_threads
from ..config import RunConfig, parse_config
from .build import Experiment, build_experiment
from .epoch_writer import EpochWriter, RunObserver
from .init_from import resolve_init_from, runs_root
from .initial_checks import format_checks, initial_checks
from .provenance import dataset_checksum, environment
from .published import compare_published, format_published

Say = Callable[[str], None]


@dataclass
class RunResult:
    run_dir: Path
    config: RunConfig
    history: History
    experiment: Experiment
    summary: dict[str, Any]

    @property
    def status(self) -> str:
        return str(self.summary["status"])

    def __repr__(self) -> str:
        final = ", ".join(
            f"{k}={v:.4g}" for k, v in self.summary.get("final", {}).items() if isinstance(v, int | float)
        )
        return f"RunResult({self.status}, {self.run_dir}" + (f"; {final})" if final else ")")


def _quiet(_: str) -> None:
    pass


def _describe(exp: Experiment) -> str:
    c = exp.config
    train = exp.datasets["train"]
    sizes = " -> ".join(str(s) for s in [train.num_features, *c.model.hidden, train.num_classes])
    sets = ", ".join(f"{k} {len(v)}{'' if v.labeled else ' without labels'}" for k, v in exp.datasets.items())
    opt = c.optimizer
    extra = f", momentum {opt.momentum}" if opt.momentum else ""
    extra += f", {opt.schedule} schedule" if opt.schedule != "none" else ""
    norm = ", batch norm" if c.model.batch_norm and c.model.hidden else ""
    augment = f"; training batches augmented: {exp.augment!r}" if exp.augment is not None else ""
    length = f"{c.training.iterations} iterations" if c.training.iterations else f"{c.training.epochs} epochs"
    text = (
        f"{c.name}: {c.data.dataset} ({sets}; scale {c.data.scale}{augment})\n"
        f"  model {sizes}, {c.model.activation if c.model.hidden else 'no hidden layer'}{norm}, "
        f"init {c.model.init}, {c.model.dtype}, {exp.model.placement}\n"
        f"  {opt.name} lr {opt.lr}{extra}, batch {c.training.batch_size}, {length}, "
        f"{'shuffled' if c.training.shuffle else 'file order'}"
    )
    if c.variant == "quick":
        t = c.training
        quick_length = f"{t.iterations} iterations" if t.iterations else f"{t.epochs} epoch(s)"
        text += (
            f"\n  QUICK RUN (--quick): {quick_length} on {sets}: a preview, not the full "
            "experiment; published figures are compared only at the epochs it reaches"
        )
    return text


def final_evaluation(exp: Experiment) -> tuple[dict[str, float], dict[str, Any], dict[str, Any]]:
    """Metrics of the final model on every labelled split, confusion matrices, and first misclassified test
    images."""
    final: dict[str, float] = {}
    confusion: dict[str, Any] = {"classes": list(exp.datasets["train"].classes)}
    misclassified: dict[str, Any] = {}
    for split, ds in exp.datasets.items():
        if not ds.labeled:
            continue
        short = metric_prefix(split)
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
    return {
        "index": idx,
        "true": ds.y[idx],
        "pred": pred[idx],
        "images": ds.X[idx],
        "image_shape": np.array(ds.image_shape or (), dtype=np.int64),
        "classes": np.array(ds.classes),
    }


def run_experiment(
    config: RunConfig,
    *,
    runs_dir: str | Path | None = None,
    run_dir: str | Path | None = None,
    verbose: int = 1,
    say: Say = print,
    observer: RunObserver | None = None,
    callbacks: Sequence[Callback] = (),
) -> RunResult:
    """Train ``config`` and write ``config.toml``, ``metrics.csv/json``, ``model.npz``, ``checkpoint.npz``,
    ``summary.json``, ``confusion.json`` and ``misclassified.npz`` into a new run directory (plots come from
    `backproplab.report`).

    The directory is a new one under ``runs_dir``, or ``run_dir`` itself when given (it is created if missing
    and must be empty: a sweep puts each trial in ``<sweep>/trials/<id>``). A ``model.init_from`` preset must
    already have a complete run (`backproplab.lab.run` runs it first when it has none). ``observer`` follows the
    run directory as it is written (e.g. live tracking); ``callbacks`` go to `fit` after the run's own.
    """
    started = time.perf_counter()
    # config.toml keeps model.init_from as given (a sweep resumes by comparing configs); the model file it
    # resolved to is recorded in summary.json
    resolved = resolve_init_from(config, runs_root(runs_dir, run_dir), say=say if verbose else _quiet)
    exp = build_experiment(resolved)
    t = config.training
    if t.engine == "fast":  # an unsupported run fails here, before its run directory exists
        train = exp.datasets["train"]
        choose_engine(
            t.engine,
            exp.model,
            exp.loss,
            exp.optimizer,
            as_regularizers(exp.regularizers),
            t.batch_size,
            train.X,
            train.y,
            exp.augment,
        )
    run = RunDir.create(runs_dir, config.name) if run_dir is None else RunDir.empty(run_dir)
    with run.lock():
        run.write_config(config.to_toml())
        if verbose:
            say(_describe(exp))
            say(f"  run directory: {run.path}")
        checks = initial_checks(exp) if config.check.enabled else None
        if checks is not None:
            run.write_check(checks)
            if verbose:
                say(format_checks(checks))
        session = {"started": started, "before": 0.0, "init_from": resolved.model.init_from, "sessions": 1}
        return _train(run, exp, None, session, verbose, say, checks, observer, callbacks)


def resume_experiment(
    run_dir: str | Path,
    *,
    verbose: int = 1,
    say: Say = print,
    observer: RunObserver | None = None,
    callbacks: Sequence[Callback] = (),
) -> RunResult:
    """Continue the run in ``run_dir`` from its checkpoint (a run that was interrupted, killed or failed) and
    finish it there; without a checkpoint (killed before its first one) it trains again from the start.

    The result is bit-identical to the run never having stopped. A run that already ended complete or diverged
    is refused (`RunDirError`).
    """
    started = time.perf_counter()
    run = RunDir(run_dir)
    if not RunDir.is_run_dir(run.path):
        raise RunDirError(f"{run.path}: not a run directory (no {RunDir.CONFIG}); nothing to resume")
    with run.lock() as lock:
        if lock.took_over:
            say(lock.takeover_note() or "")
        for path in run.clean():
            say(f"  removed {path.name}, left by a killed writer")
        config = parse_config(run.read_config(), str(run.file(RunDir.CONFIG)))
        status = run.status()
        if status in (COMPLETE, DIVERGED):
            raise RunDirError(f"{run.path}: the run already ended ({status}); there is nothing to resume")
        snapshot = run.read_checkpoint() if run.has(RunDir.CHECKPOINT) else None
        if snapshot is None:
            say(f"{run.path}: no checkpoint (stopped before its first one); training again from the start")
            resolved = resolve_init_from(config, runs_root(None, run.path), say=say if verbose else _quiet)
            meta: dict[str, Any] = {"wall_seconds": 0.0, "init_from": resolved.model.init_from, "sessions": 0}
        else:
            meta = snapshot.meta
            # the weights come from the checkpoint, so the initial model file is not needed again
            resolved = config.model_copy(update={"model": config.model.model_copy(update={"init_from": None})})
        exp = build_experiment(resolved)
        run.remove(RunDir.SUMMARY)  # the directory describes a run in progress again
        run.remove(RunDir.REPORT)
        if verbose:
            say(_describe(exp))
            where = (
                "from the start"
                if snapshot is None
                else f"in epoch {snapshot.epoch} after step {snapshot.position.step}"
                if snapshot.position.step
                else f"at epoch {snapshot.epoch}"
            )
            say(f"  resuming {run.path} {where}")
        checks = run.read_check() if run.has(RunDir.CHECK) else None
        session = {
            "started": started,
            "before": float(meta.get("wall_seconds", 0.0)),
            "init_from": meta.get("init_from"),
            "sessions": int(meta.get("sessions", 0)) + 1,
        }
        return _train(run, exp, snapshot, session, verbose, say, checks, observer, callbacks)


def _train(
    run: RunDir,
    exp: Experiment,
    snapshot: TrainingSnapshot | None,
    session: dict[str, Any],
    verbose: int,
    say: Say,
    checks: dict[str, Any] | None,
    observer: RunObserver | None = None,
    callbacks: Sequence[Callback] = (),
) -> RunResult:
    """Fit (from ``snapshot`` if given), then write the final evaluation and ``summary.json``."""
    config, t = exp.config, exp.config.training

    def wall_seconds() -> float:
        return session["before"] + time.perf_counter() - session["started"]

    def meta() -> dict[str, Any]:
        return {"wall_seconds": wall_seconds(), "init_from": session["init_from"], "sessions": session["sessions"]}

    if exp.pca is not None:
        run.write_pca(exp.pca.curve(config.data.pca_variance))
    epoch_writer = EpochWriter(run, observer)
    if observer is not None:
        observer.run_started(run.path, config.model_dump(mode="json", exclude_none=True))
    checkpoint = Checkpoint(
        run.checkpoint_path, every_epochs=t.checkpoint_every, min_seconds=t.checkpoint_seconds, meta=meta
    )
    base: dict[str, Any] = {
        "name": config.name,
        "run_dir": str(run.path),
        "init_from": session["init_from"],
        "sessions": session["sessions"],
    }
    # one thread count for training and the final evaluation, so that both compute with the same bits; a resumed
    # run keeps the count it started with
    asked: int | str = t.threads
    if snapshot is not None and asked == AUTO:
        asked = snapshot.history.get("params", {}).get("threads") or AUTO
    threads = resolve_threads(
        asked, *largest_product(exp.model.parameters(), t.batch_size), exp.datasets["train"].X.dtype
    )
    if verbose:
        say(f"  BLAS threads: {threads}" + (" (auto: the fastest measured now)" if t.threads == AUTO else ""))
    with blas_threads(threads):
        try:
            history = fit(
                exp.model,
                exp.loss,
                exp.optimizer,
                exp.datasets["train"],
                epochs=t.epochs,
                iterations=t.iterations,
                loss_every=t.loss_every,
                batch_size=t.batch_size,
                shuffle=t.shuffle,
                seed=t.seed,
                eval_sets=exp.eval_sets,
                callbacks=[*exp.callbacks, epoch_writer, *callbacks, checkpoint],
                verbose=verbose,
                regularizer=exp.regularizers,
                eval_train=t.eval_train,
                engine=t.engine,
                resume=snapshot,
                augment=exp.augment,
                threads=threads,
            )
        except BaseException as exc:
            point = _write_failure(run, base, exc, wall_seconds(), checkpoint)
            if point is not None:
                exc.add_note(
                    f"{run.path} keeps a checkpoint after {point['completed_epochs']} complete epoch(s); "
                    f"continue with: backproplab resume {run.path}"
                )
            raise
        status = DIVERGED if history.diverged else INTERRUPTED if history.interrupted else COMPLETE
        with np.errstate(all="ignore"):
            final, confusion, misclassified = final_evaluation(exp)
    published = compare_published(
        config.published, history, final, full_length=config.variant == "full" and status != INTERRUPTED
    )
    train = exp.datasets["train"]
    summary = {
        **base,
        "status": status,
        "error": None,
        "final": final,
        "epochs_run": len(history),
        "engine": history.engine,
        "threads": threads,
        "diverged": history.diverged,
        "stop_reason": history.stop_reason,
        "checkpoint_epoch": epoch_writer.checkpoint_epoch,
        "resume": _resume_point(run, checkpoint) if status == INTERRUPTED else None,
        "stopped_by": _signal_name() if status == INTERRUPTED else None,
        "best_epoch": _best_epoch(exp, history),
        "variant": config.variant,
        "train_seconds": sum(e["train_seconds"] for e in history.records),
        "wall_seconds": wall_seconds(),
        "published": published,
        "check": None if checks is None else {"file": RunDir.CHECK, "passed": checks["passed"]},
        "data": {
            "dataset": train.name,
            "source": train.source,
            "sizes": {k: len(v) for k, v in exp.datasets.items()},
            "unlabeled": exp.unlabeled,
            "image_shape": train.image_shape,
            "checksum": dataset_checksum(train.meta.get("files", [])),
            "scale": config.data.scale,
        },
        "model": {
            "layers": repr(exp.model),
            "parameters": exp.model.num_parameters(),
            "backend": exp.model.backend,
            "device": exp.model.device,
        },
        "environment": environment(),
    }
    run.write_confusion(confusion)
    if misclassified:
        run.write_misclassified(misclassified)
    if t.predict:
        summary["predictions"] = run.write_predictions(predict(exp.model, exp.datasets["test"].X)).name
    run.write_summary(summary)
    if status in (COMPLETE, DIVERGED):
        run.remove(RunDir.CHECKPOINT)  # nothing left to resume
    if verbose:
        say(final_lines(summary))
    return RunResult(run.path, config, history, exp, summary)


def _signal_name() -> str | None:
    """The name of the signal that stopped training (None when unknown: fit was the outermost guard)."""
    signum = interrupts.requested()
    return signal.Signals(signum).name if signum is not None else None


def _resume_point(run: RunDir, checkpoint: Checkpoint) -> dict[str, Any] | None:
    if not run.has(RunDir.CHECKPOINT):
        return None
    snapshot = run.read_checkpoint()
    return {
        "file": RunDir.CHECKPOINT,
        "epoch": snapshot.epoch,
        "step": snapshot.position.step,
        "completed_epochs": snapshot.completed_epochs,
    }


def _write_failure(
    run: RunDir, base: dict[str, Any], exc: BaseException, wall_seconds: float, checkpoint: Checkpoint
) -> dict[str, Any] | None:
    """``summary.json`` for a run that an exception (or a second Ctrl-C) ended: status ``error`` or
    ``interrupted``, the message, and what can be resumed (returned). Best effort: the original error matters
    more."""
    interrupted = isinstance(exc, KeyboardInterrupt)
    resume = None
    try:
        resume = _resume_point(run, checkpoint)
    except BackproplabError:
        pass
    summary = {
        **base,
        "status": INTERRUPTED if interrupted else ERROR,
        "stopped_by": "SIGINT" if interrupted else None,
        "error": None if interrupted else f"{type(exc).__name__}: {exc}",
        "stop_reason": "stopped at once by a second Ctrl-C" if interrupted else None,
        "final": {},
        "epochs_run": (resume or {}).get("completed_epochs", 0),
        "diverged": False,
        "resume": resume,
        "wall_seconds": wall_seconds,
    }
    try:
        run.write_summary(summary)
    except Exception:  # noqa: BLE001 - e.g. the disk is still full; the error being raised says what happened
        pass
    return resume


def _best_epoch(exp: Experiment, history: History) -> int | None:
    """The epoch early stopping judged best (None without early stopping)."""
    restored = history.params.get("restored_epoch")
    if restored is not None:
        return int(restored)
    for cb in exp.callbacks:
        if isinstance(cb, EarlyStopping) and cb.best_epoch is not None:
            return int(cb.best_epoch)
    return None


def final_lines(summary: dict[str, Any]) -> str:
    """The console lines that close a run: final metrics, why it stopped, how to resume, published numbers."""
    final = summary["final"]
    parts = [f"{k}: {100 * v:.2f}%" if k.endswith("acc") else f"{k}: {v:.4f}" for k, v in final.items()]
    status = summary_status(summary)
    quick = "quick run, " if summary.get("variant") == "quick" else ""
    lines = [
        f"Final ({quick}{summary.get('engine')} engine, {summary.get('train_seconds', 0.0):.1f}s training): "
        + ", ".join(parts)
    ]
    if summary.get("diverged") or (summary.get("stop_reason") and status != INTERRUPTED):
        lines.append(f"Stopped: {summary['stop_reason']}")
    if summary.get("predictions"):
        lines.append(
            f"Test predictions (the predicted class of each test row): "
            f"{Path(summary['run_dir']) / summary['predictions']}"
        )
    table = format_published(summary.get("published") or [])
    if table:
        quick = summary.get("variant") == "quick"
        lines += [
            "Published (full run) vs this quick run, on data slices: not comparable as results"
            if quick
            else "Published vs this run:",
            table,
        ]
    if status == INTERRUPTED:
        point = summary.get("resume") or {}
        where = (
            (
                f"in epoch {point['epoch']} after step {point['step']}"
                if point.get("step")
                else f"before epoch {point.get('epoch')}"
            )
            if point
            else "with no checkpoint yet"
        )
        lines.append(
            f"Interrupted after {summary['epochs_run']} complete epoch(s); checkpoint {where}. "
            f"Resume with: backproplab resume {summary['run_dir']}"
        )
    return "\n".join(lines)
