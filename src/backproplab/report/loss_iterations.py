"""The training loss per iteration (HLCV exercise 2's loss curve): the batch losses as training went."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..train.history_plot import SPLIT_COLORS
from .style import new_figure, save


def plot_loss_per_iteration(
    iterations: Sequence[int],
    losses: Sequence[float],
    every: int,
    path: Path,
    *,
    title: str,
    epoch_ends: Sequence[tuple[int, float]] = (),
) -> Path:
    """``losses[j]`` at iteration ``iterations[j]`` (the mean of the ``every`` batch losses up to it) as a line;
    ``epoch_ends`` = (iteration, loss of the whole training set) at the end of each epoch, as markers. A
    non-finite loss (the batch at which training diverged) is a red cross on the top edge."""
    x = np.asarray(iterations, dtype=np.int64)
    y = np.asarray(losses, dtype=np.float64)
    finite = np.isfinite(y)
    fig, ax = new_figure()
    label = "batch loss" if every == 1 else f"mean batch loss of every {every} iterations"
    ax.plot(x, np.where(finite, y, np.nan), linewidth=0.8, alpha=0.8, color=SPLIT_COLORS["train"], label=label)
    ends = [(i, v) for i, v in epoch_ends if np.isfinite(v)]
    if ends:
        ax.plot(
            [i for i, _ in ends],
            [v for _, v in ends],
            "o",
            markersize=4,
            color="black",
            label="whole training set, end of epoch",
        )
    if not finite.all():
        ax.plot(
            x[~finite],
            np.ones(int((~finite).sum())),
            "x",
            color="red",
            markersize=9,
            clip_on=False,
            transform=ax.get_xaxis_transform(),
            label="loss NaN or infinite (diverged)",
        )
    ax.set_xlabel("iteration (optimizer step)")
    ax.set_ylabel("training loss")
    ax.set_title(title)
    if x.size:
        ax.set_xlim(0, 1.02 * max(int(x.max()), 1))
    ax.legend()
    save(fig, str(path))
    return path
