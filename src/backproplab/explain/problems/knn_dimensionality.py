"""``knn-dimensionality``: section C's curse of dimensionality for k-NN, as a table (and a PNG plot) over d."""

from __future__ import annotations

from pathlib import Path

from ...classic.dimensionality import curse_of_dimensionality, plot_dimensionality
from ..document import Derivation

DIMS = (1, 2, 3, 5, 10, 20, 50, 100)
EDGE = 0.1
FRACTION = 0.1


def build(plots: Path | None = None) -> Derivation:
    rows = curse_of_dimensionality(DIMS, EDGE, FRACTION)
    d = Derivation(
        "knn-dimensionality",
        "k-NN and the curse of dimensionality",
        "Section C. Points uniform in the unit cube [0, 1]^d. A neighbourhood spanning 10% of every "
        "dimension holds only 0.1^d of the points; a cube holding 10% of the points needs side "
        "0.1^(1/d), which tends to the whole range: in high dimensions 'nearest' neighbours are not near.",
    )
    sec = d.section("Table over d")
    sec.table(
        "dimensions",
        [
            "d",
            f"fraction within {EDGE:g} per dimension ({EDGE:g}^d)",
            f"side for {FRACTION:.0%} of the points ({FRACTION:g}^(1/d))",
        ],
        [[r.d, r.fraction_inside, r.side_needed] for r in rows],
    )
    if plots is not None:
        path = plot_dimensionality(rows, Path(plots) / "knn-dimensionality.png", EDGE, FRACTION)
        sec.figure("figure", str(path), "fraction inside and side needed over d")
    return d
