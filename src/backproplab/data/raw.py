"""`RawData`: a dataset's train and test arrays as stored, before splitting and scaling."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DatasetError
from .validate import check_images, check_labels


@dataclass(frozen=True, eq=False)
class RawData:
    """Arrays as read from disk. ``pixel_max`` is the value that maps to 1.0 under ``unit`` scaling.
    ``test_y`` is None for a test set given without labels."""

    train_X: np.ndarray
    train_y: np.ndarray
    test_X: np.ndarray
    test_y: np.ndarray | None
    classes: tuple[str, ...]
    source: str
    pixel_max: float = 255.0
    image_shape: tuple[int, ...] | None = None
    files: tuple[Path, ...] = field(default=())

    def __post_init__(self) -> None:
        check_pair(self.train_X, self.train_y, len(self.classes), f"{self.source} (train)")
        if self.test_y is None:
            check_images(self.test_X, f"{self.source} (test)")
        else:
            check_pair(self.test_X, self.test_y, len(self.classes), f"{self.source} (test)")
        if self.train_X.shape[1] != self.test_X.shape[1]:
            raise DatasetError(
                f"{self.source}: training images have {self.train_X.shape[1]} values each but test "
                f"images have {self.test_X.shape[1]}; both splits must have the same features"
            )


def check_pair(X: np.ndarray, y: np.ndarray, num_classes: int, where: str) -> None:
    """Raise `DatasetError` unless X is (N, D) finite numbers and y holds N labels in [0, num_classes)."""
    check_images(X, where)
    if y.ndim == 1 and X.shape[0] != y.shape[0]:
        raise DatasetError(f"{where}: {X.shape[0]} images but {y.shape[0]} labels; the counts must match")
    check_labels(y, num_classes, where)
