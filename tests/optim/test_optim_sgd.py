"""SGD: plain, momentum, Nesterov and weight decay against hand-computed steps and torch.optim.SGD."""

from __future__ import annotations

import numpy as np
import pytest

from backproplab.nn import Parameter
from backproplab.optim import SGD
from needs import import_torch

torch = import_torch()
pytestmark = pytest.mark.needs_torch


def weight_and_bias() -> tuple[Parameter, Parameter]:
    w = Parameter(np.array([[1.0, -2.0], [0.5, 3.0]]), name="weight", regularize=True)
    b = Parameter(np.array([0.25, -1.0]), name="bias", regularize=False)
    return w, b


def test_plain_step_by_hand() -> None:
    w, b = weight_and_bias()
    w.grad[...] = [[0.5, -1.0], [2.0, 0.0]]
    b.grad[...] = [1.0, -4.0]
    SGD([w, b], lr=0.1).step()
    np.testing.assert_allclose(w.value, [[0.95, -1.9], [0.3, 3.0]], rtol=1e-15)
    np.testing.assert_allclose(b.value, [0.15, -0.6], rtol=1e-15)


def test_momentum_two_steps_by_hand() -> None:
    p = Parameter(np.array([1.0]))
    opt = SGD([p], lr=0.1, momentum=0.9)
    p.grad[...] = 2.0
    opt.step()  # v = 2; W = 1 - 0.2
    assert p.value[0] == pytest.approx(0.8, rel=1e-15)
    p.grad[...] = -1.0
    opt.step()  # v = 0.9 * 2 - 1 = 0.8; W = 0.8 - 0.08
    assert p.value[0] == pytest.approx(0.72, rel=1e-15)
    assert opt.steps == 2


def test_nesterov_two_steps_by_hand() -> None:
    p = Parameter(np.array([1.0]))
    opt = SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    p.grad[...] = 2.0
    opt.step()  # v = 2; W -= 0.1 * (2 + 0.9 * 2) = 0.38
    assert p.value[0] == pytest.approx(0.62, rel=1e-15)
    p.grad[...] = -1.0
    opt.step()  # v = 0.8; W -= 0.1 * (-1 + 0.72) = -0.028
    assert p.value[0] == pytest.approx(0.648, rel=1e-14)


def test_weight_decay_applies_to_weights_only() -> None:
    w, b = weight_and_bias()
    w.grad[...] = 0.0
    b.grad[...] = 0.0
    SGD([w, b], lr=0.5, weight_decay=0.1).step()
    np.testing.assert_allclose(w.value, np.array([[1.0, -2.0], [0.5, 3.0]]) * (1 - 0.05), rtol=1e-15)
    np.testing.assert_array_equal(b.value, [0.25, -1.0])


def test_step_does_not_touch_the_gradient() -> None:
    w, _ = weight_and_bias()
    w.grad[...] = 1.0
    SGD([w], lr=0.1, momentum=0.5, weight_decay=0.1).step()
    np.testing.assert_array_equal(w.grad, 1.0)


@pytest.mark.parametrize(
    ("momentum", "nesterov", "weight_decay"),
    [
        (0.0, False, 0.0),
        (0.0, False, 0.01),
        (0.9, False, 0.0),
        (0.9, True, 0.0),
        (0.5, True, 0.05),
    ],
)
def test_matches_torch_over_several_steps(
    rng: np.random.Generator, momentum: float, nesterov: bool, weight_decay: float
) -> None:
    w, b = weight_and_bias()
    tw = torch.tensor(w.value.copy(), requires_grad=True)
    tb = torch.tensor(b.value.copy(), requires_grad=True)
    ours = SGD([w, b], lr=0.05, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
    # torch decays every parameter of a group: biases go in a group without decay
    theirs = torch.optim.SGD(
        [{"params": [tw], "weight_decay": weight_decay}, {"params": [tb], "weight_decay": 0.0}],
        lr=0.05,
        momentum=momentum,
        nesterov=nesterov,
    )
    for _ in range(6):
        gw, gb = rng.standard_normal(w.shape), rng.standard_normal(b.shape)
        w.grad[...], b.grad[...] = gw, gb
        tw.grad, tb.grad = torch.tensor(gw), torch.tensor(gb)
        ours.step()
        theirs.step()
        np.testing.assert_allclose(w.value, tw.detach().numpy(), rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(b.value, tb.detach().numpy(), rtol=1e-14, atol=1e-15)


def test_float32_parameters_stay_float32() -> None:
    p = Parameter(np.ones(3, dtype=np.float32))
    p.grad[...] = 0.5
    opt = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
    opt.step()
    opt.step()
    assert p.value.dtype == np.float32


def test_state_dict_round_trip_continues_identically(rng: np.random.Generator) -> None:
    w1, b1 = weight_and_bias()
    opt1 = SGD([w1, b1], lr=0.1, momentum=0.9, nesterov=True)
    grads = [(rng.standard_normal((2, 2)), rng.standard_normal(2)) for _ in range(5)]
    for gw, gb in grads[:3]:
        w1.grad[...], b1.grad[...] = gw, gb
        opt1.step()
    state = opt1.state_dict()
    assert state["steps"] == 3 and set(state) == {"lr", "base_lr", "steps", "velocity.0", "velocity.1"}

    w2 = Parameter(w1.value.copy(), regularize=True)
    b2 = Parameter(b1.value.copy(), regularize=False)
    opt2 = SGD([w2, b2], lr=0.1, momentum=0.9, nesterov=True)
    opt2.load_state_dict(state)
    for gw, gb in grads[3:]:
        for w, b, opt in ((w1, b1, opt1), (w2, b2, opt2)):
            w.grad[...], b.grad[...] = gw, gb
            opt.step()
    np.testing.assert_array_equal(w1.value, w2.value)
    np.testing.assert_array_equal(b1.value, b2.value)
    assert opt2.steps == 5
    # the saved state is a copy: later steps did not change it
    assert state["steps"] == 3 and not np.array_equal(state["velocity.0"], opt1.velocity[0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": 0.0}, "learning rate must be a finite number > 0; got 0.0"),
        ({"lr": -0.1}, "learning rate must be a finite number > 0; got -0.1"),
        ({"lr": float("nan")}, "learning rate must be a finite number > 0; got nan"),
        ({"lr": 0.1, "momentum": 1.0}, r"momentum must be in \[0, 1\); got 1.0"),
        ({"lr": 0.1, "momentum": -0.5}, r"momentum must be in \[0, 1\); got -0.5"),
        ({"lr": 0.1, "nesterov": True}, "nesterov=True needs momentum > 0"),
        ({"lr": 0.1, "weight_decay": -1e-4}, "weight_decay must be >= 0; got -0.0001"),
    ],
)
def test_bad_hyperparameters_are_rejected(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SGD([Parameter(np.zeros(2))], **kwargs)


def test_bad_parameter_lists_are_rejected() -> None:
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="optimizer parameter 0 is a ndarray, expected Parameter"):
        SGD([np.zeros(2)], lr=0.1)


def test_infinite_learning_rate_is_rejected() -> None:
    from backproplab.nn import Dense

    with pytest.raises(ValueError, match="finite number > 0; got inf"):
        SGD(Dense(2, 2, rng=0).parameters(), lr=float("inf"))
