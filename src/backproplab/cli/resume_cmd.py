"""`backproplab resume DIR`: continue an interrupted or killed run or sweep from its checkpoints."""

from __future__ import annotations

from pathlib import Path

import click

from .common import (
    echo,
    executor_options,
    finish,
    friendly_errors,
    quiet_option,
    report_option,
    show_sweep,
    tracker_option,
    tracking_uri_option,
    verbose_option,
    verbosity,
)


@click.command("resume")
@click.argument("directory", metavar="RUN_OR_SWEEP_DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
@report_option
@tracker_option
@tracking_uri_option
@quiet_option
@verbose_option
@executor_options
@friendly_errors
def resume_command(
    directory: Path,
    report: bool,
    tracker: str | None,
    tracking_uri: str | None,
    quiet: bool,
    verbose: int,
    executor: str,
    address: str | None,
    workers: int | None,
) -> None:
    """Continue the run (or sweep) in RUN_OR_SWEEP_DIR from its last checkpoint, then write its report.

    The final weights, History and metrics are bit-identical to those of a run that was never stopped. A run
    killed before its first checkpoint trains again from the start; a sweep runs its unfinished trials
    (each from its checkpoint). --executor, --address and --workers apply to sweeps.
    """
    from .. import lab
    from ..experiments.sweep import SweepResult

    result = lab.resume(
        directory,
        executor=executor,
        address=address,
        workers=workers,
        report=report,
        tracker=tracker,
        tracking_uri=tracking_uri,
        verbose=verbosity(quiet, verbose),
        say=echo,
    )
    if isinstance(result, SweepResult):
        show_sweep(result, quiet)
    finish(result, quiet)
