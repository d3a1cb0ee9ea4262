"""The lab: run -> report -> track, for the command line and the Python API alike.

    from backproplab import lab
    from backproplab.experiments import load_preset
    result = lab.run(load_preset("fashion-sgd"))          # trains, writes the report, logs to MLflow
    result = lab.resume(result.run_dir)                    # continues an interrupted or killed run
    result = lab.sweep(load_sweep("mnist-lr"), executor="process")

Each pipeline
- resolves prerequisites first, once: a ``model.init_from`` naming a preset with no complete run gets that preset
  run (under a lock in the runs directory, so concurrent commands run it once); a run never starts another run;
- turns Ctrl-C and SIGTERM into a stop at the next step boundary (a checkpoint, ``status = "interrupted"``), and
  still writes the report and tracks what was done (a second Ctrl-C stops at once);
- tracks the run while it trains (`backproplab.tracking.LiveRun`: params at the start, metrics every epoch),
  writes the report, then completes the tracked run with the final metrics and the directory's files as
  artifacts (time-bounded; a failure is a warning, never an error).

The result's ``status`` (``complete``, ``interrupted``, ``diverged``) and `stopped_by` tell the caller how it
ended (the CLI exits with 128 + the signal number after an interrupt, as shells expect).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ._lock import DirLock, LockedError
from .errors import BackproplabError, ConfigError
from .experiments.config import RunConfig, apply_quick, config_differences, parse_config
from .experiments.run import RunResult, preset_prerequisites, resume_experiment, run_experiment
from .experiments.run.init_from import latest_run, runs_root
from .experiments.sweep import SweepConfig, SweepResult, apply_quick_sweep, expand_trials, load_any, run_sweep
from .experiments.sweep.spec import parse_sweep
from .report import write_run_report, write_sweep_report
from .rundir import INTERRUPTED, RunDir, SweepDir, default_runs_dir
from .tracking.live import ABORT_SECONDS, LiveRun, LiveSweep
from .train import Callback, interrupts

Say = Callable[[str], None]
# how long a command waits for another one that is running the same prerequisite preset
PREREQUISITE_LOCK_SECONDS = 4 * 3600.0


def _quiet(_: str) -> None:
    pass


def _stopping(say: Say) -> Callable[[int], None]:
    def notify(signum: int) -> None:
        extra = " (Ctrl-C again to stop at once)" if signum == signal.SIGINT else ""
        say(f"{signal.Signals(signum).name}: stopping at the next step boundary to write a checkpoint{extra}")

    return notify


def stopped_by(result: RunResult | SweepResult) -> int | None:
    """The signal that interrupted a run or sweep (None when it was not interrupted)."""
    name = result.summary.get("stopped_by")
    return int(signal.Signals[name]) if result.status == INTERRUPTED and name else None


# ---------------------------------------------------------------- prerequisites


def _prerequisite(name: str, variant: str, root: Path, executor: str, say: Say) -> None:
    """Run preset ``name`` (``variant``) into ``root`` unless a complete run of it appears meanwhile."""
    lock = DirLock(root / f".init-from-{name}.lock", what=f"preset {name!r} (run first for model.init_from)", timeout=0)
    root.mkdir(parents=True, exist_ok=True)
    try:
        lock.acquire()
    except LockedError as exc:
        say(f"  waiting: {exc}")
        lock.timeout = PREREQUISITE_LOCK_SECONDS
        lock.acquire()
    try:
        if latest_run(root, name, variant) is not None:
            return
        say(f"  model.init_from = {name!r}: no complete {variant} run of it under {root}; running it first")
        config = load_any(name)
        if isinstance(config, RunConfig):
            result: RunResult | SweepResult = run(
                apply_quick(config) if variant == "quick" else config,
                runs_dir=root,
                report=False,
                tracker="none",
                verbose=0,
                say=say,
            )
        else:
            result = sweep(
                apply_quick_sweep(config) if variant == "quick" else config,
                runs_dir=root,
                executor=executor,
                report=False,
                tracker="none",
                verbose=0,
                say=say,
            )
        if result.status != "complete" or latest_run(root, name, variant) is None:
            where = result.run_dir if isinstance(result, RunResult) else result.sweep_dir
            raise BackproplabError(
                f"model.init_from = {name!r}: running that preset first ended "
                f"{result.status} ({where}); finish it (`backproplab resume {where}`), "
                "then run this again"
            )
    finally:
        lock.release()


def prepare(
    configs: list[RunConfig], runs_dir: str | Path | None = None, *, executor: str = "process", say: Say = print
) -> None:
    """Run every preset that ``configs`` initialise from (``model.init_from``) and that has no complete run under
    ``runs_dir`` yet, each once, before anything that needs it starts."""
    root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    for name, variant in preset_prerequisites(configs, root):
        _prerequisite(name, variant, root, executor, say)
        if interrupts.requested() is not None:
            raise BackproplabError(f"stopped while running preset {name!r} (needed by model.init_from)")


# ---------------------------------------------------------------- pipelines


def _finish_run(result: RunResult, report: bool, live: LiveRun, verbose: int, say: Say) -> RunResult:
    started = time.perf_counter()
    if report:
        html = write_run_report(result.run_dir)
        if verbose:
            say(f"Report: {html}" + (f" ({time.perf_counter() - started:.2f} s)" if verbose >= 2 else ""))
    started = time.perf_counter()
    live.finish(result.run_dir)
    if verbose >= 2 and live.kind not in (None, "none"):
        say(f"  tracking completed in {time.perf_counter() - started:.2f} s")
    return result


def _tracking_say(verbose: int, say: Say) -> Say:
    """Warnings and notes always, the rest only when verbose."""
    return lambda message: say(message) if verbose or message.startswith(("warning", "note")) else None


def _train(
    work: Callable[[LiveRun], RunResult], tracker: str | None, tracking_uri: str | None, verbose: int, say: Say
) -> tuple[RunResult, LiveRun]:
    """``work(live)`` with a `LiveRun`; a run that an exception ends is still closed in the tracker (briefly)."""
    live = LiveRun(tracker, tracking_uri, say=_tracking_say(verbose, say), verbose=verbose)
    try:
        return work(live), live
    except BaseException:
        if live.active:
            live.finish(seconds=ABORT_SECONDS)
        raise


def run(
    config: RunConfig,
    *,
    runs_dir: str | Path | None = None,
    report: bool = True,
    tracker: str | None = None,
    tracking_uri: str | None = None,
    verbose: int = 1,
    say: Say = print,
    callbacks: Sequence[Callback] = (),
) -> RunResult:
    """Train ``config`` into a new run directory, tracked while it trains (``tracker``: ``None`` = MLflow when
    installed, else none), then write its report (``report``) and complete the tracked run. ``callbacks`` are
    passed to `fit` (after the run's own). ``verbose``: 0 warnings only, 1 progress and results, 2 also how long
    the steps after training took. See the module docstring for prerequisites and interrupts."""
    with interrupts.stop_on_signals(signal.SIGINT, signal.SIGTERM, notify=_stopping(say)):
        prepare([config], runs_dir, say=say if verbose else _quiet)
        result, live = _train(
            lambda live: run_experiment(
                config, runs_dir=runs_dir, verbose=min(verbose, 1), say=say, observer=live, callbacks=callbacks
            ),
            tracker,
            tracking_uri,
            verbose,
            say,
        )
        return _finish_run(result, report, live, verbose, say)


def sweep(
    sweep_config: SweepConfig,
    *,
    sweep_dir: str | Path | None = None,
    runs_dir: str | Path | None = None,
    executor: str = "process",
    address: str | None = None,
    workers: int | None = None,
    report: bool = True,
    tracker: str | None = None,
    tracking_uri: str | None = None,
    verbose: int = 1,
    say: Say = print,
) -> SweepResult:
    """Run (or resume) a sweep, tracked while it runs (a parent run with one nested run per trial), then write its
    report and complete the tracked sweep."""
    with interrupts.stop_on_signals(signal.SIGINT, signal.SIGTERM, notify=_stopping(say)):
        trials = expand_trials(sweep_config)
        root = (
            Path(runs_dir)
            if runs_dir is not None
            else (Path(sweep_dir).resolve().parent if sweep_dir is not None else default_runs_dir())
        )
        prepare([t.config for t in trials], root, executor=executor, say=say if verbose else _quiet)
        live = LiveSweep(tracker, tracking_uri, executor=executor, say=_tracking_say(verbose, say), verbose=verbose)
        result = run_sweep(
            sweep_config,
            sweep_dir=sweep_dir,
            runs_dir=runs_dir,
            executor=executor,
            address=address,
            workers=workers,
            say=say if verbose else _quiet,
            observer=live,
        )
        if report and result.trials:
            html = write_sweep_report(result.sweep_dir)
            if verbose:
                say(f"Report: {html}")
        live.finish(result.sweep_dir)
        return result


def resume(
    path: str | Path,
    *,
    expected: RunConfig | None = None,
    executor: str = "process",
    address: str | None = None,
    workers: int | None = None,
    report: bool = True,
    tracker: str | None = None,
    tracking_uri: str | None = None,
    verbose: int = 1,
    say: Say = print,
    callbacks: Sequence[Callback] = (),
) -> RunResult | SweepResult:
    """Continue the run or sweep in ``path`` from its checkpoints, then report and track it.

    ``expected`` (a run's config, from the command line): refuse when the directory holds a run of another config.
    """
    path = Path(path)
    if SweepDir.is_sweep_dir(path):
        spec = parse_sweep(SweepDir(path).read_spec(), str(path / SweepDir.SPEC))
        return sweep(
            spec,
            sweep_dir=path,
            executor=executor,
            address=address,
            workers=workers,
            report=report,
            tracker=tracker,
            tracking_uri=tracking_uri,
            verbose=verbose,
            say=say,
        )
    if not RunDir.is_run_dir(path):
        raise BackproplabError(
            f"{path}: neither a run directory (no {RunDir.CONFIG}) nor a sweep directory "
            f"(no {SweepDir.SPEC}); nothing to resume"
        )
    if expected is not None:
        saved = parse_config(RunDir(path).read_config(), str(path / RunDir.CONFIG))
        diffs = config_differences(saved, expected)
        if diffs:
            raise ConfigError(
                f"{path} holds a run of another configuration, so it cannot be resumed as this one:\n  "
                + "\n  ".join(diffs[:8])
                + f"\nResume it as it is with `backproplab resume {path}`."
            )
    with interrupts.stop_on_signals(signal.SIGINT, signal.SIGTERM, notify=_stopping(say)):
        saved = parse_config(RunDir(path).read_config(), str(path / RunDir.CONFIG))
        if not RunDir(path).has(RunDir.CHECKPOINT):  # training again from the start needs the initial weights
            prepare([saved], runs_root(None, path), say=say if verbose else _quiet)
        result, live = _train(
            lambda live: resume_experiment(path, verbose=min(verbose, 1), say=say, observer=live, callbacks=callbacks),
            tracker,
            tracking_uri,
            verbose,
            say,
        )
        return _finish_run(result, report, live, verbose, say)


def describe_end(result: RunResult | SweepResult) -> str | None:
    """One line for a run or sweep that did not complete: how to continue it (None when it completed)."""
    if result.status != INTERRUPTED:
        return None
    where = result.run_dir if isinstance(result, RunResult) else result.sweep_dir
    what = "run" if isinstance(result, RunResult) else "sweep"
    return f"Interrupted; the {what} is checkpointed. Resume with: backproplab resume {where}"


__all__ = ["describe_end", "prepare", "resume", "run", "stopped_by", "sweep"]
