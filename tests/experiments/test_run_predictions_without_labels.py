"""Test-set predictions (`training.predict`, `--predict`: SPEC C's ``mnist_test_pred.npy``) and test sets given
without labels (an ``.npy`` directory with no test labels file): predicted, never scored, end to end through the
CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from backproplab.cli.main import main
from backproplab.data import load_dataset, load_raw
from backproplab.errors import ConfigError
from backproplab.experiments import parse_config, run_experiment
from backproplab.nn import load_model
from backproplab.report import write_run_report
from backproplab.rundir import RunDir
from backproplab.train import predict

pytestmark = pytest.mark.needs_data("fashion-mnist")


@pytest.fixture(scope="module")
def course_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The WPI/CMU layout with the test labels withheld: 600 training images with labels, 200 test images."""
    raw = load_raw("fashion-mnist")
    root = tmp_path_factory.mktemp("course")
    np.save(root / "fashion_mnist_train_images.npy", raw.train_X[:600])
    np.save(root / "fashion_mnist_train_labels.npy", raw.train_y[:600])
    np.save(root / "fashion_mnist_test_images.npy", raw.test_X[:200])
    return root


def _only_run(runs: Path) -> Path:
    dirs = [d for d in runs.iterdir() if d.is_dir()]
    assert len(dirs) == 1, dirs
    return dirs[0]


def test_loaders_give_a_test_split_without_labels(course_dir: Path) -> None:
    raw = load_raw("npy", root=course_dir)
    assert raw.test_y is None and raw.test_X.shape == (200, 784)
    test = load_dataset("npy", split="test", root=course_dir)
    train = load_dataset("npy", split="train", root=course_dir)
    assert test.y is None and not test.labeled and train.labeled and len(train.y) == 600
    np.testing.assert_allclose(test.X, raw.test_X / 255, rtol=1e-7, atol=0)
    assert test.take(50).y is None and len(test.subset(slice(10, 20))) == 10 and "no labels" in repr(test)


def test_predictions_are_those_of_the_final_model_on_the_test_set(tmp_path: Path) -> None:
    config = parse_config(
        {
            "name": "pred",
            "data": {"dataset": "fashion-mnist", "limit_train": 500, "limit_test": 300},
            "model": {"hidden": [16]},
            "optimizer": {"lr": 0.5},
            "training": {"epochs": 2, "batch_size": 20, "predict": True},
        }
    )
    result = run_experiment(config, runs_dir=tmp_path, verbose=0)
    run = RunDir(result.run_dir)
    pred = run.read_predictions()
    test = load_dataset("fashion-mnist", split="test", limit=300)
    expected = predict(load_model(run.model_path), test.X)
    assert pred.dtype == np.int64 and pred.shape == (300,)
    np.testing.assert_array_equal(pred, expected)
    assert float(np.mean(pred == test.y)) == pytest.approx(result.summary["final"]["test_acc"])
    # the confusion matrix counts the same predictions (its columns are the predicted classes)
    np.testing.assert_array_equal(np.asarray(run.read_confusion()["test"]).sum(axis=0), np.bincount(pred, minlength=10))
    assert result.summary["predictions"] == "test_pred.npy" and result.summary["data"]["unlabeled"] == []


def test_a_test_set_without_labels_end_to_end_through_the_cli(course_dir: Path, tmp_path: Path) -> None:
    args = [
        "train",
        "--dataset",
        "npy",
        "--data-root",
        str(course_dir),
        "--hidden",
        "16",
        "--epochs",
        "2",
        "--batch-size",
        "20",
        "--lr",
        "0.5",
        "--shuffle",
        "--predict",
        "--runs-dir",
        str(tmp_path),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "test 200 without labels" in result.output and "Test Loss" not in result.output
    run = _only_run(tmp_path)
    assert f"Test predictions (the predicted class of each test row): {run / 'test_pred.npy'}" in result.output
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "complete" and set(summary["final"]) == {"train_loss", "train_acc"}
    assert summary["data"]["unlabeled"] == ["test"] and summary["data"]["sizes"] == {"train": 600, "test": 200}
    metrics = json.loads((run / "metrics.json").read_text())
    assert not any(k.startswith("test_") for k in metrics["history"])  # training.eval = ["test"] skipped it
    assert "test" not in json.loads((run / "confusion.json").read_text())
    assert not (run / "misclassified.npz").exists() and not (run / "confusion_test.png").exists()
    test = load_dataset("npy", split="test", root=course_dir)  # the 200 test images, scaled as for training
    expected = predict(load_model(run / "model.npz"), test.X)
    np.testing.assert_array_equal(np.load(run / "test_pred.npy"), expected)
    html = (run / "report.html").read_text()
    assert "without labels" in html and "test_pred.npy" in html
    assert (run / "weights.png").is_file()  # image tiles from the image shape the summary records


def test_run_predict_on_a_preset_file(course_dir: Path, tmp_path: Path) -> None:
    preset = tmp_path / "course.toml"
    preset.write_text(
        'name = "course"\ndescription = "unlabelled test set"\n'
        f'[data]\ndataset = "npy"\nroot = "{course_dir}"\n'
        "[model]\nhidden = [8]\n[training]\nepochs = 1\nbatch_size = 50\n"
    )
    runs = tmp_path / "runs"
    result = CliRunner().invoke(main, ["run", str(preset), "--predict", "--runs-dir", str(runs), "-q"])
    assert result.exit_code == 0, result.output
    run = _only_run(runs)
    assert np.load(run / "test_pred.npy").shape == (200,)
    again = CliRunner().invoke(main, ["run", str(preset), "--runs-dir", str(tmp_path / "other"), "-q"])
    assert again.exit_code == 0 and not (_only_run(tmp_path / "other") / "test_pred.npy").exists()


def test_early_stopping_cannot_watch_a_split_without_labels(course_dir: Path, tmp_path: Path) -> None:
    config = parse_config(
        {
            "data": {"dataset": "npy", "root": str(course_dir)},
            "model": {"hidden": [8]},
            "training": {"epochs": 2, "early_stopping": {"monitor": "test_loss"}},
        }
    )
    with pytest.raises(ConfigError, match="monitor = 'test_loss', but the test split has no labels"):
        run_experiment(config, runs_dir=tmp_path, verbose=0)
    assert list(tmp_path.iterdir()) == []  # refused before a run directory was made


def test_reading_predictions_of_a_run_without_them(tmp_path: Path) -> None:
    from backproplab.rundir import RunDirError

    with pytest.raises(RunDirError, match="no test_pred.npy .*--predict"):
        RunDir(tmp_path).read_predictions()


def test_report_of_a_run_without_labels_is_rebuilt_from_its_directory(course_dir: Path, tmp_path: Path) -> None:
    config = parse_config(
        {
            "name": "rebuild",
            "data": {"dataset": "npy", "root": str(course_dir)},
            "model": {"hidden": [8]},
            "training": {"epochs": 1, "batch_size": 50, "predict": True},
        }
    )
    result: Any = run_experiment(config, runs_dir=tmp_path, verbose=0)
    html = write_run_report(result.run_dir).read_text()
    assert "test (predicted, not scored)" in html


def test_fit_says_a_set_without_labels_cannot_be_scored(course_dir: Path) -> None:
    import backproplab as bp

    train = load_dataset("npy", split="train", root=course_dir, limit=50)
    test = load_dataset("npy", split="test", root=course_dir)
    model = bp.nn.mlp([784, 8, 10], "sigmoid", seed=0)
    with pytest.raises(ValueError, match="eval set 'test' has no labels, so it cannot be scored; predict it"):
        bp.fit(
            model,
            bp.nn.SoftmaxCrossEntropy(),
            bp.optim.SGD(model.parameters(), lr=0.1),
            train,
            epochs=1,
            eval_sets={"test": test},
            verbose=0,
        )
    with pytest.raises(ValueError, match="fit needs training features and labels"):
        bp.fit(model, bp.nn.SoftmaxCrossEntropy(), bp.optim.SGD(model.parameters(), lr=0.1), test, epochs=1, verbose=0)
    assert predict(model, test).shape == (200,)  # a Dataset without labels predicts as X alone would
