"""HLCV exercise 2's PCA plot: cumulative explained variance against the number of principal components."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..train.history_plot import SPLIT_COLORS
from .style import new_figure, save


def plot_explained_variance(
    ratios: Sequence[float], variance: float, components: int, path: Path, *, title: str
) -> Path:
    """The cumulative sum of ``ratios`` (each component's fraction of the training rows' variance, largest
    first) against the number of components, with the fraction asked for and the ``components`` kept."""
    cumulative = np.cumsum(np.asarray(ratios, dtype=np.float64))
    k = np.arange(1, len(cumulative) + 1)
    fig, ax = new_figure()
    ax.plot(k, 100 * cumulative, color=SPLIT_COLORS["train"], linewidth=1.5, label="cumulative explained variance")
    ax.axhline(100 * variance, color="grey", linestyle="--", linewidth=1, label=f"asked for: {100 * variance:g}%")
    kept = 100 * cumulative[components - 1] if 0 < components <= len(cumulative) else float("nan")
    ax.axvline(
        components,
        color=SPLIT_COLORS["test"],
        linestyle=":",
        linewidth=1.2,
        label=f"kept: {components} components ({kept:.2f}%)",
    )
    ax.set_xlabel("number of principal components")
    ax.set_ylabel("cumulative explained variance (%)")
    if len(k) > 50:
        ax.set_xscale("log")
    ax.set_xlim(1, max(len(k), 2))
    ax.set_ylim(min(100 * float(cumulative[0]), 100 * variance) - 5 if len(k) else 0, 101)
    ax.set_title(title)
    ax.legend(loc="lower right")
    save(fig, str(path))
    return path
