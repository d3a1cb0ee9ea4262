"""gradcheck itself: it must flag a wrong backward, leave the module alone, and use cs231n's relative error."""

from __future__ import annotations

import numpy as np
import pytest

from backproplab import nn
from backproplab.check import gradcheck, rel_error


def test_rel_error_formula_by_hand() -> None:
    assert rel_error(1.0, 1.1) == pytest.approx(0.1 / 2.1)
    assert rel_error([1.0, -2.0], [1.0, -2.0]) == 0.0
    assert rel_error(0.0, 0.0) == 0.0  # the 1e-8 floor avoids 0/0
    assert rel_error(1e-9, 0.0) == pytest.approx(1e-9 / 1e-8)  # tiny absolute differences stay tiny
    assert rel_error(3.0, -3.0) == 1.0
    assert rel_error([1.0, 10.0], [1.0, 11.0]) == pytest.approx(1 / 21)  # the maximum over entries
    assert rel_error(np.zeros((0, 3)), np.zeros((0, 3))) == 0.0
    with pytest.raises(ValueError, match=r"rel_error: shapes differ: \(2,\) vs \(3,\)"):
        rel_error([1, 2], [1, 2, 3])


class SigmoidWithWrongDerivative(nn.Sigmoid):
    """A plausible bug: f'(x) written as s instead of s (1 - s)."""

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out * self._cached()


class DenseWithoutHalfTheWeightGradient(nn.Dense):
    """Another: dL/dW scaled by 0.5 (e.g. a stray mean), input and bias gradients correct."""

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        grad_in = super().backward(grad_out)
        self.weight.grad *= 0.5
        return grad_in


class SoftmaxCrossEntropyForgettingN(nn.SoftmaxCrossEntropy):
    """And the classic: the gradient not divided by the batch size."""

    def backward(self) -> np.ndarray:
        return super().backward() * self._cache[0].shape[0]


@pytest.fixture
def x(rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((4, 5))


def test_flags_a_wrong_activation_derivative(x: np.ndarray) -> None:
    report = gradcheck(SigmoidWithWrongDerivative(), x)
    assert report.max_error > 0.1 and not report.passed()


def test_flags_a_wrong_parameter_gradient_and_names_it(x: np.ndarray) -> None:
    report = gradcheck(DenseWithoutHalfTheWeightGradient(5, 3, rng=0), x)
    assert report.errors["weight"] == pytest.approx(1 / 3, rel=1e-4)  # |a - 2a| / (|a| + |2a|)
    assert report.errors["input"] < 1e-8 and report.errors["bias"] < 1e-8
    assert not report.passed()
    assert "weight" in str(report) and "3.333e-01" in str(report)


def test_flags_a_wrong_loss_gradient(x: np.ndarray) -> None:
    report = gradcheck(SoftmaxCrossEntropyForgettingN(), x, np.array([0, 1, 2, 3]))
    assert report.errors["input"] == pytest.approx(3 / 5, rel=1e-4)  # |4a - a| / (|4a| + |a|)


def test_flags_a_wrong_gradient_inside_a_whole_model(x: np.ndarray) -> None:
    model = nn.Sequential(nn.Dense(5, 6, rng=1), SigmoidWithWrongDerivative(), nn.Dense(6, 3, rng=2))
    report = gradcheck(model, x, np.array([0, 1, 2, 0]))
    assert report.errors["0.weight"] > 0.1 and report.errors["input"] > 0.1
    assert report.errors["2.weight"] < 1e-7 and report.errors["2.bias"] < 1e-7  # above the bug: still right


def test_correct_modules_pass_and_the_original_is_untouched(x: np.ndarray) -> None:
    layer = nn.Dense(5, 3, rng=0)
    before = layer.weight.value.copy()
    report = gradcheck(layer, x)
    assert report.passed() and report.max_error < 1e-7
    assert layer.weight.dtype == np.float32  # checked on a float64 copy
    np.testing.assert_array_equal(layer.weight.value, before)
    with pytest.raises(RuntimeError, match="training-mode forward"):
        layer.backward(np.ones((4, 3), np.float32))  # and the copy's caches stayed with the copy


def test_numeric_gradients_of_a_known_function() -> None:
    # MSE(half) of outputs o against zero targets: L = 0.5/N sum o^2, dL/do = o / N. Central differences are
    # exact for a quadratic, up to rounding: ~1e-16 |L| / eps = ~1e-10 with eps 1e-6
    o = np.array([[1.0, -2.0], [3.0, 0.5]])
    for order in (2, 4):
        report = gradcheck(nn.MSE(), o, np.zeros((2, 2)), order=order)
        np.testing.assert_allclose(report.numeric["input"], o.reshape(-1) / 2, rtol=0, atol=1e-9)
        np.testing.assert_allclose(report.analytic["input"], o.reshape(-1) / 2, rtol=1e-15)


def test_max_checks_samples_entries(x: np.ndarray) -> None:
    report = gradcheck(nn.Dense(5, 30, rng=0), x, max_checks=10)
    assert report.checked == {"input": 10, "weight": 10, "bias": 10}
    assert report.analytic["weight"].shape == (10,)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="gradcheck of a loss needs targets y"):
        gradcheck(nn.MSE(), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="gradcheck order must be 2 or 4; got 3"):
        gradcheck(nn.ReLU(), np.ones((2, 2)), order=3)
