"""Softmax with a sharpness constant c (section D): softmax(c z)_j = e^(c z_j) / sum_k e^(c z_k).

c = 1/T for a temperature T. Large c (low temperature) pushes the output towards a one-hot vector at the
largest z (a "hard" max); c -> 0 makes it uniform. The order of the outputs never changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..nn.softmax import softmax
from .document import Derivation


def softmax_temperature(z: Any, c: float = 1.0) -> np.ndarray:
    """``softmax(c z)`` over the last axis, by the library's stable softmax."""
    return softmax(float(c) * np.asarray(z, dtype=np.float64), axis=-1)


def temperature_derivation(
    z: Sequence[float] = (1.0, 2.0, 3.0), cs: Sequence[float] = (1.0, 10.0), name: str = "softmax-temperature"
) -> Derivation:
    """The softmax of ``z`` for each c in ``cs``: c z, the probabilities, the largest one and the entropy."""
    zv = np.asarray(z, dtype=np.float64)
    d = Derivation(
        name,
        "Softmax with a constant c: softmax(c z)",
        "Section D: a_j = e^(c z_j) / sum_k e^(c z_k). Larger c sharpens the distribution towards the "
        "largest z; c = 1 is the usual softmax.",
    )
    d.section("Given").quantity("z", zv)
    for c in cs:
        sec = d.section(f"c = {c:g}")
        tag = f"c={c:g}"
        sec.quantity(f"c z ({tag})", float(c) * zv, "c * z", name="c z")
        p = softmax_temperature(zv, c)
        sec.quantity(f"softmax(c z) ({tag})", p, "e^(c z_j) / sum_k e^(c z_k)", name="a = softmax(c z)")
        sec.quantity(f"max_j a_j ({tag})", float(p.max()), name="max_j a_j", note=f"at j = {int(np.argmax(p)) + 1}")
        nz = p[p > 0]
        sec.quantity(
            f"entropy ({tag})", float(-(nz * np.log2(nz)).sum()) + 0.0, "-sum_j a_j log2 a_j", name="H(a)", note="bits"
        )
    d.section("Reading").note(
        "The larger c, the closer softmax(c z) is to the one-hot vector of argmax z; the "
        "ranking of the outputs is the same for every c > 0."
    )
    return d
