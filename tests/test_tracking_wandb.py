"""W&B tracking, offline: only when the optional `wandb` extra is installed (MLflow is the tested default)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backproplab.experiments import parse_config, run_experiment
from backproplab.experiments.tracking import log_run_dir, make_tracker

wandb = pytest.importorskip("wandb", reason="the optional 'wandb' extra is not installed")


@pytest.mark.slow
def test_wandb_logs_a_run_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("WANDB_MODE", "WANDB_API_KEY", "WANDB_DIR", "WANDB_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("WANDB_SILENT", "true")
    config = parse_config({"name": "spiral-wandb", "data": {"dataset": "spiral"},
                           "model": {"hidden": [8], "activation": "relu"}, "optimizer": {"lr": 0.5},
                           "training": {"epochs": 3, "batch_size": 30}})
    run_dir = run_experiment(config, runs_dir=tmp_path, verbose=0).run_dir
    run_id = log_run_dir(make_tracker("wandb", runs_dir=tmp_path), run_dir)

    [offline] = list((tmp_path / "wandb").glob(f"offline-run-*-{run_id}"))
    assert list(offline.glob(f"run-{run_id}.wandb"))
    logged = json.loads((offline / "files" / "wandb-summary.json").read_text())
    summary = json.loads((run_dir / "summary.json").read_text())
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert logged["final_test_acc"] == summary["final"]["test_acc"]
    assert logged["train_loss"] == metrics["epochs"][-1]["train_loss"]
    assert logged["_step"] == 3
    assert logged["backproplab.status"] == "ok"
