"""The sweep report in a real headless browser (the `browser_check` fixture of tests/conftest.py): it loads,
every image is present and decoded at its PNG's size, the console stays clean; screenshot in test-artifacts/."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest

from backproplab.report import write_sweep_report
from sweep_dirs import assemble_sweep

pytestmark = pytest.mark.slow


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_sweep_report_renders_with_every_image_decoded(tmp_path: Path, browser_check: Any) -> None:
    base = {
        "data": {"dataset": "spiral"},
        "model": {"hidden": [16], "activation": "relu"},
        "training": {"epochs": 3, "batch_size": 20, "eval": ["test"]},
    }
    sweep = assemble_sweep(
        tmp_path,
        "browser-sweep",
        base,
        {"optimizer.lr": [0.05, 0.5, 1e4]},
        metric="test_loss",
        mode="min",
        error_trials={1: "ValueError: simulated crash"},
    )
    html = write_sweep_report(sweep)
    result = browser_check(html, "sweep-report")
    assert result.errors == [] and result.broken_images == []
    assert result.title == "backproplab sweep: browser-sweep"
    for heading in ("Trials, best first", "Curves per hyperparameter value", "Learning rate", "Parallel coordinates"):
        assert heading in result.text
    assert "simulated crash" in result.text and "diverged" in result.text
    sweep_pngs = sorted(sweep.glob("sweep_*.png"))
    assert {p.stem for p in sweep_pngs} >= {"sweep_train_loss", "sweep_test_loss", "sweep_lr", "sweep_parallel"}
    shown = sorted((i["naturalWidth"], i["naturalHeight"]) for i in result.images)
    for png in sweep_pngs:  # every sweep plot is on the page at its own pixel size
        assert png_size(png.read_bytes()) in shown
    assert len(result.images) > len(sweep_pngs)  # plus the best trial's own plots
    assert all(i["shownWidth"] > 100 and i["shownHeight"] > 100 for i in result.images)
    assert result.page_size[0] == 1280  # nothing wider than the window
