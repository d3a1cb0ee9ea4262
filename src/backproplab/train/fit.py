"""`fit`: mini-batch training with per-epoch evaluation on whole sets, callbacks, interrupts and resume."""

from __future__ import annotations

import functools
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._xp import to_numpy
from ..backend import as_inputs, no_grad
from ..data.augment import Augment
from ..data.split import train_validation_indices
from ..errors import ShapeError
from ..fast import FastTrainer, LayerTrainer, make_trainer
from ..nn.losses import Loss
from ..nn.module import Module
from ..nn.regularization import Regularizer, as_regularizers, total_penalty
from ..optim.optimizer import Optimizer
from . import interrupts
from .callbacks import Callback, Position, TrainingState
from .checkpoint import TrainingSnapshot
from .device_data import DeviceData, on_device_if_fits
from .divergence import TerminateOnDivergence
from .engine import choose_engine
from .history import History
from .iterations import BatchLossLog, resolve_every, training_length
from .metrics import as_arrays, evaluate
from .progress import Progress, format_epoch_line
from .threads import AUTO, Threads, blas_threads, largest_product, resolve_threads


@dataclass
class EpochResult:
    """What one pass over the training data reports back to `fit`."""

    batches: int
    mean_batch_loss: float
    bad_batch: int | None = None  # 1-based index of the batch whose loss was NaN/inf, if any
    loss_total: float = 0.0  # sum of the batch losses so far (for a pass stopped mid-epoch)
    stopped_at: int | None = None  # steps taken when a stop request ended the pass early, if it did
    losses: Any = ()  # the batch loss of each step this pass took (the NaN/inf one included)


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
            raise ValueError(
                f"training labels must be in [0, {k - 1}] for a model with {k} outputs; got labels in [{lo}, {hi}]"
            )


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
        if y is None:
            raise ValueError(
                f"eval set {name!r} has no labels, so it cannot be scored; predict it instead "
                "(backproplab.predict(model, X))"
            )
        if len(X) != len(y) or len(X) == 0:
            raise ValueError(f"eval set {name!r} must be a non-empty Dataset or (X, y) pair of equal length")
        sets[str(name)] = (to_numpy(X), to_numpy(y))
    return sets


def train_epoch(
    model: Module,
    loss: Loss,
    optimizer: Optimizer,
    regs: Sequence[Regularizer],
    data: DeviceData,
    batch_size: int,
    order: Any,
    progress: Progress,
    start: Position | None = None,
    steps: int | None = None,
    augment: Augment | None = None,
) -> EpochResult:
    """One pass over ``data`` in ``order`` (None: file order; else `DeviceData.order` of a permutation), or its
    first ``steps`` steps: [``augment``,] forward, loss, backward (the first layer skips dL/dx:
    ``need_input_grad=False``), penalty, step; from ``start.step`` with ``start.loss_total`` when the pass
    continues one that was stopped.
    A stop request (`interrupts`) ends the pass between two steps."""
    num_batches = steps or math.ceil(len(data) / batch_size)
    every = progress.every
    params = model.parameters()
    total = start.loss_total if start is not None else 0.0
    losses: list[float] = []
    for b in range(start.step if start is not None else 0, num_batches):
        if interrupts.requested() is not None:
            return EpochResult(b, total / max(b, 1), loss_total=total, stopped_at=b, losses=losses)
        xb, yb = data.batch(b * batch_size, batch_size, order)
        if augment is not None:
            xb, yb = data.augmented(augment, xb, yb)
        value = loss.forward(model.forward(xb, training=True), yb)
        losses.append(value)
        if not math.isfinite(value):
            return EpochResult(b + 1, total / max(b, 1), bad_batch=b + 1, losses=losses)
        total += value
        model.backward(loss.backward(), need_input_grad=False)
        for reg in regs:
            reg.add_gradient(params)
        optimizer.step()
        if (b + 1) % every == 0:
            progress.advance(every, value)
    return EpochResult(num_batches, total / num_batches, loss_total=total, losses=losses)


def train_epoch_fast(
    trainer: FastTrainer | LayerTrainer,
    order: np.ndarray | None,
    progress: Progress,
    num_steps: int,
    start: Position | None = None,
    steps: int | None = None,
) -> EpochResult:
    """One pass (or its first ``steps`` steps) through the compiled engine (`backproplab.fast.FastTrainer` or
    `LayerTrainer`) in chunks of 1% of the pass's ``num_steps`` (whatever the verbosity, so the batch losses always
    add up in the same order); a stop request ends the pass between two chunks. The progress bar, if any, advances
    after every chunk."""
    use_bar = progress.bar is not None
    first = start.step if start is not None else 0
    end = steps or num_steps
    total, taken, bad, stopped = trainer.run_epoch(
        order,
        max(1, num_steps // 100),
        progress.advance if use_bar else None,
        start=first,
        total=start.loss_total if start is not None else 0.0,
        should_stop=lambda: interrupts.requested() is not None,
        stop=end,
    )
    if bad is not None:
        return EpochResult(bad, total / max(bad - 1, 1), bad_batch=bad, losses=trainer.losses[first:bad])
    if stopped is not None:
        return EpochResult(
            stopped, total / max(stopped, 1), loss_total=total, stopped_at=stopped, losses=trainer.losses[first:stopped]
        )
    return EpochResult(end, total / end, loss_total=total, losses=trainer.losses[first:end])


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
    epochs: int | None = None,
    iterations: int | None = None,
    batch_size: int = 32,
    shuffle: bool = True,
    seed: int = 0,
    eval_sets: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
    validation_size: float | int | None = None,
    callbacks: Sequence[Callback] = (),
    verbose: int = 1,
    regularizer: Regularizer | Sequence[Regularizer] | None = None,
    eval_train: bool = True,
    engine: str = "auto",
    resume: TrainingSnapshot | None = None,
    loss_every: int | str = "auto",
    validation_split: float | int | None = None,
    augment: Augment | None = None,
    threads: Threads = None,
) -> History:
    """Train ``model`` with mini-batch gradient descent and return its `History`.

    Each epoch visits every training example once, in file order (``shuffle=False``) or in a permutation
    drawn from ``seed``. For each batch: outputs = model(x), L = loss(outputs, y) (mean over the batch),
    backward, add the weight-penalty gradient, optimizer step. At the end of each epoch the training set
    (``eval_train``) and every eval set are evaluated *whole* in evaluation mode: ``train_loss`` is recomputed
    on the full training set, not averaged over the epoch's batches (that running average is kept as
    ``batch_loss``). With a regularizer, ``train_objective`` = ``train_loss`` + penalty is recorded too.
    The batch losses themselves, as training goes, are ``History.iterations`` / ``History.batch_losses``.

    Training follows the model's backend (``model.to("torch", device=...)``): the data stay NumPy arrays (or
    tensors) on the caller's side and fit moves them to the model's device, the whole training set once when it
    fits in device memory, else batch by batch; on torch everything runs under ``torch.no_grad()``.

    Args:
        train: a `Dataset` or ``(X, y)``; ``X`` ``(N, D)``, ``y`` labels ``(N,)`` or rows ``(N, K)``.
        epochs, iterations: how long to train, exactly one of them: ``epochs`` passes over the training set,
            or ``iterations`` optimizer steps (ceil(iterations / steps per epoch) passes, the last one cut
            short; each pass, also the cut one, ends with the evaluation of an epoch).
        loss_every: record the training loss every k iterations (`backproplab.train.iterations`): the mean of
            the last k batch losses; ``"auto"``: every ceil(total iterations / 10000), so every iteration
            in runs of up to 10,000 steps.
        eval_sets: ``{"test": test_set, ...}``; metrics are logged as ``test_loss``, ``test_acc``.
        validation_size: a count (or fraction) of ``train`` held out, deterministically in ``seed``, and
            evaluated as ``val`` (the config's ``data.validation_size``, the CLI's ``--validation-size``;
            ``validation_split`` is its old, deprecated name).
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
        resume: a `TrainingSnapshot` (``TrainingSnapshot.load(path)``) written by a `Checkpoint` callback of the
            same call: training continues from it, and the final weights, History and metrics are bit-identical
            to those of a run that never stopped (``engine="auto"`` takes the checkpoint's engine).
        augment: a callable ``(X, y) -> (X', y')`` applied to every training batch before the forward pass,
            never to evaluation (`backproplab.data.augment`: `RandomShift`, `Mixup`, `Compose`); its generator
            state (``state_dict``) is part of every checkpoint.
        threads: threads of NumPy's BLAS while training and evaluating: a positive int, ``"auto"`` (the
            fastest count measured now on the run's largest matrix product, see `train.threads`; what
            ``backproplab run/train/sweep`` use by default; a resumed run takes its checkpoint's count) or None
            (default: leave the BLAS as it is, so that `evaluate` after `fit` computes the same bits as fit's last
            evaluation). ``History.params["threads"]`` records the count used.

    Ctrl-C (or SIGTERM) stops training at the next step boundary (a second Ctrl-C at once): `fit` then calls each
    callback's ``on_interrupt`` and ``on_train_end`` and returns the History of the complete epochs with
    ``interrupted=True``; a `Checkpoint` callback saves the state at that boundary.
    """
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size}")
    batch_size = int(batch_size)
    training_length(epochs, iterations, 1)  # one of the two, >= 1; checked before the data
    X, y = as_arrays(train)
    X, y = to_numpy(X), None if y is None else to_numpy(y)
    _check_training_data(X, y, model)
    sets = _eval_sets(eval_sets)
    if validation_split is not None:
        warnings.warn("fit(validation_split=...) is now fit(validation_size=...)", DeprecationWarning, stacklevel=3)
        validation_size = validation_split if validation_size is None else validation_size
    if validation_size is not None:
        if "val" in sets:
            raise ValueError("validation_size and an eval set named 'val' cannot both be given")
        tr, va = train_validation_indices(len(X), validation_size, seed)
        sets = {"val": (X[va], y[va]), **sets}
        X, y = X[tr], y[tr]
    num_steps = math.ceil(len(X) / batch_size)
    epochs, total_steps = training_length(epochs, iterations, num_steps)
    every = resolve_every(loss_every, total_steps)
    regs = as_regularizers(regularizer)
    params = model.parameters()
    engine = choose_engine(
        resume.engine if resume is not None and engine == "auto" else engine,
        model,
        loss,
        optimizer,
        regs,
        batch_size,
        X,
        y,
        augment,
    )
    if resume is not None and threads == AUTO:
        threads = resume.history.get("params", {}).get("threads") or AUTO
    threads = resolve_threads(threads, *largest_product(params, batch_size), X.dtype)
    trainer = make_trainer(model, loss, optimizer, regs, X, y, batch_size, augment) if engine == "fast" else None
    data = DeviceData(model, X, y, batch_size)
    sets = {name: on_device_if_fits(model, *xy) for name, xy in sets.items()}
    history = History(
        params={
            "epochs": epochs,
            "batch_size": batch_size,
            "shuffle": shuffle,
            "seed": seed,
            "train_size": len(X),
            "optimizer": repr(optimizer),
            "loss": repr(loss),
            "regularizer": [repr(r) for r in regs],
            "backend": model.backend,
            "device": model.device,
            "iterations": iterations,
            "loss_every": every,
            "threads": threads,
            "augment": None if augment is None else repr(augment),
        },
        engine=engine,
    )
    batch_log = BatchLossLog(history, every)
    if not any(isinstance(cb, TerminateOnDivergence) for cb in callbacks):
        callbacks = [TerminateOnDivergence(), *callbacks]
    callbacks = sorted(callbacks, key=lambda cb: bool(getattr(cb, "runs_last", False)))  # stable
    rng = np.random.default_rng(seed)
    state = TrainingState(
        model,
        loss,
        optimizer,
        history,
        epochs,
        train_data=(data.X, data.y),
        callbacks=callbacks,
        shuffle_rng=rng,
        augment=augment,
    )
    if resume is not None:
        resume.check_fits(history.params, engine, callbacks)
    progress = Progress(verbose, epochs)
    report_sets = (["train"] if eval_train else []) + list(sets)

    with (
        np.errstate(over="ignore", invalid="ignore", divide="ignore"),
        interrupts.stop_on_signals(),
        blas_threads(threads),
    ):
        for cb in callbacks:
            cb.on_train_begin(state)
        start = resume.restore(state) if resume is not None else Position(1, shuffle_state=rng.bit_generator.state)
        batch_log.total, batch_log.count = start.window_loss, start.window_steps
        for epoch in range(start.epoch, epochs + 1):
            if state.stop_training:  # resumed from the checkpoint of a run that had already stopped
                break
            within = start if epoch == start.epoch and start.step else None  # continuing a stopped epoch
            lr = optimizer.set_epoch(epoch - 1)
            for cb in callbacks:
                cb.on_epoch_begin(state, epoch)
            started = time.perf_counter()
            shuffle_state = rng.bit_generator.state
            order = rng.permutation(len(X)) if shuffle else None
            done = (epoch - 1) * num_steps  # iterations before this epoch
            steps = min(num_steps, total_steps - done)
            progress.start_epoch(epoch, steps, done=within.step if within else 0)
            if trainer is not None:
                result = train_epoch_fast(trainer, order, progress, num_steps, within, steps)
            else:
                result = train_epoch(
                    model, loss, optimizer, regs, data, batch_size, data.order(order), progress, within, steps, augment
                )
            batch_log.add(result.losses, done + (within.step if within else 0) + 1)
            state.bad_batch = result.bad_batch
            train_seconds = time.perf_counter() - started + (within.seconds if within else 0.0)
            if result.stopped_at is not None:
                state.position = Position(
                    epoch, result.stopped_at, result.loss_total, shuffle_state, train_seconds, *batch_log.window
                )
                history.interrupted = True
                break
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
            record["iteration"] = done + result.batches
            record["train_seconds"] = train_seconds
            record["seconds"] = time.perf_counter() - started
            history.append(record)
            state.position = Position(
                epoch + 1,
                shuffle_state=rng.bit_generator.state,
                window_loss=batch_log.total,
                window_steps=batch_log.count,
            )
            progress.end_epoch(format_epoch_line(epoch, epochs, record, report_sets))
            for cb in callbacks:
                cb.on_epoch_end(state, epoch, record)
            if state.stop_training:
                history.stop_reason = state.stop_reason
                if state.stop_reason:
                    progress.message(state.stop_reason)
                break
        if not history.interrupted and history.last.get("iteration") is not None:
            batch_log.flush(history.last["iteration"])  # the steps since the last point, if any
        if history.interrupted:
            progress.message(
                f"Interrupted in epoch {state.position.epoch} after {state.position.step} of "
                f"{num_steps} steps; the History holds the {len(history)} complete epoch(s)."
            )
            for cb in callbacks:
                cb.on_interrupt(state)
        for cb in callbacks:
            cb.on_train_end(state)
    return history
