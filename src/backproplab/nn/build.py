"""`mlp`: build the usual Dense/activation stack from layer sizes; `activation` and `loss` by name.

`ACTIVATIONS` and `LOSSES` are the registries of those names: the run config, the command line and the model
files all read them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._memory import check_memory
from .._text import did_you_mean
from ..errors import ConfigError
from .activations import ELU, Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from .batchnorm import BatchNorm
from .dense import Dense
from .dropout import Dropout
from .init import as_rng
from .losses import MSE, Loss, SoftmaxCrossEntropy
from .module import Module, Sequential

ACTIVATIONS: dict[str, Callable[..., Module]] = {
    "sigmoid": Sigmoid,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "tanh": Tanh,
    "identity": Identity,
}
# The losses a run config can name (the others need a matching output layer, which `mlp` does not build).
LOSSES: dict[str, Callable[..., Loss]] = {
    "softmax_cross_entropy": SoftmaxCrossEntropy,
    "mse": MSE,
}


def activation(name: str, **options: Any) -> Module:
    """An activation module by name (``sigmoid``, ``relu``, ``leaky_relu``, ``elu``, ``tanh``, ``identity``).

    Options: ``alpha`` for ELU, ``slope`` for LeakyReLU.
    """
    key = name.lower().replace("-", "_")
    if key not in ACTIVATIONS:
        raise ConfigError(
            f"activation: expected one of {sorted(ACTIVATIONS)}; got {name!r}{did_you_mean(name, ACTIVATIONS)}"
        )
    return ACTIVATIONS[key](**options)


def loss(name: str) -> Loss:
    """A loss by its config name (`LOSSES`): ``softmax_cross_entropy`` or ``mse``."""
    if name not in LOSSES:
        raise ConfigError(f"loss: expected one of {sorted(LOSSES)}; got {name!r}{did_you_mean(name, LOSSES)}")
    return LOSSES[name]()


def mlp(
    sizes: Sequence[int],
    activation_name: str = "sigmoid",
    *,
    activation_options: dict[str, Any] | None = None,
    dropout: float = 0.0,
    batch_norm: bool = False,
    init: str = "glorot_uniform",
    init_std: float | None = None,
    seed: int | np.random.Generator | np.random.RandomState | None = 0,
    dtype: Any = np.float32,
) -> Sequential:
    """``Dense [-> BatchNorm] -> act [-> Dropout] -> ... -> Dense`` through ``sizes`` (e.g. ``[784, 256, 10]``).

    The last layer has no activation: it outputs logits for `SoftmaxCrossEntropy`. With ``batch_norm`` every
    hidden Dense layer is followed by a `BatchNorm` and has no bias (the normalisation would cancel it; its
    beta takes the bias's place). Weights are drawn from one generator seeded by ``seed``, layer by layer, so
    the same seed gives the same network.
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        raise ConfigError(f"mlp sizes must be >= 2 positive integers (input, ..., output); got {sizes}")
    _check_fits(sizes, dtype)
    rng = as_rng(seed)
    if dropout:
        draw = rng.integers(2**63) if isinstance(rng, np.random.Generator) else rng.randint(2**31)
        dropout_rng = np.random.default_rng(draw)
    else:
        dropout_rng = None
    layers: list[Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        hidden = i < len(sizes) - 2
        layers.append(
            Dense(fan_in, fan_out, bias=not (hidden and batch_norm), init=init, init_std=init_std, rng=rng, dtype=dtype)
        )
        if hidden:
            if batch_norm:
                layers.append(BatchNorm(fan_out, dtype=dtype))
            layers.append(activation(activation_name, **(activation_options or {})))
            if dropout:
                layers.append(Dropout(dropout, rng=dropout_rng))
    return Sequential(*layers)


def _check_fits(sizes: list[int], dtype: Any) -> None:
    """`ResourceError` before allocating when the weights, biases and their gradients do not fit in memory."""
    count = sum(fan_in * fan_out + fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=False))
    try:
        itemsize = np.dtype(dtype).itemsize
    except TypeError:  # a dtype of another array library
        itemsize = int(getattr(dtype, "itemsize", 8))
    check_memory(
        2 * count * itemsize,
        f"model {'-'.join(map(str, sizes))} ({count:,} parameters of {itemsize} bytes, and as many gradients)",
    )
