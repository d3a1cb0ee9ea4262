"""The shipped presets: valid, faithful to SPEC.md, and runnable end to end (their --quick variants)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from backproplab.cli.main import main
from backproplab.experiments import apply_quick, load_preset, preset_names


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_validates_and_has_a_quick_variant(name: str) -> None:
    config = load_preset(name)
    assert config.name == name and config.description
    quick = apply_quick(config)
    assert quick.training.epochs <= config.training.epochs and quick.quick == {}


def test_flagship_preset_is_spec_a() -> None:
    c = load_preset("fashion-sgd")
    assert (c.data.dataset, c.model.hidden, c.model.activation, c.model.init) == (
        "fashion-mnist", [256], "sigmoid", "glorot_uniform")
    assert (c.optimizer.name, c.optimizer.lr, c.training.batch_size, c.training.epochs, c.training.shuffle) == (
        "sgd", 0.01, 1, 15, False)
    published = {(p.epoch, p.metric): p.value for p in c.published}
    assert published[(15, "test_acc")] == 0.8804 and published[(15, "test_loss")] == 0.3453


def test_mnist_elu_preset_is_spec_c() -> None:
    c = load_preset("mnist-elu")
    assert (c.data.dataset, c.data.validation_size, c.model.hidden, c.model.activation, c.model.elu_alpha) == (
        "mnist", 10000, [256, 64], "elu", 0.9)
    assert (c.optimizer.lr, c.training.batch_size, c.training.epochs) == (0.1, 32, 20)


@pytest.mark.slow
def test_flagship_quick_run_end_to_end(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["run", "fashion-sgd", "--quick", "--runs-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Epoch 1/2, Train Loss:" in result.output and "Published vs this run:" in result.output
    run = next(tmp_path.iterdir())
    summary = json.loads((run / "summary.json").read_text())
    # 2 epochs of batch-1 SGD on the first 2000 training images: measured 74.2% on the first 1000 test images.
    assert summary["final"]["test_acc"] > 0.70
    assert summary["engine"] == "fast" and "Final (fast engine" in result.output  # batch-1 SGD: compiled
    assert summary["data"]["sizes"] == {"train": 2000, "test": 1000}
    assert summary["data"]["checksum"] and len(summary["data"]["checksum"]) == 64
    row = next(r for r in summary["published"] if r["epoch"] == 1 and r["metric"] == "test_acc")
    assert row["published"] == 0.8315 and row["this_run"] == pytest.approx(summary["final"]["test_acc"], abs=0.1)


@pytest.mark.slow
def test_mnist_elu_quick_run_uses_a_validation_split(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["run", "mnist-elu", "--quick", "--runs-dir", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    run = next(tmp_path.iterdir())
    summary = json.loads((run / "summary.json").read_text())
    assert summary["data"]["sizes"] == {"train": 5000, "validation": 10000, "test": 2000}
    assert summary["engine"] == "fast"  # batch size 32 SGD on MNIST (mostly 0 pixels): the compiled mini-batch kernel
    metrics = json.loads((run / "metrics.json").read_text())
    assert {"val_loss", "val_acc", "test_loss", "test_acc"} <= set(metrics["history"])
    # 2 epochs on 5000 images (lr 0.1, batch 32): measured 89.1% on the 10,000 validation images.
    assert summary["final"]["val_acc"] > 0.85
