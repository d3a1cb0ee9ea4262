"""Dense initialisation statistics, seeding, dtypes, and weights set from given arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backproplab import nn
from backproplab.errors import ConfigError, ShapeError

FAN_IN, FAN_OUT = 784, 256  # 200,704 draws: sample std/bounds are within ~0.3% of their targets


def weights(init: str, **kwargs: object) -> np.ndarray:
    return nn.Dense(FAN_IN, FAN_OUT, init=init, rng=42, **kwargs).weight.value.astype(np.float64)


@pytest.mark.parametrize(
    ("init", "bound"),
    [
        ("glorot_uniform", math.sqrt(6 / (FAN_IN + FAN_OUT))),
        ("xavier_uniform", math.sqrt(6 / (FAN_IN + FAN_OUT))),
        ("he_uniform", math.sqrt(6 / FAN_IN)),
        ("fan_in_uniform", 1 / math.sqrt(FAN_IN)),
        ("torch_default", 1 / math.sqrt(FAN_IN)),
    ],
)
def test_uniform_inits_fill_minus_u_to_u(init: str, bound: float) -> None:
    w = weights(init)
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.999 * bound  # the whole interval is used, not a narrower one
    assert abs(w.mean()) < 0.01 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)  # std of U(-u, u)
    # uniform, not bell-shaped: a quarter of the draws in each quarter of [-u, u]
    counts = np.histogram(w, bins=4, range=(-bound, bound))[0] / w.size
    np.testing.assert_allclose(counts, 0.25, atol=0.005)


def test_fan_in_uniform_spans_the_interval_of_torchs_linear_default() -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    reference = torch.nn.Linear(FAN_IN, FAN_OUT).weight.detach().numpy().astype(np.float64)
    ours = weights("fan_in_uniform")
    assert np.abs(ours).max() <= 1 / math.sqrt(FAN_IN)
    # torch's draws fill the same interval: the extremes agree to 0.1% and so do the spreads
    assert np.abs(ours).max() == pytest.approx(np.abs(reference).max(), rel=1e-3)
    assert ours.std() == pytest.approx(reference.std(), rel=0.01)


@pytest.mark.parametrize(
    ("init", "std", "kwargs"),
    [
        ("glorot_normal", math.sqrt(2 / (FAN_IN + FAN_OUT)), {}),
        ("he_normal", math.sqrt(2 / FAN_IN), {}),
        ("normal", 0.01, {}),
        ("normal", 0.1, {"init_std": 0.1}),
    ],
)
def test_normal_inits_have_the_stated_std(init: str, std: float, kwargs: dict) -> None:
    w = weights(init, **kwargs)
    assert w.std() == pytest.approx(std, rel=0.01)
    assert abs(w.mean()) < 0.01 * std
    assert np.mean(np.abs(w) < std) == pytest.approx(0.6827, abs=0.005)  # normal: 68.3% within one std


def test_zeros_init_and_zero_biases() -> None:
    assert not weights("zeros").any()
    for init in ("glorot_uniform", "he_normal", "normal"):
        assert not nn.Dense(4, 3, init=init, rng=0).bias.value.any()


def test_seeded_initialisation_is_reproducible() -> None:
    a, b, c = (nn.Dense(30, 20, rng=s).weight.value for s in (7, 7, 8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    gen = np.random.default_rng(3)
    first, second = nn.Dense(5, 5, rng=gen), nn.Dense(5, 5, rng=gen)  # one generator: successive draws
    assert not np.array_equal(first.weight.value, second.weight.value)
    m1, m2 = nn.mlp([20, 10, 5], seed=4), nn.mlp([20, 10, 5], seed=4)
    for p, q in zip(m1.parameters(), m2.parameters(), strict=True):
        np.testing.assert_array_equal(p.value, q.value)
    assert not np.array_equal(m1[0].weight.value, nn.mlp([20, 10, 5], seed=5)[0].weight.value)


def test_dtype() -> None:
    assert nn.Dense(3, 2, rng=0).weight.dtype == np.float32
    layer = nn.Dense(3, 2, rng=0, dtype=np.float64)
    assert layer.weight.dtype == layer.bias.dtype == layer.weight.grad.dtype == np.float64


def test_bad_init_settings_are_rejected() -> None:
    with pytest.raises(ConfigError, match=r"init: expected one of .*'glorot_uniform'.*; got 'lecun'"):
        nn.Dense(3, 2, init="lecun")
    with pytest.raises(ConfigError, match="init_std is only used by init='normal'"):
        nn.Dense(3, 2, init="he_normal", init_std=0.1)
    with pytest.raises(ValueError, match="Dense needs positive sizes; got in_features=0"):
        nn.Dense(0, 2)


def test_callable_init() -> None:
    layer = nn.Dense(3, 2, init=lambda shape, rng, dtype: np.full(shape, 0.5), rng=0)
    np.testing.assert_array_equal(layer.weight.value, np.full((3, 2), 0.5, np.float32))


def test_from_arrays_keeps_exact_weights() -> None:
    w = np.array([[0.15, 0.25], [0.20, 0.30]])
    layer = nn.Dense.from_arrays(w, [0.35, 0.35])
    assert (layer.in_features, layer.out_features) == (2, 2) and layer.weight.dtype == np.float64
    np.testing.assert_array_equal(layer.weight.value, w)
    np.testing.assert_array_equal(layer.forward(np.array([[0.05, 0.10]])), np.array([[0.05, 0.10]]) @ w + 0.35)
    w[0, 0] = 9.0
    assert layer.weight.value[0, 0] == 0.15  # a copy
    assert nn.Dense.from_arrays(np.ones((2, 3))).bias is None
    assert nn.Dense.from_arrays(np.ones((2, 3), dtype=np.float32)).weight.dtype == np.float32
    assert nn.Dense.from_arrays(np.ones((2, 3), dtype=int)).weight.dtype == np.float64


def test_from_arrays_and_set_weights_shape_errors() -> None:
    with pytest.raises(ShapeError, match=r"Dense weight must be 2-D \(in, out\); got shape \(3,\)"):
        nn.Dense.from_arrays(np.ones(3))
    with pytest.raises(ShapeError, match=r"Dense bias must have shape \(3,\); got \(2,\)"):
        nn.Dense.from_arrays(np.ones((2, 3)), np.ones(2))
    layer = nn.Dense(4, 3, rng=0)
    with pytest.raises(ShapeError, match=r"Dense weight must have shape \(4, 3\) \(in, out\); got \(3, 4\)"):
        layer.set_weights(np.ones((3, 4)))
    with pytest.raises(ValueError, match="built with bias=False"):
        nn.Dense(4, 3, bias=False, rng=0).set_weights(np.ones((4, 3)), np.ones(3))
    layer.set_weights(np.ones((4, 3)), np.array([[1.0], [2.0], [3.0]]))  # a column vector bias is accepted
    np.testing.assert_array_equal(layer.bias.value, [1, 2, 3])


def test_dense_from_nested_lists() -> None:
    layer = nn.Dense.from_arrays([[1, 2], [3, 4], [5, 6]], [0.5, -1])
    np.testing.assert_array_equal(layer.weight.value, [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(layer.forward(np.array([[1.0, 0.0, 1.0]])), [[6.5, 7.0]])
