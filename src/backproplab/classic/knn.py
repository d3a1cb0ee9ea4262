"""k-nearest-neighbour classification with Euclidean distance.

Neighbours are the ``k`` training points closest to the query; equal distances are ordered by training index.
The prediction is the majority class among them. Tie rule: if several classes share the largest count, the
winner is the tied class of the nearest neighbour (walking the neighbours from nearest to farthest), so k-NN
with a tie falls back to the closest of the tied classes, never to an arbitrary one.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class KNNClassifier:
    """``KNNClassifier(k).fit(X, y).predict(Q)``; ``X`` ``(N, D)``, ``y`` ``(N,)``, ``Q`` ``(M, D)``."""

    def __init__(self, k: int = 1) -> None:
        if int(k) < 1:
            raise ValueError(f"k must be >= 1; got {k}")
        self.k = int(k)
        self.X: np.ndarray | None = None
        self.y: np.ndarray | None = None

    def fit(self, X: Any, y: Any) -> KNNClassifier:
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y)
        if X.ndim != 2:
            raise ValueError(f"X must be (N, D); got shape {X.shape}")
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},) to match X; got {y.shape}")
        if self.k > X.shape[0]:
            raise ValueError(f"k = {self.k} is larger than the {X.shape[0]} training points")
        self.X, self.y = X, y
        return self

    def _queries(self, Q: Any) -> np.ndarray:
        if self.X is None:
            raise RuntimeError("call fit(X, y) before predicting")
        Q = np.asarray(Q, dtype=np.float64)
        Q = Q[None, :] if Q.ndim == 1 else Q
        if Q.ndim != 2 or Q.shape[1] != self.X.shape[1]:
            raise ValueError(f"queries must be (M, {self.X.shape[1]}); got shape {Q.shape}")
        return Q

    def kneighbors(self, Q: Any) -> tuple[np.ndarray, np.ndarray]:
        """``(distances, indices)``, each ``(M, k)``, nearest first; equal distances by training index."""
        Q = self._queries(Q)
        assert self.X is not None
        d = np.sqrt(np.maximum(((Q[:, None, :] - self.X[None, :, :]) ** 2).sum(axis=2), 0.0))
        idx = np.argsort(d, axis=1, kind="stable")[:, : self.k]
        return np.take_along_axis(d, idx, axis=1), idx

    def predict(self, Q: Any) -> np.ndarray:
        _, idx = self.kneighbors(Q)
        assert self.y is not None
        out = []
        for row in idx:
            labels = self.y[row]
            values, counts = np.unique(labels, return_counts=True)
            tied = set(values[counts == counts.max()].tolist())
            out.append(next(lab for lab in labels if lab.item() in tied))  # nearest neighbour of a tied class
        return np.asarray(out, dtype=self.y.dtype)
