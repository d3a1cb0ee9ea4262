"""predict, predict_proba, accuracy, confusion_matrix (true rows, predicted columns), first_misclassified."""

from __future__ import annotations

import numpy as np
import pytest

from backproplab import nn
from backproplab.data import Dataset
from backproplab.train import accuracy, confusion_matrix, first_misclassified, predict, predict_proba


@pytest.fixture(scope="module")
def model() -> nn.Sequential:
    return nn.mlp([784, 32, 10], "relu", seed=3)


def test_confusion_matrix_by_hand() -> None:
    y_true = [0, 0, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 2, 0, 2]
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred), [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    np.testing.assert_array_equal(confusion_matrix([1], [1], num_classes=4), np.diag([0, 1, 0, 0]))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\]"):
        confusion_matrix([0, 3], [0, 1], num_classes=3)
    with pytest.raises(ValueError, match=r"y_true \(2,\) and y_pred \(3,\) differ in shape"):
        confusion_matrix([0, 1], [0, 1, 1])


def test_confusion_matrix_on_real_predictions(model: nn.Sequential, fashion_test: Dataset) -> None:
    pred = predict(model, fashion_test)
    cm = confusion_matrix(fashion_test.y, pred, num_classes=10)
    counted = np.zeros((10, 10), dtype=np.int64)
    for t, p in zip(fashion_test.y, pred, strict=True):
        counted[t, p] += 1
    np.testing.assert_array_equal(cm, counted)
    np.testing.assert_array_equal(cm.sum(axis=1), np.bincount(fashion_test.y, minlength=10))  # rows: true labels
    assert np.trace(cm) == np.sum(pred == fashion_test.y)


def test_first_misclassified_by_hand() -> None:
    y_true = [0, 1, 1, 2, 0, 1, 2]
    y_pred = [0, 0, 1, 2, 1, 2, 2]
    assert first_misclassified(y_true, y_pred, 3) == {0: 4, 1: 1}  # class 2 never misclassified: absent


def test_first_misclassified_on_real_predictions(model: nn.Sequential, fashion_test: Dataset) -> None:
    pred = predict(model, fashion_test)
    found = first_misclassified(fashion_test.y, pred, 10)
    expected = {}
    for i, (t, p) in enumerate(zip(fashion_test.y, pred, strict=True)):
        if t != p and int(t) not in expected:
            expected[int(t)] = i
    assert found == dict(sorted(expected.items())) and len(found) == 10  # an untrained net errs in every class


def test_predict_and_predict_proba(model: nn.Sequential, fashion_test: Dataset) -> None:
    X = fashion_test.X[:300]
    logits = X.astype(np.float64) @ model[0].weight.value
    logits = np.maximum(logits + model[0].bias.value, 0) @ model[2].weight.value + model[2].bias.value
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    np.testing.assert_array_equal(predict(model, X), logits.argmax(axis=1))
    np.testing.assert_array_equal(predict(model, X, batch_size=7), predict(model, X))
    np.testing.assert_allclose(predict_proba(model, X), probs, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(predict_proba(model, X, loss=nn.SoftmaxCrossEntropy()), probs, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(predict_proba(model, X).sum(axis=1), 1.0, rtol=1e-6)
    assert predict(model, fashion_test).shape == (2000,)  # a Dataset works too


def test_predict_proba_of_a_model_ending_in_softmax_is_its_output(model: nn.Sequential, fashion_test: Dataset) -> None:
    X = fashion_test.X[:50]
    with_softmax = nn.Sequential(*model, nn.Softmax())
    np.testing.assert_array_equal(predict_proba(with_softmax, X), with_softmax.forward(X))


def test_predict_proba_with_binary_cross_entropy_is_the_sigmoid(fashion_test: Dataset) -> None:
    model = nn.mlp([784, 1], seed=0)
    X = fashion_test.X[:50]
    np.testing.assert_allclose(
        predict_proba(model, X, loss=nn.BinaryCrossEntropy()),
        1 / (1 + np.exp(-model.forward(X).astype(np.float64))),
        rtol=1e-6,
    )


def test_accuracy() -> None:
    assert accuracy([0, 1, 2, 2], [0, 1, 1, 2]) == 0.75
    with pytest.raises(ValueError, match="differ in shape"):
        accuracy([0, 1], [0])
