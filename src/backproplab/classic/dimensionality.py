"""The curse of dimensionality for k-NN (section C): how little of a d-dimensional unit cube is "near".

For points uniform in [0, 1]^d:
- the fraction inside a sub-cube whose side is 10% of each dimension's range is ``0.1^d``;
- the side a sub-cube needs to hold 10% of the points is ``0.1^(1/d)`` (of the full range).
Both percentages are parameters (``edge`` and ``fraction``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DimensionRow:
    d: int
    fraction_inside: float  # edge ** d
    side_needed: float  # fraction ** (1 / d)


def curse_of_dimensionality(dims: Sequence[int], edge: float = 0.1, fraction: float = 0.1) -> list[DimensionRow]:
    """One row per dimension ``d`` in ``dims``."""
    if not 0 < edge <= 1 or not 0 < fraction <= 1:
        raise ValueError(f"edge and fraction must be in (0, 1]; got edge={edge}, fraction={fraction}")
    rows = []
    for d in dims:
        if int(d) < 1:
            raise ValueError(f"dimensions must be >= 1; got {d}")
        rows.append(DimensionRow(int(d), edge ** int(d), fraction ** (1.0 / int(d))))
    return rows


def plot_dimensionality(
    rows: Sequence[DimensionRow], path: str | Path, edge: float = 0.1, fraction: float = 0.1
) -> Path:
    """Two panels over d: the fraction inside the small cube (log scale) and the side needed. Writes a PNG."""
    from .plotting import new_figure, save

    fig, (left, right) = new_figure(ncols=2, width=9.0, height=3.6)
    d = [r.d for r in rows]
    left.semilogy(d, [r.fraction_inside for r in rows], marker="o")
    left.set_xlabel("dimension d")
    left.set_ylabel(f"fraction of points within {edge:g} per dimension")
    left.set_title(f"{edge:g}^d")
    right.plot(d, [r.side_needed for r in rows], marker="o", color="#d62728")
    right.set_ylim(0, 1.05)
    right.set_xlabel("dimension d")
    right.set_ylabel(f"cube side holding {fraction:.0%} of the points")
    right.set_title(f"{fraction:g}^(1/d)")
    return save(fig, path)
