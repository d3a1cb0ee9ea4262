"""The `npy` directory layout of SPEC.md E (fashion_mnist_{train,test}_{images,labels}.npy) and the spiral toy set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backproplab.data import Dataset, load_dataset, load_raw, load_splits
from backproplab.errors import ConfigError, DatasetError


@pytest.fixture
def npy_dir(tmp_path: Path, fashion_train: Dataset, fashion_test: Dataset) -> Path:
    """The course's files, made from real Fashion-MNIST slices: n x 784 uint8 images and n uint8 labels."""
    root = tmp_path / "wpi"
    root.mkdir()
    for split, data in (("train", fashion_train.take(1000)), ("test", fashion_test.take(500))):
        np.save(root / f"fashion_mnist_{split}_images.npy", np.rint(data.X * 255).astype(np.uint8))
        np.save(root / f"fashion_mnist_{split}_labels.npy", data.y.astype(np.uint8))
    return root


def test_course_layout_loads_like_the_idx_files(npy_dir: Path, fashion_train: Dataset, fashion_test: Dataset) -> None:
    splits = load_splits("npy", root=npy_dir, scale="centered")
    train, test = splits["train"], splits["test"]
    assert train.X.shape == (1000, 784) and train.X.dtype == np.float32 and train.y.dtype == np.int64
    np.testing.assert_allclose(train.X, fashion_train.X[:1000] - 0.5, atol=1e-6)
    np.testing.assert_array_equal(test.y, fashion_test.y[:500])
    assert train.X.min() == -0.5 and train.X.max() == 0.5
    assert train.classes[0] == "T-shirt/top" and train.image_shape == (28, 28)


def test_image_cubes_and_one_hot_labels_are_accepted(npy_dir: Path, fashion_test: Dataset) -> None:
    images = np.load(npy_dir / "fashion_mnist_test_images.npy")
    np.save(npy_dir / "fashion_mnist_test_images.npy", images.reshape(-1, 28, 28))
    np.save(npy_dir / "fashion_mnist_test_labels.npy", np.eye(10, dtype=np.float32)[fashion_test.y[:500]])
    test = load_dataset("npy", root=npy_dir, split="test")
    assert test.X.shape == (500, 784)
    np.testing.assert_array_equal(test.y, fashion_test.y[:500])


def test_float_images_in_unit_range_are_not_rescaled(tmp_path: Path, rng: np.random.Generator) -> None:
    for split in ("train", "test"):
        np.save(tmp_path / f"{split}_images.npy", rng.uniform(0, 1, (20, 6)))
        np.save(tmp_path / f"{split}_labels.npy", rng.integers(0, 3, 20))
    raw = load_raw("npy", root=tmp_path)
    assert raw.pixel_max == 1.0 and raw.classes == ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
    np.testing.assert_allclose(load_dataset("npy", root=tmp_path).X, np.load(tmp_path / "train_images.npy"), rtol=1e-6)


def test_missing_ambiguous_and_unreadable_files(npy_dir: Path) -> None:
    (npy_dir / "fashion_mnist_train_labels.npy").rename(npy_dir / "kept.bin")  # test labels may be missing: not these
    with pytest.raises(DatasetError, match=r"no \*train_labels\.npy file \(expected e\.g\. fashion_mnist_train_labels"):
        load_raw("npy", root=npy_dir)
    (npy_dir / "kept.bin").rename(npy_dir / "fashion_mnist_train_labels.npy")
    np.save(npy_dir / "fashion_mnist_test_labels.npy", np.zeros(500, np.uint8))
    np.save(npy_dir / "copy_test_labels.npy", np.zeros(500, np.uint8))
    with pytest.raises(DatasetError, match=r"several \*test_labels\.npy files"):
        load_raw("npy", root=npy_dir)
    (npy_dir / "copy_test_labels.npy").unlink()
    target = npy_dir / "fashion_mnist_train_labels.npy"
    np.save(target, np.array([{"label": 1}], dtype=object))  # needs pickle, which is never allowed
    with pytest.raises(DatasetError, match=f"{target}: not a readable .npy array"):
        load_raw("npy", root=npy_dir)


def test_inconsistent_arrays(npy_dir: Path) -> None:
    np.save(npy_dir / "fashion_mnist_train_labels.npy", np.zeros(999, np.uint8))
    with pytest.raises(DatasetError, match="1000 images but 999 labels"):
        load_raw("npy", root=npy_dir)
    np.save(npy_dir / "fashion_mnist_train_labels.npy", np.zeros(1000, np.float32))
    with pytest.raises(DatasetError, match="labels must be integers; got dtype float32"):
        load_raw("npy", root=npy_dir)


def test_npy_needs_a_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BACKPROPLAB_NPY", raising=False)
    with pytest.raises(DatasetError, match="the 'npy' dataset needs a directory"):
        load_raw("npy")
    with pytest.raises(DatasetError, match="no such directory"):
        load_raw("npy", root=tmp_path / "nowhere")


def test_spiral_shapes_and_geometry() -> None:
    train = load_dataset("spiral", n_per_class=50, num_classes=4, noise=0.1, seed=2, scale="none")
    assert train.X.shape == (200, 2) and train.y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(train.y), [50, 50, 50, 50])
    radius = np.linalg.norm(train.X.astype(np.float64), axis=1)
    # arm k: radius r = linspace(0, 1, n), so each arm starts at the origin and ends on the unit circle
    for k in range(4):
        np.testing.assert_allclose(radius[train.y == k], np.linspace(0, 1, 50), atol=1e-6)
    assert train.classes == ("arm 0", "arm 1", "arm 2", "arm 3")


def test_spiral_is_deterministic_in_its_seed() -> None:
    a = load_splits("spiral", seed=5)
    b = load_splits("spiral", seed=5)
    c = load_splits("spiral", seed=6)
    np.testing.assert_array_equal(a["train"].X, b["train"].X)
    assert not np.array_equal(a["train"].X, c["train"].X)
    assert not np.array_equal(a["train"].X, a["test"].X)  # train and test are independent draws
    assert a["train"].X.shape == (300, 2)  # default: 3 arms of 100 points


def test_dataset_options_are_only_for_spiral() -> None:
    with pytest.raises(ConfigError, match=r"dataset options \['noise'\] are only for 'spiral'"):
        load_raw("fashion-mnist", noise=0.3)
