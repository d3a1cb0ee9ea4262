"""Deterministic train/validation split."""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError


def train_validation_indices(n: int, validation_size: int | float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, validation)`` of a random split of ``n`` rows, each kept in file order.

    ``validation_size`` is a count (e.g. 10000 for MNIST's 50k/10k) or a fraction in (0, 1). The same
    ``(n, validation_size, seed)`` always gives the same split.
    """
    if isinstance(validation_size, float) and 0 < validation_size < 1:
        count = int(round(validation_size * n))
    else:
        count = int(validation_size)
    if not 0 < count < n:
        raise ConfigError(f"validation_size: must leave both parts non-empty for {n} rows "
                          f"(a count in [1, {n - 1}] or a fraction in (0, 1)); got {validation_size}")
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[count:]), np.sort(perm[:count])
