"""npnn's model (``model.py``): `Sequential`, `categorical_cross_entropy`, `categorical_accuracy`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from statistics import fmean
from typing import Any

import numpy as np

from ...nn import CrossEntropy
from ...train import accuracy
from ...train.metrics import predicted_labels
from .modules import Module
from .optimizer import Optimizer


def categorical_cross_entropy(pred: Any, labels: Any, epsilon: float = 1e-10) -> float:
    """Mean cross-entropy -(1/N) sum_n sum_k labels_nk log pred_nk of probabilities ``pred`` ``(N, K)`` and
    one-hot ``labels`` ``(N, K)``, computed by backproplab's `CrossEntropy`.

    ``epsilon`` is kept for the course's signature: the course guards log(0) with log(pred + epsilon), and
    backproplab's `CrossEntropy` guards it by flooring probabilities at the square root of their dtype's
    smallest normal number (1.5e-154 in float64), so the two differ only where some pred_nk of a true class is
    within a few epsilon of 0 (then this value is larger, not capped at -log(epsilon)).
    """
    pred, labels = np.asarray(pred), np.asarray(labels)
    return CrossEntropy().forward(pred, labels.astype(pred.dtype, copy=False) if labels.ndim == 2 else labels)


def categorical_accuracy(pred: Any, labels: Any) -> float:
    """Fraction of rows whose argmax of ``pred`` equals the argmax of the one-hot ``labels`` (both ``(N, K)``)."""
    pred, labels = np.asarray(pred), np.asarray(labels)
    if pred.shape != labels.shape or pred.ndim != 2:
        raise ValueError(
            f"categorical_accuracy needs pred and one-hot labels of the same (N, K) shape; got "
            f"{pred.shape} and {labels.shape}"
        )
    return accuracy(predicted_labels(labels), predicted_labels(pred))


class Sequential:
    """``modules`` applied in order, then ``loss`` (the output module, e.g. `SoftmaxCrossEntropy`).

    ``forward(X, train=True)`` returns the predictions (probabilities); ``backward(y)`` back-propagates the
    one-hot labels through the loss and every module (it sets the gradients; it does not update);
    ``train(dataset)`` runs one epoch of forward, backward and ``optimizer.apply_gradients`` per batch;
    ``test(dataset)`` evaluates. Both return (mean loss, mean accuracy) over the dataset's batches.
    """

    def __init__(
        self, modules: Sequence[Module], loss: Module | None = None, optimizer: Optimizer | None = None
    ) -> None:
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(f"Sequential modules[{i}] must be an npnn Module; got {type(module).__name__}")
        if not isinstance(loss, Module):
            raise TypeError(
                f"Sequential loss must be an npnn Module (e.g. SoftmaxCrossEntropy()); got {type(loss).__name__}"
            )
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"Sequential optimizer must be an npnn Optimizer (SGD, Adam); got {type(optimizer).__name__}"
            )
        self.modules = list(modules)
        self.loss = loss
        self.params = [p for module in self.modules for p in module.trainable_weights]
        self.optimizer = optimizer
        self.optimizer.initialize(self.params)

    def forward(self, X: Any, train: bool = True) -> Any:
        for module in self.modules:
            X = module.forward(X, train=train)
        return self.loss.forward(X, train=train)

    def backward(self, y: Any) -> Any:
        grad = self.loss.backward(y)
        for module in reversed(self.modules):
            grad = module.backward(grad)
        return grad

    def train(self, dataset: Iterable[tuple[Any, Any]]) -> tuple[float, float]:
        """One epoch: per batch, forward, backward, ``apply_gradients``. Returns the means over the batches of
        the loss and accuracy of each batch's predictions (made before its update)."""
        losses, accuracies = [], []
        for X, y in dataset:
            pred = self.forward(X, train=True)
            self.backward(y)
            self.optimizer.apply_gradients(self.params)
            losses.append(categorical_cross_entropy(pred, y))
            accuracies.append(categorical_accuracy(pred, y))
        return _means(losses, accuracies)

    def test(self, dataset: Iterable[tuple[Any, Any]]) -> tuple[float, float]:
        """Mean loss and accuracy over the dataset's batches, in evaluation mode (no update)."""
        losses, accuracies = [], []
        for X, y in dataset:
            pred = self.forward(X, train=False)
            losses.append(categorical_cross_entropy(pred, y))
            accuracies.append(categorical_accuracy(pred, y))
        return _means(losses, accuracies)


def _means(losses: list[float], accuracies: list[float]) -> tuple[float, float]:
    if not losses:
        raise ValueError("the dataset yielded no batch")
    return fmean(losses), fmean(accuracies)
