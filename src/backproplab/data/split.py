"""Deterministic train/validation split."""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError


def train_validation_indices(n: int, validation_size: int | float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, validation)`` of a random split of ``n`` rows, each kept in file order.

    ``validation_size`` is a count (e.g. 10000 for MNIST's 50k/10k) or a fraction in (0, 1). The same
    ``(n, validation_size, seed)`` always gives the same split.
    """
    expected = f"a count in [1, {n - 1}] or a fraction in (0, 1)"
    if isinstance(validation_size, float) and 0 < validation_size < 1:
        count = int(round(validation_size * n))
    elif float(validation_size).is_integer():  # False for 99.5, NaN and inf: never truncate silently
        count = int(validation_size)
    else:
        raise ConfigError(f"validation_size: expected {expected}; got {validation_size}")
    if not 0 < count < n:
        raise ConfigError(
            f"validation_size: must leave both parts non-empty for {n} rows ({expected}); got {validation_size}"
        )
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[count:]), np.sort(perm[:count])
