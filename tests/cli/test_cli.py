"""CLI smoke tests: every command runs, writes what it promises, and rejects bad input with a clear message."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from backproplab.cli.main import main
from backproplab.nn import load_model
from cli_errors import assert_cli_error


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


def only_run_dir(runs: Path) -> Path:
    dirs = [d for d in runs.iterdir() if d.is_dir()]
    assert len(dirs) == 1, dirs
    return dirs[0]


def test_help_and_version(cli: CliRunner) -> None:
    result = cli.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("train", "run", "presets", "data", "gradcheck", "report"):
        assert command in result.output
    assert cli.invoke(main, ["--version"]).output.startswith("backproplab, version ")


def test_presets_lists_flagship_and_mnist(cli: CliRunner) -> None:
    result = cli.invoke(main, ["presets"])
    assert result.exit_code == 0
    assert "fashion-sgd" in result.output and "mnist-elu" in result.output


def test_gradcheck_command_passes(cli: CliRunner) -> None:
    result = cli.invoke(main, ["gradcheck"])
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    assert "all 20 checks below 1e-07" in result.output and "\nBatchNorm " in result.output


@pytest.mark.needs_data("fashion-mnist")
def test_train_from_flags_writes_a_complete_run(cli: CliRunner, tmp_path: Path) -> None:
    args = [
        "train",
        "--limit-train",
        "600",
        "--limit-test",
        "300",
        "--hidden",
        "16",
        "--batch-size",
        "20",
        "--epochs",
        "2",
        "--lr",
        "0.5",
        "--shuffle",
        "--seed",
        "3",
        "--runs-dir",
        str(tmp_path),
        "--name",
        "smoke",
    ]
    result = cli.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "Epoch 2/2, Train Loss:" in result.output and "Test Accuracy:" in result.output
    run = only_run_dir(tmp_path)
    assert run.name.endswith("-smoke")
    for name in (
        "config.toml",
        "metrics.csv",
        "metrics.json",
        "model.npz",
        "summary.json",
        "confusion.json",
        "misclassified.npz",
        "loss.png",
        "accuracy.png",
        "confusion_train.png",
        "confusion_test.png",
        "misclassified.png",
        "weights.png",
        "loss_iterations.png",
        "report.html",
    ):
        assert (run / name).is_file(), name
    config = tomllib.loads((run / "config.toml").read_text())
    assert config["model"]["hidden"] == [16] and config["training"]["batch_size"] == 20
    assert config["model"]["seed"] == config["training"]["seed"] == 3
    metrics = json.loads((run / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == [1, 2]
    assert (run / "metrics.csv").read_text().splitlines()[0].startswith("epoch,train_loss,train_acc,test_loss")
    summary = json.loads((run / "summary.json").read_text())
    # the saved model reproduces the final test accuracy written in the summary
    from backproplab.data import load_dataset
    from backproplab.train import predict

    test = load_dataset("fashion-mnist", split="test", limit=300)
    acc = float(np.mean(predict(load_model(run / "model.npz"), test.X) == test.y))
    assert acc == pytest.approx(summary["final"]["test_acc"])
    confusion = json.loads((run / "confusion.json").read_text())
    assert np.asarray(confusion["test"]).sum() == 300 and np.trace(confusion["test"]) == round(acc * 300)
    html = (run / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 7 and "http://" not in html and "https://" not in html


@pytest.mark.parametrize(
    ("args", "status", "expected"),
    [
        (["--set", "optimizer.name=adamw"], 2, "optimizer.name: expected 'sgd' or 'adam'; got 'adamw'"),
        (["--set", "optimizer.lrr=0.1"], 2, "optimizer.lrr: unknown key"),
        (["--epochs", "0"], 2, "training.epochs: Input should be greater than or equal to 1; got 0"),
        (["--hidden", "256,x"], 2, "expected comma-separated widths"),
        (["--set", "training.eval=['validation']"], 2, "data.validation_size is 0"),
        (["--dataset", "cifar10"], 1, "CIFAR-10 is not available"),
        (["--dataset", "mnist", "--data-root", "/nonexistent/mnist"], 1, "/nonexistent/mnist: no such file"),
    ],
)
def test_train_rejects_bad_settings_with_a_clear_message(
    cli: CliRunner, tmp_path: Path, args: list[str], status: int, expected: str
) -> None:
    result = cli.invoke(main, ["train", "--runs-dir", str(tmp_path), *args])
    assert_cli_error(result, status, expected)


def test_bad_config_files(cli: CliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[optimizer\nlr = 0.1\n")
    result = cli.invoke(main, ["train", "--config", str(broken)])
    assert_cli_error(result, 2, "not valid TOML", str(broken))
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('[model]\nactivation = "swish"\n')
    result = cli.invoke(main, ["train", "--config", str(wrong)])
    assert_cli_error(result, 2, f"in {wrong}", "model.activation: expected 'sigmoid'", "got 'swish'")


def test_unknown_preset_lists_the_available_ones(cli: CliRunner) -> None:
    result = cli.invoke(main, ["run", "no-such-preset"])
    assert_cli_error(result, 2, "unknown preset 'no-such-preset'", "fashion-sgd")


@pytest.mark.needs_data("fashion-mnist")
def test_diverging_run_stops_with_message_and_keeps_its_files(cli: CliRunner, tmp_path: Path) -> None:
    args = [
        "train",
        "--limit-train",
        "500",
        "--limit-test",
        "200",
        "--hidden",
        "32",
        "--activation",
        "relu",
        "--batch-size",
        "10",
        "--epochs",
        "5",
        "--lr",
        "10000",
        "--runs-dir",
        str(tmp_path),
    ]
    result = cli.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "Training diverged" in result.output
    run = only_run_dir(tmp_path)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["diverged"] is True and summary["epochs_run"] == 1
    assert "Training diverged" in summary["stop_reason"]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["diverged"] is True and len(metrics["epochs"]) == 1
    assert "diverged" in (run / "report.html").read_text()


@pytest.mark.needs_data("fashion-mnist")
def test_report_command_rebuilds_and_rejects_non_runs(cli: CliRunner, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    assert (
        cli.invoke(
            main,
            [
                "train",
                "--limit-train",
                "200",
                "--limit-test",
                "100",
                "--hidden",
                "8",
                "--batch-size",
                "50",
                "--epochs",
                "1",
                "--runs-dir",
                str(runs),
                "--no-report",
                "-q",
            ],
        ).exit_code
        == 0
    )
    run = only_run_dir(runs)
    assert not (run / "report.html").exists()
    result = cli.invoke(main, ["report", str(run)])
    assert result.exit_code == 0, result.output
    assert (run / "report.html").is_file() and (run / "loss.png").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli.invoke(main, ["report", str(empty)])
    assert_cli_error(result, 1, "neither a finished run directory")


@pytest.mark.needs_data("fashion-mnist")
def test_data_info_and_fetch(cli: CliRunner) -> None:
    result = cli.invoke(main, ["data", "info", "fashion-mnist"])
    assert result.exit_code == 0, result.output
    assert "train  X (60000, 784) float32" in result.output
    assert "per class: 6000, 6000, 6000" in result.output
    result = cli.invoke(main, ["data", "fetch", "fashion-mnist"])
    assert result.exit_code == 0 and "60000 training and 10000 test images" in result.output
    result = cli.invoke(main, ["data", "fetch", "cifar10"])
    assert result.exit_code == 1 and "cannot be fetched here" in result.output
