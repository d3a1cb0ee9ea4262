"""`Dataset`: features and labels of one split, with the names and provenance a report needs."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


@dataclass(frozen=True, eq=False)
class Dataset:
    """One split of a dataset.

    Attributes:
        X: features, float ``(N, D)`` (float32 unless asked otherwise).
        y: integer class labels, int64 ``(N,)``; None for a split given without labels (a course's test set,
            whose labels only the instructor has): it can be predicted, not scored.
        classes: the class names, indexed by label.
        name: dataset name (``"fashion-mnist"``, ``"mnist"``, ...).
        split: ``"train"``, ``"validation"`` or ``"test"``.
        source: where the data came from (a directory or file path, or ``"generated"``).
        image_shape: shape of one example as an image (``(28, 28)``, ``(3, 32, 32)``) or None.
        meta: scaling statistics, split seed and other details.
    """

    X: np.ndarray
    y: np.ndarray | None
    classes: tuple[str, ...]
    name: str = ""
    split: str = ""
    source: str = ""
    image_shape: tuple[int, ...] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.X.ndim != 2:
            raise ValueError(f"Dataset X must be 2-D (N, D); got shape {self.X.shape}")
        if self.y is not None and self.y.shape != (self.X.shape[0],):
            raise ValueError(f"Dataset y must have shape ({self.X.shape[0]},) to match X; got {self.y.shape}")

    def __len__(self) -> int:
        return int(self.X.shape[0])

    @property
    def labeled(self) -> bool:
        return self.y is not None

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def num_features(self) -> int:
        return int(self.X.shape[1])

    def subset(self, index: Any) -> Dataset:
        """Rows selected by a slice, an index array or a boolean mask."""
        return replace(self, X=self.X[index], y=None if self.y is None else self.y[index])

    def take(self, n: int | None) -> Dataset:
        """The first ``n`` rows (all of them for None)."""
        return self if n is None or n >= len(self) else self.subset(slice(0, int(n)))

    def astype(self, dtype: Any) -> Dataset:
        return replace(self, X=self.X.astype(dtype))

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, split={self.split!r}, X={self.X.shape} {self.X.dtype}, "
            f"classes={self.num_classes}, source={self.source!r}{'' if self.labeled else ', no labels'})"
        )
