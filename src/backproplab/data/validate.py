"""Checks of image and label arrays as read from disk; every message names where the array came from.

Labels are integer class indices in [0, K), K the number of classes the dataset declares: a float label is never
truncated and an out-of-range label is never taken as a new class. Images are a non-empty ``(N, D)`` array of
finite numbers; for files of pixels they must lie in [0, pixel_max].
"""

from __future__ import annotations

import numpy as np

from ..errors import DatasetError


def check_labels(y: np.ndarray, num_classes: int, where: str, hint: str = "") -> np.ndarray:
    """``y`` as int64 ``(N,)``; `DatasetError` naming the first row outside [0, num_classes) (``hint`` appended)."""
    if y.ndim != 1:
        raise DatasetError(f"{where}: labels must be a 1-D array (N,); got shape {y.shape}")
    if y.dtype.kind not in "iu":
        raise DatasetError(f"{where}: labels must be integers; got dtype {y.dtype}")
    outside = np.flatnonzero((y < 0) | (y >= num_classes))
    if outside.size:
        row = int(outside[0])
        more = f" and {outside.size - 1} more rows outside that range" if outside.size > 1 else ""
        raise DatasetError(
            f"{where}: labels must be in [0, {num_classes - 1}]; found {y[row]} at row {row}{more} "
            f"(the dataset has {num_classes} classes){hint}"
        )
    return y.astype(np.int64, copy=False)


def check_images(X: np.ndarray, where: str, pixel_max: float | None = None) -> np.ndarray:
    """``X`` unchanged if it is a non-empty ``(N, D)`` array of finite numbers (in [0, ``pixel_max``] when given)."""
    if X.ndim != 2:
        raise DatasetError(f"{where}: images must be a 2-D array (N, D); got shape {X.shape}")
    if X.dtype.kind not in "iuf":
        raise DatasetError(f"{where}: images must be numbers; got dtype {X.dtype}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise DatasetError(f"{where}: no images (shape {X.shape}); expected at least one image of at least one value")
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        raise DatasetError(f"{where}: images contain NaN or infinite values")
    if pixel_max is not None:
        lo, hi = X.min(), X.max()
        if lo < 0 or hi > pixel_max:
            raise DatasetError(f"{where}: pixel values must be in [0, {pixel_max:g}]; found values in [{lo}, {hi}]")
    return X
