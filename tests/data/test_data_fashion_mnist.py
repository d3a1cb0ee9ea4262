"""Fashion-MNIST from the real IDX files: contents checked against an independent reader, class balance, scaling."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from backproplab.data import Dataset, load_raw, load_splits, train_validation_indices
from backproplab.data.locations import FASHION_MNIST_DEFAULT
from backproplab.errors import ConfigError, DatasetError

FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def read_idx_by_hand(path: Path) -> np.ndarray:
    """The IDX layout written out: magic 0x0000 0x08 ndim, ndim big-endian int32 sizes, then uint8 data."""
    data = gzip.decompress(path.read_bytes())
    assert data[:3] == b"\x00\x00\x08"
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data[4 + 4 * ndim :], dtype=np.uint8).reshape(shape)


@pytest.fixture(scope="module")
def raw(load_or_skip: Callable[..., Dataset]):
    load_or_skip("fashion-mnist", split="test", limit=1)  # a clear failure if the data are not installed
    return load_raw("fashion-mnist")


def test_shapes_dtypes_and_source(raw) -> None:
    assert raw.train_X.shape == (60000, 784) and raw.train_X.dtype == np.uint8
    assert raw.test_X.shape == (10000, 784) and raw.test_X.dtype == np.uint8
    assert raw.train_y.dtype == raw.test_y.dtype == np.int64
    assert raw.classes == FASHION_CLASSES and raw.image_shape == (28, 28) and raw.pixel_max == 255.0
    assert raw.source == str(FASHION_MNIST_DEFAULT)
    assert raw.train_X.min() == 0 and raw.train_X.max() == 255


def test_six_thousand_per_class_in_train_and_one_thousand_in_test(raw) -> None:
    np.testing.assert_array_equal(np.bincount(raw.train_y, minlength=10), np.full(10, 6000))
    np.testing.assert_array_equal(np.bincount(raw.test_y, minlength=10), np.full(10, 1000))


def test_contents_equal_an_independent_reading_of_the_files(raw) -> None:
    root = FASHION_MNIST_DEFAULT
    test_images = read_idx_by_hand(root / "t10k-images-idx3-ubyte.gz")
    assert test_images.shape == (10000, 28, 28)
    np.testing.assert_array_equal(raw.test_X, test_images.reshape(10000, 784))  # row-major 28x28 -> 784
    np.testing.assert_array_equal(raw.test_y, read_idx_by_hand(root / "t10k-labels-idx1-ubyte.gz"))
    np.testing.assert_array_equal(raw.train_y, read_idx_by_hand(root / "train-labels-idx1-ubyte.gz"))
    # the first training image of the official files is an ankle boot (label 9)
    assert raw.train_y[0] == 9 and raw.test_y[0] == 9


def test_dataset_object(raw, load_or_skip: Callable[..., Dataset]) -> None:
    train = load_or_skip("fashion-mnist", split="train")
    assert train.X.shape == (60000, 784) and train.X.dtype == np.float32 and train.y.dtype == np.int64
    assert (train.name, train.split, train.num_classes, train.num_features) == ("fashion-mnist", "train", 10, 784)
    assert train.classes == FASHION_CLASSES and train.image_shape == (28, 28)
    np.testing.assert_array_equal(train.y, raw.train_y)
    assert train.meta["scale"] == "unit" and len(train.meta["files"]) == 4
    assert len(load_or_skip("fashion-mnist", split="test", limit=123)) == 123


@pytest.mark.parametrize(("scale", "low", "high"), [("unit", 0.0, 1.0), ("centered", -0.5, 0.5), ("none", 0, 255)])
def test_fixed_scales(raw, scale: str, low: float, high: float) -> None:
    splits = load_splits("fashion-mnist", scale=scale)
    for name, pixels in (("train", raw.train_X), ("test", raw.test_X)):
        X = splits[name].X
        assert X.dtype == np.float32 and X.shape == pixels.shape
        assert X.min() == low and X.max() == high
        rows = slice(None, None, 7)  # every 7th image: the same map applies to all, and it keeps the test fast
        expected = pixels[rows] / 255.0 * (high - low) + low
        np.testing.assert_allclose(X[rows], expected, rtol=1e-6, atol=1e-6)


def test_standardize_uses_training_statistics_only(raw) -> None:
    splits = load_splits("fashion-mnist", scale="standardize", validation_size=10000, seed=1)
    assert splits["train"].meta["scale"] == "standardize"
    tr, _ = train_validation_indices(60000, 10000, seed=1)  # the split itself is tested in test_data_split.py
    mask = np.zeros(60000, bool)
    mask[tr] = True
    np.testing.assert_array_equal(splits["train"].y, raw.train_y[mask])
    train_unit = raw.train_X.astype(np.float64) / 255
    mean = train_unit[mask].mean(axis=0)
    std = train_unit[mask].std(axis=0)
    assert std.min() > 1e-8  # no constant pixel in Fashion-MNIST's training images
    for name, rows in (("train", train_unit[mask]), ("validation", train_unit[~mask]), ("test", raw.test_X / 255.0)):
        np.testing.assert_allclose(splits[name].X[::7], (rows[::7] - mean) / std, rtol=1e-5, atol=1e-4)
    X = splits["train"].X.astype(np.float64)
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(X.std(axis=0), 1, rtol=1e-4)
    # the validation rows were not part of the statistics: their mean is off zero by sampling noise
    assert np.abs(splits["validation"].X.mean(axis=0)).max() > 1e-3


@pytest.mark.needs_data("fashion-mnist")
def test_unknown_scale_and_split_are_rejected(load_or_skip: Callable[..., Dataset]) -> None:
    allowed = r"\['unit', 'centered', 'mean', 'standardize', 'none'\]"
    with pytest.raises(ConfigError, match=r"scale: expected one of " + allowed):
        load_splits("fashion-mnist", scale="minmax")
    with pytest.raises(ConfigError, match="split: expected one of"):
        load_or_skip("fashion-mnist", split="dev")
    with pytest.raises(ConfigError, match="split='validation' needs validation_size"):
        load_or_skip("fashion-mnist", split="validation")
    with pytest.raises(ConfigError, match=r"dataset: expected one of .*; got 'kmnist'"):
        load_raw("kmnist")


def test_missing_directory_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"does not exist\. Run `backproplab data fetch fashion-mnist`"):
        load_raw("fashion-mnist", root=tmp_path / "nowhere")


def test_tests_skip_with_instructions_when_data_are_missing(
    load_or_skip: Callable[..., Dataset], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKPROPLAB_FASHION_MNIST", str(tmp_path / "not-installed"))
    with pytest.raises(pytest.skip.Exception, match=r"(?s)needs fashion-mnist.*not-installed.*bash scripts/test\.sh"):
        load_or_skip("fashion-mnist", split="test")
