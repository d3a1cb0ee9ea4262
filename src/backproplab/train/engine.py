"""Which engine trains a `fit` run: the compiled kernels (`backproplab.fast`), or the modules themselves on
the model's backend (NumPy or torch)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import fast
from ..errors import EngineError
from ..nn.batchnorm import BatchNorm
from ..nn.dropout import Dropout
from ..nn.losses import Loss
from ..nn.module import Module
from ..nn.regularization import Regularizer
from ..optim.optimizer import Optimizer

ENGINES = ("auto", "fast", "numpy", "torch")
_warned_no_numba = False

# The mini-batch kernel's first layer works per example over its nonzero inputs, while NumPy's BLAS multiplies
# the dense batch faster per operation: the kernel wins only when most inputs are 0. The threshold comes from
# measurements (docs/performance.md, "Where `auto` takes the mini-batch kernel").
AUTO_MINIBATCH_MAX_NONZERO = 0.25
_DENSITY_ROWS = 2000


def nonzero_fraction(X: Any) -> float:
    """Fraction of nonzero entries of ``X`` ``(N, D)``, from at most 2,000 evenly spaced rows."""
    n = len(X)
    rows = X if n <= _DENSITY_ROWS else X[np.linspace(0, n - 1, _DENSITY_ROWS).astype(np.int64)]
    return float(np.count_nonzero(rows)) / max(rows.size, 1)


def _needs_layer_trainer(model: Module, augment: Any) -> bool:
    """Whether the run uses something only `fast.LayerTrainer` compiles: BatchNorm, Dropout, an augmentation."""
    return augment is not None or any(isinstance(m, BatchNorm | Dropout) for m in model.modules())


def choose_engine(
    requested: str,
    model: Module,
    loss: Loss,
    optimizer: Optimizer,
    regularizers: Sequence[Regularizer],
    batch_size: int,
    X: Any,
    y: Any,
    augment: Callable[[Any, Any], tuple[Any, Any]] | None = None,
) -> str:
    """``"fast"``, ``"numpy"`` or ``"torch"``: the engine that trains this run.

    A torch model trains module by module on torch (``"torch"``): the fast engine and its NumPy-only work
    buffers are for NumPy models. For a NumPy model ``auto`` takes the fast engine whenever it supports the run
    (model, loss, optimizer, penalties, dtypes) and numba imports: the per-example kernels at batch size 1 always
    and at larger batch sizes only when at most `AUTO_MINIBATCH_MAX_NONZERO` of the training inputs are nonzero
    (where the compiled kernel is faster); `fast.LayerTrainer` for mini-batch runs with BatchNorm, Dropout or a
    batch ``augment``, which the kernels cannot train; else ``"numpy"`` (warning once per process when only
    numba is missing).
    An engine asked for by name that cannot train the run raises `EngineError` saying why (``fast``: naming every
    unsupported thing), or ImportError when ``fast`` lacks numba.
    """
    if requested not in ENGINES:
        raise ValueError(f"engine: expected 'auto', 'fast', 'numpy' or 'torch'; got {requested!r}")
    backend = model.backend
    if backend != "numpy":
        if requested in ("auto", backend):
            return backend
        why = (
            "the fast engine's compiled kernels train NumPy models only"
            if requested == "fast"
            else f"engine={requested!r} trains NumPy models"
        )
        raise EngineError(
            f"engine={requested!r} cannot train this run: the model is on {model.placement} and "
            f"{why}. Use engine='auto' (module by module on {backend}), or model.to('numpy') first."
        )
    if requested == "torch":
        raise EngineError(
            "engine='torch' trains torch models; this model is on numpy (cpu): move it with "
            "model.to('torch') first, or use engine='auto'"
        )
    if requested == "numpy":
        return "numpy"
    reasons = fast.unsupported(model, loss, optimizer, regularizers, batch_size, X, y)
    if augment is not None:
        reasons.append("a batch augmentation")
    layer_reasons = fast.layer_unsupported(model, optimizer, regularizers, batch_size, X) if reasons else []
    if requested == "fast":
        if reasons and layer_reasons:
            raise EngineError(
                "engine='fast' cannot train this run: "
                + "; ".join(reasons)
                + f". The fast engine supports {fast.SUPPORTED_TEXT}; for mini-batches also "
                f"{fast.LAYER_TEXT}, which this run does not fit either: "
                + "; ".join(layer_reasons)
                + ". Use engine='auto' (falls back to NumPy) or engine='numpy'."
            )
        if not fast.numba_available():
            raise ImportError(
                "engine='fast' needs the 'numba' package, which cannot be imported: "
                "pip install 'numba>=0.60' (or use engine='numpy')"
            )
        return "fast"
    if reasons and (layer_reasons or not _needs_layer_trainer(model, augment)):
        return "numpy"
    if not reasons and int(batch_size) > 1 and nonzero_fraction(X) > AUTO_MINIBATCH_MAX_NONZERO:
        return "numpy"
    if not fast.numba_available():
        global _warned_no_numba
        if not _warned_no_numba:
            _warned_no_numba = True
            warnings.warn(
                "numba cannot be imported, so fit(engine='auto') trains with the slower NumPy engine; "
                "pip install 'numba>=0.60' for the fast batch-size-1 engine",
                stacklevel=3,
            )
        return "numpy"
    return "fast"
