"""`fit`: mini-batch training with per-epoch evaluation on whole sets and callbacks."""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._xp import to_numpy
from ..backend import as_inputs, no_grad
from ..data.split import train_validation_indices
from ..errors import ShapeError
from ..fast import FastTrainer
from ..nn.losses import Loss
from ..nn.module import Module
from ..nn.regularization import Regularizer, as_regularizers, total_penalty
from ..optim.optimizer import Optimizer
from .callbacks import Callback, TrainingState
from .device_data import DeviceData, on_device_if_fits
from .divergence import TerminateOnDivergence
from .engine import choose_engine
from .history import History
from .metrics import as_arrays, evaluate
from .progress import Progress, format_epoch_line


@dataclass
class EpochResult:
    """What one pass over the training data reports back to `fit`."""

    batches: int
    mean_batch_loss: float
    bad_batch: int | None = None  # 1-based index of the batch whose loss was NaN/inf, if any


def _check_training_data(X: Any, y: Any, model: Module) -> None:
    if X is None or y is None:
        raise ValueError("fit needs training features and labels: a Dataset or an (X, y) pair")
    if getattr(X, "ndim", None) != 2:
        raise ShapeError(f"training X must be 2-D (N, D); got shape {getattr(X, 'shape', type(X).__name__)}")
    if len(X) == 0:
        raise ValueError("training set is empty")
    if len(y) != len(X):
        raise ShapeError(f"training set has {len(X)} rows in X but {len(y)} targets in y")
    if np.issubdtype(np.asarray(X).dtype, np.floating) and not _all_finite(X):
        raise ValueError("training X contains NaN or infinite values")
    outputs = model.forward(as_inputs(X[:1], model.placement, model.dtype), training=False)
    if y.ndim == 1 and np.issubdtype(y.dtype, np.integer):
        k = outputs.shape[1]
        lo, hi = int(y.min()), int(y.max())
        if (lo < 0 or hi >= k) and k > 1:
            raise ValueError(f"training labels must be in [0, {k - 1}] for a model with {k} outputs; "
                             f"got labels in [{lo}, {hi}]")


def _all_finite(X: np.ndarray) -> bool:
    """Whether every entry of ``X`` is finite. A NaN or infinity makes its column's sum non-finite, so finite
    column sums (one read of X, no N x D mask) settle it; only if some sum is not finite (which finite but
    huge values can also cause) is every entry checked."""
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(X.sum(axis=0)).all():
            return True
    return bool(np.isfinite(X).all())


def _eval_sets(eval_sets: Any) -> dict[str, tuple[Any, Any]]:
    if eval_sets is None:
        return {}
    items = eval_sets.items() if isinstance(eval_sets, Mapping) else eval_sets
    sets: dict[str, tuple[Any, Any]] = {}
    for name, data in items:
        if name == "train":
            raise ValueError("eval set name 'train' is reserved for the training set itself")
        X, y = as_arrays(data)
        if y is None or len(X) != len(y) or len(X) == 0:
            raise ValueError(f"eval set {name!r} must be a non-empty Dataset or (X, y) pair of equal length")
        sets[str(name)] = (to_numpy(X), to_numpy(y))
    return sets


def train_epoch(model: Module, loss: Loss, optimizer: Optimizer, regs: Sequence[Regularizer], data: DeviceData,
                batch_size: int, order: Any, progress: Progress) -> EpochResult:
    """One pass over ``data`` in ``order`` (None: file order; else `DeviceData.order` of a permutation):
    forward, loss, backward (the first layer skips dL/dx: ``need_input_grad=False``), penalty, step."""
    num_batches = math.ceil(len(data) / batch_size)
    every = progress.every
    params = model.parameters()
    total = 0.0
    for b in range(num_batches):
        xb, yb = data.batch(b * batch_size, batch_size, order)
        value = loss.forward(model.forward(xb, training=True), yb)
        if not math.isfinite(value):
            return EpochResult(b + 1, total / max(b, 1), bad_batch=b + 1)
        total += value
        model.backward(loss.backward(), need_input_grad=False)
        for reg in regs:
            reg.add_gradient(params)
        optimizer.step()
        if (b + 1) % every == 0:
            progress.advance(every, value)
    return EpochResult(num_batches, total / num_batches)


def train_epoch_fast(trainer: FastTrainer, order: np.ndarray | None, progress: Progress) -> EpochResult:
    """One batch-size-1 pass through the compiled kernel (`backproplab.fast.FastTrainer`); the progress bar,
    if any, advances every ``progress.every`` steps with the mean loss of those steps."""
    use_bar = progress.bar is not None
    total, steps, bad = trainer.run_epoch(order, progress.every if use_bar else None,
                                          progress.advance if use_bar else None)
    if bad is not None:
        return EpochResult(bad, total / max(bad - 1, 1), bad_batch=bad)
    return EpochResult(steps, total / steps)


def _without_autograd(train: Callable[..., History]) -> Callable[..., History]:
    """Run ``train(model, ...)`` under ``torch.no_grad()`` when the model is on torch (nothing for NumPy)."""

    @functools.wraps(train)
    def wrapper(model: Module, *args: Any, **kwargs: Any) -> History:
        with no_grad(model.placement):
            return train(model, *args, **kwargs)

    return wrapper


@_without_autograd
def fit(
    model: Module,
    loss: Loss,
    optimizer: Optimizer,
    train: Any,
    *,
    epochs: int,
    batch_size: int = 32,
    shuffle: bool = True,
    seed: int = 0,
    eval_sets: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
    validation_split: float | int | None = None,
    callbacks: Sequence[Callback] = (),
    verbose: int = 1,
    regularizer: Regularizer | Sequence[Regularizer] | None = None,
    eval_train: bool = True,
    engine: str = "auto",
) -> History:
    """Train ``model`` with mini-batch gradient descent and return its `History`.

    Each epoch visits every training example once, in file order (``shuffle=False``) or in a permutation
    drawn from ``seed``. For each batch: outputs = model(x), L = loss(outputs, y) (mean over the batch),
    backward, add the weight-penalty gradient, optimizer step. At the end of each epoch the training set
    (``eval_train``) and every eval set are evaluated *whole* in evaluation mode: ``train_loss`` is recomputed
    on the full training set, not averaged over the epoch's batches (that running average is kept as
    ``batch_loss``). With a regularizer, ``train_objective`` = ``train_loss`` + penalty is recorded too.

    Training follows the model's backend (``model.to("torch", device=...)``): the data stay NumPy arrays (or
    tensors) on the caller's side and fit moves them to the model's device, the whole training set once when it
    fits in device memory, else batch by batch; on torch everything runs under ``torch.no_grad()``.

    Args:
        train: a `Dataset` or ``(X, y)``; ``X`` ``(N, D)``, ``y`` labels ``(N,)`` or rows ``(N, K)``.
        eval_sets: ``{"test": test_set, ...}``; metrics are logged as ``test_loss``, ``test_acc``.
        validation_split: a fraction (or count) of ``train`` held out, deterministically in ``seed``, and
            evaluated as ``val``.
        callbacks: `Callback` objects. A `TerminateOnDivergence` (default settings) is added when none is
            given: divergence stops training with a message, sets ``History.diverged`` and gives the model
            back its weights from before the diverging epoch.
        verbose: 0 silent, 1 progress bar on a terminal (else one line per epoch), 2 one line per epoch.
        engine: ``"auto"`` (default) trains NumPy models with the compiled kernels of `backproplab.fast` when
            they support the run (Dense/elementwise-activation MLP, softmax-CE or MSE, SGD, L2/L1; batch sizes
            above 1 only for mostly-zero inputs, see `engine.choose_engine`) and module by module otherwise
            (``"numpy"``), and torch models module by module (``"torch"``); ``"fast"``, ``"numpy"`` and
            ``"torch"`` insist (`EngineError` saying why not). The engines compute the same steps;
            ``History.engine`` says which one ran.
    """
    if int(epochs) < 1:
        raise ValueError(f"epochs must be >= 1; got {epochs}")
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size}")
    epochs, batch_size = int(epochs), int(batch_size)
    X, y = as_arrays(train)
    X, y = to_numpy(X), to_numpy(y)
    _check_training_data(X, y, model)
    sets = _eval_sets(eval_sets)
    if validation_split is not None:
        if "val" in sets:
            raise ValueError("validation_split and an eval set named 'val' cannot both be given")
        tr, va = train_validation_indices(len(X), validation_split, seed)
        sets = {"val": (X[va], y[va]), **sets}
        X, y = X[tr], y[tr]
    regs = as_regularizers(regularizer)
    params = model.parameters()
    engine = choose_engine(engine, model, loss, optimizer, regs, batch_size, X, y)
    trainer = FastTrainer(model, loss, optimizer, regs, X, y, batch_size) if engine == "fast" else None
    data = DeviceData(model, X, y, batch_size)
    sets = {name: on_device_if_fits(model, *xy) for name, xy in sets.items()}
    history = History(params={"epochs": epochs, "batch_size": batch_size, "shuffle": shuffle, "seed": seed,
                              "train_size": len(X), "optimizer": repr(optimizer), "loss": repr(loss),
                              "regularizer": [repr(r) for r in regs], "backend": model.backend,
                              "device": model.device}, engine=engine)
    state = TrainingState(model, loss, optimizer, history, epochs, train_data=(data.X, data.y))
    if not any(isinstance(cb, TerminateOnDivergence) for cb in callbacks):
        callbacks = [TerminateOnDivergence(), *callbacks]
    progress = Progress(verbose, epochs)
    rng = np.random.default_rng(seed)
    report_sets = (["train"] if eval_train else []) + list(sets)

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for cb in callbacks:
            cb.on_train_begin(state)
        for epoch in range(1, epochs + 1):
            lr = optimizer.set_epoch(epoch - 1)
            for cb in callbacks:
                cb.on_epoch_begin(state, epoch)
            started = time.perf_counter()
            order = rng.permutation(len(X)) if shuffle else None
            progress.start_epoch(epoch, math.ceil(len(X) / batch_size))
            if trainer is not None:
                result = train_epoch_fast(trainer, order, progress)
            else:
                result = train_epoch(model, loss, optimizer, regs, data, batch_size, data.order(order), progress)
            state.bad_batch = result.bad_batch
            train_seconds = time.perf_counter() - started
            record: dict[str, Any] = {"epoch": epoch}
            if eval_train:
                m = evaluate(model, loss, data.X, data.y)
                record["train_loss"], record["train_acc"] = m["loss"], m["accuracy"]
            if regs:
                penalty = total_penalty(regs, params)
                record["penalty"] = penalty
                if eval_train:
                    record["train_objective"] = record["train_loss"] + penalty
            for name, (Xs, ys) in sets.items():
                m = evaluate(model, loss, Xs, ys)
                record[f"{name}_loss"], record[f"{name}_acc"] = m["loss"], m["accuracy"]
            record["batch_loss"] = result.mean_batch_loss
            record["lr"] = lr
            record["train_seconds"] = train_seconds
            record["seconds"] = time.perf_counter() - started
            history.append(record)
            progress.end_epoch(format_epoch_line(epoch, epochs, record, report_sets))
            for cb in callbacks:
                cb.on_epoch_end(state, epoch, record)
            if state.stop_training:
                history.stop_reason = state.stop_reason
                if state.stop_reason:
                    progress.message(state.stop_reason)
                break
        for cb in callbacks:
            cb.on_train_end(state)
    return history
