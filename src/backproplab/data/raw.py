"""`RawData`: a dataset's train and test arrays as stored, before splitting and scaling."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DatasetError


@dataclass(frozen=True, eq=False)
class RawData:
    """Arrays as read from disk. ``pixel_max`` is the value that maps to 1.0 under ``unit`` scaling."""

    train_X: np.ndarray
    train_y: np.ndarray
    test_X: np.ndarray
    test_y: np.ndarray
    classes: tuple[str, ...]
    source: str
    pixel_max: float = 255.0
    image_shape: tuple[int, ...] | None = None
    files: tuple[Path, ...] = field(default=())

    def __post_init__(self) -> None:
        for split, X, y in (("train", self.train_X, self.train_y), ("test", self.test_X, self.test_y)):
            check_pair(X, y, len(self.classes), f"{self.source} ({split})")


def check_pair(X: np.ndarray, y: np.ndarray, num_classes: int, where: str) -> None:
    """Raise `DatasetError` unless X is (N, D) finite numbers and y holds N labels in [0, num_classes)."""
    if X.ndim != 2:
        raise DatasetError(f"{where}: images must be a 2-D array (N, D); got shape {X.shape}")
    if y.ndim != 1:
        raise DatasetError(f"{where}: labels must be a 1-D array (N,); got shape {y.shape}")
    if X.shape[0] != y.shape[0]:
        raise DatasetError(f"{where}: {X.shape[0]} images but {y.shape[0]} labels; the counts must match")
    if not (np.issubdtype(y.dtype, np.integer)):
        raise DatasetError(f"{where}: labels must be integers; got dtype {y.dtype}")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise DatasetError(f"{where}: labels must be in [0, {num_classes - 1}]; "
                           f"found values in [{y.min()}, {y.max()}]")
    if np.issubdtype(X.dtype, np.floating) and not np.isfinite(X).all():
        raise DatasetError(f"{where}: images contain NaN or infinite values")
    if not (np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)):
        raise DatasetError(f"{where}: images must be numbers; got dtype {X.dtype}")
