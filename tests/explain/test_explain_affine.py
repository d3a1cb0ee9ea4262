"""Section E's affine helpers: affine, compose, compose_gradients (any n >= 1), against numerical gradients."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backproplab.errors import ShapeError
from backproplab.explain import affine, compose, compose_gradients


def random_stack(rng: np.random.Generator, sizes: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        (rng.standard_normal((n_out, n_in)), rng.standard_normal(n_out))
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)
    ]


def output(layers: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray) -> float:
    z = x
    for W, b in layers:
        z = W @ z + b
    return float(z[0])


def numerical_gradients(layers, x, eps=1e-6):
    grads = []
    for W, b in layers:
        gs = []
        for arr in (W, b):
            g = np.zeros_like(arr)
            for idx in np.ndindex(arr.shape):
                old = arr[idx]
                arr[idx] = old + eps
                up = output(layers, x)
                arr[idx] = old - eps
                down = output(layers, x)
                arr[idx] = old
                g[idx] = (up - down) / (2 * eps)
            gs.append(g)
        grads.append(tuple(gs))
    return grads


def test_affine_is_w_x_plus_b() -> None:
    W = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert affine(W, [1.0, 0.0, -1.0], [2.0, -1.0]).tolist() == [1.0, 2.0, 3.0]
    # column vectors as written in the course are accepted
    assert affine(W, np.array([[1.0], [0.0], [-1.0]]), np.array([[2.0], [-1.0]])).tolist() == [1.0, 2.0, 3.0]


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 4), min_size=2, max_size=6), seed=st.integers(0, 2**31 - 1))
def test_compose_gradients_match_numerical_gradients_for_any_stack(sizes: list[int], seed: int) -> None:
    sizes = sizes + [1]  # a scalar output; n = len(sizes) - 1 >= 2 layers
    rng = np.random.default_rng(seed)
    layers = random_stack(rng, sizes)
    x = rng.standard_normal(sizes[0])
    zs = compose(layers, x)
    assert [z.shape for z in zs] == [(n,) for n in sizes[1:]]
    assert zs[-1][0] == pytest.approx(output(layers, x), rel=1e-12, abs=1e-12)
    grads = compose_gradients(layers, x, zs)
    numeric = numerical_gradients(layers, x)
    assert len(grads) == len(layers)
    for (dW, db), (nW, nb), (W, b) in zip(grads, numeric, layers, strict=True):
        assert dW.shape == W.shape and db.shape == b.shape
        np.testing.assert_allclose(dW, nW, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(db, nb, rtol=1e-6, atol=1e-7)


def test_single_layer_and_grad_output_for_vector_outputs() -> None:
    rng = np.random.default_rng(0)
    layers = random_stack(rng, [3, 1])
    x = rng.standard_normal(3)
    ((dW, db),) = compose_gradients(layers, x, compose(layers, x))
    np.testing.assert_allclose(dW, x[None, :])
    np.testing.assert_allclose(db, [1.0])
    layers = random_stack(rng, [3, 4, 2])
    g = np.array([0.5, -2.0])
    grads = compose_gradients(layers, x, compose(layers, x), grad_output=g)
    # d(g . z2)/dW2 = g z1^T
    np.testing.assert_allclose(grads[1][0], np.outer(g, compose(layers, x)[0]), rtol=1e-12)


def test_errors_name_the_layer_and_shape() -> None:
    W1, b1 = np.ones((3, 2)), np.zeros(3)
    with pytest.raises(ShapeError, match=r"layer 2: W must have shape \(out, 3\)"):
        compose([(W1, b1), (np.ones((1, 2)), np.zeros(1))], [1.0, 2.0])
    with pytest.raises(ShapeError, match=r"layer 1: b must have shape \(3,\)"):
        compose([(W1, np.zeros(2))], [1.0, 2.0])
    with pytest.raises(ShapeError, match="not a scalar; give grad_output"):
        compose_gradients([(W1, b1)], [1.0, 2.0], [np.zeros(3)])
    with pytest.raises(ValueError, match="one vector per layer"):
        compose_gradients([(W1, b1), (np.ones((1, 3)), np.zeros(1))], [1.0, 2.0], [np.zeros(3)])
    with pytest.raises(ValueError, match="empty"):
        compose([], [1.0])
