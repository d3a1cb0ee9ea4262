"""`write_run_report`: the PNG plots and the HTML page of one run, rebuilt from its run directory alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_write_text
from ..experiments.run.published import split_reached
from ..rundir import INTERRUPTED, RunDir, summary_status
from .html import esc, figure, page, table
from .loss_iterations import plot_loss_per_iteration
from .pca_plot import plot_explained_variance
from .plots import plot_confusion, plot_curves, plot_misclassified
from .sections import config_table, fmt_metric, published_section
from .weights import dense_layer_count, first_layer_weights, plot_weight_tiles

REPORT_FILE = RunDir.REPORT
# The plots of a run report, by key (the sweep report shows some of them too).
PLOT_FILES = {
    "loss": "loss.png",
    "loss_iterations": "loss_iterations.png",
    "accuracy": "accuracy.png",
    "confusion_train": "confusion_train.png",
    "confusion_validation": "confusion_validation.png",
    "confusion_test": "confusion_test.png",
    "misclassified": "misclassified.png",
    "weights": "weights.png",
    "pca": "pca_variance.png",
}
# Image shape of one example by dataset, for run directories without misclassified.npz (which records it).
DATASET_IMAGE_SHAPES = {"fashion-mnist": (28, 28), "mnist": (28, 28), "cifar10": (3, 32, 32)}


def _read_config(run: RunDir) -> tuple[str, dict[str, Any]]:
    if not run.has(RunDir.CONFIG):
        return "", {}
    return run.read_config_text(), run.read_config()


def run_image_shape(run_dir: Path, summary: dict[str, Any]) -> tuple[int, ...] | None:
    """Shape of one input example as an image: from ``misclassified.npz`` (written from the Dataset's
    ``image_shape``), else from the dataset's name; None for non-image data (spiral, plain features)."""
    mis = RunDir(run_dir).read_misclassified()
    if mis is not None and "image_shape" in mis:
        shape = tuple(int(s) for s in mis["image_shape"])
        return shape or None
    data = summary.get("data", {})
    if "image_shape" in data:  # recorded by runs since test sets without labels (no misclassified.npz)
        return tuple(int(s) for s in data["image_shape"] or ()) or None
    return DATASET_IMAGE_SHAPES.get(str(summary.get("data", {}).get("dataset", "")).lower())


def write_weight_tiles(run_dir: Path, summary: dict[str, Any], name: str) -> Path | None:
    """``weights.png`` when the model's first layer reads a whole image (not after PCA etc.); else None."""
    shape = run_image_shape(run_dir, summary)
    model_path = RunDir(run_dir).model_path
    if shape is None or not model_path.is_file():
        return None
    weights = first_layer_weights(model_path)
    if weights is None or weights.shape[0] != int(np.prod(shape)) or not np.isfinite(weights).all():
        return None
    if dense_layer_count(model_path) == 1:  # softmax regression: each column is one class's template
        classes = _classes(run_dir)
        return plot_weight_tiles(
            weights,
            shape,
            run_dir / PLOT_FILES["weights"],
            labels=classes,
            title=f"{name}: weights of each class as images",
        )
    return plot_weight_tiles(
        weights,
        shape,
        run_dir / PLOT_FILES["weights"],
        title=f"{name}: first-layer weights of the hidden units as images",
    )


def _classes(run_dir: Path) -> list[str] | None:
    confusion = RunDir(run_dir).read_confusion()
    return [str(c) for c in confusion.get("classes", [])] or None if confusion else None


def epochs_label(summary: dict[str, Any]) -> str:
    """``"15 epochs"``, ``"2 epochs, quick run"``: what a run's plots show, for their titles."""
    n = summary.get("epochs_run") or 0
    quick = ", quick run" if summary.get("variant") == "quick" else ""
    return f"{n} epoch{'s' if n != 1 else ''}{quick}"


def write_run_plots(run_dir: Path) -> dict[str, Path]:
    """Write ``loss.png``, ``accuracy.png``, ``confusion_<split>.png``, ``misclassified.png`` and (image
    models) ``weights.png``; return them by key. Titles say how many epochs the run trained (and if it was a
    quick run); published values are marked only at epochs the run reached."""
    run = RunDir(run_dir)
    run_dir = run.path
    summary = run.read_summary()
    metrics = run.read_metrics()
    history = metrics["history"]
    name = summary["name"]
    label = epochs_label(summary)
    loss_name = _read_config(run)[1].get("loss", {}).get("name", "softmax_cross_entropy")
    published = split_reached(summary.get("published", []))[0]
    plots: dict[str, Path] = {}
    if any(k.endswith("_loss") for k in history):
        plots["loss"] = plot_curves(
            history,
            "loss",
            run_dir / PLOT_FILES["loss"],
            title=f"{name}: loss per epoch ({label})",
            published=published,
            loss_label="mean squared error" if loss_name == "mse" else None,
        )
    if metrics.get("batch_losses"):
        plots["loss_iterations"] = _loss_per_iteration(metrics, run_dir / PLOT_FILES["loss_iterations"], name)
    if any(k.endswith("_acc") for k in history):
        plots["accuracy"] = plot_curves(
            history,
            "acc",
            run_dir / PLOT_FILES["accuracy"],
            title=f"{name}: accuracy per epoch ({label})",
            published=published,
        )
    pca = run.read_pca()
    if pca is not None:
        plots["pca"] = plot_explained_variance(
            pca["ratios"],
            pca["variance"],
            pca["components"],
            run_dir / PLOT_FILES["pca"],
            title=f"{name}: PCA of the training inputs",
        )
    confusion = run.read_confusion()
    if confusion is not None:
        for split in ("train", "validation", "test"):
            if split in confusion:
                plots[f"confusion_{split}"] = plot_confusion(
                    confusion[split],
                    confusion["classes"],
                    run_dir / PLOT_FILES[f"confusion_{split}"],
                    title=f"{name} ({label})\nconfusion matrix, {split} set",
                )
    m = run.read_misclassified()
    if m is not None:
        shape = tuple(int(s) for s in m["image_shape"])
        if not shape or int(np.prod(shape)) != m["images"].shape[-1]:
            return _with_tiles(plots, run_dir, summary, name)  # not images (spiral, PCA features)
        plots["misclassified"] = plot_misclassified(
            m["images"],
            m["true"],
            m["pred"],
            m["index"],
            [str(c) for c in m["classes"]],
            m["image_shape"],
            run_dir / PLOT_FILES["misclassified"],
            title=f"{name}: first misclassified test image of each class",
        )
    return _with_tiles(plots, run_dir, summary, name)


def _loss_per_iteration(metrics: dict[str, Any], path: Path, name: str) -> Path:
    every = int(metrics.get("params", {}).get("loss_every") or 1)
    ends = [(e["iteration"], e["train_loss"]) for e in metrics["epochs"] if "iteration" in e and "train_loss" in e]
    return plot_loss_per_iteration(
        metrics["iterations"],
        metrics["batch_losses"],
        every,
        path,
        epoch_ends=ends,
        title=f"{name}: training loss per iteration",
    )


def _with_tiles(plots: dict[str, Path], run_dir: Path, summary: dict[str, Any], name: str) -> dict[str, Path]:
    tiles = write_weight_tiles(run_dir, summary, name)
    if tiles is not None:
        plots["weights"] = tiles
    return plots


def _sizes(summary: dict[str, Any]) -> str:
    """``"train 2,000, test 1,000"``: the rows of each split the run used."""
    sizes = (summary.get("data") or {}).get("sizes") or {}
    return ", ".join(f"{k} {v:,}" for k, v in sizes.items()) or "its data"


def _epochs_section(metrics: dict[str, Any]) -> str:
    epochs = metrics["epochs"]
    if not epochs:
        return ""
    keys = [k for k in epochs[0] if k.endswith(("_loss", "_acc", "objective")) and k != "batch_loss"]
    rows = [
        [
            e["epoch"],
            *(fmt_metric(k, e.get(k)) for k in keys),
            f"{e.get('lr', float('nan')):g}",
            f"{e.get('seconds', 0):.1f}",
        ]
        for e in epochs
    ]
    return "<h2>Per-epoch metrics</h2>" + table(["epoch", *keys, "lr", "seconds"], rows, left=1)


def write_run_report(run_dir: str | Path) -> Path:
    """Plots plus ``report.html`` (self-contained: images embedded) for a finished run directory."""
    run = RunDir(run_dir)
    run_dir = run.path
    plots = write_run_plots(run_dir)
    summary = run.read_summary()
    metrics = run.read_metrics()
    config_text, config = _read_config(run)
    status = ""
    quick = summary.get("variant") == "quick" or config.get("variant") == "quick"
    if quick:
        status = (
            f'<p class="note">Quick run: {esc(epochs_label(summary))} on {esc(_sizes(summary))} (data slices), '
            f"a preview of the preset, not the experiment: published figures are compared only at the epochs "
            f"it reached. Run <code>backproplab run {esc(summary['name'])}</code> for the full experiment.</p>"
        )
    if summary_status(summary) == INTERRUPTED:
        status += (
            f'<p class="bad">Interrupted after {esc(summary.get("epochs_run"))} complete epoch(s): the '
            f"figures below are those of the run so far. Resume it with <code>backproplab resume "
            f"{esc(run_dir)}</code>.</p>"
        )
    elif summary.get("status") == "error":
        status += f'<p class="bad">The run failed: {esc(summary.get("error"))}</p>'
    elif summary.get("diverged"):
        status += f'<p class="bad">Training diverged: {esc(summary.get("stop_reason"))}</p>'
    elif summary.get("stop_reason"):
        status += f"<p>Stopped early: {esc(summary['stop_reason'])}</p>"
    final_rows = [[esc(k), fmt_metric(k, v)] for k, v in summary["final"].items()]
    data = summary.get("data", {})
    facts = [
        ["dataset", esc(data.get("dataset"))],
        ["source", esc(data.get("source"))],
        ["sizes", esc(", ".join(f"{k} {v}" for k, v in data.get("sizes", {}).items()))],
        ["engine", esc(summary.get("engine"))],
        ["epochs run", summary.get("epochs_run")],
        ["training time", f"{summary.get('train_seconds', 0):.1f} s"],
        ["wall time", f"{summary.get('wall_seconds', 0):.1f} s"],
        ["parameters", summary.get("model", {}).get("parameters")],
        *(
            [["without labels", esc(", ".join(data["unlabeled"]) + " (predicted, not scored)")]]
            if data.get("unlabeled")
            else []
        ),
        *(
            [["test predictions", esc(f"{summary['predictions']} (the predicted class of each test row)")]]
            if summary.get("predictions")
            else []
        ),
        ["variant", "quick (--quick)" if quick else "full"],
        ["backproplab", esc(summary.get("environment", {}).get("backproplab"))],
        [
            "git commit of the working directory",
            esc(summary.get("environment", {}).get("git_commit") or "none (not started in a git repository)"),
        ],
    ]
    captions = {
        "loss": "Loss per epoch (whole sets)",
        "accuracy": "Accuracy per epoch",
        "loss_iterations": "Training loss per iteration: the batch losses as training went (the mean of "
        "every k when recorded every k iterations); dots: the whole training set at "
        "the end of each epoch",
        "confusion_train": "Confusion matrix, training set (true on y, predicted on x)",
        "confusion_validation": "Confusion matrix, validation set",
        "confusion_test": "Confusion matrix, test set (true on y, predicted on x)",
        "misclassified": "First misclassified test image of each class",
        "weights": "First-layer weights of each hidden unit as an image (normalised per tile)",
        "pca": "PCA of the training inputs: cumulative explained variance against the number of "
        "principal components (the run trains on the components kept)",
    }
    sections = [
        status,
        "<h2>Final metrics</h2>" + table(["metric", "value"], final_rows),
        published_section(summary.get("published", [])),
        "<h2>Plots</h2>" + "".join(figure(p, captions.get(k, k)) for k, p in plots.items()),
        _epochs_section(metrics),
        "<h2>Run</h2>" + table(["", ""], facts),
        "<h2>Configuration</h2>" + config_table(config),
        f"<details><summary>config.toml</summary><pre>{esc(config_text)}</pre></details>",
    ]
    subtitle = config.get("description", "") or summary["name"]
    if quick:
        subtitle = f"quick run, {epochs_label(summary).split(',')[0]} on {_sizes(summary)}, of: {subtitle}"
    html_text = page(f"backproplab run: {summary['name']}", sections, subtitle=f"{subtitle} — {run_dir.name}")
    return atomic_write_text(run_dir / REPORT_FILE, html_text)
