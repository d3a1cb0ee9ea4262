"""RandomShift: every pixel against a plain NumPy computation, reproducibility from the seed and the saved
generator state, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from backproplab.data.augment import Compose, Mixup, RandomShift
from backproplab.errors import ConfigError


def reference(
    X: np.ndarray, dy: np.ndarray, dx: np.ndarray, flips: np.ndarray, shape: tuple[int, ...], fill: float
) -> np.ndarray:
    """Pad, crop, mirror: the same map written with NumPy slicing, one image at a time."""
    c, h, w = (1, *shape) if len(shape) == 2 else shape
    s = max(h, w)
    out = np.empty_like(X)
    for r in range(len(X)):
        padded = np.full((c, h + 2 * s, w + 2 * s), fill, dtype=X.dtype)
        padded[:, s : s + h, s : s + w] = X[r].reshape(c, h, w)
        moved = padded[:, s - dy[r] : s - dy[r] + h, s - dx[r] : s - dx[r] + w]  # moved[i, j] = image[i - dy, j - dx]
        out[r] = (moved[:, :, ::-1] if flips[r] else moved).reshape(-1)
    return out


@pytest.mark.parametrize(
    ("shape", "flip", "fill"), [((5, 7), False, 0.0), ((6, 4), True, -0.5), ((3, 5, 6), True, 0.25)]
)
def test_every_pixel_matches_the_numpy_reference(
    rng: np.random.Generator, shape: tuple[int, ...], flip: bool, fill: float
) -> None:
    X = rng.standard_normal((40, int(np.prod(shape)))).astype(np.float32)
    aug = RandomShift(2, shape, flip=flip, fill=fill, rng=7)
    dy, dx, flips = RandomShift(2, shape, flip=flip, fill=fill, rng=7).draw(len(X))  # the same draws
    out = aug.shift(X)
    np.testing.assert_array_equal(out, reference(X, dy, dx, flips, shape, fill))
    assert set(np.unique(dy)) == set(np.unique(dx)) == {-2, -1, 0, 1, 2}  # every shift occurs in 40 draws
    assert flips.any() == flip and (not flip or not flips.all())


def test_shift_moves_a_single_pixel_where_expected() -> None:
    X = np.zeros((1, 25), np.float32)
    X[0, 2 * 5 + 1] = 1.0  # pixel (2, 1) of a 5x5 image
    aug = RandomShift(1, (5, 5), rng=0)
    dy, dx, _ = RandomShift(1, (5, 5), rng=0).draw(1)
    out = aug.shift(X).reshape(5, 5)
    assert out[2 + dy[0], 1 + dx[0]] == 1.0 and out.sum() == 1.0


def test_zero_shift_without_flip_is_the_identity(rng: np.random.Generator) -> None:
    X = rng.random((8, 12)).astype(np.float64)
    np.testing.assert_array_equal(RandomShift(0, (3, 4), rng=1).shift(X), X)


def test_same_seed_same_batches_and_state_round_trip(rng: np.random.Generator) -> None:
    X = rng.random((16, 784)).astype(np.float32)
    a, b = RandomShift(2, (28, 28), flip=True, rng=3), RandomShift(2, (28, 28), flip=True, rng=3)
    previous = a.shift(X).copy()
    np.testing.assert_array_equal(previous, b.shift(X))
    saved = a.state_dict()
    first = a.shift(X).copy()
    assert not np.array_equal(first, previous)  # the generator moved on
    a.load_state_dict(saved)
    np.testing.assert_array_equal(a.shift(X), first)  # restored generator: the same draws again
    other = RandomShift(2, (28, 28), flip=True, rng=4).shift(X)
    assert not np.array_equal(other, RandomShift(2, (28, 28), rng=3).shift(X))


def test_clear_errors() -> None:
    with pytest.raises(ConfigError, match=r"max_shift must be in \[0, 4\]"):
        RandomShift(5, (5, 5))
    with pytest.raises(ConfigError, match="image shape"):
        RandomShift(1, (784,))
    with pytest.raises(ValueError, match=r"expects a batch \(B, 784\); got \(3, 10\)"):
        RandomShift(1, (28, 28)).shift(np.zeros((3, 10), np.float32))


def test_shift_passes_the_targets_through(rng: np.random.Generator) -> None:
    X, y = rng.random((6, 20)).astype(np.float32), rng.integers(0, 3, 6)
    moved, same = RandomShift(1, (4, 5), rng=0)(X, y)
    assert same is y and moved.shape == X.shape


def test_mixup_blends_rows_and_one_hot_targets_with_one_draw_per_batch(rng: np.random.Generator) -> None:
    X, y = rng.random((8, 5)).astype(np.float32), rng.integers(0, 3, 8)
    Xm, T = Mixup(0.4, 3, rng=11)(X, y)
    draws = np.random.default_rng(11)
    lam, p = draws.beta(0.4, 0.4), draws.permutation(8)
    one_hot = np.eye(3, dtype=np.float32)[y]
    np.testing.assert_array_equal(Xm, lam * X + (1.0 - lam) * X[p])
    np.testing.assert_array_equal(T, lam * one_hot + (1.0 - lam) * one_hot[p])
    assert Xm.dtype == T.dtype == np.float32
    np.testing.assert_allclose(T.sum(axis=1), 1.0, rtol=1e-6)  # still probability rows
    rows = rng.dirichlet(np.ones(3), size=8).astype(np.float32)
    np.testing.assert_array_equal(Mixup(0.4, 3, rng=11)(X, rows)[1], lam * rows + (1.0 - lam) * rows[p])


def test_compose_applies_in_order_and_saves_every_generator(rng: np.random.Generator) -> None:
    X, y = rng.random((8, 16)).astype(np.float32), rng.integers(0, 4, 8)
    aug = Compose(RandomShift(1, (4, 4), rng=1), Mixup(0.2, 4, rng=2))
    state = aug.state_dict()
    first = [a.copy() for a in aug(X, y)]
    shifted = RandomShift(1, (4, 4), rng=1).shift(X)
    np.testing.assert_array_equal(first[0], Mixup(0.2, 4, rng=2)(shifted, y)[0])
    aug.load_state_dict(state)
    for a, b in zip(aug(X, y), first, strict=True):
        np.testing.assert_array_equal(a, b)
    assert repr(aug) == "Compose(RandomShift(max_shift=1, image_shape=(4, 4), fill=0.0), Mixup(alpha=0.2))"
    with pytest.raises(ConfigError, match="Mixup alpha must be > 0; got 0"):
        Mixup(0, 3)
