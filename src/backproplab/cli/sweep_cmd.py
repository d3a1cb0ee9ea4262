"""`backproplab sweep FILE_OR_PRESET`: run (or resume) a hyperparameter sweep."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..experiments.run.published import format_published
from ..experiments.sweep import apply_quick_sweep, expand_trials, load_sweep, with_sweep_overrides
from .common import (
    backend_assignments,
    backend_option,
    device_option,
    echo,
    finish,
    friendly_errors,
    report_option,
    runs_dir_option,
    set_option,
    tracker_option,
    tracking_uri_option,
    verbosity_option,
)


def run_sweep_and_report(sweep: Any, *, sweep_dir: Path | None, runs_dir: Path | None, executor: str,
                         address: str | None, workers: int | None, report: bool, quiet: bool,
                         tracker: str | None = None, tracking_uri: str | None = None) -> Path:
    """Run ``sweep`` through `backproplab.lab.sweep` (report and tracking included), print the trial table,
    and exit as `finish` says after an interrupt."""
    from .. import lab

    result = lab.sweep(sweep, sweep_dir=sweep_dir, runs_dir=runs_dir, executor=executor, address=address,
                       workers=workers, report=report, tracker=tracker, tracking_uri=tracking_uri,
                       verbose=0 if quiet else 1, say=echo)
    show_sweep(result, quiet)
    finish(result, quiet)
    return result.sweep_dir


def show_sweep(result: Any, quiet: bool) -> None:
    if not quiet:
        click.echo(format_trials(result.trials, result.summary))
        click.echo(f"Sweep directory: {result.sweep_dir}")


def format_trials(trials: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    """The trials sorted by the selection metric (best first; diverged and failed last), and the outcome."""
    metric, mode = summary["selection"]["metric"], summary["selection"]["mode"]
    sign = -1 if mode == "max" else 1

    def key(r: dict[str, Any]) -> tuple[int, float, int]:
        sel = r["selection"]
        return (0, sign * sel, r["index"]) if isinstance(sel, int | float) else (1, 0.0, r["index"])

    params = list(dict.fromkeys(k for r in trials for k in r["params"]))
    head = ["trial", *params, "seed", "status", metric]
    rows = [head]
    for r in sorted(trials, key=key):
        sel = r["selection"]
        rows.append([r["trial"], *(str(r["params"].get(p, "")) for p in params), str(r["seed"]), r["status"],
                     f"{sel:.4f}" if isinstance(sel, int | float) else "-"])
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    counts = summary["trials"]
    interrupted = f", {counts['interrupted']} interrupted" if counts.get("interrupted") else ""
    lines.append(f"{counts['ok']} ok, {counts['diverged']} diverged, {counts['error']} failed{interrupted}")
    if summary["best"]:
        lines.append(f"Best: {summary['best']} {summary['best_params']} ({metric} {summary['best_selection']:.4f})")
        final = summary["final"]
        label = "retrained on all training data" if summary["retrain"] else "best trial"
        parts = [f"{k} {100 * v:.2f}%" if k.endswith("acc") else f"{k} {v:.4f}"
                 for k, v in final.items() if isinstance(v, int | float)]
        lines.append(f"Final ({label}): " + ", ".join(parts))
    else:
        lines.append("No trial finished successfully, so there is no best point.")
    if summary.get("retrain_error"):
        lines.append(f"Retrain failed: {summary['retrain_error']}")
    if summary["published"]:
        lines += ["Published vs this sweep:", format_published(summary["published"])]
    return "\n".join(lines)


executor_options = [
    click.option("--executor", type=click.Choice(["process", "dask", "ray", "serial"]), default="process",
                 show_default=True, help="Where trials run: a local process pool, a Dask cluster, Ray, or this "
                 "process one at a time."),
    click.option("--address", metavar="tcp://HOST:PORT",
                 help="Dask scheduler (or Ray cluster) address; without it dask/ray start a local cluster."),
    click.option("--workers", type=click.IntRange(min=1), default=None,
                 help="Parallel trials for the local pool or local Dask cluster (default: number of cores)."),
]


def with_executor_options(func: Any) -> Any:
    for option in reversed(executor_options):
        func = option(func)
    return func


@click.command("sweep")
@click.argument("sweep_file", metavar="FILE_OR_PRESET")
@with_executor_options
@click.option("--dir", "sweep_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Sweep directory (default <runs-dir>/<name>-sweep); re-running into it resumes the sweep.")
@click.option("--quick", is_flag=True, help="The sweep's short variant (its [quick] table).")
@backend_option
@device_option
@set_option
@runs_dir_option
@report_option
@tracker_option
@tracking_uri_option
@verbosity_option
@friendly_errors
def sweep_command(sweep_file: str, executor: str, address: str | None, workers: int | None,
                  sweep_dir: Path | None, quick: bool, backend: str | None, device: str | None,
                  assignments: tuple[str, ...], runs_dir: Path | None, report: bool, tracker: str | None,
                  tracking_uri: str | None, quiet: bool) -> None:
    """Run a sweep file (or sweep preset): every trial in parallel, the best point picked (and retrained).

    \b
    --set applies to the base run config (training.epochs=3), or to the sweep
    itself for search.* and selection.* keys (search.num_trials=4).
    Numerics run single-threaded in each worker while trials run in parallel.

    \b
    Examples:
      backproplab sweep examples/sweep-spiral.toml
      backproplab sweep my-sweep.toml --executor dask --address tcp://10.0.0.5:8786
    """
    sweep = load_sweep_options(sweep_file, quick, backend_assignments(backend, device) + assignments)
    run_sweep_and_report(sweep, sweep_dir=sweep_dir, runs_dir=runs_dir, executor=executor, address=address,
                         workers=workers, report=report, quiet=quiet, tracker=tracker, tracking_uri=tracking_uri)


def load_sweep_options(sweep_file: str, quick: bool, assignments: tuple[str, ...]) -> Any:
    sweep = load_sweep(sweep_file)
    if quick:
        sweep = apply_quick_sweep(sweep)
    if assignments:
        sweep = with_sweep_overrides(sweep, *assignments)
    expand_trials(sweep)  # every trial's config valid before anything runs
    return sweep
