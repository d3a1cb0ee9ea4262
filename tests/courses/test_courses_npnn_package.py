"""The npnn facade keeps the course's contract, and training through it equals backproplab's own `fit`.

The course's module contract (its ``modules.py``): ``backward(grad)`` receives dL/d(output) of the loss summed
over the batch, sets each weight's ``.grad`` to the mean batch gradient and returns dL/d(input);
``SoftmaxCrossEntropy.backward(labels)`` returns y_hat - labels. Expected values are computed here with plain
NumPy. Training: the course's 256-64-10 ELU net on real MNIST, batch by batch against `fit` on the same batches.
"""
# The course draws weights and batch orders from NumPy's global generator; so do these tests, on purpose.
# ruff: noqa: NPY002

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from backproplab import nn, optim
from backproplab.courses import npnn
from backproplab.data import Dataset
from backproplab.errors import ShapeError
from backproplab.train import TerminateOnDivergence, fit

pytestmark = pytest.mark.usefixtures("restore_global_numpy_rng")


def course_net(optimizer: npnn.Optimizer, seed: int = 0) -> npnn.Sequential:
    np.random.seed(seed)
    return npnn.Sequential(
        [npnn.Dense(784, 256), npnn.ELU(0.9), npnn.Dense(256, 64), npnn.ELU(0.9), npnn.Dense(64, 10)],
        npnn.SoftmaxCrossEntropy(),
        optimizer,
    )


def library_copy(model: npnn.Sequential) -> nn.Sequential:
    """The same layers (deep copies of the weights) as a backproplab model, for `fit`."""
    return nn.Sequential(
        *[copy.deepcopy(m.layer if isinstance(m, npnn.Dense) else m.activation) for m in model.modules]
    )


# -- the course's module contract --------------------------------------------------------------------------
def test_dense_draws_glorot_uniform_weights_from_the_global_generator() -> None:
    np.random.seed(3)
    layer = npnn.Dense(5, 4)
    np.random.seed(3)
    limit = np.sqrt(6 / (5 + 4))
    W, b = layer.trainable_weights
    np.testing.assert_array_equal(W.value, np.random.uniform(-limit, limit, (5, 4)))
    np.testing.assert_array_equal(b.value, np.zeros(4))
    assert isinstance(W, npnn.Variable) and W.value.dtype == np.float64


def test_dense_backward_sets_mean_batch_gradients_and_returns_the_input_gradient(rng: np.random.Generator) -> None:
    layer = npnn.Dense(5, 3)
    x = rng.standard_normal((7, 5))
    grad = rng.standard_normal((7, 3))
    W, b = layer.trainable_weights
    np.testing.assert_allclose(layer.forward(x), x @ W.value + b.value, rtol=1e-15)
    dx = layer.backward(grad)
    np.testing.assert_allclose(W.grad, x.T @ grad / 7, rtol=1e-14)
    np.testing.assert_allclose(b.grad, grad.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(dx, grad @ W.value.T, rtol=1e-14)


def test_elu_and_softmax_cross_entropy_follow_the_course_formulas(rng: np.random.Generator) -> None:
    x = rng.standard_normal((6, 4)) * 3
    grad = rng.standard_normal((6, 4))
    elu = npnn.ELU()
    assert elu.alpha == 0.9
    np.testing.assert_allclose(elu.forward(x), np.where(x > 0, x, 0.9 * (np.exp(x) - 1)), rtol=1e-14)
    # backproplab writes e^x alpha as f(x) + alpha, (e^x - 1) alpha + alpha: equal to rounding
    np.testing.assert_allclose(elu.backward(grad), np.where(x > 0, 1, 0.9 * np.exp(x)) * grad, rtol=1e-12, atol=1e-15)

    sce = npnn.SoftmaxCrossEntropy()
    labels = np.eye(4)[rng.integers(0, 4, 6)]
    e = np.exp(x - x.max(axis=1, keepdims=True))
    y_hat = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(sce.forward(x), y_hat, rtol=1e-14)
    np.testing.assert_allclose(sce.backward(labels), y_hat - labels, rtol=1e-13, atol=1e-15)


def test_network_gradients_equal_numerical_gradients_of_the_mean_loss(rng: np.random.Generator) -> None:
    np.random.seed(1)
    model = npnn.Sequential(
        [npnn.Dense(4, 5), npnn.ELU(0.9), npnn.Dense(5, 3)], npnn.SoftmaxCrossEntropy(), npnn.SGD(0.1)
    )
    X = rng.standard_normal((6, 4))
    Y = np.eye(3)[rng.integers(0, 3, 6)]

    def mean_loss() -> float:
        p = model.forward(X, train=False)
        return float(-np.mean(np.sum(Y * np.log(p), axis=1)))

    model.forward(X)
    model.backward(Y)
    analytic = [p.grad.copy() for p in model.params]
    for p, g in zip(model.params, analytic, strict=True):
        numeric = np.zeros_like(p.value)
        for ix in np.ndindex(p.value.shape):
            old = p.value[ix]
            p.value[ix] = old + 1e-6
            plus = mean_loss()
            p.value[ix] = old - 1e-6
            minus = mean_loss()
            p.value[ix] = old
            numeric[ix] = (plus - minus) / 2e-6
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-9)


def test_categorical_cross_entropy_and_accuracy_match_the_course_formulas(rng: np.random.Generator) -> None:
    logits = rng.standard_normal((8, 5))
    pred = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = np.eye(5)[rng.integers(0, 5, 8)]
    course = np.mean(-np.sum(labels * np.log(pred + 1e-10), axis=1))
    assert npnn.categorical_cross_entropy(pred, labels) == pytest.approx(course, rel=1e-8)
    course_acc = np.mean(np.argmax(pred, axis=1) == np.argmax(labels, axis=1))
    assert npnn.categorical_accuracy(pred, labels) == course_acc
    with pytest.raises(ValueError, match=r"same \(N, K\) shape; got \(8, 5\) and \(8, 4\)"):
        npnn.categorical_accuracy(pred, labels[:, :4])


# -- Dataset ----------------------------------------------------------------------------------------------
def test_dataset_yields_full_shuffled_batches_with_one_hot_labels() -> None:
    X = np.arange(50, dtype=np.float32).reshape(10, 5)
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 2])
    data = npnn.Dataset(X, y, batch_size=3)
    assert len(data) == data.size == 3
    np.random.seed(9)
    batches = list(data)
    np.random.seed(9)
    expected = np.random.permutation(10)[:9].reshape(3, 3)  # the course's draw; the remainder is left out
    np.testing.assert_array_equal(data.indices, expected)
    for (xb, yb), idx in zip(batches, expected, strict=True):
        np.testing.assert_array_equal(xb, X[idx])
        np.testing.assert_array_equal(yb, np.eye(3, dtype=np.float32)[y[idx]])
        assert yb.dtype == np.float32
    again = [xb for xb, _ in data]  # a new epoch draws a new order
    assert not all(np.array_equal(a, b) for a, b in zip(again, (xb for xb, _ in batches), strict=True))


def test_dataset_takes_one_hot_rows_as_they_are_and_rejects_bad_input() -> None:
    X = np.zeros((4, 2))
    Y = np.eye(3)[[0, 1, 2, 1]]
    assert npnn.Dataset(X, Y, batch_size=2).y is Y
    assert npnn.Dataset(X, np.array([0, 1, 0, 1]), batch_size=2, num_classes=5).y.shape == (4, 5)
    with pytest.raises(ValueError, match=r"batch_size must be in 1..4 \(the number of examples\); got 5"):
        npnn.Dataset(X, Y, batch_size=5)
    with pytest.raises(ShapeError, match=r"one-hot rows \(4, classes\) or labels \(4,\); got shape \(3, 3\)"):
        npnn.Dataset(X, Y[:3], batch_size=2)
    with pytest.raises(ValueError, match="1-D labels must be integers"):
        npnn.Dataset(X, np.array([0.0, 1.0, 0.0, 1.0]), batch_size=2)


# -- Sequential and optimizers -------------------------------------------------------------------------------
def test_sequential_checks_what_it_is_given() -> None:
    with pytest.raises(TypeError, match=r"modules\[1\] must be an npnn Module; got Sigmoid"):
        npnn.Sequential([npnn.Dense(2, 2), nn.Sigmoid()], npnn.SoftmaxCrossEntropy(), npnn.SGD())
    with pytest.raises(TypeError, match="loss must be an npnn Module"):
        npnn.Sequential([npnn.Dense(2, 2)], None, npnn.SGD())
    with pytest.raises(TypeError, match=r"optimizer must be an npnn Optimizer \(SGD, Adam\); got SGD"):
        npnn.Sequential([npnn.Dense(2, 2)], npnn.SoftmaxCrossEntropy(), optim.SGD(nn.Dense(2, 2).parameters(), 0.1))


def test_optimizers_update_their_own_parameters_at_the_current_rate() -> None:
    layer = npnn.Dense(3, 2)
    W, b = layer.trainable_weights
    W.grad[...] = 1.0
    b.grad[...] = 2.0
    start = W.value.copy()
    sgd = npnn.SGD(learning_rate=0.1)
    sgd.initialize(layer.trainable_weights)
    sgd.apply_gradients(layer.trainable_weights)
    np.testing.assert_allclose(W.value, start - 0.1)
    sgd.learning_rate = 0.5
    sgd.apply_gradients(layer.trainable_weights)
    np.testing.assert_allclose(W.value, start - 0.6)
    with pytest.raises(ValueError, match="other parameters than the 2 it was initialized with"):
        sgd.apply_gradients(npnn.Dense(3, 2).trainable_weights)


def test_sequential_test_reports_the_mean_over_batches_without_updating(mnist_train: Dataset) -> None:
    model = course_net(npnn.SGD(0.1))
    before = [p.value.copy() for p in model.params]
    data = npnn.Dataset(mnist_train.X[:200], mnist_train.y[:200], batch_size=64)
    loss, acc = model.test(data)
    losses, accs = [], []
    for idx in data.indices:
        p = model.forward(mnist_train.X[idx], train=False)
        Y = np.eye(10)[mnist_train.y[idx]]
        losses.append(np.mean(-np.sum(Y * np.log(p + 1e-10), axis=1)))
        accs.append(np.mean(np.argmax(p, axis=1) == mnist_train.y[idx]))
    assert loss == pytest.approx(np.mean(losses), rel=1e-9)
    assert acc == pytest.approx(np.mean(accs), abs=1e-15)
    for p, v in zip(model.params, before, strict=True):
        np.testing.assert_array_equal(p.value, v)


# -- training through the facade equals fit -------------------------------------------------------------------
def train_both(data: Dataset, batch_size: int, make: Any, epochs: int = 2) -> tuple[npnn.Sequential, nn.Sequential]:
    """The course's net trained through npnn, and a copy trained by `fit` on the very same batches."""
    facade_opt, library_opt = make
    model = course_net(facade_opt)
    library = library_copy(model)
    opt = library_opt(library.parameters())
    Y = nn.one_hot(data.y, 10, np.float32)
    batches = npnn.Dataset(data.X, Y, batch_size=batch_size)
    for _ in range(epochs):
        model.train(batches)
        order = batches.indices.reshape(-1)  # this epoch's batches, in order
        fit(
            library,
            nn.SoftmaxCrossEntropy(),
            opt,
            (data.X[order], data.y[order]),
            epochs=1,
            batch_size=batch_size,
            shuffle=False,
            engine="numpy",
            eval_train=False,
            callbacks=[TerminateOnDivergence(factor=None)],
            verbose=0,
        )
    return model, library


OPTIMIZERS = {
    "sgd": (npnn.SGD(learning_rate=0.1), lambda params: optim.SGD(params, lr=0.1)),
    "adam": (npnn.Adam(learning_rate=0.001), lambda params: optim.Adam(params, lr=0.001, eps=1e-7)),
}


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_training_through_npnn_gives_fits_weights_bit_for_bit(mnist_train: Dataset, name: str) -> None:
    """Batch 32 (the course's): npnn's scalings by the batch size are powers of two, hence exact."""
    facade_opt, library_opt = OPTIMIZERS[name]
    model, library = train_both(mnist_train.take(2000), 32, (copy.deepcopy(facade_opt), library_opt))
    for p, q in zip(model.params, library.parameters(), strict=True):
        np.testing.assert_array_equal(p.value, q.value)
    assert not np.array_equal(model.params[0].value, library_copy(course_net(npnn.SGD()))[0].weight.value)


def test_training_through_npnn_at_other_batch_sizes_equals_fit_to_rounding(mnist_train: Dataset) -> None:
    """Batch 50: y_hat - y = N (y_hat - y) / N and the mean gradient's 1/N each round once in the last bit."""
    model, library = train_both(mnist_train.take(2000), 50, (npnn.SGD(0.1), OPTIMIZERS["sgd"][1]))
    for p, q in zip(model.params, library.parameters(), strict=True):
        np.testing.assert_allclose(p.value, q.value, rtol=0, atol=1e-14 * np.abs(q.value).max())


def test_the_course_net_learns_mnist_through_the_facade(mnist_train: Dataset, mnist_test: Dataset) -> None:
    model = course_net(npnn.SGD(learning_rate=0.1))
    train = mnist_train.take(10000)
    loss, acc = model.train(npnn.Dataset(train.X, train.y, batch_size=32))
    assert loss < 0.6 and acc > 0.8
    test_loss, test_acc = model.test(npnn.Dataset(mnist_test.X[:2000], mnist_test.y[:2000], batch_size=100))
    assert test_acc > 0.85 and test_loss < 0.5  # one epoch of 312 steps: 87.4%
