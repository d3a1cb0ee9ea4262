"""Evaluation helpers: `evaluate`, `predict`, `predict_proba`, `accuracy`, `confusion_matrix`, `metric_prefix`."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._xp import namespace, to_numpy
from ..backend import as_inputs, as_targets, no_grad
from ..data.dataset import Dataset
from ..nn.losses import BinaryCrossEntropy, Loss
from ..nn.module import Module, Sequential
from ..nn.softmax import Softmax, softmax

DEFAULT_EVAL_BATCH = 2048


def metric_prefix(split: str) -> str:
    """The name a split's metrics carry: ``"validation"`` -> ``"val"`` (``val_loss``, as `fit`'s
    ``validation_size`` set is named); every other split keeps its name (``test_acc``, ``train_loss``)."""
    return "val" if split == "validation" else split


def as_arrays(data: Any, y: Any = None, what: str = "data") -> tuple[np.ndarray, np.ndarray | None]:
    """``(X, y)`` from a `Dataset`, a ``(X, y)`` pair, or ``X`` and ``y`` given separately."""
    if isinstance(data, Dataset):
        return data.X, data.y
    if isinstance(data, tuple | list) and len(data) == 2 and y is None:
        return data[0], data[1]
    return data, y


def _batches(n: int, batch_size: int) -> range:
    return range(0, n, max(1, int(batch_size)))


def outputs_of(model: Module, X: Any, batch_size: int = DEFAULT_EVAL_BATCH) -> Any:
    """Model outputs for all of ``X`` (any backend) in evaluation mode (no caches, dropout off), computed in
    chunks on the model's backend and device; the outputs stay there."""
    placement, dtype = model.placement, model.dtype
    with no_grad(placement):
        chunks = [
            model.forward(as_inputs(X[s : s + batch_size], placement, dtype), training=False)
            for s in _batches(len(X), batch_size)
        ]
    return chunks[0] if len(chunks) == 1 else namespace(*chunks).concat(chunks)


def predicted_labels(outputs: Any, loss: Loss | None = None) -> Any:
    """Class predictions (on the outputs' backend): argmax over outputs, or ``z > 0`` for one binary-cross-entropy
    output column."""
    xp = namespace(outputs)
    if isinstance(loss, BinaryCrossEntropy) and outputs.shape[1] == 1:
        return xp.astype(outputs[:, 0] > 0, xp.int64)
    return xp.argmax(outputs, axis=1)


def _label_targets(y: Any) -> Any:
    return y if y.ndim == 1 else namespace(y).argmax(y, axis=1)


def evaluate(
    model: Module,
    loss: Loss,
    X: Any,
    y: Any = None,
    batch_size: int = DEFAULT_EVAL_BATCH,
    *,
    predictions: bool = False,
) -> dict[str, Any]:
    """Mean loss and accuracy of ``model`` over the whole of ``(X, y)``, in evaluation mode.

    Returns ``{"loss": L, "accuracy": a, "n": N}``; L is the loss averaged over all N examples (chunks are
    weighted by their size, so the result does not depend on ``batch_size``). With ``predictions=True`` also
    ``"predictions"``: the predicted labels ``(N,)`` int64 (NumPy) from the same forward pass. ``X`` and ``y``
    may be NumPy arrays or tensors; each chunk goes to the model's backend and device.
    """
    X, y = as_arrays(X, y)
    if y is None:
        raise ValueError("evaluate needs targets y (or a Dataset / (X, y) pair)")
    n = len(X)
    if n == 0:
        raise ValueError("evaluate got an empty dataset")
    placement, dtype = model.placement, model.dtype
    total, correct = 0.0, 0
    labels = np.empty(n, dtype=np.int64) if predictions else None
    with no_grad(placement), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for s in _batches(n, batch_size):
            xb = as_inputs(X[s : s + batch_size], placement, dtype)
            yb = as_targets(y[s : s + batch_size], placement, dtype)
            out = model.forward(xb, training=False)
            total += loss.forward(out, yb) * len(xb)
            pred = predicted_labels(out, loss)
            if labels is not None:
                labels[s : s + len(xb)] = to_numpy(pred)
            xp = namespace(out)
            if isinstance(loss, BinaryCrossEntropy) and out.shape[1] > 1:
                correct += int(xp.sum((out > 0) == (yb > 0.5))) / out.shape[1]
            else:
                correct += int(xp.sum(pred == _label_targets(yb)))
    result: dict[str, Any] = {"loss": total / n, "accuracy": correct / n, "n": n}
    if labels is not None:
        result["predictions"] = labels
    return result


def predict(model: Module, X: Any, batch_size: int = DEFAULT_EVAL_BATCH) -> np.ndarray:
    """Predicted class labels ``(N,)`` (argmax of the outputs), as a NumPy array."""
    X, _ = as_arrays(X)
    return to_numpy(predicted_labels(outputs_of(model, X, batch_size)))


def predict_proba(model: Module, X: Any, loss: Loss | None = None, batch_size: int = DEFAULT_EVAL_BATCH) -> Any:
    """Class probabilities ``(N, K)``, as a NumPy array.

    With ``loss`` given, its link maps outputs to probabilities (softmax for `SoftmaxCrossEntropy`, sigmoid
    for `BinaryCrossEntropy`). Without it: outputs as they are if the model ends in `Softmax`, otherwise
    the softmax of the outputs (logits).
    """
    X, _ = as_arrays(X)
    out = outputs_of(model, X, batch_size)
    if loss is not None:
        return to_numpy(loss.link(out))
    ends_in_softmax = isinstance(model, Sequential) and len(model) and isinstance(model[-1], Softmax)
    return to_numpy(out if ends_in_softmax or isinstance(model, Softmax) else softmax(out, axis=1))


def accuracy(y_true: Any, y_pred: Any) -> float:
    y_true, y_pred = to_numpy(y_true), to_numpy(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"accuracy: y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape")
    return float(np.mean(y_true == y_pred)) if y_true.size else float("nan")


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int | None = None) -> np.ndarray:
    """Counts ``C[i, j]`` of examples with true label i predicted as j (true on rows, predicted on columns)."""
    y_true = to_numpy(y_true).astype(np.int64, copy=False)
    y_pred = to_numpy(y_pred).astype(np.int64, copy=False)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"confusion_matrix: y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape")
    k = int(num_classes) if num_classes is not None else int(max(y_true.max(initial=-1), y_pred.max(initial=-1)) + 1)
    if y_true.size and (min(y_true.min(), y_pred.min()) < 0 or max(y_true.max(), y_pred.max()) >= k):
        raise ValueError(f"confusion_matrix: labels must be in [0, {k - 1}]")
    return np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k)


def first_misclassified(y_true: Any, y_pred: Any, num_classes: int) -> dict[int, int]:
    """For each class c, the index of the first example of true class c that was misclassified (if any)."""
    y_true, y_pred = to_numpy(y_true), to_numpy(y_pred)
    wrong = np.flatnonzero(y_true != y_pred)
    found: dict[int, int] = {}
    for i in wrong:
        c = int(y_true[i])
        if c not in found:
            found[c] = int(i)
            if len(found) == num_classes:
                break
    return dict(sorted(found.items()))
