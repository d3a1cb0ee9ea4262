"""`backproplab report RUN_DIR`."""

from __future__ import annotations

from pathlib import Path

import click

from .common import friendly_errors


@click.command("report")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@friendly_errors
def report_command(run_dir: Path) -> None:
    """(Re)write the plots and report.html of a finished run directory."""
    from ..report import write_run_report

    click.echo(write_run_report(run_dir))
