"""The fast engine: SGD for MLPs as one numba-compiled loop per epoch, at batch size 1 (`example_kernel`) or in
mini-batches (`minibatch_kernel`).

`unsupported(...)` says what a run needs that the kernels cannot do; `FastTrainer` trains epochs with them;
`LayerTrainer` trains mini-batches of MLPs with BatchNorm, Dropout or a batch augmentation (BLAS products and
compiled elementwise steps; `layer_unsupported` says what it cannot do); `make_trainer` picks one of the two;
`numba_available()` is the import check `fit(engine="auto")` uses to fall back to NumPy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from ..nn.losses import Loss
from ..nn.module import Module
from ..nn.regularization import Regularizer
from ..optim.optimizer import Optimizer
from .fast_trainer import FastTrainer  # imports numba only when a FastTrainer is created
from .layer_trainer import LAYER_TEXT, LayerTrainer, layer_unsupported
from .plan import SUPPORTED_TEXT, Plan, unsupported


@functools.cache
def numba_available() -> bool:
    """True when numba imports (the fast engine's only extra requirement); checked once per process."""
    try:
        import numba  # noqa: F401
    except Exception:  # not installed, or installed but broken (e.g. built for another NumPy)
        return False
    return True


def make_trainer(
    model: Module,
    loss: Loss,
    optimizer: Optimizer,
    regularizers: Sequence[Regularizer],
    X: Any,
    y: Any,
    batch_size: int,
    augment: Callable[[Any, Any], tuple[Any, Any]] | None = None,
) -> FastTrainer | LayerTrainer:
    """The per-example/sparse kernels (`FastTrainer`) when they support the run, else `LayerTrainer` (its
    elementwise kernels on one thread, whatever the BLAS's count: see `LayerTrainer`)."""
    if augment is None and not unsupported(model, loss, optimizer, regularizers, batch_size, X, y):
        return FastTrainer(model, loss, optimizer, regularizers, X, y, batch_size)  # type: ignore[arg-type]
    return LayerTrainer(model, loss, optimizer, regularizers, X, y, batch_size, augment)


__all__ = [
    "LAYER_TEXT",
    "SUPPORTED_TEXT",
    "FastTrainer",
    "LayerTrainer",
    "Plan",
    "layer_unsupported",
    "make_trainer",
    "numba_available",
    "unsupported",
]
