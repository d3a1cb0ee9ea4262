"""Regression tests: inputs that earlier versions mishandled."""

from __future__ import annotations

import numpy as np
import torch

from backproplab.check import gradcheck
from backproplab.nn import Dense, SoftmaxCrossEntropy


def test_softmax_cross_entropy_gradient_for_rows_not_summing_to_one() -> None:
    rng = np.random.default_rng(0)
    logits, rows = rng.standard_normal((4, 3)), rng.random((4, 3)) * 2  # row sums between 0 and 6
    assert gradcheck(SoftmaxCrossEntropy(), logits, rows).max_error < 1e-7
    z = torch.tensor(logits, requires_grad=True)
    (-(torch.tensor(rows) * torch.log_softmax(z, dim=1)).sum() / 4).backward()
    loss = SoftmaxCrossEntropy()
    loss.forward(logits, rows)
    np.testing.assert_allclose(loss.backward(), z.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_dense_from_nested_lists() -> None:
    layer = Dense.from_arrays([[1, 2], [3, 4], [5, 6]], [0.5, -1])
    np.testing.assert_array_equal(layer.weight.value, [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(layer.forward(np.array([[1.0, 0.0, 1.0]])), [[6.5, 7.0]])


def test_dropout_evaluation_keeps_the_training_mask() -> None:
    from backproplab.nn import Dropout

    layer = Dropout(0.5, rng=0)
    x = np.ones((3, 4))
    y = layer.forward(x, training=True)
    layer.forward(x, training=False)  # an evaluation in between must not erase the cache
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), y)


def test_python3_protocol2_pickles_load(tmp_path) -> None:
    import gzip
    import pickle

    from backproplab.data.safe_pickle import load_arrays_pickle

    payload = {b"data": np.arange(6, dtype=np.uint8).reshape(2, 3), b"labels": [0, 1]}
    data = load_arrays_pickle(gzip.decompress(gzip.compress(pickle.dumps(payload, protocol=2))), encoding="bytes")
    np.testing.assert_array_equal(data[b"data"], payload[b"data"])
    assert data[b"labels"] == [0, 1]


def test_infinite_learning_rate_is_rejected() -> None:
    import pytest

    from backproplab.optim import SGD

    with pytest.raises(ValueError, match="finite number > 0; got inf"):
        SGD(Dense(2, 2, rng=0).parameters(), lr=float("inf"))
