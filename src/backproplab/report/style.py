"""Matplotlib set-up shared by every plot: a non-interactive backend (outside Jupyter) and one readable style."""

from __future__ import annotations

import sys

import matplotlib

if "ipykernel" not in sys.modules:  # in Jupyter, keep its inline backend (reports close every figure they draw)
    matplotlib.use("Agg")  # files only: no display needed (and none exists on a server)

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 10,
    "axes.titlesize": 11,
    "legend.frameon": False,
}


def new_figure(width: float = 6.4, height: float = 4.2) -> tuple[Figure, plt.Axes]:
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return fig, ax


def save(fig: Figure, path: str) -> str:
    """Write ``fig`` as PNG atomically (a reader never sees half a file) and close it."""
    from .._io import atomic_write

    try:
        with plt.rc_context(STYLE):
            atomic_write(path, lambda fh: fig.savefig(fh, format="png"))
    finally:
        plt.close(fig)
    return path
