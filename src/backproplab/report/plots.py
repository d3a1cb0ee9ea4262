"""Plots of one run: learning curves, confusion matrices, misclassified examples."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..train.history_plot import ACC_LABEL, LOSS_LABEL, draw_metric
from .style import STYLE, new_figure, plt, save

__all__ = ["ACC_LABEL", "LOSS_LABEL", "as_image", "plot_confusion", "plot_curves", "plot_misclassified"]


def plot_curves(
    history: dict[str, list[float]],
    metric: str,
    path: Path,
    *,
    title: str,
    published: Sequence[dict[str, Any]] = (),
    loss_label: str | None = None,
) -> Path:
    """``metric`` (``loss`` or ``acc``) per epoch for every split in ``history``; published values as markers."""
    fig, ax = new_figure()
    epochs = draw_metric(ax, history, metric, loss_label)
    pub = [p for p in published if p["metric"].endswith(f"_{metric}") and p["epoch"] > 0]
    if pub:
        ax.scatter(
            [p["epoch"] for p in pub],
            [p["published"] * (100 if metric == "acc" else 1) for p in pub],
            marker="x",
            s=60,
            color="black",
            zorder=5,
            label="published",
        )
    ax.set_title(title)
    last = max([epochs, *(p["epoch"] for p in pub)])
    if 0 < last <= 20:
        ax.set_xticks(np.arange(1, last + 1))
    ax.legend()
    save(fig, str(path))
    return path


def plot_confusion(matrix: Sequence[Sequence[int]], classes: Sequence[str], path: Path, *, title: str) -> Path:
    """Counts with true labels on the y-axis and predicted labels on the x-axis."""
    cm = np.asarray(matrix)
    k = cm.shape[0]
    with plt.rc_context({**STYLE, "axes.grid": False}):
        fig, ax = plt.subplots(figsize=(max(4.8, 1.9 + 0.62 * k), max(3.6, 1.5 + 0.55 * k)), layout="constrained")
        im = ax.imshow(cm, cmap="Blues")
        fig.colorbar(im, ax=ax, shrink=0.8, label="count")
        threshold = cm.max() / 2 if cm.size else 0
        for i in range(k):
            for j in range(k):
                ax.text(
                    j,
                    i,
                    str(cm[i, j]),
                    ha="center",
                    va="center",
                    fontsize=8 if k <= 10 else 6,
                    color="white" if cm[i, j] > threshold else "black",
                )
        ax.set_xticks(range(k), labels=list(classes), rotation=45, ha="right")
        ax.set_yticks(range(k), labels=list(classes))
        ax.set_xlabel("predicted label")
        ax.set_ylabel("true label")
        ax.set_title(f"{title}\n(accuracy {100 * np.trace(cm) / max(cm.sum(), 1):.2f}%)")
    save(fig, str(path))
    return path


def as_image(row: np.ndarray, image_shape: Sequence[int]) -> np.ndarray:
    """One feature row as a displayable image: (H, W) grey, or (H, W, 3) from CIFAR's (3, H, W) layout."""
    shape = tuple(int(s) for s in image_shape)
    if len(shape) == 3 and shape[0] == 3:
        img = row.reshape(shape).transpose(1, 2, 0)
        lo, hi = img.min(), img.max()
        return (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
    if len(shape) == 2:
        return row.reshape(shape)
    side = int(round(np.sqrt(row.size)))
    return row.reshape(side, -1) if side * side == row.size else row.reshape(1, -1)


def plot_misclassified(
    images: np.ndarray,
    true: Sequence[int],
    pred: Sequence[int],
    index: Sequence[int],
    classes: Sequence[str],
    image_shape: Sequence[int],
    path: Path,
    *,
    title: str,
) -> Path:
    """The first misclassified test image of each class, with its true and predicted labels (one montage image
    with a caption above each example)."""
    from .weights import montage

    n = len(images)
    cols = min(5, max(n, 1))
    rows = max(1, -(-n // cols))
    with plt.rc_context({**STYLE, "axes.grid": False}):
        fig, ax = plt.subplots(figsize=(1.45 * cols, 2.0 * rows + 0.5), layout="constrained")
        ax.axis("off")
        if n == 0:
            ax.text(0.5, 0.5, "no misclassified test images", ha="center", va="center")
        else:
            tiles = np.stack([as_image(np.asarray(img), image_shape) for img in images])
            h, w = tiles.shape[1:3]
            caption = h * 2 // 3  # room above each row for three lines of text
            canvas = montage(tiles, cols, gap=max(2, w // 7), row_gap=caption, fill=np.nan)
            canvas = np.vstack([np.full((caption, *canvas.shape[1:]), np.nan), canvas])
            colour = tiles.ndim == 4
            ax.imshow(
                np.nan_to_num(canvas, nan=1.0) if colour else canvas,
                cmap=plt.get_cmap("gray_r").with_extremes(bad="white"),
                interpolation="nearest",
            )
            gap = max(2, w // 7)
            for j, (t, p, i) in enumerate(zip(true, pred, index, strict=False)):
                r, c = divmod(j, cols)
                ax.text(
                    c * (w + gap) + w / 2,
                    r * (h + caption) + caption - 1,
                    f"true: {classes[int(t)]}\npredicted: {classes[int(p)]}\n(test #{int(i)})",
                    ha="center",
                    va="bottom",
                    fontsize=8,
                )
        fig.suptitle(title)
    save(fig, str(path))
    return path
