"""Weight initialisers. Each returns an array of shape ``(fan_in, fan_out)`` (Dense layout).

- ``glorot_uniform``: U(-u, u), u = sqrt(6 / (fan_in + fan_out))
- ``glorot_normal``:  N(0, s^2), s = sqrt(2 / (fan_in + fan_out))
- ``he_uniform``:     U(-u, u), u = sqrt(6 / fan_in)
- ``he_normal``:      N(0, s^2), s = sqrt(2 / fan_in)
- ``fan_in_uniform``: U(-u, u), u = 1 / sqrt(fan_in) (PyTorch's ``nn.Linear`` default: Kaiming uniform with a = sqrt(5))
- ``normal``:         std * N(0, 1) (cs231n style; ``std`` defaults to 0.01)
- ``zeros``:          all zero
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._text import did_you_mean
from ..errors import ConfigError

Initializer = Callable[[tuple[int, int], np.random.Generator, Any], np.ndarray]


def as_rng(rng: np.random.Generator | np.random.RandomState | int | None) -> np.random.Generator:
    """A `numpy.random.Generator` from a generator, a seed, or None (fresh entropy).

    A legacy `numpy.random.RandomState` passes through unchanged (it has the same ``uniform`` and
    ``standard_normal``), so courses' ``np.random.seed(s); std * randn(...)`` weights can be reproduced exactly.
    """
    if isinstance(rng, np.random.Generator | np.random.RandomState):
        return rng  # type: ignore[return-value]
    return np.random.default_rng(rng)


def _uniform(u: float, shape: tuple[int, int], rng: np.random.Generator, dtype: Any) -> np.ndarray:
    """U(-u, u) draws of ``shape`` in ``dtype`` (drawn in float64, then rounded)."""
    return rng.uniform(-u, u, size=shape).astype(dtype)


def glorot_uniform(shape: tuple[int, int], rng: np.random.Generator, dtype: Any = np.float32) -> np.ndarray:
    return _uniform(np.sqrt(6.0 / (shape[0] + shape[1])), shape, rng, dtype)


def glorot_normal(shape: tuple[int, int], rng: np.random.Generator, dtype: Any = np.float32) -> np.ndarray:
    return (np.sqrt(2.0 / (shape[0] + shape[1])) * rng.standard_normal(shape)).astype(dtype)


def he_uniform(shape: tuple[int, int], rng: np.random.Generator, dtype: Any = np.float32) -> np.ndarray:
    return _uniform(np.sqrt(6.0 / shape[0]), shape, rng, dtype)


def he_normal(shape: tuple[int, int], rng: np.random.Generator, dtype: Any = np.float32) -> np.ndarray:
    return (np.sqrt(2.0 / shape[0]) * rng.standard_normal(shape)).astype(dtype)


def fan_in_uniform(shape: tuple[int, int], rng: np.random.Generator, dtype: Any = np.float32) -> np.ndarray:
    return _uniform(1.0 / np.sqrt(shape[0]), shape, rng, dtype)


def normal(shape: tuple[int, int], rng: np.random.Generator, dtype: Any = np.float32, std: float = 0.01) -> np.ndarray:
    return (std * rng.standard_normal(shape)).astype(dtype)


def zeros(shape: tuple[int, int], rng: np.random.Generator, dtype: Any = np.float32) -> np.ndarray:
    return np.zeros(shape, dtype=dtype)


INITIALIZERS: dict[str, Callable[..., np.ndarray]] = {
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "fan_in_uniform": fan_in_uniform,
    "normal": normal,
    "zeros": zeros,
}
# Common spellings from other libraries and course texts.
ALIASES = {
    "xavier_uniform": "glorot_uniform",
    "xavier_normal": "glorot_normal",
    "xavier": "glorot_uniform",
    "torch_default": "fan_in_uniform",
}


def initialize(
    init: str | Callable[..., np.ndarray],
    shape: tuple[int, int],
    rng: np.random.Generator,
    dtype: Any,
    std: float | None = None,
) -> np.ndarray:
    """Draw initial weights of ``shape`` with the named (or callable) initialiser."""
    if callable(init):
        return np.asarray(init(shape, rng, dtype), dtype=dtype)
    name = ALIASES.get(init, init)
    if name not in INITIALIZERS:
        raise ConfigError(
            f"init: expected one of {sorted(INITIALIZERS)}; got {init!r}{did_you_mean(init, [*INITIALIZERS, *ALIASES])}"
        )
    if name == "normal":
        return normal(shape, rng, dtype, std=0.01 if std is None else std)
    if std is not None:
        raise ConfigError(f"init_std is only used by init='normal'; got init={init!r} with init_std={std}")
    return INITIALIZERS[name](shape, rng, dtype)
