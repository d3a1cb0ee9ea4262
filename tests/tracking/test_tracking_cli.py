"""Tracking from the command line: --tracker / --tracking-uri on `run` and `train`, `track`, `ui`."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from backproplab.cli.main import main

SPIRAL = [
    "train",
    "--dataset",
    "spiral",
    "--hidden",
    "8",
    "--activation",
    "relu",
    "--lr",
    "0.5",
    "--batch-size",
    "30",
    "--epochs",
    "2",
]


def run_dirs(runs: Path) -> list[Path]:
    return sorted(p for p in runs.iterdir() if (p / "summary.json").is_file())


@pytest.mark.needs_data("fashion-mnist")
@pytest.mark.slow
def test_run_preset_with_mlflow_fills_the_default_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("mlflow", reason="needs the 'track' extra (bash scripts/test.sh installs it)")
    from mlflow.tracking import MlflowClient

    runs, cwd = tmp_path / "runs", tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("BACKPROPLAB_RUNS", str(runs))
    result = CliRunner().invoke(main, ["run", "fashion-sgd", "--quick", "--tracker", "mlflow"])
    assert result.exit_code == 0, result.output
    assert f"Tracked in MLflow store sqlite:///{(runs / 'mlflow.db').resolve()}" in result.output
    [run_dir] = run_dirs(runs)
    assert (runs / "mlflow.db").is_file() and (runs / "mlartifacts").is_dir()
    assert list(cwd.iterdir()) == []  # no ./mlruns or other droppings where the command ran

    client = MlflowClient(tracking_uri=f"sqlite:///{(runs / 'mlflow.db').resolve()}")
    exp = client.get_experiment_by_name("fashion-sgd")
    [run] = client.search_runs([exp.experiment_id])
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert len(metrics["epochs"]) == 2
    logged = sorted((m.step, m.value) for m in client.get_metric_history(run.info.run_id, "test_acc"))
    assert logged == [(e["epoch"], e["test_acc"]) for e in metrics["epochs"]]
    assert run.data.tags["backproplab.preset"] == "fashion-sgd"
    assert run.data.params["training.epochs"] == "2" and run.data.params["data.limit_train"] == "2000"
    assert "report.html" in {a.path for a in client.list_artifacts(run.info.run_id)}

    # `backproplab track` on a logged run finds it instead of adding a copy
    again = CliRunner().invoke(main, ["track", str(run_dir), "--tracker", "mlflow"])
    assert again.exit_code == 0, again.output
    assert run.info.run_id in again.output
    assert len(client.search_runs([exp.experiment_id])) == 1


def test_tracker_none_writes_no_store(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [*SPIRAL, "--runs-dir", str(tmp_path), "--tracker", "none", "--no-report"])
    assert result.exit_code == 0, result.output
    assert len(run_dirs(tmp_path)) == 1
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "mlartifacts").exists()
    assert "Tracked" not in result.output


def test_tracking_failure_warns_and_keeps_the_run(tmp_path: Path) -> None:
    pytest.importorskip("mlflow", reason="needs the 'track' extra (bash scripts/test.sh installs it)")
    result = CliRunner().invoke(
        main,
        [
            *SPIRAL,
            "--runs-dir",
            str(tmp_path),
            "--no-report",
            "--tracker",
            "mlflow",
            "--tracking-uri",
            "bogus-scheme://nowhere",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "warning: tracking with mlflow failed" in result.output
    [run_dir] = run_dirs(tmp_path)
    assert f"backproplab track {run_dir}" in result.output
    assert json.loads((run_dir / "summary.json").read_text())["epochs_run"] == 2


def test_bad_tracker_name_names_the_choices(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [*SPIRAL, "--runs-dir", str(tmp_path), "--tracker", "mlfow"])
    assert result.exit_code == 2
    assert "Invalid value for '--tracker'" in result.output and "'mlfow' is not one of" in result.output
    assert "'mlflow'" in result.output and "'wandb'" in result.output
    assert not any(tmp_path.iterdir())  # rejected before training


def test_default_tracker_follows_what_is_installed() -> None:
    from backproplab.tracking import default_tracker_kind

    kind, note = default_tracker_kind()
    if importlib.util.find_spec("mlflow") is None:
        assert kind == "none" and "pip install 'backproplab[track]'" in note
    else:
        assert (kind, note) == ("mlflow", None)


def test_track_rejects_a_directory_that_is_not_a_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["track", str(tmp_path)])
    assert result.exit_code == 1
    assert "not a finished run or sweep directory (expected summary.json or sweep_summary.json" in result.output


def test_ui_explains_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "flask" else real(name))
    result = CliRunner().invoke(main, ["ui", "--runs-dir", str(tmp_path)])
    assert result.exit_code == 1 and "pip install 'backproplab[ui]'" in result.output

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())
    result = CliRunner().invoke(main, ["ui", "--runs-dir", str(tmp_path)])
    assert result.exit_code == 1 and f"no MLflow store at {(tmp_path / 'mlflow.db').resolve()}" in result.output
    old = CliRunner().invoke(main, ["ui", "--store", str(tmp_path / "other.db")])  # the old spelling still works
    assert old.exit_code == 1 and f"no MLflow store at {(tmp_path / 'other.db').resolve()}" in old.output
    assert "note: --store is replaced by --runs-dir" in old.stderr


@pytest.mark.slow
def test_sweep_command_logs_parent_and_trials(tmp_path: Path) -> None:
    pytest.importorskip("mlflow", reason="needs the 'track' extra (bash scripts/test.sh installs it)")
    from mlflow.tracking import MlflowClient

    example = Path(__file__).resolve().parents[2] / "examples" / "sweep-spiral.toml"
    result = CliRunner().invoke(
        main,
        [
            "sweep",
            str(example),
            "--quick",
            "--executor",
            "serial",
            "--runs-dir",
            str(tmp_path),
            "--tracker",
            "mlflow",
            "--no-report",
        ],
    )
    assert result.exit_code == 0, result.output
    sweep_dir = tmp_path / "spiral-lr-width-sweep"
    trials = json.loads((sweep_dir / "trials.json").read_text())
    client = MlflowClient(tracking_uri=f"sqlite:///{(tmp_path / 'mlflow.db').resolve()}")
    exp = client.get_experiment_by_name("spiral-lr-width")
    runs = client.search_runs([exp.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1
    assert all(r.data.tags["mlflow.parentRunId"] == parents[0].info.run_id for r in children)
    assert len(children) == len(trials) + 1  # every trial and the retrained best
