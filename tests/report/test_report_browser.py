"""The HTML report in a real headless browser (Debian chromium): it loads, every image is present and decoded
at the size of its PNG, and the console stays clean. The screenshot is kept under test-artifacts/."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest

from backproplab.experiments import parse_config, run_experiment
from backproplab.report import write_run_report

pytestmark = pytest.mark.slow


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", data[16:24])


def test_run_report_renders_with_every_image_decoded(tmp_path: Path, browser_check: Any) -> None:
    config = parse_config(
        {
            "name": "browser-check",
            "description": "two epochs on a Fashion-MNIST slice",
            "data": {"dataset": "fashion-mnist", "limit_train": 500, "limit_test": 300},
            "model": {"hidden": [16], "activation": "relu"},
            "optimizer": {"lr": 0.05},
            "training": {"epochs": 2, "batch_size": 50},
        }
    )
    run_dir = run_experiment(config, runs_dir=tmp_path, verbose=0).run_dir
    html = write_run_report(run_dir)

    result = browser_check(html, "run-report")
    assert result.errors == []
    assert result.title == "backproplab run: browser-check"
    for heading in ("Final metrics", "Plots", "Per-epoch metrics", "Configuration"):
        assert heading in result.text
    pngs = sorted(run_dir.glob("*.png"))
    assert {p.stem for p in pngs} >= {"loss", "accuracy", "confusion_train", "confusion_test", "misclassified"}
    assert len(result.images) == len(pngs)
    assert result.broken_images == []
    # each image shows at its PNG's own pixel size (the report embeds the files themselves)
    assert sorted((i["naturalWidth"], i["naturalHeight"]) for i in result.images) == sorted(map(png_size, pngs))
    assert all(i["shownWidth"] > 100 and i["shownHeight"] > 100 for i in result.images)
    assert png_size(result.screenshot) == (1280, result.page_size[1]) and result.page_size[1] > 900


def test_browser_check_catches_broken_images_and_console_errors(tmp_path: Path, browser_check: Any) -> None:
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>broken</title></head><body><h1>broken</h1>"
        '<img alt="corrupt" src="data:image/png;base64,iVBORw0KGgoAAAAA">'
        '<script>console.error("boom"); undefinedFunction();</script></body></html>'
    )
    result = browser_check(page, "broken-page")
    assert result.title == "broken"
    assert [i["alt"] for i in result.broken_images] == ["corrupt"]
    assert any("console.error: boom" in e for e in result.errors)
    assert any("undefinedFunction" in e for e in result.errors)
