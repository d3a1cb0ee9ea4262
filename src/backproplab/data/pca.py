"""PCA to a fraction of the variance: fitted on the training split, applied to every split.

With the training rows X ``(N, D)``, mean ``mu`` ``(D,)`` and the SVD ``X - mu = U S V^T``, the variance
explained by component i is ``S_i^2 / sum_j S_j^2``. The first k components with cumulative explained variance
>= ``variance`` are kept; a split is projected as ``(X - mu) @ V[:k].T`` ``(N, k)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError


@dataclass(frozen=True)
class PCA:
    """``mean`` ``(D,)``, ``components`` ``(k, D)`` (orthonormal rows), ``explained`` the variance fraction kept,
    ``ratios`` ``(min(N, D),)`` the fraction of the variance along each principal direction of the training rows
    (all of them, largest first: their cumulative sum is the curve the kept count was read from)."""

    mean: np.ndarray
    components: np.ndarray
    explained: float
    ratios: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def num_components(self) -> int:
        return int(self.components.shape[0])

    def __repr__(self) -> str:
        return (
            f"PCA({self.components.shape[1]} -> {self.num_components} components, "
            f"{100 * self.explained:.1f}% of the variance)"
        )

    def __call__(self, X: np.ndarray, dtype: Any = None) -> np.ndarray:
        """Project ``X`` ``(N, D)`` to ``(N, k)`` (in ``dtype``, default X's)."""
        out = (np.asarray(X, dtype=np.float64) - self.mean) @ self.components.T
        return out.astype(dtype or X.dtype)

    def describe(self) -> dict[str, Any]:
        return {"pca_components": self.num_components, "pca_explained_variance": self.explained}

    def curve(self, variance: float) -> dict[str, Any]:
        """What the cumulative-explained-variance plot shows (JSON-able): the fraction asked for, the
        components kept, the variance they keep, and every component's ratio."""
        return {
            "variance": float(variance),
            "components": self.num_components,
            "explained": self.explained,
            "ratios": self.ratios.tolist(),
        }


def fit_pca(X: np.ndarray, variance: float) -> PCA:
    """The smallest PCA of ``X`` ``(N, D)`` that keeps at least ``variance`` (0 < variance <= 1) of its variance."""
    if not 0 < variance <= 1:
        raise ConfigError(f"data.pca_variance: expected a fraction in (0, 1]; got {variance!r}")
    X64 = np.asarray(X, dtype=np.float64)
    if X64.ndim != 2 or X64.shape[0] < 2:
        raise ConfigError(f"PCA needs at least 2 training rows of shape (N, D); got {X64.shape}")
    mean = X64.mean(axis=0)
    _, s, vt = np.linalg.svd(X64 - mean, full_matrices=False)
    var = s**2
    total = var.sum()
    if total == 0:
        raise ConfigError("PCA: the training rows are all equal; there is no variance to keep")
    cumulative = np.cumsum(var) / total
    # the tolerance keeps variance = 1.0 from asking for more than the rounding-limited cumulative sum reaches
    k = int(min(np.searchsorted(cumulative, variance - 1e-12) + 1, len(s)))
    return PCA(mean=mean, components=vt[:k], explained=float(cumulative[k - 1]), ratios=var / total)
