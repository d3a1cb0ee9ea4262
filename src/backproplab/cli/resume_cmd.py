"""`backproplab resume DIR`: continue an interrupted or killed run or sweep from its checkpoints."""

from __future__ import annotations

from pathlib import Path

import click

from ..experiments.sweep import SweepResult
from .common import echo, finish, friendly_errors, report_option, tracker_option, tracking_uri_option, verbosity_option
from .sweep_cmd import show_sweep, with_executor_options


@click.command("resume")
@click.argument("directory", metavar="RUN_OR_SWEEP_DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_executor_options
@report_option
@tracker_option
@tracking_uri_option
@verbosity_option
@friendly_errors
def resume_command(directory: Path, executor: str, address: str | None, workers: int | None, report: bool,
                   tracker: str | None, tracking_uri: str | None, quiet: bool) -> None:
    """Continue the run (or sweep) in RUN_OR_SWEEP_DIR from its last checkpoint, then write its report.

    The final weights, History and metrics are bit-identical to those of a run that was never stopped. A run
    killed before its first checkpoint trains again from the start; a sweep runs its unfinished trials
    (each from its checkpoint). --executor, --address and --workers apply to sweeps.
    """
    from .. import lab

    result = lab.resume(directory, executor=executor, address=address, workers=workers, report=report,
                        tracker=tracker, tracking_uri=tracking_uri, verbose=0 if quiet else 1, say=echo)
    if isinstance(result, SweepResult):
        show_sweep(result, quiet)
    finish(result, quiet)
