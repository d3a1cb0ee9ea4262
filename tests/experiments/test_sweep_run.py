"""Running sweeps: trial records, resume, failed and diverged trials, retrain, the directory contract, the CLI."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from backproplab.cli.main import main
from backproplab.experiments import run_experiment
from backproplab.experiments.config import load_config
from backproplab.experiments.sweep import (
    SweepDirError,
    expand_trials,
    parse_sweep,
    retrain_config,
    run_sweep,
)
from backproplab.rundir import RunDirError

SPIRAL = {
    "data": {"dataset": "spiral", "scale": "none", "validation_size": 60},
    "model": {"hidden": [16], "activation": "relu", "init": "he_uniform", "dtype": "float64"},
    "optimizer": {"name": "adam", "lr": 0.01},
    "training": {"epochs": 4, "batch_size": 30, "shuffle": True, "eval": ["validation"]},
}


def spiral_sweep(space=None, **extra):
    return parse_sweep(
        {
            "name": "spiral",
            "config": extra.pop("config", SPIRAL),
            "search": {"space": space or {"optimizer.lr": [0.003, 0.03]}},
            "selection": {"metric": "val_loss", **extra.pop("selection", {})},
            **extra,
        }
    )


def read(path: Path):
    return json.loads(path.read_text())


def test_serial_sweep_writes_the_contract_layout_and_trials_match_plain_runs(tmp_path):
    sweep = spiral_sweep(selection={"seeds": [0, 1]})
    result = run_sweep(sweep, sweep_dir=tmp_path / "sw", executor="serial")
    d = result.sweep_dir
    for name in ("sweep.toml", "trials.json", "trials.csv", "sweep_summary.json"):
        assert (d / name).is_file(), name
    trials = read(d / "trials.json")
    assert [t["trial"] for t in trials] == ["t000", "t001", "t002", "t003"]
    assert [(t["params"]["optimizer.lr"], t["seed"]) for t in trials] == [(0.003, 0), (0.003, 1), (0.03, 0), (0.03, 1)]
    for t in trials:
        run_dir = d / t["run_dir"]
        summary = read(run_dir / "summary.json")
        assert t["status"] == "ok" and t["error"] is None and t["epochs_run"] == 4
        assert t["final"] == summary["final"] and t["selection"] == summary["final"]["val_loss"]
        config = load_config(run_dir / "config.toml")
        assert config.optimizer.lr == t["params"]["optimizer.lr"] and config.model.seed == t["seed"]
        assert {"metrics.csv", "metrics.json", "model.npz", "confusion.json"} <= {p.name for p in run_dir.iterdir()}
    # a trial is exactly the run that run_experiment gives for its config
    plain = run_experiment(expand_trials(sweep)[2].config, runs_dir=tmp_path / "plain", verbose=0)
    assert plain.summary["final"] == trials[2]["final"]
    summary = read(d / "sweep_summary.json")
    best = min(trials, key=lambda t: t["selection"])  # one seed per point would be this; with 2 seeds, by mean
    means = {lr: np.mean([t["selection"] for t in trials if t["params"]["optimizer.lr"] == lr]) for lr in (0.003, 0.03)}
    best_lr = min(means, key=means.get)
    expected = min((t for t in trials if t["params"]["optimizer.lr"] == best_lr), key=lambda t: t["selection"])
    assert summary["best"] == expected["trial"] and summary["best_params"] == {"optimizer.lr": best_lr}
    assert best["selection"] <= expected["selection"]
    assert summary["final"] == expected["final"] and summary["retrain"] is None
    assert summary["trials"] == {"ok": 4, "diverged": 0, "interrupted": 0, "error": 0, "total": 4}
    assert summary["kind"] == "sweep" and summary["selection"] == {"metric": "val_loss", "mode": "min"}
    rows = list(csv.DictReader((d / "trials.csv").open()))
    assert [r["trial"] for r in rows] == ["t000", "t001", "t002", "t003"]
    assert float(rows[1]["optimizer.lr"]) == 0.003 and float(rows[1]["val_loss"]) == trials[1]["final"]["val_loss"]


def test_resume_reruns_only_unfinished_trials_and_refuses_another_sweep(tmp_path):
    sweep = spiral_sweep({"optimizer.lr": [0.003, 0.01, 0.03]})
    d = tmp_path / "sw"
    first = run_sweep(sweep, sweep_dir=d, executor="serial")
    stamps = {t: (d / "trials" / t / "summary.json").stat().st_mtime_ns for t in ("t000", "t001", "t002")}
    (d / "trials" / "t001" / "summary.json").unlink()  # as if killed before the trial finished ...
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stray = d / "trials" / "t001" / f".metrics.json.{int(dead.stdout)}.x1y2.tmp"
    stray.write_text("half-written")  # ... while writing metrics.json (a dead process's temporary file)
    second = run_sweep(sweep, sweep_dir=d, executor="serial")
    after = {t: (d / "trials" / t / "summary.json").stat().st_mtime_ns for t in stamps}
    assert after["t000"] == stamps["t000"] and after["t002"] == stamps["t002"]
    assert after["t001"] != stamps["t001"]
    assert not stray.exists()
    assert [t["final"] for t in second.trials] == [t["final"] for t in first.trials]  # same seeds, same numbers
    assert second.summary["best"] == first.summary["best"]
    # nothing left to run: no executor is started (this scheduler address does not exist), and a new
    # description does not make it another sweep
    third = run_sweep(
        sweep.model_copy(update={"description": "renamed"}), sweep_dir=d, executor="dask", address="tcp://127.0.0.1:9"
    )
    assert [t["final"] for t in third.trials] == [t["final"] for t in first.trials]
    other = spiral_sweep(
        {"optimizer.lr": [0.003, 0.01, 0.03]}, config={**SPIRAL, "training": {**SPIRAL["training"], "epochs": 5}}
    )
    with pytest.raises(SweepDirError) as info:
        run_sweep(other, sweep_dir=d, executor="serial")
    assert "config.training.epochs: 4 -> 5" in str(info.value) and "--sweep-dir" in str(info.value)
    # without an explicit directory, a different sweep of the same name goes beside it
    (tmp_path / "runs").mkdir()
    a = run_sweep(spiral_sweep({"optimizer.lr": [0.01]}), runs_dir=tmp_path / "runs", executor="serial")
    b = run_sweep(spiral_sweep({"optimizer.lr": [0.02]}), runs_dir=tmp_path / "runs", executor="serial")
    c = run_sweep(spiral_sweep({"optimizer.lr": [0.01]}), runs_dir=tmp_path / "runs", executor="serial")
    assert a.sweep_dir.name == "spiral-sweep" and b.sweep_dir.name == "spiral-sweep-2"
    assert c.sweep_dir == a.sweep_dir


def test_failed_and_diverged_trials_are_recorded_and_the_rest_continue(tmp_path):
    config = {
        **SPIRAL,
        "data": {**SPIRAL["data"], "root": str(tmp_path / "missing")},
        "optimizer": {"name": "sgd", "lr": 0.1},
    }
    sweep = spiral_sweep({"data.dataset": ["npy", "spiral"], "optimizer.lr": [0.1, 1e6]}, config=config)
    result = run_sweep(sweep, sweep_dir=tmp_path / "sw", executor="process", workers=2)
    by_id = {t["trial"]: t for t in read(result.sweep_dir / "trials.json")}
    for tid in ("t000", "t001"):  # npy from a missing directory
        assert by_id[tid]["status"] == "error" and by_id[tid]["selection"] is None
        assert "DatasetError" in by_id[tid]["error"] and "missing" in by_id[tid]["error"]
    assert by_id["t002"]["status"] == "ok" and isinstance(by_id["t002"]["selection"], float)
    diverged = by_id["t003"]
    assert diverged["status"] == "diverged" and diverged["selection"] is None
    assert "diverged" in diverged["error"]
    assert read(result.sweep_dir / "trials" / "t003" / "summary.json")["diverged"] is True
    summary = read(result.sweep_dir / "sweep_summary.json")
    assert summary["best"] == "t002"
    assert summary["trials"] == {"ok": 1, "diverged": 1, "interrupted": 0, "error": 2, "total": 4}
    # the failed trials are retried on resume (their directories hold no summary), the others are not
    again = run_sweep(sweep, sweep_dir=result.sweep_dir, executor="serial")
    assert [t["status"] for t in again.trials] == ["error", "error", "ok", "diverged"]


def test_no_best_when_every_trial_diverges(tmp_path):
    sweep = spiral_sweep(
        {"optimizer.lr": [1e6]}, config={**SPIRAL, "optimizer": {"name": "sgd"}}, selection={"retrain": True}
    )
    result = run_sweep(sweep, sweep_dir=tmp_path / "sw", executor="serial")
    assert result.best is None and result.summary["best"] is None and result.summary["retrain"] is None
    assert not (result.sweep_dir / "retrain").exists()


def test_retrain_uses_all_training_rows_and_the_best_epoch_count(tmp_path):
    config = {
        **SPIRAL,
        "training": {**SPIRAL["training"], "epochs": 30, "early_stopping": {"monitor": "val_loss", "patience": 2}},
    }
    sweep = spiral_sweep(
        {"optimizer.lr": [0.3, 0.003]},
        config=config,
        selection={"retrain": True},
        published=[{"metric": "test_acc", "value": 0.9}],
    )
    result = run_sweep(sweep, sweep_dir=tmp_path / "sw", executor="serial")
    best = result.best
    assert best is not None and best["params"] == {"optimizer.lr": 0.3}
    assert best["best_epoch"] < best["epochs_run"] < 30  # early stopping ended the best trial
    retrain_dir = result.sweep_dir / "retrain"
    retrained = load_config(retrain_dir / "config.toml")
    assert retrained.data.validation_size == 0 and retrained.training.early_stopping is None
    assert retrained.training.epochs == best["best_epoch"]
    assert retrained.optimizer.lr == best["params"]["optimizer.lr"]
    rsummary = read(retrain_dir / "summary.json")
    assert rsummary["data"]["sizes"] == {"train": 300, "test": 300}  # 240 + 60 validation rows, all trained on
    summary = read(result.sweep_dir / "sweep_summary.json")
    assert summary["retrain"] == "retrain" and summary["final"] == rsummary["final"]
    assert summary["published"] == [
        {
            "metric": "test_acc",
            "epoch": 0,
            "published": 0.9,
            "at_least": False,
            "source": "",
            "reached": True,
            "this_run": rsummary["final"]["test_acc"],
            "difference": rsummary["final"]["test_acc"] - 0.9,
        }
    ]
    # the retrain is the plain run of retrain_config
    trial = expand_trials(sweep)[best["index"]]
    plain = run_experiment(retrain_config(trial, best, sweep), runs_dir=tmp_path / "plain", verbose=0)
    assert plain.summary["final"] == rsummary["final"]
    # resuming keeps the retrain
    stamp = (retrain_dir / "summary.json").stat().st_mtime_ns
    run_sweep(sweep, sweep_dir=result.sweep_dir, executor="serial")
    assert (retrain_dir / "summary.json").stat().st_mtime_ns == stamp


def test_run_experiment_into_a_given_directory(tmp_path):
    config = expand_trials(spiral_sweep())[0].config
    result = run_experiment(config, run_dir=tmp_path / "a" / "b", verbose=0)
    assert result.run_dir == tmp_path / "a" / "b" and (result.run_dir / "summary.json").is_file()
    with pytest.raises(RunDirError, match="not empty"):
        run_experiment(config, run_dir=tmp_path / "a" / "b", verbose=0)


SWEEP_TOML = """
kind = "sweep"
name = "tiny"
description = "tiny spiral sweep"
[config]
data = { dataset = "spiral", scale = "none" }
model = { hidden = [8], activation = "relu" }
training = { epochs = 6, batch_size = 50, eval = ["test"] }
[search.space]
"optimizer.lr" = [0.01, 0.1]
[selection]
metric = "test_acc"
[quick]
config = { training = { epochs = 1 } }
"""


def test_cli_sweep_and_run_of_a_sweep_file(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(SWEEP_TOML)
    runner = CliRunner()
    out = runner.invoke(
        main,
        [
            "sweep",
            str(path),
            "--executor",
            "serial",
            "--sweep-dir",
            str(tmp_path / "d"),
            "--set",
            "training.epochs=2",
            "--no-report",
        ],
    )
    assert out.exit_code == 0, out.output
    assert "Best: t00" in out.output and "test_acc" in out.output and "2 ok, 0 diverged, 0 failed" in out.output
    trials = read(tmp_path / "d" / "trials.json")
    assert [t["epochs_run"] for t in trials] == [2, 2]
    summary = read(tmp_path / "d" / "sweep_summary.json")
    assert summary["selection"]["mode"] == "max" and summary["executor"] == "serial"
    assert summary["best_selection"] == max(t["selection"] for t in trials)
    out = runner.invoke(
        main,
        [
            "run",
            str(path),
            "--quick",
            "--runs-dir",
            str(tmp_path / "runs"),
            "-q",
            "--executor",
            "serial",
            "--no-report",
        ],
    )
    assert out.exit_code == 0, out.output
    assert [t["epochs_run"] for t in read(tmp_path / "runs" / "tiny-sweep" / "trials.json")] == [1, 1]
    out = runner.invoke(main, ["sweep", str(path), "--set", "search.space.optimizer.lrr=[0.1]"])
    assert out.exit_code == 2 and "optimizer.lrr" in out.output and "unknown key" in out.output
    # --dir, the old spelling of --sweep-dir, still works
    out = runner.invoke(main, ["sweep", str(path), "--dir", str(tmp_path / "d"), "--set", "training.epochs=3"])
    assert out.exit_code == 1 and "holds a different sweep" in out.output and "(--sweep-dir)" in out.output
    assert "note: --dir is now called --sweep-dir" in out.stderr


def test_sweep_presets_are_listed_with_their_kind_and_run_by_name(tmp_path, monkeypatch):
    from backproplab.experiments import presets

    (tmp_path / "tiny-sweep-preset.toml").write_text(SWEEP_TOML)
    (tmp_path / "tiny-run.toml").write_text('description = "one spiral run"\n[data]\ndataset = "spiral"\n')
    monkeypatch.setattr(presets, "presets_dir", lambda: tmp_path)
    runner = CliRunner()
    out = runner.invoke(main, ["presets"])
    assert out.exit_code == 0, out.output
    lines = sorted(out.output.splitlines())
    assert lines[0].split()[:2] == ["tiny-run", "run"] and "one spiral run" in lines[0]
    assert lines[1].split()[:2] == ["tiny-sweep-preset", "sweep"] and "tiny spiral sweep" in lines[1]
    out = runner.invoke(
        main,
        [
            "run",
            "tiny-sweep-preset",
            "--quick",
            "--runs-dir",
            str(tmp_path / "runs"),
            "--executor",
            "serial",
            "--no-report",
            "--set",
            "selection.seeds=[5]",
        ],
    )
    assert out.exit_code == 0, out.output
    trials = read(tmp_path / "runs" / "tiny-sweep" / "trials.json")
    assert [(t["seed"], t["epochs_run"]) for t in trials] == [(5, 1), (5, 1)]
