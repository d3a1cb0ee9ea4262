"""cs231n's ``TwoLayerNet`` (``classifiers/neural_net.py``; course HLCV exercise 2), computed by backproplab.

The course's interface, names and defaults::

    net = TwoLayerNet(input_size, hidden_size, output_size, std=1e-4)
    scores = net.loss(X)                          # (N, C)
    loss, grads = net.loss(X, y, reg=0.05)        # grads: {"W1", "b1", "W2", "b2"}, shaped like net.params
    stats = net.train(X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95, reg=5e-6,
                      num_iters=100, batch_size=200, verbose=False)
    stats["loss_history"], stats["train_acc_history"], stats["val_acc_history"]
    net.predict(X)                                # (N,) labels

Underneath, every number comes from backproplab: ``Dense(D, H) -> ReLU -> Dense(H, C)`` (`backproplab.nn`, float64),
`SoftmaxCrossEntropy` (mean over the batch), `L2(reg)` (loss + reg (||W1||^2 + ||W2||^2), gradient + 2 reg W,
biases exempt), `optim.SGD` with `StepDecay(learning_rate_decay)` and `train.predict`. ``net.params`` holds the very
arrays the modules compute with: changing an entry in place (as a numerical gradient check does) changes the net.

Random draws follow the course's starter code, from NumPy's global generator: the weights are
``std * randn(D, H)`` then ``std * randn(H, C)`` (zero biases), and ``train`` draws each mini-batch with
``np.random.choice(N, batch_size)`` (with replacement). An epoch is ``max(N / batch_size, 1)`` iterations; as in the
course, the accuracies are recorded and the rate decays whenever ``it % iterations_per_epoch == 0`` (so also after
iteration 0).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

import numpy as np

from ..errors import ShapeError
from ..nn import L2, Dense, Parameter, ReLU, Sequential, SoftmaxCrossEntropy
from ..optim import SGD, StepDecay
from ..train import accuracy, predict
from ._global_rng import global_rng

PARAM_NAMES = ("W1", "b1", "W2", "b2")


class Params(MutableMapping[str, np.ndarray]):
    """``net.params``: ``W1`` (D, H), ``b1`` (H,), ``W2`` (H, C), ``b2`` (C,): the modules' own arrays.

    Assigning an entry replaces that parameter's array (same shape required); it is not copied when its dtype is
    already the net's, so later in-place changes to it still reach the net, as with the course's plain dict.
    """

    def __init__(self, parameters: dict[str, Parameter]) -> None:
        self._parameters = parameters

    def __getitem__(self, name: str) -> np.ndarray:
        return self._parameters[name].value

    def __setitem__(self, name: str, value: Any) -> None:
        if name not in self._parameters:
            raise KeyError(f"TwoLayerNet.params has the keys {list(self._parameters)}; got {name!r}")
        p = self._parameters[name]
        array = np.asarray(value, dtype=p.dtype)
        if array.shape != p.shape:
            raise ShapeError(f"params[{name!r}] must have shape {p.shape}; got {array.shape}")
        p.value = array

    def __delitem__(self, name: str) -> None:
        raise TypeError("TwoLayerNet.params always holds W1, b1, W2 and b2; entries cannot be deleted")

    def __iter__(self) -> Iterator[str]:
        return iter(self._parameters)

    def __len__(self) -> int:
        return len(self._parameters)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k!r}: {p.shape}" for k, p in self._parameters.items())
        return f"Params({{{shapes}}})"


class TwoLayerNet:
    """Affine -> ReLU -> affine -> softmax, trained with softmax cross-entropy and L2 (the cs231n two-layer net).

    Args:
        input_size: D, features per example.
        hidden_size: H, hidden units.
        output_size: C, classes.
        std: weights are ``std * randn`` from NumPy's global generator (``np.random.seed`` makes them
            reproducible); biases are zero. Everything is float64, as in the course.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int, std: float = 1e-4) -> None:
        rng = global_rng()
        first = Dense(input_size, hidden_size, init="normal", init_std=std, rng=rng, dtype=np.float64)
        second = Dense(hidden_size, output_size, init="normal", init_std=std, rng=rng, dtype=np.float64)
        self.model = Sequential(first, ReLU(), second)
        self.data_loss = SoftmaxCrossEntropy()
        assert first.bias is not None and second.bias is not None
        self._parameters = {"W1": first.weight, "b1": first.bias, "W2": second.weight, "b2": second.bias}
        self.params = Params(self._parameters)

    def loss(self, X: Any, y: Any = None, reg: float = 0.0) -> Any:
        """Scores ``(N, C)`` if ``y`` is None; else ``(loss, grads)``.

        loss = -(1/N) sum_n log softmax(scores_n)[y_n] + reg (||W1||^2 + ||W2||^2); ``grads`` maps each of W1,
        b1, W2, b2 to d loss / d parameter (a fresh array, shaped like the parameter).
        """
        X = np.asarray(X)
        if y is None:
            return self.model.forward(X, training=False)
        value = self._forward_backward(X, np.asarray(y), reg)
        return value, {name: p.grad.copy() for name, p in self._parameters.items()}

    def _forward_backward(self, X: np.ndarray, y: np.ndarray, reg: float) -> float:
        """The objective on ``(X, y)``; leaves its gradient in each parameter's ``grad``."""
        data_loss = self.data_loss.forward(self.model.forward(X, training=True), y)
        self.model.backward(self.data_loss.backward())
        penalty = L2(reg)
        params = list(self._parameters.values())
        penalty.add_gradient(params)
        return data_loss + penalty.penalty(params)

    def train(
        self,
        X: Any,
        y: Any,
        X_val: Any,
        y_val: Any,
        learning_rate: float = 1e-3,
        learning_rate_decay: float = 0.95,
        reg: float = 5e-6,
        num_iters: int = 100,
        batch_size: int = 200,
        verbose: bool = False,
    ) -> dict[str, list[float]]:
        """Mini-batch SGD for ``num_iters`` iterations.

        Each iteration draws ``batch_size`` examples with replacement (``np.random.choice(N, batch_size)``),
        records the objective of that batch in ``loss_history`` and takes one SGD step. At every epoch boundary
        (``it % max(N / batch_size, 1) == 0``) it records the batch's accuracy and the accuracy on
        ``(X_val, y_val)``, then multiplies the learning rate by ``learning_rate_decay``.

        Returns:
            ``{"loss_history": [...] (one per iteration), "train_acc_history": [...], "val_acc_history": [...]}``
            (one accuracy per epoch, fractions in [0, 1]).
        """
        X, y, X_val, y_val = np.asarray(X), np.asarray(y), np.asarray(X_val), np.asarray(y_val)
        if int(batch_size) < 1 or int(num_iters) < 0:
            raise ValueError(
                f"batch_size must be >= 1 and num_iters >= 0; got batch_size={batch_size}, num_iters={num_iters}"
            )
        num_train = X.shape[0]
        if num_train == 0 or len(y) != num_train:
            raise ShapeError(f"train needs as many labels as examples (at least one); got X {X.shape}, y {y.shape}")
        iterations_per_epoch = max(num_train / batch_size, 1)
        optimizer = SGD(list(self._parameters.values()), lr=learning_rate, schedule=StepDecay(learning_rate_decay))
        loss_history: list[float] = []
        train_acc_history: list[float] = []
        val_acc_history: list[float] = []
        epoch = 0
        rng = global_rng()
        for it in range(int(num_iters)):
            batch = rng.choice(num_train, batch_size)
            X_batch, y_batch = X[batch], y[batch]
            loss_history.append(self._forward_backward(X_batch, y_batch, reg))
            optimizer.step()
            if verbose and it % 100 == 0:
                print(f"iteration {it} / {num_iters}: loss {loss_history[-1]:f}")
            if it % iterations_per_epoch == 0:
                train_acc_history.append(accuracy(y_batch, self.predict(X_batch)))
                val_acc_history.append(accuracy(y_val, self.predict(X_val)))
                epoch += 1
                optimizer.set_epoch(epoch)
        return {
            "loss_history": loss_history,
            "train_acc_history": train_acc_history,
            "val_acc_history": val_acc_history,
        }

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels ``(N,)``: the argmax of the scores."""
        return predict(self.model, np.asarray(X))

    def __repr__(self) -> str:
        d, h = self._parameters["W1"].shape
        return f"TwoLayerNet(input_size={d}, hidden_size={h}, output_size={self._parameters['W2'].shape[1]})"
