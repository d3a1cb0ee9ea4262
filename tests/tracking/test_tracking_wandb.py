"""W&B tracking, offline: only when the optional `wandb` extra is installed (MLflow is the tested default)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backproplab.experiments import parse_config, run_experiment
from backproplab.tracking import log_run_dir, make_tracker

wandb = pytest.importorskip("wandb", reason="the optional 'wandb' extra is not installed")


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """W&B as a user without an account has it: offline, silent."""
    for var in ("WANDB_MODE", "WANDB_API_KEY", "WANDB_DIR", "WANDB_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("WANDB_SILENT", "true")


def spiral(name: str) -> Any:
    return parse_config(
        {
            "name": name,
            "data": {"dataset": "spiral"},
            "model": {"hidden": [8], "activation": "relu"},
            "optimizer": {"lr": 0.5},
            "training": {"epochs": 3, "batch_size": 30},
        }
    )


@pytest.mark.slow
def test_wandb_logs_a_run_offline(tmp_path: Path, offline: None) -> None:
    config = spiral("spiral-wandb")
    run_dir = run_experiment(config, runs_dir=tmp_path, verbose=0).run_dir
    run_id = log_run_dir(make_tracker("wandb", runs_dir=tmp_path), run_dir)

    wandb.teardown()  # the wandb-core service writes the .wandb file in the background; flush it
    [offline] = list((tmp_path / "wandb").glob(f"offline-run-*-{run_id}"))
    records = list(wandb_records(offline / f"run-{run_id}.wandb"))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    history = [items(r.history.item) for r in records if r.WhichOneof("record_type") == "history"]
    assert [h["_step"] for h in history] == [e["epoch"] for e in metrics["epochs"]] == [1, 2, 3]
    for logged, epoch in zip(history, metrics["epochs"], strict=True):
        assert {k: logged[k] for k in metrics["history"]} == {k: epoch[k] for k in metrics["history"]}
    summary: dict = {}
    for r in records:
        if r.WhichOneof("record_type") == "summary":
            summary |= items(r.summary.update)
    expected = json.loads((run_dir / "summary.json").read_text())
    assert summary["final_test_acc"] == expected["final"]["test_acc"]
    assert summary["backproplab.status"] == "ok" and summary["backproplab.engine"] == expected["engine"]
    [artifact] = [r.artifact for r in records if r.WhichOneof("record_type") == "artifact"]
    assert sorted(e.path for e in artifact.manifest.contents) == sorted(
        p.name for p in run_dir.iterdir() if p.is_file()
    )


def items(entries: Any) -> dict[str, Any]:
    return {e.key or "/".join(e.nested_key): json.loads(e.value_json) for e in entries}


def wandb_records(path: Path) -> Iterator[Any]:
    """The protobuf records of an offline ``.wandb`` file: a 7-byte header, then LevelDB-log framed records
    (32 KiB blocks; each fragment: crc32 (4), length (2, little-endian), type (1: full, 2-4: first/middle/last))."""
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    assert data[:4] == b":W&B", path
    pos, block, buf = 7, 32768, b""
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # block trailer padding
            pos += block - pos % block
            continue
        length, kind = int.from_bytes(data[pos + 4 : pos + 6], "little"), data[pos + 6]
        buf += data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(buf)
            buf = b""
            yield record


@pytest.mark.slow
def test_wandb_logs_a_run_while_it_trains(tmp_path: Path, offline: None) -> None:
    """`lab.run(tracker="wandb")` opens the W&B run when training starts, logs each epoch as it ends, and finishes
    that same run with the final metrics and the artifact: one offline run, not two."""
    from backproplab import lab
    from backproplab.train import LambdaCallback

    config = spiral("spiral-wandb-live")
    during: list[int] = []

    def look(state: Any, epoch: int, logs: dict[str, Any]) -> None:
        if epoch == 2:  # the run exists while training goes on (opened in the background: wait for it)
            deadline = time.monotonic() + 60
            while not list((tmp_path / "wandb").glob("offline-run-*")) and time.monotonic() < deadline:
                time.sleep(0.1)
            during.extend(1 for _ in (tmp_path / "wandb").glob("offline-run-*"))

    result = lab.run(
        config,
        runs_dir=tmp_path,
        report=False,
        tracker="wandb",
        verbose=0,
        callbacks=[LambdaCallback(on_epoch_end=look)],
    )
    wandb.teardown()
    assert during == [1]
    [offline] = list((tmp_path / "wandb").glob("offline-run-*"))
    [records_file] = list(offline.glob("run-*.wandb"))
    records = list(wandb_records(records_file))
    history = [items(r.history.item) for r in records if r.WhichOneof("record_type") == "history"]
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert [h["_step"] for h in history] == [1, 2, 3]
    for logged, epoch in zip(history, metrics["epochs"], strict=True):
        assert {k: logged[k] for k in metrics["history"]} == {k: epoch[k] for k in metrics["history"]}
    summary: dict = {}
    for r in records:
        if r.WhichOneof("record_type") == "summary":
            summary |= items(r.summary.update)
    assert summary["final_test_acc"] == result.summary["final"]["test_acc"] and summary["backproplab.status"] == "ok"
