"""Labels are class indices of the dataset's declared classes, and training and test images agree in features and
scale: anything else is a `DatasetError` naming the file (and the row), never a silent extra class, a truncated
float label, a `MemoryError` or a model trained on mixed scales."""

from __future__ import annotations

import gzip
import pickle
import re
import struct
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from backproplab.data import Dataset, load_raw, load_splits
from backproplab.errors import DatasetError
from cifar10_files import py2_pickle


@pytest.fixture
def npy_dir(tmp_path: Path, fashion_train: Dataset, fashion_test: Dataset) -> Callable[..., Path]:
    """``npy_dir(**files) -> Path``: a new directory in the WPI course layout (real Fashion-MNIST slices: 20
    training and 10 test images, uint8 pixels), with ``files`` (name -> array, or bytes) replacing or added.
    A new directory each time: `load_raw` caches what it read by directory."""
    count = iter(range(100))

    def make(**files: np.ndarray | bytes) -> Path:
        root = tmp_path / f"wpi-{next(count)}"
        root.mkdir()
        for split, data in (("train", fashion_train.take(20)), ("test", fashion_test.take(10))):
            np.save(root / f"fashion_mnist_{split}_images.npy", np.rint(data.X * 255).astype(np.uint8))
            np.save(root / f"fashion_mnist_{split}_labels.npy", data.y.astype(np.uint8))
        for name, content in files.items():
            if isinstance(content, bytes):
                (root / name).write_bytes(content)
            else:
                np.save(root / f"{name}.npy", content)
        return root

    return make


TRAIN_LABELS, TEST_LABELS = "fashion_mnist_train_labels", "fashion_mnist_test_labels"
TRAIN_IMAGES, TEST_IMAGES = "fashion_mnist_train_images", "fashion_mnist_test_images"


def test_a_label_beyond_the_classes_is_an_error_naming_its_row(
    npy_dir: Callable[..., Path], fashion_train: Dataset
) -> None:
    labels = fashion_train.y[:20].astype(np.int64)
    labels[19] = 160  # once silently made a 161-class model
    root = npy_dir(**{TRAIN_LABELS: labels})
    with pytest.raises(DatasetError) as err:
        load_raw("npy", root=root)
    assert str(err.value) == (
        f"{root / TRAIN_LABELS}.npy: labels must be in [0, 9]; found 160 at row 19 (the "
        f"dataset has 10 classes); list the class names in {root / 'classes.txt'} for more"
    )


def test_a_huge_label_is_refused_before_anything_is_allocated(npy_dir: Callable[..., Path]) -> None:
    labels = np.zeros(10, np.int64)
    labels[[3, 7]] = 10**8, -1  # 10**8 once allocated a 10**8-class model: a MemoryError
    root = npy_dir(**{TEST_LABELS: labels})
    tracemalloc.start()
    try:
        with pytest.raises(
            DatasetError,
            match=re.escape(
                f"{root / TEST_LABELS}.npy: labels must be in [0, 9]; found "
                "100000000 at row 3 and 1 more rows outside that range"
            ),
        ):
            load_raw("npy", root=root)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000


def test_classes_txt_declares_the_classes(npy_dir: Callable[..., Path], fashion_train: Dataset) -> None:
    names = [f"kind {i}" for i in range(13)]
    listed = ("\n".join(names) + "\n").encode()
    labels = fashion_train.y[:20].astype(np.int64)
    labels[5] = 12
    raw = load_raw("npy", root=npy_dir(**{TRAIN_LABELS: labels, "classes.txt": listed}))
    assert raw.classes == tuple(names) and raw.train_y[5] == 12
    labels[5] = 13
    root = npy_dir(**{TRAIN_LABELS: labels, "classes.txt": listed})
    with pytest.raises(
        DatasetError,
        match=re.escape(
            f"{root / TRAIN_LABELS}.npy: labels must be in [0, 12]; found 13 at row 5 (the dataset has 13 classes)"
        )
        + "$",
    ):
        load_raw("npy", root=root)
    root = npy_dir(**{"classes.txt": b"caf\xe9\n"})
    with pytest.raises(
        DatasetError,
        match=re.escape(
            f"{root / 'classes.txt'}: not UTF-8 text (byte 0xe9 at offset 3); save the class list as UTF-8"
        ),
    ):
        load_raw("npy", root=root)


def test_float_labels_are_refused_not_truncated(npy_dir: Callable[..., Path], fashion_test: Dataset) -> None:
    root = npy_dir(**{TEST_LABELS: fashion_test.y[:10] + 0.5})
    with pytest.raises(
        DatasetError, match=re.escape(f"{root / TEST_LABELS}.npy: labels must be integers; got dtype float64")
    ):
        load_raw("npy", root=root)


def test_one_hot_rows_must_hold_a_single_one(npy_dir: Callable[..., Path], fashion_test: Dataset) -> None:
    one_hot = np.eye(10, dtype=np.float32)[fashion_test.y[:10]]
    np.testing.assert_array_equal(load_raw("npy", root=npy_dir(**{TEST_LABELS: one_hot})).test_y, fashion_test.y[:10])
    one_hot[4, (fashion_test.y[4] + 1) % 10] = 1  # two classes in one row: argmax would pick one silently
    root = npy_dir(**{TEST_LABELS: one_hot})
    with pytest.raises(
        DatasetError,
        match=re.escape(
            f"{root / TEST_LABELS}.npy: one-hot labels must be rows of 10 "
            "values, one 1 and the rest 0 (one per class); row 4 is not such "
            "a row"
        ),
    ):
        load_raw("npy", root=root)


def test_test_pixels_beside_unit_scaled_training_images_are_refused(
    npy_dir: Callable[..., Path], fashion_train: Dataset, fashion_test: Dataset
) -> None:
    root = npy_dir(**{TRAIN_IMAGES: fashion_train.X[:20].astype(np.float64)})  # [0, 1] beside 0..255
    with pytest.raises(DatasetError) as err:
        load_splits("npy", root=root)
    assert str(err.value) == (
        f"{root / TRAIN_IMAGES}.npy holds float64 values in [0, 1] but {root / TEST_IMAGES}.npy "
        "holds uint8 values in [0, 255]: training and test images must use the same scale "
        "(both pixel values 0-255, or both floats in [0, 1])"
    )
    root = npy_dir(**{TRAIN_IMAGES: fashion_train.X[:20], TEST_IMAGES: fashion_test.X[:10]})  # both in [0, 1]
    np.testing.assert_allclose(load_splits("npy", root=root, scale="unit")["test"].X, fashion_test.X[:10])
    root = npy_dir(**{TEST_IMAGES: fashion_test.X[:10]})  # unit floats beside pixels
    with pytest.raises(DatasetError, match="training and test images must use the same scale"):
        load_splits("npy", root=root)


def test_training_and_test_images_must_have_the_same_features(npy_dir: Callable[..., Path]) -> None:
    root = npy_dir(**{TEST_IMAGES: np.zeros((10, 783), np.uint8)})
    with pytest.raises(
        DatasetError,
        match=re.escape(f"{root / TRAIN_IMAGES}.npy has 784 values per image but {root / TEST_IMAGES}.npy has 783"),
    ):
        load_raw("npy", root=root)


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.zeros((0, 784), np.uint8), "no images (shape (0, 784))"),
        (np.full((10, 784), 256, np.int64), "pixel values must be in [0, 255]; found values in [256, 256]"),
        (np.full((10, 784), np.nan), "images contain NaN or infinite values"),
    ],
)
def test_empty_out_of_range_and_nan_images(npy_dir: Callable[..., Path], images: np.ndarray, message: str) -> None:
    root = npy_dir(**{TEST_IMAGES: images})
    with pytest.raises(DatasetError, match=re.escape(f"{root / TEST_IMAGES}.npy: {message}")):
        load_raw("npy", root=root)


def write_idx(path: Path, array: np.ndarray, type_code: int, dims: tuple[int, ...] | None = None) -> Path:
    dims = array.shape if dims is None else dims
    header = bytes([0, 0, type_code, len(dims)]) + struct.pack(f">{len(dims)}i", *dims)
    path.write_bytes(gzip.compress(header + array.tobytes(), compresslevel=1))
    return path


@pytest.fixture
def idx_dir(tmp_path: Path, fashion_train: Dataset) -> Path:
    root = tmp_path / "idx"
    root.mkdir()
    images = np.rint(fashion_train.X[:30] * 255).astype(np.uint8).reshape(30, 28, 28)
    for split in ("train", "t10k"):
        write_idx(root / f"{split}-images-idx3-ubyte.gz", images, 0x08)
        write_idx(root / f"{split}-labels-idx1-ubyte.gz", fashion_train.y[:30].astype(np.uint8), 0x08)
    return root


def test_idx_labels_stored_as_floats_are_refused(idx_dir: Path, fashion_train: Dataset) -> None:
    labels = write_idx(idx_dir / "train-labels-idx1-ubyte.gz", fashion_train.y[:30].astype(">f4") + 0.75, 0x0D)
    with pytest.raises(DatasetError, match=re.escape(f"{labels}: labels must be integers; got dtype float32")):
        load_raw("fashion-mnist", root=idx_dir)


def test_idx_header_with_negative_sizes_is_a_dataset_error(idx_dir: Path, fashion_train: Dataset) -> None:
    # two negative sizes whose product matches the data: numpy's reshape once raised a plain ValueError
    images = np.rint(fashion_train.X[:30] * 255).astype(np.uint8)
    target = write_idx(idx_dir / "t10k-images-idx3-ubyte.gz", images, 0x08, dims=(-30, -28, 28))
    with pytest.raises(
        DatasetError, match=re.escape(f"{target}: corrupt IDX header: negative size in shape (-30, -28, 28)")
    ):
        load_raw("fashion-mnist", root=idx_dir)


def test_idx_header_claiming_more_than_the_file_can_hold_is_refused_unread(idx_dir: Path) -> None:
    target = write_idx(idx_dir / "train-images-idx3-ubyte.gz", np.zeros(100, np.uint8), 0x08, dims=(2**31 - 1, 28, 28))
    bound = target.stat().st_size * 1032 - 16
    tracemalloc.start()
    try:
        with pytest.raises(
            DatasetError,
            match=re.escape(
                f"{target}: IDX data truncated: header says shape "
                f"(2147483647, 28, 28) (1683627179248 bytes), this gzip "
                f"file can hold at most {bound}"
            ),
        ):
            load_raw("fashion-mnist", root=idx_dir)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000


def test_cifar_labels_must_be_integers(tmp_path: Path, rng: np.random.Generator) -> None:
    root = tmp_path / "cifar-10-batches-py"
    root.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels: list = [int(v) for v in rng.integers(0, 10, 3)]
        if name == "data_batch_4":
            labels[1] = 7.9  # once cast to 7
        (root / name).write_bytes(
            py2_pickle({b"data": rng.integers(0, 256, (3, 3072), dtype=np.uint8), b"labels": labels})
        )
    with pytest.raises(
        DatasetError,
        match=re.escape(f"{root / 'data_batch_4'}: 'labels' must be a list of integers; got a list of float, int"),
    ):
        load_raw("cifar10", root=root)


def test_mnist_pickle_labels_must_be_integers(tmp_path: Path, rng: np.random.Generator) -> None:
    def part(n: int, labels_dtype: type) -> tuple[np.ndarray, np.ndarray]:
        return rng.uniform(0, 1, (n, 784)).astype(np.float32), rng.integers(0, 10, n).astype(labels_dtype)

    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(pickle.dumps((part(5, np.int64), part(3, np.float32), part(4, np.int64)))))
    with pytest.raises(
        DatasetError, match=re.escape(f"{path} (validation part): labels must be integers; got dtype float32")
    ):
        load_raw("mnist", root=path)
