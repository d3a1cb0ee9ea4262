"""Adam: bias-corrected steps by hand (textbook form) and against torch.optim.Adam."""

from __future__ import annotations

import numpy as np
import pytest

from backproplab.nn import Parameter
from backproplab.optim import Adam
from needs import import_torch

torch = import_torch()
pytestmark = pytest.mark.needs_torch


def test_first_step_moves_each_weight_by_about_lr() -> None:
    # after bias correction m_hat = g and v_hat = g^2, so the first step is lr * g / (|g| + eps)
    p = Parameter(np.array([1.0, -1.0, 2.0]))
    p.grad[...] = [0.5, -2.0, 1e-3]
    Adam([p], lr=0.01).step()
    expected = np.array([1.0, -1.0, 2.0]) - 0.01 * np.array([0.5, -2.0, 1e-3]) / (np.array([0.5, 2.0, 1e-3]) + 1e-8)
    np.testing.assert_allclose(p.value, expected, rtol=1e-14)


def adam_by_hand(w: np.ndarray, grads: list[np.ndarray], lr: float, b1: float, b2: float, eps: float) -> list:
    """The textbook algorithm (Kingma & Ba, Algorithm 1), written out; returns W after each step."""
    m, v, out = np.zeros_like(w), np.zeros_like(w), []
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(w)
    return out


@pytest.mark.parametrize(
    ("lr", "b1", "b2", "eps"), [(1e-3, 0.9, 0.999, 1e-8), (0.05, 0.8, 0.99, 1e-7), (0.1, 0.0, 0.5, 1e-3)]
)
def test_matches_the_textbook_algorithm(rng: np.random.Generator, lr: float, b1: float, b2: float, eps: float) -> None:
    w0 = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) * 10.0 ** rng.integers(-4, 2) for _ in range(8)]
    p = Parameter(w0.copy())
    opt = Adam([p], lr=lr, beta1=b1, beta2=b2, eps=eps)
    for g, expected in zip(grads, adam_by_hand(w0, grads, lr, b1, b2, eps), strict=True):
        p.grad[...] = g
        opt.step()
        np.testing.assert_allclose(p.value, expected, rtol=1e-13, atol=1e-15)
    assert opt.steps == 8


@pytest.mark.parametrize("eps", [1e-8, 1e-7])
def test_matches_torch_over_several_steps(rng: np.random.Generator, eps: float) -> None:
    params = [Parameter(rng.standard_normal((4, 3))), Parameter(rng.standard_normal(3), regularize=False)]
    tparams = [torch.tensor(p.value.copy(), requires_grad=True) for p in params]
    ours = Adam(params, lr=0.01, beta1=0.9, beta2=0.999, eps=eps)
    theirs = torch.optim.Adam(tparams, lr=0.01, betas=(0.9, 0.999), eps=eps)
    for step in range(12):
        for p, tp in zip(params, tparams, strict=True):
            g = rng.standard_normal(p.shape) * (1e-3 if step % 3 == 0 else 1.0)
            p.grad[...] = g
            tp.grad = torch.tensor(g)
        ours.step()
        theirs.step()
        for p, tp in zip(params, tparams, strict=True):
            np.testing.assert_allclose(p.value, tp.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_state_dict_round_trip_continues_identically(rng: np.random.Generator) -> None:
    grads = [rng.standard_normal(5) for _ in range(6)]
    p1 = Parameter(np.zeros(5))
    opt1 = Adam([p1], lr=0.1)
    for g in grads[:4]:
        p1.grad[...] = g
        opt1.step()
    state = opt1.state_dict()
    assert state["steps"] == 4 and {"m.0", "v.0"} <= set(state)
    p2 = Parameter(p1.value.copy())
    opt2 = Adam([p2], lr=0.1)
    opt2.load_state_dict(state)
    for g in grads[4:]:
        for p, opt in ((p1, opt1), (p2, opt2)):
            p.grad[...] = g
            opt.step()
    np.testing.assert_array_equal(p1.value, p2.value)


def test_float32_parameters_stay_float32() -> None:
    p = Parameter(np.ones(3, dtype=np.float32))
    p.grad[...] = 0.5
    opt = Adam([p], lr=0.1)
    opt.step()
    assert p.value.dtype == np.float32 and opt.m[0].dtype == opt.v[0].dtype == np.float32


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"beta1": 1.0}, r"Adam beta1 must be in \[0, 1\); got 1.0"),
        ({"beta1": -0.1}, r"Adam beta1 must be in \[0, 1\); got -0.1"),
        ({"beta2": 1.5}, r"Adam beta2 must be in \[0, 1\); got 1.5"),
        ({"eps": 0.0}, "Adam eps must be > 0; got 0.0"),
        ({"lr": 0.0}, "learning rate must be a finite number > 0; got 0.0"),
    ],
)
def test_bad_hyperparameters_are_rejected(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Adam([Parameter(np.zeros(2))], **kwargs)
