"""MLflow tracking: real runs logged to a real SQLite store, read back with MlflowClient and compared with the
run directory (config.toml, metrics.json, summary.json) value for value."""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mlflow", reason="the tracking tests need the 'track' extra (bash scripts/test.sh installs it)")

from mlflow.tracking import MlflowClient  # noqa: E402

import backproplab  # noqa: E402
from backproplab.errors import ConfigError  # noqa: E402
from backproplab.experiments import parse_config, run_experiment  # noqa: E402
from backproplab.report import write_run_report  # noqa: E402
from backproplab.tracking import log_run_dir, make_tracker  # noqa: E402
from backproplab.tracking import mlflow_backend as backend  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.needs_data("fashion-mnist")]


def tiny_fashion(name: str = "fashion-tiny", **overrides: Any) -> Any:
    data: dict[str, Any] = {
        "name": name,
        "description": "tracking test run",
        "data": {"dataset": "fashion-mnist", "limit_train": 500, "limit_test": 200},
        "model": {"hidden": [16], "activation": "relu"},
        "optimizer": {"lr": 0.05},
        "training": {"epochs": 3, "batch_size": 50, "shuffle": True, "seed": 3},
    }
    for section, values in overrides.items():
        data.setdefault(section, {}).update(values)
    return parse_config(data)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="module")
def run_dir(runs: Path) -> Path:
    result = run_experiment(tiny_fashion(), runs_dir=runs, verbose=0)
    write_run_report(result.run_dir)
    return result.run_dir


@pytest.fixture(scope="module")
def tracker(runs: Path) -> Any:
    return make_tracker("mlflow", runs_dir=runs)


def leaves(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted key -> value of every non-table entry (independent of the tracker's own flattening)."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out |= leaves(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out


def history(client: MlflowClient, run_id: str, key: str) -> list[tuple[int, float]]:
    return sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))


def test_run_logged_with_config_metrics_tags_and_artifacts(run_dir: Path, runs: Path, tracker: Any) -> None:
    run_id = log_run_dir(tracker, run_dir)
    assert (runs / "mlflow.db").is_file() and (runs / "mlartifacts").is_dir()
    client = MlflowClient(tracking_uri=f"sqlite:///{runs / 'mlflow.db'}")
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert client.get_experiment(run.info.experiment_id).name == "fashion-tiny"

    # params: every key of the resolved config, with its value
    config = tomllib.loads((run_dir / "config.toml").read_text())
    expected = leaves(config)
    params = run.data.params
    assert set(params) == set(expected)
    for key, value in expected.items():
        assert (params[key] if isinstance(value, str) else json.loads(params[key])) == value, key
    assert float(params["optimizer.lr"]) == 0.05 and params["model.hidden"] == "[16]"
    assert params["training.shuffle"] == "true" and params["data.limit_train"] == "500"

    # per-epoch metrics: exactly metrics.json, step = epoch
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert len(metrics["epochs"]) == 3
    assert {"train_loss", "train_acc", "test_loss", "test_acc", "lr", "seconds"} <= set(metrics["history"])
    for key in metrics["history"]:
        assert history(client, run_id, key) == [(e["epoch"], e[key]) for e in metrics["epochs"]], key
    summary = json.loads((run_dir / "summary.json").read_text())
    for key, value in summary["final"].items():
        assert run.data.metrics[f"final_{key}"] == value
    assert run.data.metrics["epochs_run"] == 3

    # tags: provenance from summary.json
    tags = run.data.tags
    assert tags["backproplab.preset"] == "fashion-tiny"
    assert tags["backproplab.engine"] == summary["engine"]
    assert tags["backproplab.status"] == "ok"
    assert tags["backproplab.version"] == backproplab.__version__
    assert tags["backproplab.dataset"] == "fashion-mnist"
    assert len(summary["data"]["checksum"]) == 64
    assert tags["backproplab.dataset_checksum"] == summary["data"]["checksum"]
    assert tags["git_commit"] == (summary["environment"]["git_commit"] or "none (not started in a git repository)")
    assert tags["mlflow.runName"] == run_dir.name
    assert tags["mlflow.note.content"] == "tracking test run"

    # artifacts: every file of the run directory, byte for byte
    names = {a.path for a in client.list_artifacts(run_id)}
    assert names == {p.name for p in run_dir.iterdir() if p.is_file()}
    assert {
        "report.html",
        "model.npz",
        "loss.png",
        "accuracy.png",
        "metrics.json",
        "metrics.csv",
        "summary.json",
        "config.toml",
    } <= names
    local = client.download_artifacts(run_id, "model.npz", str(runs / "download"))
    assert Path(local).read_bytes() == (run_dir / "model.npz").read_bytes()
    assert Path(run.info.artifact_uri.removeprefix("file://")).is_relative_to(runs / "mlartifacts")


def test_logging_the_same_run_again_returns_the_first_copy(run_dir: Path, tracker: Any) -> None:
    first = log_run_dir(tracker, run_dir)
    again = log_run_dir(tracker, run_dir)
    assert first == again
    exp = tracker.client.get_experiment_by_name("fashion-tiny")
    assert len(tracker.client.search_runs([exp.experiment_id])) == 1


@pytest.mark.needs_data("fashion-mnist")
def test_metrics_go_in_batches_and_chunks_keep_every_value(
    runs: Path, tracker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = run_experiment(tiny_fashion("fashion-chunks", training={"epochs": 2}), runs_dir=runs, verbose=0).run_dir
    calls: list[int] = []
    original = tracker.client.log_batch

    def spy(run_id: str, metrics: Any = (), params: Any = (), tags: Any = ()) -> Any:
        if metrics:
            calls.append(len(metrics))
        return original(run_id, metrics=metrics, params=params, tags=tags)

    monkeypatch.setattr(tracker.client, "log_batch", spy)
    monkeypatch.setattr(backend, "MAX_METRICS", 7)
    run_id = log_run_dir(tracker, run_dir)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    per_epoch = sum(
        len([k for k, v in e.items() if k != "epoch" and isinstance(v, int | float)]) for e in metrics["epochs"]
    )
    total = per_epoch + len(tracker.client.get_run(run_id).data.metrics) - len(metrics["history"])
    assert calls and max(calls) <= 7 and sum(calls) == total and len(calls) == math.ceil(total / 7)
    for key, values in metrics["history"].items():
        assert [v for _, v in history(tracker.client, run_id, key)] == values, key


@pytest.mark.needs_data("fashion-mnist")
def test_diverged_run_is_tagged_and_its_nan_metrics_survive(runs: Path, tracker: Any) -> None:
    config = tiny_fashion("fashion-diverge", optimizer={"lr": 10000.0}, training={"epochs": 3, "batch_size": 10})
    run_dir = run_experiment(config, runs_dir=runs, verbose=0).run_dir
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["diverged"] is True
    run = tracker.client.get_run(log_run_dir(tracker, run_dir))
    assert run.data.tags["backproplab.status"] == "diverged"
    assert "diverged" in run.data.tags["backproplab.stop_reason"]
    logged = history(tracker.client, run.info.run_id, "train_loss")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert len(logged) == len(metrics["epochs"]) == 1
    assert all(
        math.isnan(v) == math.isnan(e["train_loss"]) for (_, v), e in zip(logged, metrics["epochs"], strict=True)
    )


def test_bad_tracker_name_is_rejected() -> None:
    with pytest.raises(ConfigError, match=r"tracker: expected one of 'none', 'mlflow', 'wandb'; got 'mlfow'"):
        make_tracker("mlfow")


def spiral(name: str, lr: float, epochs: int = 2) -> Any:
    return parse_config(
        {
            "name": name,
            "data": {"dataset": "spiral"},
            "model": {"hidden": [8], "activation": "relu"},
            "optimizer": {"lr": lr},
            "training": {"epochs": epochs, "batch_size": 30},
        }
    )


def build_sweep_dir(root: Path) -> Path:
    """A sweep directory as run_sweep writes it (see the sweep contract), from real tiny spiral runs."""
    sweep = root / "spiral-lr-sweep"
    (sweep / "trials").mkdir(parents=True)
    (sweep / "sweep.toml").write_text('kind = "sweep"\nname = "spiral-lr"\n')
    trials = []
    for i, lr in enumerate([0.1, 0.5]):
        result = run_experiment(spiral("spiral-lr", lr), runs_dir=root / "scratch", verbose=0)
        result.run_dir.rename(sweep / "trials" / f"t{i:03d}")
        trials.append(
            {
                "trial": f"t{i:03d}",
                "index": i,
                "params": {"optimizer.lr": lr},
                "seed": 0,
                "status": "ok",
                "error": None,
                "run_dir": f"trials/t{i:03d}",
                "final": result.summary["final"],
                "selection": result.summary["final"]["test_loss"],
                "epochs_run": 2,
                "seconds": 0.1,
            }
        )
    trials.append(
        {
            "trial": "t002",
            "index": 2,
            "params": {"optimizer.lr": 5.0},
            "seed": 0,
            "status": "error",
            "error": "RuntimeError: worker died",
            "run_dir": "trials/t002",
            "final": {},
            "selection": None,
            "epochs_run": 0,
            "seconds": 0.0,
        }
    )
    best = min(trials[:2], key=lambda t: t["selection"])
    retrain = run_experiment(
        spiral("spiral-lr", best["params"]["optimizer.lr"], epochs=3), runs_dir=root / "scratch", verbose=0
    )
    retrain.run_dir.rename(sweep / "retrain")
    (sweep / "trials.json").write_text(json.dumps(trials))
    (sweep / "sweep_summary.json").write_text(
        json.dumps(
            {
                "kind": "sweep",
                "name": "spiral-lr",
                "description": "learning-rate sweep on the spiral",
                "selection": {"metric": "test_loss", "mode": "min"},
                "space": {"optimizer.lr": [0.1, 0.5, 5.0]},
                "executor": "process",
                "best": best["trial"],
                "best_params": best["params"],
                "retrain": "retrain",
                "final": retrain.summary["final"],
                "published": [],
                "trials": {"ok": 2, "diverged": 0, "error": 1},
            }
        )
    )
    return sweep


def test_sweep_logged_as_parent_with_nested_trials_and_retrain(runs: Path, tracker: Any) -> None:
    from backproplab.tracking import log_sweep_dir

    sweep = build_sweep_dir(runs / "sweeps")
    parent_id = log_sweep_dir(tracker, sweep)
    client = tracker.client
    parent = client.get_run(parent_id)
    assert client.get_experiment(parent.info.experiment_id).name == "spiral-lr"
    assert parent.data.tags["backproplab.kind"] == "sweep"
    assert parent.data.params["space.optimizer.lr"] == "[0.1, 0.5, 5.0]"
    assert parent.data.params["selection.metric"] == "test_loss"
    summary = json.loads((sweep / "sweep_summary.json").read_text())
    assert parent.data.params["best.optimizer.lr"] == str(summary["best_params"]["optimizer.lr"])
    assert parent.data.metrics["final_test_acc"] == summary["final"]["test_acc"]
    assert parent.data.metrics["trials_error"] == 1
    assert {a.path for a in client.list_artifacts(parent_id)} == {"sweep.toml", "trials.json", "sweep_summary.json"}

    children = client.search_runs(
        [parent.info.experiment_id], filter_string=f"tags.`mlflow.parentRunId` = '{parent_id}'"
    )
    by_kind: dict[str, list[Any]] = {}
    for child in children:
        by_kind.setdefault(child.data.tags["backproplab.kind"], []).append(child)
    assert sorted(len(v) for v in by_kind.values()) == [1, 3] and len(by_kind["retrain"]) == 1
    trials = {c.data.tags["backproplab.trial"]: c for c in by_kind["trial"]}
    assert sorted(trials) == ["t000", "t001", "t002"]
    for trial_id in ("t000", "t001"):
        child = trials[trial_id]
        metrics = json.loads((sweep / "trials" / trial_id / "metrics.json").read_text())
        assert child.info.status == "FINISHED"
        assert history(client, child.info.run_id, "train_loss") == [
            (e["epoch"], e["train_loss"]) for e in metrics["epochs"]
        ]
        assert child.data.params["optimizer.lr"] == ("0.1" if trial_id == "t000" else "0.5")
        assert child.data.metrics["selection"] == metrics["history"]["test_loss"][-1]
        assert "report.html" not in {a.path for a in client.list_artifacts(child.info.run_id)}
        assert {"model.npz", "metrics.json"} <= {a.path for a in client.list_artifacts(child.info.run_id)}
    failed = trials["t002"]
    assert failed.info.status == "FAILED" and failed.data.tags["backproplab.error"] == "RuntimeError: worker died"
    assert failed.data.params == {"optimizer.lr": "5.0"}
    retrain = by_kind["retrain"][0]
    assert retrain.data.metrics["final_test_loss"] == summary["final"]["test_loss"]
    assert len(history(client, retrain.info.run_id, "test_loss")) == 3

    # logging the sweep again (e.g. after a resumed run) adds nothing
    assert log_sweep_dir(tracker, sweep) == parent_id
    assert len(client.search_runs([parent.info.experiment_id])) == 5
