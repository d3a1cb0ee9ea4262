"""`backproplab run PRESET` and `backproplab presets`."""

from __future__ import annotations

from pathlib import Path

import click

from ..experiments import load_any, preset_kind, preset_names
from .common import (
    Common,
    common_options,
    executor_options,
    finish,
    friendly_errors,
    predict_option,
    report_option,
    resume_option,
    set_option,
    show_sweep,
)


@click.command("run")
@click.argument("preset")
@click.option("--quick", is_flag=True, help="A short variant (fewer epochs, data slices) for previews and tests.")
@set_option
@predict_option
@report_option
@common_options
@executor_options
@resume_option
@friendly_errors
def run_command(
    preset: str,
    quick: bool,
    assignments: tuple[str, ...],
    report: bool,
    common: Common,
    executor: str,
    address: str | None,
    workers: int | None,
    resume: Path | None,
    predict: bool | None,
) -> None:
    """Run a named preset (see `backproplab presets`) or a preset TOML file, then write its report.

    A sweep preset runs as `backproplab sweep PRESET` does (into <runs-dir>/<name>-sweep, resumable);
    --executor, --address and --workers apply to sweeps only. Ctrl-C or SIGTERM stops at a step boundary
    with a checkpoint; --resume RUN_DIR (or `backproplab resume RUN_DIR`) continues it.
    """
    from .. import lab
    from ..experiments.shortcuts import load_with

    config = load_with(preset, quick=quick, assignments=assignments, predict=predict, **common.settings)
    quiet = common.verbose == 0
    if preset_kind(preset) == "sweep":
        result = lab.sweep(
            config,
            sweep_dir=resume,
            runs_dir=common.runs_dir,
            executor=executor,
            address=address,
            workers=workers,
            report=report,
            **common.lab,
        )
        show_sweep(result, quiet)
    elif resume is not None:
        result = lab.resume(resume, expected=config, report=report, **common.lab)
    else:
        result = lab.run(config, runs_dir=common.runs_dir, report=report, **common.lab)
    finish(result, quiet)


@click.command("presets")
@friendly_errors
def presets_command() -> None:
    """List the named presets (single runs and sweeps)."""
    names = preset_names()
    width = max(len(n) for n in names)
    for name in names:
        click.echo(f"{name:<{width}}  {preset_kind(name):<5}  {load_any(name).description}")
