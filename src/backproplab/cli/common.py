"""Helpers shared by the CLI commands: error reporting, exit statuses and the common options."""

from __future__ import annotations

import functools
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..errors import BackproplabError, ConfigError

F = TypeVar("F", bound=Callable[..., Any])


class InvalidInput(click.ClickException):
    """Exit status 2, as click gives a bad option value: the input was invalid, nothing was run."""

    exit_code = 2


def friendly_errors(func: F) -> F:
    """Turn backproplab's own errors into a one-paragraph message without a traceback: exit status 2 for an
    invalid configuration (`ConfigError`), 1 for the rest (data or model files, memory, a failed run); a second
    Ctrl-C (training stopped at once) exits with status 130 after saying what was kept."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            raise InvalidInput(str(exc)) from exc
        except BackproplabError as exc:
            raise click.ClickException("\n".join([str(exc), *getattr(exc, "__notes__", [])])) from exc
        except KeyboardInterrupt as exc:
            for note in getattr(exc, "__notes__", []):
                click.echo(note, err=True)
            raise SystemExit(130) from None

    return wrapper  # type: ignore[return-value]


def echo(message: str) -> None:
    """A message of the pipeline: warnings, notes and stop messages on stderr, the rest on stdout."""
    click.echo(message, err=message.startswith(("warning", "note", "SIG", "Interrupted")))


def finish(result: Any, quiet: bool) -> None:
    """After a run or sweep: an interrupted one says how to resume it (a run's closing lines already do, unless
    ``quiet``) and exits with 128 + the signal number (130 after Ctrl-C, 143 after SIGTERM), as shells expect of
    a process stopped by a signal."""
    from .. import lab  # matplotlib comes with the reports: loaded only by the commands that train

    line = lab.describe_end(result)
    if line is None:
        return
    if quiet or not hasattr(result, "run_dir"):
        click.echo(line, err=True)
    raise SystemExit(128 + (lab.stopped_by(result) or signal.SIGINT))


runs_dir_option = click.option("--runs-dir", type=click.Path(path_type=Path), default=None,
                               help="Where run directories go (default ./runs or $BACKPROPLAB_RUNS).")
set_option = click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
                          help="Override any config key, e.g. --set optimizer.lr=0.05 (repeatable).")
report_option = click.option("--report/--no-report", default=True, show_default=True,
                             help="Write the plots and report.html after training.")
tracker_option = click.option(
    "--tracker", type=click.Choice(["none", "mlflow", "wandb"]), default=None, envvar="BACKPROPLAB_TRACKER",
    help="Also log the finished run to an experiment store [default: mlflow when installed, else none; "
         "env BACKPROPLAB_TRACKER].")
tracking_uri_option = click.option(
    "--tracking-uri", metavar="URI", default=None,
    help="MLflow tracking URI, e.g. http://host:5000 for a shared server [default: $MLFLOW_TRACKING_URI, "
         "else sqlite:///<runs dir>/mlflow.db]; for wandb: the directory for its offline files.")
verbosity_option = click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
predict_option = click.option(
    "--predict", is_flag=True, default=None,
    help="Also write the predicted class of every test row to test_pred.npy in the run directory "
         "(training.predict; SPEC C's mnist_test_pred.npy). Works on a test set without labels.")

backend_option = click.option("--backend", type=click.Choice(["numpy", "torch"]), default=None,
                              help="Compute with NumPy arrays or torch tensors (model.backend; torch: pip install "
                                   "'backproplab[torch]').")
device_option = click.option("--device", metavar="auto|cpu|cuda|cuda:N", default=None,
                             help="Device of the torch backend (model.device; auto: CUDA when available).")


def backend_assignments(backend: str | None, device: str | None) -> tuple[str, ...]:
    """``--backend`` / ``--device`` as ``--set`` assignments (``model.backend="torch"``, ...)."""
    pairs = (("model.backend", backend), ("model.device", device))
    return tuple(f'{key}="{value}"' for key, value in pairs if value is not None)
resume_option = click.option(
    "--resume", metavar="RUN_DIR", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
    help="Continue the interrupted or killed run in RUN_DIR from its checkpoint (same as `backproplab resume "
         "RUN_DIR`; the config given must be the one it was started with).")
