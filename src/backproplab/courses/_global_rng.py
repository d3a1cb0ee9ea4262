"""The generator behind ``np.random.seed`` / ``np.random.randn``, for courses that draw from it."""

from __future__ import annotations

import numpy as np


def global_rng() -> np.random.RandomState:
    """NumPy's global `RandomState` (the one ``np.random.seed`` seeds; scikit-learn's
    ``check_random_state(None)`` returns the same object). Drawing weights from it reproduces a course's
    ``np.random.seed(0); W = std * np.random.randn(...)`` exactly."""
    return np.random.mtrand._rand
