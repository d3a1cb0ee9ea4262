"""Helpers shared by the CLI commands: error reporting and running a configured experiment."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..errors import BackproplabError, ConfigError

F = TypeVar("F", bound=Callable[..., Any])


class InvalidInput(click.ClickException):
    """Exit status 2, as click gives a bad option value: the input was invalid, nothing was run."""

    exit_code = 2


def friendly_errors(func: F) -> F:
    """Turn backproplab's own errors into a one-paragraph message without a traceback: exit status 2 for an
    invalid configuration (`ConfigError`), 1 for the rest (data or model files, memory, a failed run)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            raise InvalidInput(str(exc)) from exc
        except BackproplabError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


def tracking_say(verbose: int) -> Callable[[str], None]:
    """Messages of the tracking step: warnings and notes on stderr always, the rest only when verbose."""

    def say(message: str) -> None:
        if message.startswith(("warning", "note")):
            click.echo(message, err=True)
        elif verbose:
            click.echo(message)

    return say


def run_and_report(config: Any, runs_dir: Path | None, report: bool, verbose: int, *, tracker: str | None = None,
                   tracking_uri: str | None = None) -> Path:
    """Train ``config`` into a new run directory, (unless ``report`` is False) write its plots and HTML, then
    log the finished directory to the tracker (``None``: MLflow when installed). A tracking failure is a
    warning: the run directory is complete either way and the exit status stays 0."""
    from ..experiments import run_experiment
    from ..experiments.tracking import track_run_dir

    result = run_experiment(config, runs_dir=runs_dir, verbose=verbose, say=click.echo)
    if report:
        from ..report import write_run_report

        html = write_run_report(result.run_dir)
        if verbose:
            click.echo(f"Report: {html}")
    track_run_dir(result.run_dir, tracker=tracker, uri=tracking_uri, say=tracking_say(verbose))
    return result.run_dir


runs_dir_option = click.option("--runs-dir", type=click.Path(path_type=Path), default=None,
                               help="Where run directories go (default ./runs or $BACKPROPLAB_RUNS).")
set_option = click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
                          help="Override any config key, e.g. --set optimizer.lr=0.05 (repeatable).")
report_option = click.option("--report/--no-report", default=True, show_default=True,
                             help="Write the plots and report.html after training.")
tracker_option = click.option(
    "--tracker", type=click.Choice(["none", "mlflow", "wandb"]), default=None, envvar="BACKPROPLAB_TRACKER",
    help="Also log the finished run to an experiment store [default: mlflow when installed, else none; "
         "env BACKPROPLAB_TRACKER].")
tracking_uri_option = click.option(
    "--tracking-uri", metavar="URI", default=None,
    help="MLflow tracking URI, e.g. http://host:5000 for a shared server [default: $MLFLOW_TRACKING_URI, "
         "else sqlite:///<runs dir>/mlflow.db]; for wandb: the directory for its offline files.")
verbosity_option = click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")

backend_option = click.option("--backend", type=click.Choice(["numpy", "torch"]), default=None,
                              help="Compute with NumPy arrays or torch tensors (model.backend; torch: pip install "
                                   "'backproplab[torch]').")
device_option = click.option("--device", metavar="auto|cpu|cuda|cuda:N", default=None,
                             help="Device of the torch backend (model.device; auto: CUDA when available).")


def backend_assignments(backend: str | None, device: str | None) -> tuple[str, ...]:
    """``--backend`` / ``--device`` as ``--set`` assignments (``model.backend="torch"``, ...)."""
    pairs = (("model.backend", backend), ("model.device", device))
    return tuple(f'{key}="{value}"' for key, value in pairs if value is not None)
