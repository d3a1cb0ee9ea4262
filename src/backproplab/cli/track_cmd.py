"""`backproplab track DIR...` (log finished runs or sweeps after the fact) and `backproplab ui` (MLflow UI)."""

from __future__ import annotations

from pathlib import Path

import click

from .common import echo, friendly_errors, runs_dir_option, tracker_option, tracking_uri_option


@click.command("track")
@click.argument("directories", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@tracker_option
@tracking_uri_option
@click.option("--experiment", help="MLflow experiment / W&B project [default: the run's or sweep's name].")
@friendly_errors
def track_command(
    directories: tuple[Path, ...], tracker: str | None, tracking_uri: str | None, experiment: str | None
) -> None:
    """Log finished run or sweep directories to the experiment store (again: already logged ones are found, and
    a run logged while it trained is completed).

    The default store is mlflow.db beside each directory (runs/mlflow.db for runs/<run>).
    """
    from ..errors import ConfigError
    from ..tracking import is_run_dir, is_sweep_dir, track_dir

    for directory in directories:
        if not (is_run_dir(directory) or is_sweep_dir(directory)):
            raise click.ClickException(
                f"{directory}: not a finished run or sweep directory "
                "(expected summary.json or sweep_summary.json in it)"
            )
    if tracker == "none":
        source = click.get_current_context().get_parameter_source("tracker")
        where = " (from $BACKPROPLAB_TRACKER)" if source == click.core.ParameterSource.ENVIRONMENT else ""
        raise ConfigError(f"--tracker none{where} logs nothing; pass --tracker mlflow or --tracker wandb")
    failed = []
    for directory in directories:
        if not track_dir(directory, tracker=tracker, uri=tracking_uri, experiment=experiment, say=echo):
            failed.append(directory)
    if failed:
        raise click.ClickException(f"tracking failed for {len(failed)} of {len(directories)} directories")


@click.command("ui")
@click.option("--port", type=click.IntRange(1, 65535), default=5000)
@runs_dir_option
@click.option("--store", type=click.Path(dir_okay=False, path_type=Path), default=None, hidden=True)
@click.option("-v", "--verbose", is_flag=True, help="Show the server's own log, one line per request.")
@friendly_errors
def ui_command(port: int, runs_dir: Path | None, store: Path | None, verbose: bool) -> None:
    """Start the MLflow UI for the local store (<runs-dir>/mlflow.db) on http://127.0.0.1:PORT.

    The URL is printed once the server answers; Ctrl-C (or SIGTERM) stops it and its processes.
    """
    from ..rundir import default_runs_dir
    from ..tracking.base import STORE_FILE
    from ..tracking.ui import serve_ui

    if store is not None:
        echo("note: --store is replaced by --runs-dir (the store is <runs-dir>/mlflow.db)")
    store = store or (runs_dir or default_runs_dir()) / STORE_FILE
    raise SystemExit(serve_ui(store, port, verbose=verbose, say=lambda line: click.echo(line, err=True)))
