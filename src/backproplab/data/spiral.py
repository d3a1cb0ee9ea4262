"""The cs231n spiral toy set: K interleaved spiral arms in 2-D, one class per arm."""

from __future__ import annotations

import numpy as np

from .raw import RawData


def spiral(n_per_class: int, num_classes: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Arm k: radius r in [0, 1], angle t = 4k + 4r + noise * N(0, 1); x = r (sin t, cos t)."""
    X = np.empty((n_per_class * num_classes, 2))
    y = np.repeat(np.arange(num_classes, dtype=np.int64), n_per_class)
    for k in range(num_classes):
        r = np.linspace(0.0, 1.0, n_per_class)
        t = np.linspace(4.0 * k, 4.0 * (k + 1), n_per_class) + noise * rng.standard_normal(n_per_class)
        X[k * n_per_class : (k + 1) * n_per_class] = np.c_[r * np.sin(t), r * np.cos(t)]
    return X, y


def load_spiral(n_per_class: int = 100, num_classes: int = 3, noise: float = 0.2, seed: int = 0) -> RawData:
    """Train and test sets drawn from independent streams of the same seed."""
    train_rng, test_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    train_X, train_y = spiral(n_per_class, num_classes, noise, train_rng)
    test_X, test_y = spiral(n_per_class, num_classes, noise, test_rng)
    return RawData(
        train_X=train_X,
        train_y=train_y,
        test_X=test_X,
        test_y=test_y,
        classes=tuple(f"arm {k}" for k in range(num_classes)),
        source=f"generated (spiral, seed={seed})",
        pixel_max=1.0,
    )
