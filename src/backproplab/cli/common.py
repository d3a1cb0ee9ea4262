"""Helpers shared by the CLI commands: error reporting, exit statuses, and the options every command spells the
same way (declared once here).

Exit statuses: 0 done; 1 a library error (data or model files, memory, a failed run); 2 invalid input (a bad
option or configuration: nothing was run); 128 + the signal number for a run or sweep stopped by a signal (130
after Ctrl-C, 143 after SIGTERM).
"""

from __future__ import annotations

import functools
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from .._text import did_you_mean
from ..backend import BACKENDS
from ..errors import BackproplabError, ConfigError
from ..experiments.sweep.executors import EXECUTORS
from ..tracking.base import TRACKERS

F = TypeVar("F", bound=Callable[..., Any])


class InvalidInput(click.ClickException):
    """Exit status 2, as click gives a bad option value: the input was invalid, nothing was run."""

    exit_code = 2


class SuggestingChoice(click.Choice):
    """`click.Choice` whose error says which choice was probably meant (``did you mean 'fashion-mnist'?``)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as exc:
            hint = did_you_mean(str(value), [str(c) for c in self.choices])
            if hint:
                self.fail(f"{exc.message}{hint}", param, ctx)
            raise


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


def show_sweep(result: Any, quiet: bool) -> None:
    """The trial table and where the sweep directory is (nothing when ``quiet``)."""
    from ..experiments.sweep.table import format_trials

    if not quiet:
        click.echo(format_trials(result.trials, result.summary))
        click.echo(f"Sweep directory: {result.sweep_dir}")


def with_options(*options: Callable[[F], F]) -> Callable[[F], F]:
    """Apply click options in the order listed (first listed = first in --help)."""

    def apply(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return apply


# ---------------------------------------------------------------- options spelled the same everywhere

data_root_option = click.option(
    "--data-root",
    metavar="PATH",
    default=None,
    help="Directory (or file) holding the dataset [default: its standard place].",
)
runs_dir_option = click.option(
    "--runs-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where run directories go (and the MLflow store, mlflow.db) [default: ./runs or $BACKPROPLAB_RUNS].",
)
set_option = click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override any config key, e.g. --set optimizer.lr=0.05 (repeatable).",
)
report_option = click.option(
    "--report/--no-report", default=True, help="Write the plots and report.html after training."
)
tracker_option = click.option(
    "--tracker",
    type=SuggestingChoice(TRACKERS),
    default=None,
    envvar="BACKPROPLAB_TRACKER",
    help="Experiment store the run is logged to while it trains [default: mlflow when installed, else none; "
    "env BACKPROPLAB_TRACKER].",
)
tracking_uri_option = click.option(
    "--tracking-uri",
    metavar="URI",
    default=None,
    help="MLflow tracking URI, e.g. http://host:5000 for a shared server; for wandb: the directory for its "
    "offline files [default: $MLFLOW_TRACKING_URI, else sqlite:///<runs dir>/mlflow.db].",
)
backend_option = click.option(
    "--backend",
    type=SuggestingChoice(BACKENDS),
    default=None,
    help="Compute with NumPy arrays or torch tensors (torch: pip install "
    "'backproplab[torch]') [default: the config's model.backend, numpy].",
)
device_option = click.option(
    "--device",
    metavar="auto|cpu|cuda|cuda:N",
    default=None,
    help="Device of the torch backend (auto: CUDA when available) [default: the config's model.device, auto].",
)
predict_option = click.option(
    "--predict",
    is_flag=True,
    default=None,
    help="Also write the predicted class of every test row to test_pred.npy in the run directory "
    "(training.predict; the MNIST course's mnist_test_pred.npy). Works on a test set without labels.",
)
quiet_option = click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors and warnings.")


class ThreadsType(click.ParamType):
    """``auto`` or a positive integer."""

    name = "N|auto"

    def convert(self, value: Any, param: Any, ctx: Any) -> int | str:
        if isinstance(value, int) or value == "auto":
            return value
        try:
            number = int(value)
        except ValueError:
            number = 0
        if number < 1:
            self.fail(f"expected a positive integer or 'auto'; got {value!r}", param, ctx)
        return number


threads_option = click.option(
    "--threads",
    type=ThreadsType(),
    default=None,
    help="Threads of NumPy's BLAS per run: N, or auto (the fastest measured at the start) [default: the config's "
    "training.threads, auto; sweep trials use 1 each unless N is given].",
)
verbose_option = click.option(
    "-v",
    "--verbose",
    count=True,
    show_default=False,
    help="Say more: how long the report and the tracking took after training.",
)
resume_option = click.option(
    "--resume",
    metavar="RUN_DIR",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Continue the interrupted or killed run in RUN_DIR from its checkpoint (same as `backproplab resume "
    "RUN_DIR`; the config given must be the one it was started with).",
)
executor_options = with_options(
    click.option(
        "--executor",
        type=SuggestingChoice(EXECUTORS),
        default="process",
        help="Sweeps: where trials run: a local process pool, a Dask cluster, Ray, or this process one at a time.",
    ),
    click.option(
        "--address",
        metavar="tcp://HOST:PORT",
        help="Sweeps: Dask scheduler (or Ray cluster) address; without it dask/ray start a local cluster.",
    ),
    click.option(
        "--workers",
        type=click.IntRange(min=1),
        default=None,
        help="Sweeps: parallel trials for the local pool or local Dask cluster [default: number of cores].",
    ),
)


def verbosity(quiet: bool, verbose: int) -> int:
    """-q -> 0 (errors and warnings only), default 1, -v -> 2."""
    return 0 if quiet else 1 + verbose


@dataclass(frozen=True)
class Common:
    """The options `run`, `train` and `sweep` share (`common_options`)."""

    data_root: str | None
    runs_dir: Path | None
    tracker: str | None
    tracking_uri: str | None
    backend: str | None
    device: str | None
    verbose: int
    threads: int | str | None = None

    @property
    def settings(self) -> dict[str, Any]:
        """The config settings among them, by short name (`backproplab.experiments.shortcuts`)."""
        return {"data_root": self.data_root, "backend": self.backend, "device": self.device, "threads": self.threads}

    @property
    def lab(self) -> dict[str, Any]:
        """Keyword arguments of `backproplab.lab.run` / `sweep` / `resume`."""
        return {"tracker": self.tracker, "tracking_uri": self.tracking_uri, "verbose": self.verbose, "say": echo}


def common_options(func: F) -> F:
    """--data-root, --runs-dir, --backend, --device, --threads, --tracker, --tracking-uri, -q and -v, declared once
    for `run`, `train` and `sweep`; the command receives them as one keyword argument ``common`` (a `Common`)."""

    @functools.wraps(func)
    def wrapper(
        *args: Any,
        data_root: str | None,
        runs_dir: Path | None,
        backend: str | None,
        device: str | None,
        threads: int | str | None,
        tracker: str | None,
        tracking_uri: str | None,
        quiet: bool,
        verbose: int,
        **kwargs: Any,
    ) -> Any:
        common = Common(data_root, runs_dir, tracker, tracking_uri, backend, device, verbosity(quiet, verbose), threads)
        return func(*args, common=common, **kwargs)

    options = with_options(
        data_root_option,
        runs_dir_option,
        backend_option,
        device_option,
        threads_option,
        tracker_option,
        tracking_uri_option,
        quiet_option,
        verbose_option,
    )
    return options(wrapper)  # type: ignore[return-value]
