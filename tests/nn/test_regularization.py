"""Weight penalties: values and gradients by hand, weights only (never biases), bad strengths rejected."""

from __future__ import annotations

import numpy as np
import pytest

from backproplab import nn
from backproplab.nn.regularization import as_regularizers, total_penalty


@pytest.fixture
def layer() -> nn.Dense:
    return nn.Dense.from_arrays(np.array([[1.0, -2.0], [0.0, 3.0]]), np.array([5.0, -7.0]))


def test_l2_both_conventions_by_hand(layer: nn.Dense) -> None:
    params = layer.parameters()
    assert nn.L2(0.1).penalty(params) == pytest.approx(0.1 * 14)  # 1 + 4 + 0 + 9; the bias (25 + 49) is not
    assert nn.L2(0.1, half=True).penalty(params) == pytest.approx(0.05 * 14)
    nn.L2(0.1).add_gradient(params)
    np.testing.assert_allclose(layer.weight.grad, [[0.2, -0.4], [0.0, 0.6]])
    nn.L2(0.1, half=True).add_gradient(params)  # adds to what is there: 2*lambda*W + lambda*W
    np.testing.assert_allclose(layer.weight.grad, [[0.3, -0.6], [0.0, 0.9]])
    np.testing.assert_array_equal(layer.bias.grad, 0.0)


def test_l1_by_hand(layer: nn.Dense) -> None:
    params = layer.parameters()
    assert nn.L1(0.5).penalty(params) == pytest.approx(0.5 * 6)
    nn.L1(0.5).add_gradient(params)
    np.testing.assert_allclose(layer.weight.grad, [[0.5, -0.5], [0.0, 0.5]])  # sign(0) = 0
    np.testing.assert_array_equal(layer.bias.grad, 0.0)


def test_penalty_sums_over_every_weight_of_a_model() -> None:
    model = nn.mlp([3, 4, 2], "relu", seed=0, dtype=np.float64)
    expected = sum((p.value**2).sum() for name, p in model.named_parameters() if name.endswith("weight"))
    regs = as_regularizers([nn.L2(0.2), nn.L1(0.0)])
    assert len(regs) == 1  # zero strengths are dropped
    assert total_penalty(regs, model.parameters()) == pytest.approx(0.2 * expected, rel=1e-14)


@pytest.mark.parametrize("make", [lambda: nn.L2(-0.1), lambda: nn.L1(-1.0)])
def test_negative_strength_is_rejected(make) -> None:
    with pytest.raises(ValueError, match=r"strength must be >= 0; got -"):
        make()


def test_as_regularizers_rejects_other_objects() -> None:
    with pytest.raises(TypeError, match="expected L2/L1 regularizers; got float"):
        as_regularizers([0.1])
    assert as_regularizers(None) == []
