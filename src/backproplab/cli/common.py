"""Helpers shared by the CLI commands: error reporting and running a configured experiment."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..errors import BackproplabError

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(func: F) -> F:
    """Turn backproplab's own errors into a one-paragraph message and exit status 2 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except BackproplabError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


def run_and_report(config: Any, runs_dir: Path | None, report: bool, verbose: int) -> Path:
    """Train ``config`` into a new run directory and (unless ``report`` is False) write its plots and HTML."""
    from ..experiments import run_experiment

    result = run_experiment(config, runs_dir=runs_dir, verbose=verbose, say=click.echo)
    if report:
        from ..report import write_run_report

        html = write_run_report(result.run_dir)
        if verbose:
            click.echo(f"Report: {html}")
    return result.run_dir


runs_dir_option = click.option("--runs-dir", type=click.Path(path_type=Path), default=None,
                               help="Where run directories go (default ./runs or $BACKPROPLAB_RUNS).")
set_option = click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
                          help="Override any config key, e.g. --set optimizer.lr=0.05 (repeatable).")
report_option = click.option("--report/--no-report", default=True, show_default=True,
                             help="Write the plots and report.html after training.")
verbosity_option = click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
