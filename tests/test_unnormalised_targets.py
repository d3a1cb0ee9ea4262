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
