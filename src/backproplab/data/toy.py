"""The cs231n two-layer-net toy problem: 5 samples of 4 features, 3 classes (generated, not downloaded).

Made exactly as the cs231n / HLCV notebook makes it: ``np.random.seed(1); X = 10 * np.random.randn(5, 4);
y = [0, 1, 2, 2, 1]`` (NumPy's legacy Mersenne-Twister stream, so the values equal the course's). The toy problem
has no held-out data: its ``test`` split is the same 5 samples, so that a run's test metrics show the fit.
"""

from __future__ import annotations

import numpy as np

from .raw import RawData

TOY_LABELS = (0, 1, 2, 2, 1)


def toy_arrays(num_inputs: int = 4, num_samples: int = 5, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``X = 10 * randn(num_samples, num_inputs)`` from ``RandomState(seed)`` (float64) and the labels ``y``."""
    X = 10.0 * np.random.RandomState(seed).randn(num_samples, num_inputs)
    y = np.array([TOY_LABELS[i % len(TOY_LABELS)] for i in range(num_samples)], dtype=np.int64)
    return X, y


def load_toy() -> RawData:
    X, y = toy_arrays()
    return RawData(
        train_X=X,
        train_y=y,
        test_X=X.copy(),
        test_y=y.copy(),
        classes=("class 0", "class 1", "class 2"),
        source="generated (cs231n toy data: RandomState(1), X = 10 * randn(5, 4))",
        pixel_max=1.0,
    )
