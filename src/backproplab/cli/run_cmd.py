"""`backproplab run PRESET` and `backproplab presets`."""

from __future__ import annotations

from pathlib import Path

import click

from ..experiments import apply_quick, load_any, load_preset, preset_kind, preset_names, with_overrides
from ..experiments.config import parse_assignment
from .common import (
    backend_assignments,
    backend_option,
    device_option,
    echo,
    finish,
    friendly_errors,
    predict_option,
    report_option,
    resume_option,
    runs_dir_option,
    set_option,
    tracker_option,
    tracking_uri_option,
    verbosity_option,
)
from .sweep_cmd import load_sweep_options, run_sweep_and_report, with_executor_options


@click.command("run")
@click.argument("preset")
@click.option("--quick", is_flag=True, help="A short variant (fewer epochs, data slices) for previews and tests.")
@click.option("--data-root", help="Directory (or file) holding the dataset.")
@backend_option
@device_option
@set_option
@runs_dir_option
@report_option
@tracker_option
@tracking_uri_option
@verbosity_option
@with_executor_options
@resume_option
@predict_option
@friendly_errors
def run_command(preset: str, quick: bool, data_root: str | None, backend: str | None, device: str | None,
                assignments: tuple[str, ...], runs_dir: Path | None, report: bool, quiet: bool, executor: str,
                address: str | None, workers: int | None, tracker: str | None, tracking_uri: str | None,
                resume: Path | None, predict: bool | None) -> None:
    """Run a named preset (see `backproplab presets`) or a preset TOML file, then write its report.

    A sweep preset runs as `backproplab sweep PRESET` does (into <runs-dir>/<name>-sweep, resumable);
    --executor, --address and --workers apply to sweeps only. Ctrl-C or SIGTERM stops at a step boundary
    with a checkpoint; --resume RUN_DIR (or `backproplab resume RUN_DIR`) continues it.
    """
    from .. import lab

    assignments = backend_assignments(backend, device) + (("training.predict=true",) if predict else ()) + assignments
    if preset_kind(preset) == "sweep":
        extra = (f"data.root={_toml_string(data_root)}",) if data_root else ()
        sweep = load_sweep_options(preset, quick, assignments + extra)
        run_sweep_and_report(sweep, sweep_dir=resume, runs_dir=runs_dir, executor=executor, address=address,
                             workers=workers, report=report, quiet=quiet, tracker=tracker, tracking_uri=tracking_uri)
        return
    config = load_preset(preset)
    if quick:
        config = apply_quick(config)
    overrides = [parse_assignment(a) for a in assignments]
    if data_root:
        overrides.append({"data": {"root": data_root}})
    if overrides:
        config = with_overrides(config, *overrides)
    options = {"report": report, "tracker": tracker, "tracking_uri": tracking_uri, "verbose": 0 if quiet else 1,
               "say": echo}
    if resume is not None:
        finish(lab.resume(resume, expected=config, **options), quiet)
    else:
        finish(lab.run(config, runs_dir=runs_dir, **options), quiet)


@click.command("presets")
@friendly_errors
def presets_command() -> None:
    """List the named presets (single runs and sweeps)."""
    names = preset_names()
    width = max(len(n) for n in names)
    for name in names:
        click.echo(f"{name:<{width}}  {preset_kind(name):<5}  {load_any(name).description}")


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
