"""`backproplab track DIR...` (log finished runs or sweeps after the fact) and `backproplab ui` (MLflow UI)."""

from __future__ import annotations

import importlib.util
import os
import socket
import sys
from pathlib import Path

import click

from ..rundir import default_runs_dir
from .common import friendly_errors, tracking_uri_option


@click.command("track")
@click.argument("directories", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--tracker", type=click.Choice(["mlflow", "wandb"]), default="mlflow", show_default=True)
@tracking_uri_option
@click.option("--experiment", help="MLflow experiment / W&B project [default: the run's or sweep's name].")
@friendly_errors
def track_command(directories: tuple[Path, ...], tracker: str, tracking_uri: str | None,
                  experiment: str | None) -> None:
    """Log finished run or sweep directories to the experiment store (again: already logged ones are skipped).

    The default store is mlflow.db beside each directory (runs/mlflow.db for runs/<run>).
    """
    from ..tracking import is_run_dir, is_sweep_dir, track_dir

    failed = []
    for directory in directories:
        if not (is_run_dir(directory) or is_sweep_dir(directory)):
            raise click.ClickException(f"{directory}: not a finished run or sweep directory "
                                       "(expected summary.json or sweep_summary.json in it)")
        say = click.echo
        if not track_dir(directory, tracker=tracker, uri=tracking_uri, experiment=experiment, say=say):
            failed.append(directory)
    if failed:
        raise click.ClickException(f"tracking failed for {len(failed)} of {len(directories)} directories")


@click.command("ui")
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option("--store", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The SQLite store [default: <runs dir>/mlflow.db, runs dir = ./runs or $BACKPROPLAB_RUNS].")
@friendly_errors
def ui_command(port: int, store: Path | None) -> None:
    """Start the MLflow UI on http://127.0.0.1:PORT for the local store (one worker; Ctrl-C stops it)."""
    if importlib.util.find_spec("mlflow") is None or importlib.util.find_spec("flask") is None:
        raise click.ClickException("the MLflow UI needs the full mlflow package: pip install 'backproplab[ui]' "
                                   "(the 'track' extra has only the client)")
    store = (store or default_runs_dir() / "mlflow.db").resolve()
    if not store.is_file():
        raise click.ClickException(f"no MLflow store at {store}; run something first (backproplab run fashion-sgd "
                                   "--quick logs to it) or pass --store PATH")
    artifacts = store.parent / "mlartifacts"
    command = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{store}",
               "--default-artifact-root", artifacts.as_uri(), "--host", "127.0.0.1", "--port", str(port),
               "--workers", "1"]
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise click.ClickException(f"port {port} on 127.0.0.1 is in use; choose another with --port") from None
    click.echo(f"MLflow UI for {store} on http://127.0.0.1:{port} (Ctrl-C to stop)", err=True)
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    # replace this process: Ctrl-C and kill reach the server itself, no orphan left behind
    os.execve(sys.executable, command, env)
