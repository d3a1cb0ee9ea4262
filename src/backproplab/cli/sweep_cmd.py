"""`backproplab sweep FILE_OR_PRESET`: run (or resume) a hyperparameter sweep."""

from __future__ import annotations

from pathlib import Path

import click

from .common import (
    Common,
    common_options,
    echo,
    executor_options,
    finish,
    friendly_errors,
    report_option,
    set_option,
    show_sweep,
)


@click.command("sweep")
@click.argument("sweep_file", metavar="FILE_OR_PRESET")
@click.option("--quick", is_flag=True, help="The sweep's short variant (its [quick] table).")
@click.option(
    "--sweep-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The sweep directory; running the same sweep into it again resumes it [default: <runs-dir>/<name>-sweep].",
)
@click.option("--dir", "old_sweep_dir", type=click.Path(file_okay=False, path_type=Path), default=None, hidden=True)
@set_option
@report_option
@common_options
@executor_options
@friendly_errors
def sweep_command(
    sweep_file: str,
    quick: bool,
    sweep_dir: Path | None,
    old_sweep_dir: Path | None,
    assignments: tuple[str, ...],
    report: bool,
    common: Common,
    executor: str,
    address: str | None,
    workers: int | None,
) -> None:
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
    from .. import lab
    from ..errors import ConfigError
    from ..experiments.shortcuts import load_with
    from ..experiments.sweep import SweepConfig

    if old_sweep_dir is not None:
        echo("note: --dir is now called --sweep-dir")
        sweep_dir = sweep_dir or old_sweep_dir
    sweep = load_with(sweep_file, quick=quick, assignments=assignments, **common.settings)
    if not isinstance(sweep, SweepConfig):
        raise ConfigError(f"{sweep_file!r} is a single run, not a sweep; run it with `backproplab run {sweep_file}`")
    result = lab.sweep(
        sweep,
        sweep_dir=sweep_dir,
        runs_dir=common.runs_dir,
        executor=executor,
        address=address,
        workers=workers,
        report=report,
        **common.lab,
    )
    show_sweep(result, common.verbose == 0)
    finish(result, common.verbose == 0)
