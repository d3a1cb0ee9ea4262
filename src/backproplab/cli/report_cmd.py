"""`backproplab report PATH`: the report of a run directory or of a sweep directory."""

from __future__ import annotations

from pathlib import Path

import click

from .common import friendly_errors


@click.command("report")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="RUN_OR_SWEEP_DIR")
@click.option(
    "--trials/--no-trials",
    "trial_reports",
    default=False,
    show_default=True,
    help="For a sweep: also write each trial's own report (linked from the trial table).",
)
@friendly_errors
def report_command(path: Path, trial_reports: bool) -> None:
    """(Re)write the plots and report.html of a finished run directory (summary.json) or sweep directory
    (sweep_summary.json)."""
    from ..report import write_report

    click.echo(write_report(path, trial_reports=trial_reports))
