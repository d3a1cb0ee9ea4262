"""The module contract: caches only in training mode, backward overwrites Parameter.grad, clear errors."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from backproplab import nn
from backproplab.errors import ShapeError

MODULES: list[Callable[[], nn.Module]] = [
    lambda: nn.Dense(5, 3, rng=0),
    nn.Sigmoid,
    nn.ReLU,
    nn.LeakyReLU,
    nn.ELU,
    nn.Tanh,
    nn.Softmax,
    lambda: nn.Dropout(0.5, rng=0),
    lambda: nn.mlp([5, 4, 3], "sigmoid", seed=0),
]
IDS = ["Dense", "Sigmoid", "ReLU", "LeakyReLU", "ELU", "Tanh", "Softmax", "Dropout", "MLP"]


@pytest.fixture
def x(rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((4, 5)).astype(np.float32)


@pytest.mark.parametrize("make", MODULES, ids=IDS)
def test_backward_before_any_forward_raises_a_clear_error(make: Callable[[], nn.Module], x: np.ndarray) -> None:
    upstream = np.ones_like(make().forward(x))  # from another instance: the one tested has never run forward
    with pytest.raises(RuntimeError, match=r"forward\(x, training=True\) first"):
        make().backward(upstream)


@pytest.mark.parametrize("make", MODULES, ids=IDS)
def test_eval_mode_forward_caches_nothing(make: Callable[[], nn.Module], x: np.ndarray) -> None:
    module = make()
    out = module.forward(x, training=False)
    with pytest.raises(RuntimeError, match="training-mode forward"):
        module.backward(np.ones_like(out))


@pytest.mark.parametrize(
    "make",
    [m for m, name in zip(MODULES, IDS, strict=True) if name != "Dropout"],
    ids=[name for name in IDS if name != "Dropout"],
)  # dropout: see test_dropout_*
def test_eval_mode_forward_equals_training_forward(make: Callable[[], nn.Module], x: np.ndarray) -> None:
    module = make()
    np.testing.assert_array_equal(module.forward(x, training=False), module.forward(x, training=True))


@pytest.mark.parametrize(
    "loss", [nn.SoftmaxCrossEntropy(), nn.CrossEntropy(), nn.MSE(), nn.BinaryCrossEntropy()], ids=repr
)
def test_loss_backward_before_forward_raises(loss: nn.Loss) -> None:
    with pytest.raises(RuntimeError, match=r"needs a forward\(\) first"):
        loss.backward()


def test_backward_overwrites_parameter_grads(x: np.ndarray) -> None:
    model = nn.mlp([5, 4, 3], "tanh", seed=1)
    y = np.array([0, 2, 1, 1])
    loss = nn.SoftmaxCrossEntropy()

    def grads() -> list[np.ndarray]:
        loss.forward(model.forward(x, training=True), y)
        model.backward(loss.backward())
        return [p.grad.copy() for p in model.parameters()]

    first = grads()
    for p in model.parameters():
        p.grad[...] = 1e9  # garbage that an accumulating backward would keep
    second = grads()
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert all(np.abs(g).max() > 0 for g in first)


def test_backward_returns_input_gradient_of_input_shape_and_dtype(x: np.ndarray) -> None:
    model = nn.mlp([5, 4, 3], "elu", seed=1)
    out = model.forward(x, training=True)
    grad = model.backward(np.ones_like(out))
    assert grad.shape == x.shape and grad.dtype == np.float32
    assert all(p.grad.dtype == p.value.dtype == np.float32 for p in model.parameters())


def test_parameters_know_whether_they_are_regularised() -> None:
    layer = nn.Dense(3, 2, rng=0)
    assert (layer.weight.name, layer.weight.regularize) == ("weight", True)
    assert (layer.bias.name, layer.bias.regularize) == ("bias", False)
    assert layer.weight.grad.shape == layer.weight.shape and not layer.weight.grad.any()


def test_state_dict_uses_dotted_names_and_copies() -> None:
    model = nn.mlp([5, 4, 4, 3], "relu", seed=0)
    state = model.state_dict()
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    assert state["0.weight"].shape == (5, 4) and state["4.bias"].shape == (3,)
    state["0.weight"][...] = 7.0
    assert not (model[0].weight.value == 7.0).any()  # a copy, not a view
    assert [name for name, _ in model.named_parameters()] == list(state)
    assert model.num_parameters() == 5 * 4 + 4 + 4 * 4 + 4 + 4 * 3 + 3


def test_load_state_dict_round_trip() -> None:
    a, b = nn.mlp([5, 4, 3], "relu", seed=0), nn.mlp([5, 4, 3], "relu", seed=1)
    b.load_state_dict(a.state_dict())
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(pa.value, pb.value)
        assert pa.value is not pb.value


def test_load_state_dict_rejects_missing_and_unexpected_keys() -> None:
    model = nn.mlp([5, 4, 3], "relu", seed=0)
    state = model.state_dict()
    del state["2.bias"]
    with pytest.raises(KeyError, match=r"missing \['2\.bias'\], unexpected none"):
        model.load_state_dict(state)
    state = model.state_dict()
    state["4.weight"] = np.zeros((3, 3))
    with pytest.raises(KeyError, match=r"missing none, unexpected \['4\.weight'\]"):
        model.load_state_dict(state)
    model.load_state_dict({"0.bias": np.full(4, 2.0)}, strict=False)  # partial load when asked for
    np.testing.assert_array_equal(model[0].bias.value, 2.0)


def test_load_state_dict_rejects_shape_mismatch() -> None:
    model = nn.mlp([5, 4, 3], "relu", seed=0)
    state = model.state_dict()
    state["0.weight"] = np.zeros((4, 5))
    with pytest.raises(ShapeError, match=r"state_dict\['0\.weight'\] has shape \(4, 5\).*shape \(5, 4\)"):
        model.load_state_dict(state)


def test_astype_converts_every_parameter() -> None:
    model = nn.mlp([5, 4, 3], "sigmoid", seed=0).astype(np.float64)
    assert model.dtype == np.float64
    assert all(p.value.dtype == p.grad.dtype == np.float64 for p in model.parameters())


def test_sequential_rejects_non_modules() -> None:
    with pytest.raises(TypeError, match="Sequential layer 1 must be a Module, got function"):
        nn.Sequential(nn.ReLU(), lambda z: np.tanh(z))


def test_dense_rejects_wrong_input_shape(x: np.ndarray) -> None:
    with pytest.raises(ShapeError, match=r"expects input of shape \(N, 6\); got \(4, 5\)"):
        nn.Dense(6, 2, rng=0).forward(x)


@pytest.mark.parametrize("loss", [nn.SoftmaxCrossEntropy(), nn.CrossEntropy(), nn.MSE()], ids=repr)
def test_losses_reject_bad_targets(loss: nn.Loss) -> None:
    out = np.full((3, 4), 0.25)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\] for 4 outputs; got values in \[0, 4\]"):
        loss.forward(out, np.array([0, 4, 1]))
    with pytest.raises(ShapeError, match="3 outputs but 2 labels"):
        loss.forward(out, np.array([0, 1]))
    with pytest.raises(ShapeError, match=r"rows \(N, K\) = \(3, 4\); got \(3, 3\)"):
        loss.forward(out, np.eye(3))
    with pytest.raises(ValueError, match="1-D targets must be integer class labels; got dtype float64"):
        loss.forward(out, np.array([0.0, 1.0, 2.0]))


def test_binary_cross_entropy_rejects_wrong_target_shape() -> None:
    with pytest.raises(ShapeError, match=r"targets must have the outputs' shape \(3, 2\); got \(3, 3\)"):
        nn.BinaryCrossEntropy().forward(np.zeros((3, 2)), np.zeros((3, 3)))


def test_dropout_zeroes_and_rescales_with_one_mask(rng: np.random.Generator) -> None:
    x = rng.uniform(1.0, 2.0, size=(200, 500))
    drop = nn.Dropout(0.3, rng=11)
    out = drop.forward(x, training=True)
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / 0.7, rtol=1e-15)
    assert abs(1 - kept.mean() - 0.3) < 0.005  # 100k Bernoulli draws: std of the fraction ~0.0014
    g = rng.standard_normal(x.shape)
    np.testing.assert_allclose(drop.backward(g), np.where(kept, g / 0.7, 0.0), rtol=1e-15)


def test_dropout_is_identity_in_eval_mode_and_seeded(rng: np.random.Generator) -> None:
    x = rng.standard_normal((10, 20))
    assert nn.Dropout(0.5, rng=1).forward(x, training=False) is x
    a = nn.Dropout(0.5, rng=1).forward(x, training=True)
    b = nn.Dropout(0.5, rng=1).forward(x, training=True)
    c = nn.Dropout(0.5, rng=2).forward(x, training=True)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_dropout_with_p_zero_is_identity_in_training_too(rng: np.random.Generator) -> None:
    x = rng.standard_normal((3, 4))
    drop = nn.Dropout(0.0)
    np.testing.assert_array_equal(drop.forward(x, training=True), x)
    np.testing.assert_array_equal(drop.backward(x), x)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_rejects_bad_probability(p: float) -> None:
    with pytest.raises(ValueError, match=r"Dropout p \(drop probability\) must be in \[0, 1\)"):
        nn.Dropout(p)


def test_activation_by_name() -> None:
    assert isinstance(nn.activation("ELU", alpha=0.9), nn.ELU) and nn.activation("elu", alpha=0.9).alpha == 0.9
    assert nn.activation("leaky-relu", slope=0.2).slope == 0.2
    with pytest.raises(Exception, match=r"activation: expected one of .*'sigmoid'.*; got 'swish'"):
        nn.activation("swish")


def test_mlp_layout() -> None:
    model = nn.mlp([784, 256, 64, 10], "elu", activation_options={"alpha": 0.9}, dropout=0.2, seed=0)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Dense", "ELU", "Dropout", "Dense", "ELU", "Dropout", "Dense"]
    assert [(m.in_features, m.out_features) for m in model if isinstance(m, nn.Dense)] == [
        (784, 256),
        (256, 64),
        (64, 10),
    ]
    assert model[1].alpha == 0.9 and model[2].p == 0.2
    with pytest.raises(Exception, match="mlp sizes must be >= 2 positive integers"):
        nn.mlp([784], "relu")


def test_dropout_evaluation_keeps_the_training_mask() -> None:
    layer = nn.Dropout(0.5, rng=0)
    x = np.ones((3, 4))
    y = layer.forward(x, training=True)
    layer.forward(x, training=False)  # an evaluation in between must not erase the cache
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), y)
