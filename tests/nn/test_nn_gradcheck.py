"""Every module, loss and weight penalty against central-difference gradients in float64 (max rel error < 1e-7)."""

from __future__ import annotations

import numpy as np
import pytest

from backproplab import nn
from backproplab.check import gradcheck

TOL = 1e-7
# Central differences in float64 have two error sources: truncation, O(eps^2) for the default 2-point rule,
# and rounding, ~1e-16 |f| / eps. With eps = 1e-6 rounding alone is ~1e-10 absolute, i.e. relative errors
# near 1e-7 for gradient entries ~1e-3 (small softmax probabilities, entries scaled by a small upstream
# value), so the 2-point rule would pass or fail by the luck of the draw. The 4th-order rule with eps = 1e-3
# has truncation O(eps^4) and rounding ~1e-13: measured errors here are ~1e-10, three decades below the bound,
# so a failure means a wrong backward, not numerical noise.
PRECISE = {"eps": 1e-3, "order": 4}


def away_from_zero(a: np.ndarray, margin: float = 0.2) -> np.ndarray:
    """Move every entry at least ``margin`` away from 0, keeping its sign.

    ReLU, LeakyReLU and ELU(alpha != 1) have a kink at 0 and L1 has one at W = 0: a central difference whose
    stencil straddles a kink measures a mix of two slopes, not the derivative. The stencils here reach at most
    2 eps = 2e-3 from the point, so with every entry >= 0.2 (weights: >= 0.05) from 0 none crosses a kink.
    """
    return np.sign(a) * (margin + np.abs(a))


@pytest.fixture
def x(rng: np.random.Generator) -> np.ndarray:
    return away_from_zero(rng.standard_normal((4, 5)))


@pytest.mark.parametrize("bias", [True, False])
def test_dense(x: np.ndarray, bias: bool) -> None:
    report = gradcheck(nn.Dense(5, 3, bias=bias, rng=1), x, **PRECISE)
    expected = {"input", "weight", "bias"} if bias else {"input", "weight"}
    assert set(report.errors) == expected
    assert report.checked["weight"] == 15 and report.checked["input"] == 20
    assert report.max_error < TOL, str(report)


@pytest.mark.parametrize(
    "module",
    [nn.Sigmoid(), nn.ReLU(), nn.LeakyReLU(0.1), nn.ELU(1.0), nn.ELU(0.9), nn.Tanh(), nn.Softmax(), nn.Identity()],
    ids=repr,
)
def test_activation(x: np.ndarray, module: nn.Module) -> None:
    report = gradcheck(module, x, **PRECISE)
    assert report.max_error < TOL, str(report)


def test_activation_inputs_cover_both_sides_of_the_kink(x: np.ndarray) -> None:
    # otherwise the ReLU-family checks above would test one branch only
    assert (x > 0).sum() >= 5 and (x < 0).sum() >= 5


def test_dropout_with_its_mask_held_fixed(x: np.ndarray) -> None:
    # gradcheck restores Dropout's generator before every evaluation, so each one draws the same mask
    report = gradcheck(nn.Dropout(0.5, rng=3), np.abs(x) + 1.0, **PRECISE)
    assert report.max_error < TOL, str(report)
    # the mask really drops something: some input gradients are exactly 0, the others 1/(1-p) times upstream
    assert np.sum(report.analytic["input"] == 0) > 0 and np.sum(report.analytic["input"] != 0) > 0


@pytest.fixture
def logits(rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((6, 4))


@pytest.fixture
def labels() -> np.ndarray:
    return np.array([0, 3, 1, 2, 3, 0])


@pytest.fixture
def prob_rows(rng: np.random.Generator) -> np.ndarray:
    return rng.dirichlet(np.ones(4), size=6)


def test_softmax_cross_entropy_with_labels(logits: np.ndarray, labels: np.ndarray) -> None:
    report = gradcheck(nn.SoftmaxCrossEntropy(), logits, labels, **PRECISE)
    assert report.max_error < TOL, str(report)


def test_softmax_cross_entropy_with_probability_rows(logits: np.ndarray, prob_rows: np.ndarray) -> None:
    report = gradcheck(nn.SoftmaxCrossEntropy(), logits, prob_rows, **PRECISE)
    assert report.max_error < TOL, str(report)


def test_cross_entropy_on_probabilities(rng: np.random.Generator, labels: np.ndarray, prob_rows: np.ndarray) -> None:
    # Every p in (0.025, 0.925), far from the clip at ~1e-154. The default 2-point rule here: log p has large
    # higher derivatives at small p, which spoil the 4th-order rule's wide stencil (eps 1e-3) but not eps 1e-6.
    probs = rng.dirichlet(np.ones(4), size=6) * 0.9 + 0.025
    assert gradcheck(nn.CrossEntropy(), probs, labels).max_error < TOL
    assert gradcheck(nn.CrossEntropy(), probs, prob_rows).max_error < TOL


@pytest.mark.parametrize("half", [True, False])
def test_mse(logits: np.ndarray, prob_rows: np.ndarray, labels: np.ndarray, half: bool) -> None:
    assert gradcheck(nn.MSE(half=half), logits, prob_rows, **PRECISE).max_error < TOL
    assert gradcheck(nn.MSE(half=half), logits, labels, **PRECISE).max_error < TOL


def test_binary_cross_entropy_with_logits(logits: np.ndarray, prob_rows: np.ndarray) -> None:
    hard = (prob_rows > 0.25).astype(np.float64)
    assert gradcheck(nn.BinaryCrossEntropy(), logits, hard, **PRECISE).max_error < TOL
    assert gradcheck(nn.BinaryCrossEntropy(), logits, prob_rows, **PRECISE).max_error < TOL  # soft targets


def assert_hidden_units_clear_of_the_kink(model: nn.Sequential, x: np.ndarray) -> None:
    """Every hidden pre-activation is 5x farther from 0 than one stencil step can move it.

    Moving one entry of a layer's input (or weights) by up to 2 eps shifts its pre-activations by at most
    2 eps times the weight (or input) it multiplies. The model's seed is chosen so that this holds: with 14
    hidden units on 4 examples, some pre-activation lands near 0 for most seeds.
    """
    h = x
    layers = list(model)
    for i, layer in enumerate(layers):
        if isinstance(layer, nn.Dense):
            step = 2 * PRECISE["eps"] * max(np.abs(h).max(), np.abs(layer.weight.value).max())
            h = layer.forward(h)
            if i < len(layers) - 1:
                assert np.abs(h).min() > 5 * step, f"layer {i}: a pre-activation is within {5 * step:.1e} of 0"
        else:
            h = layer.forward(h)


@pytest.mark.parametrize(
    ("activation", "options"),
    [("sigmoid", {}), ("tanh", {}), ("elu", {"alpha": 0.9}), ("relu", {}), ("leaky_relu", {"slope": 0.05})],
)
def test_whole_mlp_with_softmax_cross_entropy(
    x: np.ndarray, labels: np.ndarray, activation: str, options: dict[str, float]
) -> None:
    model = nn.mlp([5, 8, 6, 4], activation, activation_options=options, seed=9)
    if activation in ("relu", "leaky_relu", "elu"):
        assert_hidden_units_clear_of_the_kink(model, x)
    report = gradcheck(model, x, labels[:4], **PRECISE)
    assert set(report.errors) == {"input", "0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"}
    assert report.max_error < TOL, str(report)


def test_whole_mlp_with_dropout_and_a_softmax_layer(x: np.ndarray, labels: np.ndarray) -> None:
    model = nn.Sequential(nn.Dense(5, 7, rng=4), nn.Tanh(), nn.Dropout(0.3, rng=5), nn.Dense(7, 4, rng=6), nn.Softmax())
    report = gradcheck(model, x, labels[:4], loss=nn.CrossEntropy(), **PRECISE)
    assert report.max_error < TOL, str(report)


def test_whole_mlp_with_mse(x: np.ndarray, prob_rows: np.ndarray) -> None:
    model = nn.Sequential(nn.Dense(5, 6, rng=7), nn.Sigmoid(), nn.Dense(6, 4, rng=8), nn.Sigmoid())
    report = gradcheck(model, x, prob_rows[:4], loss=nn.MSE(), **PRECISE)
    assert report.max_error < TOL, str(report)


def dense_with_weights_away_from_zero(seed: int) -> nn.Dense:
    layer = nn.Dense(5, 4, rng=seed, dtype=np.float64)
    layer.set_weights(away_from_zero(layer.weight.value, 0.05), np.array([0.3, -0.2, 0.1, 0.4]))
    return layer


@pytest.mark.parametrize(
    "regularizer",
    [nn.L2(0.3), nn.L2(0.3, half=True), nn.L1(0.2), [nn.L2(0.1), nn.L1(0.05)]],
    ids=["L2 lambda*||W||^2", "L2 0.5*lambda*||W||^2", "L1", "L2+L1"],
)
def test_weight_penalties(x: np.ndarray, prob_rows: np.ndarray, regularizer: object) -> None:
    # Strengths large enough that the penalty's gradient is a big part of dL/dW; weights >= 0.05 from the kink
    # of |W|. The bias is not penalised: its gradient must equal the one without a penalty.
    layer = dense_with_weights_away_from_zero(9)
    report = gradcheck(layer, x, prob_rows[:4], loss=nn.MSE(), regularizer=regularizer, **PRECISE)
    assert report.max_error < TOL, str(report)
    plain = gradcheck(layer, x, prob_rows[:4], loss=nn.MSE(), **PRECISE)
    np.testing.assert_array_equal(report.analytic["bias"], plain.analytic["bias"])
    assert np.abs(report.analytic["weight"] - plain.analytic["weight"]).min() > 1e-3


def test_penalised_mlp(x: np.ndarray, labels: np.ndarray) -> None:
    model = nn.mlp([5, 8, 4], "elu", seed=3)
    for layer in (model[0], model[2]):
        layer.weight.value[...] = away_from_zero(layer.weight.value, 0.05)
    report = gradcheck(model, x, labels[:4], regularizer=[nn.L2(0.1), nn.L1(0.01)], **PRECISE)
    assert report.max_error < TOL, str(report)
