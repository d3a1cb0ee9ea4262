"""Live tracking: a run, and a sweep with its trials, are in the MLflow store while they train (params at the
start, each epoch's metrics as it ends), checked from inside training; the run is completed, not duplicated, at
the end; experiments are MLflow machine-learning experiments; provenance is the git commit of the directory the
run was started in."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mlflow", reason="the tracking tests need the 'track' extra (bash scripts/test.sh installs it)")

from mlflow.tracking import MlflowClient  # noqa: E402

from backproplab import lab  # noqa: E402
from backproplab.experiments import parse_config  # noqa: E402
from backproplab.experiments.run import provenance  # noqa: E402
from backproplab.experiments.run.epoch_writer import EpochWriter  # noqa: E402
from backproplab.experiments.sweep import load_sweep, with_sweep_overrides  # noqa: E402
from backproplab.tracking import mlflow_backend  # noqa: E402
from backproplab.train import LambdaCallback  # noqa: E402

pytestmark = pytest.mark.slow
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sweep-spiral.toml"


def spiral(epochs: int = 4) -> Any:
    return parse_config(
        {
            "name": "spiral-live",
            "data": {"dataset": "spiral"},
            "model": {"hidden": [8], "activation": "relu"},
            "optimizer": {"lr": 0.5},
            "training": {"epochs": epochs, "batch_size": 30},
        }
    )


def wait_for(probe: Any, seconds: float = 60.0) -> Any:
    """``probe()`` until it returns something true (the live thread sends in the background), at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        found = probe()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def steps(client: MlflowClient, run_id: str, key: str) -> list[int]:
    return sorted(m.step for m in client.get_metric_history(run_id, key))


def test_a_run_is_in_the_store_while_it_trains(tmp_path: Path) -> None:
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    seen: dict[int, Any] = {}

    def look(state: Any, epoch: int, logs: dict[str, Any]) -> None:
        if epoch not in (1, 3):
            return

        def probe() -> Any:
            if not (tmp_path / "mlflow.db").exists():
                return None
            exp = client.get_experiment_by_name("spiral-live")
            runs = client.search_runs([exp.experiment_id]) if exp else []
            if not runs or steps(client, runs[0].info.run_id, "train_loss")[-1:] != [epoch]:
                return None
            return runs, steps(client, runs[0].info.run_id, "test_acc")

        seen[epoch] = wait_for(probe)

    result = lab.run(
        spiral(),
        runs_dir=tmp_path,
        report=False,
        tracker="mlflow",
        verbose=0,
        callbacks=[LambdaCallback(on_epoch_end=look)],
    )
    for epoch in (1, 3):
        assert seen[epoch], f"epoch {epoch}'s metrics were not in the store while the run trained"
        [run], logged = seen[epoch]
        assert run.info.status == "RUNNING" and run.data.tags["backproplab.status"] == "running"
        assert run.data.params["optimizer.lr"] == "0.5" and run.data.params["training.epochs"] == "4"
        assert logged == list(range(1, epoch + 1))

    exp = client.get_experiment_by_name("spiral-live")
    assert exp.tags["mlflow.experimentKind"] == "custom_model_development"  # MLflow opens on the runs table
    [run] = client.search_runs([exp.experiment_id])  # completed, not a second copy
    assert run.info.run_id == seen[1][0][0].info.run_id and run.info.status == "FINISHED"
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    for key, values in metrics["history"].items():
        assert [
            m.value for m in sorted(client.get_metric_history(run.info.run_id, key), key=lambda m: m.step)
        ] == values, key
    assert run.data.metrics["final_test_acc"] == result.summary["final"]["test_acc"]
    assert run.data.tags["backproplab.status"] == "ok"
    assert {a.path for a in client.list_artifacts(run.info.run_id)} == {
        p.name for p in result.run_dir.iterdir() if p.is_file()
    }


def test_a_sweep_and_its_trials_are_in_the_store_while_they_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    seen: list[Any] = []
    original = EpochWriter.on_epoch_end

    def recorded(self: EpochWriter, state: Any, epoch: int, logs: dict[str, Any]) -> None:
        original(self, state, epoch, logs)
        if epoch != 2 or self.run.path.name != "t001":
            return

        def probe() -> Any:
            exp = client.get_experiment_by_name("spiral-lr-width")
            runs = client.search_runs([exp.experiment_id]) if exp else []
            trial = [r for r in runs if r.data.tags.get("backproplab.trial") == "t001"]
            return runs if trial and steps(client, trial[0].info.run_id, "val_loss") == [1, 2] else None

        seen.extend(wait_for(probe) or [])

    monkeypatch.setattr(EpochWriter, "on_epoch_end", recorded)
    sweep = with_sweep_overrides(load_sweep(str(EXAMPLE)), "training.epochs=3", "selection.seeds=[0]")
    result = lab.sweep(sweep, runs_dir=tmp_path, executor="serial", report=False, tracker="mlflow", verbose=0)
    assert seen, "trial t001's epochs were not in the store while it trained"
    parent = next(r for r in seen if r.data.tags.get("backproplab.kind") == "sweep")
    assert parent.info.status == "RUNNING" and parent.data.params["selection.metric"] == "val_loss"
    by_trial = {r.data.tags.get("backproplab.trial"): r for r in seen if r.data.tags.get("backproplab.kind") == "trial"}
    assert by_trial["t000"].info.status == "FINISHED"  # the first trial was complete before the second ended
    assert by_trial["t001"].info.status == "RUNNING"
    assert all(r.data.tags["mlflow.parentRunId"] == parent.info.run_id for r in by_trial.values())

    runs = client.search_runs([parent.info.experiment_id])
    assert len(runs) == len(result.trials) + 2  # the parent, every trial and the retrain: nothing twice
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(children) == len(result.trials) + 1 and all(r.info.status == "FINISHED" for r in runs)
    for record in result.trials:
        child = next(r for r in children if r.data.tags.get("backproplab.trial") == record["trial"])
        assert child.data.metrics["selection"] == record["selection"]
        assert steps(client, child.info.run_id, "val_loss") == [1, 2, 3]


def test_provenance_is_the_git_commit_of_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    monkeypatch.chdir(outside)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # no repository above tmp_path counts
    env = provenance.environment()
    assert env["git_commit"] is None and env["backproplab"] == __import__("backproplab").__version__
    repo = tmp_path / "project"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "notes.txt").write_text("experiment notes\n")
    subprocess.run([*git, "add", "notes.txt"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "first"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    monkeypatch.chdir(repo)
    assert provenance.environment()["git_commit"] == head


def test_an_old_experiment_gets_its_kind(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    tracker = mlflow_backend.MlflowTracker(uri)
    exp_id = tracker.client.create_experiment("made-before")  # as backproplab made them before
    assert "mlflow.experimentKind" not in tracker.client.get_experiment(exp_id).tags
    assert mlflow_backend.MlflowTracker(uri).experiment_id("made-before") == exp_id
    assert tracker.client.get_experiment(exp_id).tags["mlflow.experimentKind"] == "custom_model_development"
