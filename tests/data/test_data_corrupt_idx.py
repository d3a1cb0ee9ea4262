"""Corrupt, truncated and mismatched IDX files raise DatasetError naming the file and what was wrong.

The copies are made from the real Fashion-MNIST test files (t10k-*), which also stand in for the training
files of each temporary directory: the loader reads four files, and the small ones keep these tests fast.
"""

from __future__ import annotations

import gzip
import re
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from backproplab.data import Dataset, load_dataset, load_raw
from backproplab.data.idx import read_idx
from backproplab.data.locations import FASHION_MNIST_DEFAULT
from backproplab.errors import DatasetError

TEST_IMAGES = FASHION_MNIST_DEFAULT / "t10k-images-idx3-ubyte.gz"
TEST_LABELS = FASHION_MNIST_DEFAULT / "t10k-labels-idx1-ubyte.gz"


def write_idx(path: Path, array: np.ndarray, *, type_code: int = 0x08) -> Path:
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(struct.pack(">i", d) for d in array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes(), compresslevel=1))
    return path


@pytest.fixture
def idx_dir(tmp_path: Path, fashion_test: Dataset) -> Path:
    """A directory with the four IDX files, every one a copy of the real 10k test files."""
    root = tmp_path / "fashion"
    root.mkdir()
    for split in ("train", "t10k"):
        shutil.copy(TEST_IMAGES, root / f"{split}-images-idx3-ubyte.gz")
        shutil.copy(TEST_LABELS, root / f"{split}-labels-idx1-ubyte.gz")
    return root


def raises_naming(path: Path, what: str):
    return pytest.raises(DatasetError, match=re.escape(str(path)) + ".*" + what)


def test_intact_copies_load(idx_dir: Path, fashion_test: Dataset) -> None:
    raw = load_raw("fashion-mnist", root=idx_dir)
    assert raw.train_X.shape == (10000, 784) and raw.source == str(idx_dir)
    np.testing.assert_array_equal(raw.test_y[:2000], fashion_test.y)


def test_truncated_gzip(idx_dir: Path) -> None:
    target = idx_dir / "t10k-images-idx3-ubyte.gz"
    target.write_bytes(TEST_IMAGES.read_bytes()[: TEST_IMAGES.stat().st_size // 2])
    with raises_naming(target, "truncated gzip file"):
        load_raw("fashion-mnist", root=idx_dir)


def test_corrupt_gzip(idx_dir: Path) -> None:
    target = idx_dir / "train-labels-idx1-ubyte.gz"
    data = bytearray(TEST_LABELS.read_bytes())
    data[1000:1008] = bytes(b ^ 0xFF for b in data[1000:1008])  # flip bits inside the deflate stream
    target.write_bytes(bytes(data))
    with raises_naming(target, "corrupt gzip data"):
        load_raw("fashion-mnist", root=idx_dir)


def test_corrupt_gzip_checksum(tmp_path: Path) -> None:
    data = bytearray(gzip.compress(b"\x00\x00\x08\x01" + struct.pack(">i", 3) + b"\x01\x02\x03"))
    data[-8] ^= 0xFF  # the CRC32 of the trailer: the stream decodes, the check fails
    target = tmp_path / "crc.gz"
    target.write_bytes(bytes(data))
    with raises_naming(target, "corrupt gzip data"):
        read_idx(target)


def test_truncated_idx_data_inside_intact_gzip(idx_dir: Path) -> None:
    target = idx_dir / "t10k-images-idx3-ubyte.gz"
    content = gzip.decompress(TEST_IMAGES.read_bytes())
    target.write_bytes(gzip.compress(content[:-784], compresslevel=1))  # one image short
    with raises_naming(
        target,
        r"IDX data truncated: header says shape \(10000, 28, 28\) \(7840000 bytes\), "
        r"file holds 7839216 bytes",
    ):
        load_raw("fashion-mnist", root=idx_dir)


def test_trailing_bytes(tmp_path: Path) -> None:
    target = tmp_path / "labels.gz"
    target.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + struct.pack(">i", 3) + b"\x01\x02\x03\x04"))
    with raises_naming(target, "IDX data has trailing bytes"):
        read_idx(target)


@pytest.mark.parametrize("magic", [b"\x08\x03\x00\x00", b"\x00\x01\x08\x03", b"\x00\x00\x07\x03", b"PK\x03\x04"])
def test_wrong_magic(idx_dir: Path, magic: bytes) -> None:
    target = idx_dir / "train-images-idx3-ubyte.gz"
    content = gzip.decompress(TEST_IMAGES.read_bytes())
    target.write_bytes(gzip.compress(magic + content[4:], compresslevel=1))
    with raises_naming(target, f"not an IDX file \\(bad magic number {magic.hex()}\\)"):
        load_raw("fashion-mnist", root=idx_dir)


def test_empty_file(idx_dir: Path) -> None:
    target = idx_dir / "t10k-labels-idx1-ubyte.gz"
    target.write_bytes(b"")
    with raises_naming(target, "bad magic number empty file"):
        load_raw("fashion-mnist", root=idx_dir)


def test_truncated_header(tmp_path: Path) -> None:
    target = write_idx(tmp_path / "short.gz", np.zeros((2, 28, 28)))
    content = gzip.decompress(target.read_bytes())
    target.write_bytes(gzip.compress(content[:9]))
    with raises_naming(target, r"truncated IDX header \(9 bytes, need 16\)"):
        read_idx(target)


def test_labels_file_in_place_of_images(idx_dir: Path) -> None:
    target = idx_dir / "train-images-idx3-ubyte.gz"
    shutil.copy(TEST_LABELS, target)
    with raises_naming(target, "IDX file has 1 dimensions, expected 3"):
        load_raw("fashion-mnist", root=idx_dir)


def test_images_of_the_wrong_size(idx_dir: Path) -> None:
    target = write_idx(idx_dir / "t10k-images-idx3-ubyte.gz", np.zeros((10000, 32, 32)))
    with raises_naming(target, "images must be 28x28; header says 32x32"):
        load_raw("fashion-mnist", root=idx_dir)


def test_image_and_label_counts_differ(idx_dir: Path) -> None:
    labels = idx_dir / "train-labels-idx1-ubyte.gz"
    shutil.copy(FASHION_MNIST_DEFAULT / "train-labels-idx1-ubyte.gz", labels)  # 60,000 labels for 10,000 images
    images = idx_dir / "train-images-idx3-ubyte.gz"
    with raises_naming(images, f"holds 10000 images but {re.escape(str(labels))} holds 60000 labels"):
        load_raw("fashion-mnist", root=idx_dir)


def test_label_out_of_range(idx_dir: Path) -> None:
    labels = gzip.decompress(TEST_LABELS.read_bytes())
    values = np.frombuffer(labels, np.uint8, offset=8).copy()
    values[1234] = 10
    target = write_idx(idx_dir / "t10k-labels-idx1-ubyte.gz", values)
    with raises_naming(target, r"labels must be in \[0, 9\]; found 10"):
        load_raw("fashion-mnist", root=idx_dir)


def test_missing_file_lists_the_expected_names(idx_dir: Path) -> None:
    (idx_dir / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(
        DatasetError, match=re.escape(str(idx_dir)) + ".*expected the four IDX files.*t10k-labels-idx1-ubyte.gz"
    ):
        load_raw("fashion-mnist", root=idx_dir)


def test_uncompressed_and_dot_spelled_files_load(tmp_path: Path, fashion_test: Dataset) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    for split in ("train", "t10k"):
        (root / f"{split}-images.idx3-ubyte").write_bytes(gzip.decompress(TEST_IMAGES.read_bytes()))
        (root / f"{split}-labels.idx1-ubyte").write_bytes(gzip.decompress(TEST_LABELS.read_bytes()))
    test = load_dataset("fashion-mnist", split="test", root=root, limit=2000)
    np.testing.assert_array_equal(test.X, fashion_test.X)


def test_environment_variable_overrides_the_default_root(
    idx_dir: Path, monkeypatch: pytest.MonkeyPatch, fashion_train: Dataset
) -> None:
    # fashion_train has already loaded (and cached) the default directory in this process
    monkeypatch.setenv("BACKPROPLAB_FASHION_MNIST", str(idx_dir))
    raw = load_raw("fashion-mnist")
    assert raw.source == str(idx_dir) and raw.train_X.shape == (10000, 784)
    monkeypatch.delenv("BACKPROPLAB_FASHION_MNIST")
    assert load_raw("fashion-mnist").train_X.shape == (60000, 784)
