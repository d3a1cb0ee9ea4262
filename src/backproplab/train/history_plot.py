"""Learning curves of a `History`: `draw_metric` on one matplotlib Axes, `plot_history` as a two-panel figure.

The run reports (`backproplab.report`) draw their curves with `draw_metric` too, so a notebook's
``history.plot()`` and a run's ``loss.png`` look alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SPLITS = ("train", "val", "test")
SPLIT_LABELS = {"train": "train (whole set)", "val": "validation", "test": "test"}
SPLIT_COLORS = {"train": "#1f77b4", "val": "#2ca02c", "validation": "#2ca02c", "test": "#d62728"}
LOSS_LABEL = "loss (cross-entropy, mean per example)"
ACC_LABEL = "accuracy (%)"


def draw_metric(ax: Any, history: dict[str, list[float]], metric: str, loss_label: str | None = None) -> int:
    """One line per split (``train_<metric>``, ``val_<metric>``, ``test_<metric>``) against the epoch; accuracies
    in percent. Returns the number of epochs drawn."""
    epochs = 0
    for split in SPLITS:
        values = history.get(f"{split}_{metric}")
        if not values:
            continue
        epochs = max(epochs, len(values))
        y = np.asarray(values, dtype=float) * (100 if metric == "acc" else 1)
        ax.plot(
            np.arange(1, len(values) + 1),
            y,
            marker="o",
            markersize=3,
            color=SPLIT_COLORS[split],
            label=SPLIT_LABELS[split],
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel(ACC_LABEL if metric == "acc" else (loss_label or LOSS_LABEL))
    return epochs


def plot_history(history: Any, title: str | None = None) -> Any:
    """A matplotlib `Figure` with the loss per epoch (left) and the accuracy per epoch (right) of every split the
    `History` measured. It is closed in pyplot, so Jupyter shows it once, as the cell's value; ``fig.savefig(path)``
    writes it anywhere."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(10, 3.8), layout="constrained")
    plt.close(fig)
    panels = [m for m in ("loss", "acc") if any(f"{s}_{m}" in history.history for s in SPLITS)]
    if not panels:
        raise ValueError(f"this History has no per-split loss or accuracy to plot; it has {sorted(history.history)}")
    for ax, metric in zip(fig.subplots(1, len(panels), squeeze=False)[0], panels, strict=True):
        epochs = draw_metric(ax, history.history, metric)
        if 0 < epochs <= 20:
            ax.set_xticks(np.arange(1, epochs + 1))
        ax.grid(alpha=0.3)
        ax.legend(frameon=False)
        ax.set_title(f"{'accuracy' if metric == 'acc' else 'loss'} per epoch")
    if title:
        fig.suptitle(title)
    return fig
