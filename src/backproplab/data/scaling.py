"""Feature scaling. Statistics always come from the training split and are applied to every split.

- ``unit``:        x / pixel_max, in [0, 1]
- ``centered``:    x / pixel_max - 0.5, in [-0.5, 0.5] (the WPI course)
- ``mean``:        x - mean, the mean image of the train split subtracted, pixel units kept (cs231n / HLCV)
- ``standardize``: (u - mean) / std per feature, u the unit-scaled value, mean and std of the train split
                   (features with std < 1e-8, e.g. always-black border pixels, keep std 1)
- ``none``:        values as stored
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .._text import did_you_mean
from ..errors import ConfigError

SCALES = ("unit", "centered", "mean", "standardize", "none")
ScaleName = Literal["unit", "centered", "mean", "standardize", "none"]  # = SCALES, for type checkers


@dataclass(frozen=True)
class Scaler:
    """An affine map x -> (x - shift) * factor fitted on training data (``shift``/``factor`` scalars or (D,))."""

    kind: str
    shift: Any
    factor: Any

    def __call__(self, X: np.ndarray, dtype: Any = np.float32) -> np.ndarray:
        out = X.astype(dtype, copy=True)
        out -= np.asarray(self.shift, dtype=dtype)
        out *= np.asarray(self.factor, dtype=dtype)
        return out

    def describe(self) -> dict[str, Any]:
        if np.ndim(self.shift) == 0:
            return {"scale": self.kind, "shift": float(self.shift), "factor": float(self.factor)}
        return {"scale": self.kind, "per_feature": True}


def fit_scaler(kind: str, train_X: np.ndarray, pixel_max: float) -> Scaler:
    if kind not in SCALES:
        raise ConfigError(f"scale: expected one of {list(SCALES)}; got {kind!r}{did_you_mean(kind, SCALES)}")
    if kind == "none":
        return Scaler(kind, 0.0, 1.0)
    if kind == "unit":
        return Scaler(kind, 0.0, 1.0 / pixel_max)
    if kind == "centered":
        return Scaler(kind, 0.5 * pixel_max, 1.0 / pixel_max)
    if kind == "mean":
        return Scaler(kind, train_X.astype(np.float64).mean(axis=0), 1.0)
    unit = train_X.astype(np.float64) / pixel_max
    mean = unit.mean(axis=0)
    std = unit.std(axis=0)
    std[std < 1e-8] = 1.0
    return Scaler(kind, mean * pixel_max, 1.0 / (std * pixel_max))
