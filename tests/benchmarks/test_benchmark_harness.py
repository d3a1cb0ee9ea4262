"""The benchmark harness (benchmarks/, not a product module) runs, trains every peer and writes valid JSON.

No timing is asserted: only that the harness works and that a peer which does not really train is caught.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
PEERS = ["fast", "numpy", "plain", "torch", "torch-backend", "sklearn"]


@pytest.mark.needs_data("fashion-mnist")
@pytest.mark.slow
def test_quick_benchmark_trains_every_peer_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert "plain NumPy loop" in proc.stdout and "batch 1: fast engine >= 12x PyTorch CPU" in proc.stdout
    assert result["settings"]["quick"] is True
    assert result["machine"]["threads"] == 1 and result["machine"]["cpu_count"] >= 1
    assert [b["batch_size"] for b in result["batches"]] == [1, 32, 128]
    for batch in result["batches"]:
        assert batch["samples"] == 500
        rows = {r["peer"]: r for r in batch["rows"]}
        assert list(rows) == PEERS
        for key, row in rows.items():
            if key == "fast" and row["status"] == "unavailable":
                assert row["reason"]  # says why (e.g. the engine is not built yet)
                continue
            if key in ("torch", "torch-backend", "sklearn") and row["status"] == "unavailable":
                continue  # optional peers
            assert row["status"] == "ok", (key, row["reason"])
            assert len(row["seconds"]) == 1 and row["seconds"][0] > 0 and row["samples_per_cpu_second"] > 0
            assert row["samples_per_second"] == pytest.approx(500 / row["median_seconds"])
            assert row["trains"] and row["median_loss_after"] < batch["loss_before"]
            # Same start, same rows, same algorithm: every peer ends next to the plain loop (float32 rounding).
            assert row["max_abs_diff_vs_plain"][0] < 1e-4, key
        numpy_speed, plain_speed = rows["numpy"]["samples_per_second"], rows["plain"]["samples_per_second"]
        assert result["ratios"][str(batch["batch_size"])]["numpy/plain"] == pytest.approx(numpy_speed / plain_speed)
    # batch 1 trains 500 steps, batch 128 only 4: the loss falls much further at batch 1.
    after = [b["rows"][2]["median_loss_after"] for b in result["batches"]]
    assert after[0] < after[1] < after[2] < result["batches"][0]["loss_before"]
    assert len(result["targets"]) == 10
    floor = result["floor"]  # the batch-1 floor ran beside the fast engine on the same 500 rows
    if "error" not in floor:
        assert floor["rows"] == 500 and 300 < floor["mean_nonzero_pixels"] < 450
        assert floor["engine_over_floor"] == pytest.approx(floor["engine_us_per_step"] / floor["floor_us_per_step"])
    assert {t["status"] for t in result["targets"]} <= {"PASS", "FAIL", "n/a"}
    assert result["run_fashion_sgd"] == {"skipped": True}


class _Idle:
    """A 'peer' that skips the work: it would look infinitely fast."""

    key, label = "idle", "idle peer"

    def setup(self, data, batch_size):  # noqa: ANN001, ANN201
        self.w = None

    def load(self, params):  # noqa: ANN001, ANN201
        self.w = tuple(p.copy() for p in params)

    def epoch(self):  # noqa: ANN201
        pass

    def params(self):  # noqa: ANN201
        return self.w

    def describe(self):  # noqa: ANN201
        return {}


class _Crashing(_Idle):
    key, label = "crash", "crashing peer"

    def epoch(self):  # noqa: ANN201
        raise RuntimeError("boom")


def test_a_peer_that_does_not_train_is_flagged_and_a_crash_spares_the_others(monkeypatch, fashion_small) -> None:
    monkeypatch.syspath_prepend(str(REPO))
    from benchmarks.problem import Problem
    from benchmarks.targets import check_targets, ratios

    from benchmarks import measure

    real = measure.make_peer
    fakes = {"idle": _Idle, "crash": _Crashing}
    monkeypatch.setattr(
        measure, "make_peer", lambda key, threads, device: fakes[key]() if key in fakes else real(key, threads, device)
    )
    data = Problem(np.ascontiguousarray(fashion_small.X[:200]), fashion_small.y[:200])
    batch = measure.measure_batch(
        data, 32, ["idle", "crash", "plain"], repeats=2, threads=1, warmup_samples=64, log=lambda msg: None
    )
    rows = {r["peer"]: r for r in batch["rows"]}
    assert rows["idle"]["status"] == "broken" and not rows["idle"]["trains"]
    assert "did not decrease" in rows["idle"]["reason"]
    assert rows["crash"]["status"] == "error" and "boom" in rows["crash"]["reason"]
    assert rows["plain"]["status"] == "ok" and rows["plain"]["trains"] and len(rows["plain"]["seconds"]) == 2
    assert batch["auto_engine"] in ("numpy", "fast")
    # Broken rows give no ratios: a peer that skips the work cannot look fast.
    assert ratios([batch])["32"]["numpy/plain"] is None
    targets = check_targets([batch], {"skipped": True})
    assert all(t["status"] == "n/a" for t in targets)


@pytest.mark.slow
@pytest.mark.needs_data("mnist")
@pytest.mark.needs_torch
def test_time_to_accuracy_quick_runs_every_peer_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "tta.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.time_to_accuracy", "--quick", "--presets", "mnist-best", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    entry = result["presets"]["mnist-best"]
    assert entry["recipe"]["hidden"] == [1024, 1024] and entry["recipe"]["shift"] == 1 and entry["runs"] == []
    tta = entry["tta"]["1"]
    for peer in ("backproplab", "torch", "sklearn"):
        (row,) = tta["rows"][peer]
        # quick mode's target is 0: every peer reaches it at its first evaluated epoch, having really trained
        assert row["reached"] and row["epoch_at_target"] == 1 and 0.5 < row["best_acc"] <= 1.0, peer
        assert row["time_to_target"] == row["epochs"][0]["seconds"] > 0
    assert tta["rows"]["backproplab"][0]["engine"] == "fast"
    assert tta["speedup"]["torch"] == pytest.approx(
        tta["summary"]["torch"]["median_time_to_target"] / tta["summary"]["backproplab"]["median_time_to_target"]
    )
    assert {t["status"] for t in result["targets"]} <= {"PASS", "FAIL", "n/a"}


@pytest.mark.needs_torch
def test_the_gpu_mode_times_the_torch_peers_and_refuses_without_cuda(monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(REPO))
    import torch
    from benchmarks.run import parse_args
    from benchmarks.targets import check_targets

    if torch.cuda.is_available():
        args = parse_args(["--device", "cuda"])
        assert args.peers == ["torch", "torch-backend"] and args.batch_sizes == [128, 256, 512, 1024, 2048, 4096]
        assert args.skip_run
    else:
        with pytest.raises(SystemExit) as info:
            parse_args(["--device", "cuda"])
        assert info.value.code == 2
    with pytest.raises(SystemExit):
        parse_args(["--device", "cuda", "--peers", "numpy"])
    row = {"status": "ok", "samples_per_second": 2.0, "samples_per_cpu_second": 2.0}
    batches = [
        {
            "batch_size": b,
            "rows": [{**row, "peer": "torch"}, {**row, "peer": "torch-backend", "samples_per_second": 3.0}],
        }
        for b in (128, 4096)
    ]
    targets = check_targets(batches, None, device="cuda")
    assert [t["target"] for t in targets] == [
        "batch 128 (cuda): torch backend >= 1.0x PyTorch autograd",
        "batch 4096 (cuda): torch backend >= 1.0x PyTorch autograd",
    ]
    assert [t["status"] for t in targets] == ["PASS", "PASS"] and targets[0]["value"] == 1.5
