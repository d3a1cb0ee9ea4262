"""One consistent command line: shared options spelled and declared once, every choice list read from the registry of
its concept, defaults shown in --help, "did you mean" for mistyped names, and exact exit statuses."""

from __future__ import annotations

import signal
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from backproplab.backend import BACKENDS, DTYPES
from backproplab.cli.main import main
from backproplab.data import DATASETS, SCALES
from backproplab.experiments.config import choices
from backproplab.experiments.sweep import EXECUTORS
from backproplab.nn import ACTIVATIONS, INITIALIZERS, LOSSES
from backproplab.optim import OPTIMIZERS
from backproplab.tracking import TRACKERS
from backproplab.train.engine import ENGINES
from cli_errors import assert_cli_error

# option (or argument) name -> the registry its choices must equal
REGISTRIES = {
    "dataset": DATASETS,
    "scale": SCALES,
    "activation": ACTIVATIONS,
    "init": INITIALIZERS,
    "loss": LOSSES,
    "optimizer": OPTIMIZERS,
    "engine": ENGINES,
    "backend": BACKENDS,
    "dtype": DTYPES,
    "executor": EXECUTORS,
    "tracker": TRACKERS,
    "name": DATASETS,
}
SCHEMA = {"l2_convention": "regularization.l2_convention"}  # choices with no registry: the config schema's


def commands(group: click.Group = main, path: str = "") -> list[tuple[str, click.Command]]:
    out = []
    for name, command in group.commands.items():
        out.append((f"{path}{name}", command))
        if isinstance(command, click.Group):
            out += commands(command, f"{path}{name} ")
    return out


def test_every_choice_list_is_its_registry() -> None:
    checked = []
    for path, command in commands():
        for param in command.params:
            if not isinstance(param.type, click.Choice) or path.startswith("explain"):
                continue
            expected = REGISTRIES.get(param.name) if param.name in REGISTRIES else choices(SCHEMA[param.name])
            assert list(param.type.choices) == list(expected), f"{path} {param.name}"
            checked.append(f"{path} {param.name}")
    # the schema reads the same registries
    for key, registry in [
        ("data.dataset", DATASETS),
        ("data.scale", SCALES),
        ("model.activation", ACTIVATIONS),
        ("model.init", INITIALIZERS),
        ("loss.name", LOSSES),
        ("optimizer.name", OPTIMIZERS),
        ("training.engine", ENGINES),
        ("model.backend", BACKENDS),
        ("model.dtype", DTYPES),
    ]:
        assert list(choices(key)) == list(registry), key
    assert {
        "train dataset",
        "train engine",
        "train backend",
        "run backend",
        "sweep backend",
        "run tracker",
        "sweep executor",
        "track tracker",
        "data fetch name",
    } <= set(checked)


def test_run_train_and_sweep_share_their_options() -> None:
    shared = {"data_root", "runs_dir", "backend", "device", "tracker", "tracking_uri", "quiet", "verbose"}
    by_command = {path: {p.name: p for p in command.params} for path, command in commands()}
    for path in ("run", "train", "sweep"):
        assert shared <= set(by_command[path]), path
    for name in shared:  # declared once: the same option object's settings everywhere
        decls = {
            path: (tuple(by_command[path][name].opts), by_command[path][name].help)
            for path in ("run", "train", "sweep")
        }
        assert len(set(decls.values())) == 1, (name, decls)
    assert by_command["ui"]["runs_dir"].help == by_command["run"]["runs_dir"].help
    assert by_command["track"]["tracker"].help == by_command["run"]["tracker"].help


def test_help_shows_the_defaults() -> None:
    text = CliRunner().invoke(main, ["train", "--help"]).output
    flat = " ".join(text.split())
    for default in (
        "--lr FLOAT Learning rate. [default: 0.01]",
        "--epochs INTEGER Epochs. [default: 15]",
        "--batch-size INTEGER Batch size. [default: 1]",
        "[default: fashion-mnist]",
        "--hidden W1,W2,... Hidden widths, e.g. 256 or 256,64. [default: 256]",
    ):
        assert default in flat, default
    assert "[default: process]" in " ".join(CliRunner().invoke(main, ["sweep", "--help"]).output.split())
    assert "[default: 5000; 1<=x<=65535]" in CliRunner().invoke(main, ["ui", "--help"]).output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["run", "fashion-sdg"],
            "unknown preset 'fashion-sdg'; did you mean 'fashion-sgd'? (`backproplab presets` lists them all)",
        ),
        (["sweep", "mnist-l"], "did you mean 'mnist-l1' or 'mnist-l2' or 'mnist-lr'?"),
        (["train", "--dataset", "fashon-mnist"], "did you mean 'fashion-mnist'?"),
        (["data", "info", "minst"], "did you mean 'mnist'?"),
        (["train", "--activation", "relux"], "did you mean 'relu'?"),
        (["explain", "hw643"], "unknown problem 'hw643'; did you mean 'hw-643'?"),
        (
            ["train", "--set", "optimizer.name=adamw"],
            "optimizer.name: expected 'sgd' or 'adam'; got 'adamw'; did you mean 'adam'?",
        ),
    ],
)
def test_mistyped_names_get_a_suggestion(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output  # invalid input: nothing ran
    assert message in " ".join(result.output.split())


def test_no_suggestion_lists_the_choices() -> None:
    result = CliRunner().invoke(main, ["run", "zzz"])
    assert_cli_error(result, 2, "the presets are cifar10-depth, cifar10-iterations, cifar10-two-layer,")


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (
            ["train", "--epochs", "0", "--dataset", "spiral"],
            2,
            "training.epochs: Input should be greater than or equal",
        ),
        (["train", "--config", "missing.toml"], 2, "does not exist"),
        (["report", "."], 1, "neither a finished run directory"),
        (["resume", "."], 1, "nothing to resume"),
    ],
)
def test_exit_statuses(
    args: list[str], status: int, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == status, result.output
    assert message in result.output


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_exits_with_128_plus_the_signal(
    sig: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backproplab.experiments.run import epoch_writer
    from backproplab.train import interrupts

    original = epoch_writer.EpochWriter.on_epoch_end

    def stop_after_first(self, state, epoch, logs):  # type: ignore[no-untyped-def]
        original(self, state, epoch, logs)
        if epoch == 1:
            interrupts.request(sig)

    monkeypatch.setattr(epoch_writer.EpochWriter, "on_epoch_end", stop_after_first)
    result = CliRunner().invoke(
        main,
        [
            "train",
            "--dataset",
            "spiral",
            "--hidden",
            "8",
            "--epochs",
            "3",
            "--batch-size",
            "30",
            "--runs-dir",
            str(tmp_path),
            "--no-report",
            "-q",
        ],
    )
    assert result.exit_code == 128 + sig, result.output
    assert "Resume with: backproplab resume" in result.stderr
