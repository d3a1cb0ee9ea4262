"""The lab pipeline (run -> report -> track) through the CLI: an interrupt (SIGTERM, Ctrl-C) stops at a step
boundary, marks the run interrupted, still writes its report and tracking, prints the resume command and exits
with 128 + the signal; `resume`, `run --resume` and `train --resume` continue it to the uninterrupted result."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from backproplab import lab
from backproplab.cli.main import main
from backproplab.experiments import parse_config
from backproplab.experiments.run.epoch_writer import EpochWriter
from backproplab.rundir import RunDir
from timings import without_timings

pytestmark = pytest.mark.needs_data("fashion-mnist")

ARGS = [
    "train",
    "--dataset",
    "fashion-mnist",
    "--limit-train",
    "400",
    "--limit-test",
    "100",
    "--hidden",
    "16",
    "--epochs",
    "3",
    "--batch-size",
    "8",
    "--shuffle",
    "--dropout",
    "0.1",
    "--engine",
    "numpy",
    "--no-report",
]


def _signal_after_epoch(monkeypatch: pytest.MonkeyPatch, epoch: int, sig: int) -> None:
    """Send ``sig`` to this process at the end of ``epoch`` (as a user or supervisor would, mid-run)."""
    real = EpochWriter.on_epoch_end

    def on_epoch_end(self: EpochWriter, state: Any, e: int, logs: dict[str, Any]) -> None:
        real(self, state, e, logs)
        if e == epoch:
            os.kill(os.getpid(), sig)

    monkeypatch.setattr(EpochWriter, "on_epoch_end", on_epoch_end)


def _weights(run_dir: Path) -> list[np.ndarray]:
    return [p.value for p in RunDir(run_dir).read_model().parameters()]


def _records(run_dir: Path) -> list[dict[str, Any]]:
    return without_timings(RunDir(run_dir).read_history().records)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    runs = tmp_path_factory.mktemp("reference")
    result = CliRunner().invoke(main, [*ARGS, "--runs-dir", str(runs), "--tracker", "none"])
    assert result.exit_code == 0, result.output
    [run_dir] = list(runs.iterdir())
    return run_dir


@pytest.mark.parametrize(("sig", "command"), [(signal.SIGTERM, "resume"), (signal.SIGINT, "train --resume")])
def test_an_interrupted_run_is_reported_tracked_and_resumed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reference: Path, sig: int, command: str
) -> None:
    tracker = "mlflow" if sig == signal.SIGTERM else "none"  # MLflow once: it costs seconds per run
    runs = tmp_path / "runs"
    with monkeypatch.context() as m:
        _signal_after_epoch(m, 1, sig)
        result = CliRunner().invoke(main, [*ARGS[:-1], "--runs-dir", str(runs), "--tracker", tracker])
    assert result.exit_code == 128 + sig, result.output
    [run_dir] = [p for p in runs.iterdir() if p.is_dir() and not p.name.startswith("ml")]
    summary = RunDir(run_dir).read_summary()
    assert summary["status"] == "interrupted" and summary["stopped_by"] == signal.Signals(sig).name
    assert summary["epochs_run"] == 1 and summary["resume"] == {
        "file": "checkpoint.npz",
        "epoch": 2,
        "step": 0,
        "completed_epochs": 1,
    }
    assert f"{signal.Signals(sig).name}: stopping at the next step boundary" in result.output
    assert f"Resume with: backproplab resume {run_dir}" in result.output
    assert "Interrupted after 1 complete epoch(s)" in (run_dir / "report.html").read_text()
    if tracker == "mlflow":
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=f"sqlite:///{(runs / 'mlflow.db').resolve()}")
        [exp] = [e for e in client.search_experiments() if e.name == "run"]
        [logged] = client.search_runs([exp.experiment_id])
        assert logged.info.status == "KILLED" and logged.data.tags["backproplab.status"] == "interrupted"

    resume = (["resume", str(run_dir)] if command == "resume" else ["train", "--resume", str(run_dir)]) + [
        "--tracker",
        tracker,
    ]
    done = CliRunner().invoke(main, resume)
    assert done.exit_code == 0, done.output
    assert RunDir(run_dir).read_summary()["status"] == "complete" and not RunDir(run_dir).has(RunDir.CHECKPOINT)
    assert _records(run_dir) == _records(reference)
    for a, b in zip(_weights(run_dir), _weights(reference), strict=True):
        assert np.array_equal(a, b)
    assert RunDir(run_dir).read_summary()["final"] == RunDir(reference).read_summary()["final"]
    if tracker == "mlflow":
        [logged] = client.search_runs([exp.experiment_id])  # the interrupted copy was replaced, not kept beside
        assert logged.info.status == "FINISHED" and logged.data.tags["backproplab.epochs_run"] == "3"


def test_resume_refuses_what_it_cannot_continue(tmp_path: Path, reference: Path) -> None:
    cli = CliRunner()
    done = cli.invoke(main, ["resume", str(reference)])
    assert done.exit_code == 1 and "the run already ended (complete); there is nothing to resume" in done.output
    other = cli.invoke(main, [*ARGS[:-1], "--lr", "0.5", "--resume", str(reference)])
    assert other.exit_code == 2  # a configuration that does not match the run: invalid input, nothing ran
    assert "holds a run of another configuration" in other.output and "optimizer.lr: 0.01 -> 0.5" in other.output
    (tmp_path / "empty").mkdir()
    nothing = cli.invoke(main, ["resume", str(tmp_path / "empty")])
    assert nothing.exit_code == 1 and "neither a run directory" in nothing.output


def test_a_killed_run_without_summary_is_reported_as_unfinished_and_resumed(tmp_path: Path, reference: Path) -> None:
    run_dir = tmp_path / "killed"
    run_dir.mkdir()
    (run_dir / RunDir.CONFIG).write_text((reference / RunDir.CONFIG).read_text())  # killed before its 1st epoch
    report = CliRunner().invoke(main, ["report", str(run_dir)])
    assert report.exit_code == 1 and f"resume it with `backproplab resume {run_dir}`" in report.output
    result = lab.resume(run_dir, report=False, tracker="none", verbose=0)
    assert result.status == "complete" and result.summary["sessions"] == 1
    assert _records(run_dir) == _records(reference)


def test_the_python_api_returns_an_interrupted_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = parse_config(
        {
            "data": {"dataset": "spiral"},
            "model": {"hidden": [8]},
            "training": {"epochs": 4, "batch_size": 30, "checkpoint_every": 0},
        }
    )
    _signal_after_epoch(monkeypatch, 2, signal.SIGTERM)
    said: list[str] = []
    result = lab.run(config, runs_dir=tmp_path, report=False, tracker="none", say=said.append)
    assert result.status == "interrupted" and lab.stopped_by(result) == signal.SIGTERM
    assert len(result.history) == 2 and result.history.interrupted
    assert lab.describe_end(result) == (
        f"Interrupted; the run is checkpointed. Resume with: backproplab resume {result.run_dir}"
    )
    assert json.loads((result.run_dir / RunDir.METRICS_JSON).read_text())["interrupted"] is True
    # checkpoint_every = 0: no checkpoint after epochs, one at the stop
    assert RunDir(result.run_dir).read_checkpoint().epoch == 3
