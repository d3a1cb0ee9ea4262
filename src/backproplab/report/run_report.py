"""`write_run_report`: the PNG plots and the HTML page of one run, rebuilt from its run directory alone."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_write_text
from ..errors import BackproplabError
from .html import esc, figure, page, table
from .plots import plot_confusion, plot_curves, plot_misclassified

REPORT_FILE = "report.html"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise BackproplabError(f"{path.parent}: not a finished run directory ({path.name} is missing)") from None


def write_run_plots(run_dir: Path) -> dict[str, Path]:
    """Write ``loss.png``, ``accuracy.png``, ``confusion_<split>.png`` and ``misclassified.png``; return them."""
    run_dir = Path(run_dir)
    metrics = _read_json(run_dir / "metrics.json")
    summary = _read_json(run_dir / "summary.json")
    name = summary["name"]
    history = metrics["history"]
    plots: dict[str, Path] = {}
    if any(k.endswith("_loss") for k in history):
        plots["loss"] = plot_curves(history, "loss", run_dir / "loss.png", title=f"{name}: loss per epoch",
                                    published=summary.get("published", []))
    if any(k.endswith("_acc") for k in history):
        plots["accuracy"] = plot_curves(history, "acc", run_dir / "accuracy.png",
                                        title=f"{name}: accuracy per epoch", published=summary.get("published", []))
    confusion_path = run_dir / "confusion.json"
    if confusion_path.is_file():
        confusion = json.loads(confusion_path.read_text())
        for split in ("train", "validation", "test"):
            if split in confusion:
                plots[f"confusion_{split}"] = plot_confusion(
                    confusion[split], confusion["classes"], run_dir / f"confusion_{split}.png",
                    title=f"{name}: confusion matrix, {split} set")
    mis_path = run_dir / "misclassified.npz"
    if mis_path.is_file():
        with np.load(mis_path, allow_pickle=False) as m:
            plots["misclassified"] = plot_misclassified(
                m["images"], m["true"], m["pred"], m["index"], [str(c) for c in m["classes"]],
                m["image_shape"], run_dir / "misclassified.png",
                title=f"{name}: first misclassified test image of each class")
    return plots


def _fmt(metric: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and not np.isfinite(value):
        return f'<span class="bad">{value}</span>'
    return f"{100 * value:.2f}%" if metric.endswith("acc") else f"{value:.4f}"


def _published_section(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    body = []
    for r in rows:
        diff = r["difference"]
        if diff is None:
            diff_text = ""
        else:
            diff_text = f"{100 * diff:+.2f} pts" if r["metric"].endswith("acc") else f"{diff:+.4f}"
        pub = (">= " if r.get("at_least") else "") + _fmt(r["metric"], r["published"])
        body.append([esc(r["metric"]), "final" if r["epoch"] == 0 else r["epoch"], pub,
                     _fmt(r["metric"], r["this_run"]), diff_text, esc(r.get("source", ""))])
    return ("<h2>Published vs this run</h2>"
            + table(["metric", "epoch", "published", "this run", "difference", "source"], body, left=1))


def _epochs_section(metrics: dict[str, Any]) -> str:
    epochs = metrics["epochs"]
    if not epochs:
        return ""
    keys = [k for k in epochs[0] if k.endswith(("_loss", "_acc", "objective")) and k != "batch_loss"]
    rows = [[e["epoch"], *(_fmt(k, e.get(k)) for k in keys), f"{e.get('lr', float('nan')):g}",
             f"{e.get('seconds', 0):.1f}"] for e in epochs]
    return "<h2>Per-epoch metrics</h2>" + table(["epoch", *keys, "lr", "seconds"], rows, left=1)


def write_run_report(run_dir: str | Path) -> Path:
    """Plots plus ``report.html`` (self-contained: images embedded) for a finished run directory."""
    run_dir = Path(run_dir)
    plots = write_run_plots(run_dir)
    summary = _read_json(run_dir / "summary.json")
    metrics = _read_json(run_dir / "metrics.json")
    config_text = (run_dir / "config.toml").read_text() if (run_dir / "config.toml").is_file() else ""
    config = tomllib.loads(config_text) if config_text else {}
    status = ""
    if summary.get("diverged"):
        status = f'<p class="bad">Training diverged: {esc(summary.get("stop_reason"))}</p>'
    elif summary.get("stop_reason"):
        status = f'<p>Stopped early: {esc(summary["stop_reason"])}</p>'
    final_rows = [[esc(k), _fmt(k, v)] for k, v in summary["final"].items()]
    data = summary.get("data", {})
    facts = [["dataset", esc(data.get("dataset"))], ["source", esc(data.get("source"))],
             ["sizes", esc(", ".join(f"{k} {v}" for k, v in data.get("sizes", {}).items()))],
             ["engine", esc(summary.get("engine"))], ["epochs run", summary.get("epochs_run")],
             ["training time", f"{summary.get('train_seconds', 0):.1f} s"],
             ["wall time", f"{summary.get('wall_seconds', 0):.1f} s"],
             ["parameters", summary.get("model", {}).get("parameters")],
             ["git commit", esc(summary.get("environment", {}).get("git_commit"))]]
    captions = {"loss": "Loss per epoch (whole sets)", "accuracy": "Accuracy per epoch",
                "confusion_train": "Confusion matrix, training set (true on y, predicted on x)",
                "confusion_validation": "Confusion matrix, validation set",
                "confusion_test": "Confusion matrix, test set (true on y, predicted on x)",
                "misclassified": "First misclassified test image of each class"}
    sections = [
        status,
        "<h2>Final metrics</h2>" + table(["metric", "value"], final_rows),
        _published_section(summary.get("published", [])),
        "<h2>Plots</h2>" + "".join(figure(p, captions.get(k, k)) for k, p in plots.items()),
        _epochs_section(metrics),
        "<h2>Run</h2>" + table(["", ""], facts),
        f"<h2>Configuration</h2><pre>{esc(config_text)}</pre>",
    ]
    subtitle = config.get("description", "") or summary["name"]
    html_text = page(f"backproplab run: {summary['name']}", sections, subtitle=f"{subtitle} — {run_dir.name}")
    return atomic_write_text(run_dir / REPORT_FILE, html_text)
