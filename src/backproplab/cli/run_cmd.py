"""`backproplab run PRESET` and `backproplab presets`."""

from __future__ import annotations

from pathlib import Path

import click

from ..experiments import apply_quick, load_preset, preset_names, with_overrides
from ..experiments.config import parse_assignment
from .common import (
    friendly_errors,
    report_option,
    run_and_report,
    runs_dir_option,
    set_option,
    tracker_option,
    tracking_uri_option,
    verbosity_option,
)


@click.command("run")
@click.argument("preset")
@click.option("--quick", is_flag=True, help="A short variant (fewer epochs, data slices) for previews and tests.")
@click.option("--data-root", help="Directory (or file) holding the dataset.")
@set_option
@runs_dir_option
@report_option
@tracker_option
@tracking_uri_option
@verbosity_option
@friendly_errors
def run_command(preset: str, quick: bool, data_root: str | None, assignments: tuple[str, ...],
                runs_dir: Path | None, report: bool, quiet: bool, tracker: str | None,
                tracking_uri: str | None) -> None:
    """Run a named preset (see `backproplab presets`) or a preset TOML file, then write its report."""
    config = load_preset(preset)
    if quick:
        config = apply_quick(config)
    overrides = [parse_assignment(a) for a in assignments]
    if data_root:
        overrides.append({"data": {"root": data_root}})
    if overrides:
        config = with_overrides(config, *overrides)
    run_and_report(config, runs_dir, report, verbose=0 if quiet else 1, tracker=tracker,
                   tracking_uri=tracking_uri)


@click.command("presets")
@friendly_errors
def presets_command() -> None:
    """List the named presets."""
    names = preset_names()
    width = max(len(n) for n in names)
    for name in names:
        click.echo(f"{name:<{width}}  {load_preset(name).description}")
