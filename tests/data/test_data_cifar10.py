"""CIFAR-10 from a cifar-10-batches-py directory, written here in the exact format of the official files.

The files are written by tests/cifar10_files.py in the exact format of the official ones (Python 2 pickles).
"""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

from backproplab.data import load_dataset, load_raw
from backproplab.errors import DatasetError
from cifar10_files import LABEL_NAMES, py2_pickle, write_batch

PER_BATCH = 12


@pytest.fixture
def cifar(tmp_path: Path, rng: np.random.Generator) -> tuple[Path, dict[str, np.ndarray]]:
    """A cifar-10-batches-py directory of 5 x 12 training and 12 test images; returns it and the arrays."""
    root = tmp_path / "cifar-10-batches-py"
    root.mkdir()
    arrays: dict[str, np.ndarray] = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(PER_BATCH, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, size=PER_BATCH)
        write_batch(root / name, data, [int(v) for v in labels], name.encode())
        arrays[name] = data
        arrays[name + "_labels"] = labels
    (root / "batches.meta").write_bytes(
        py2_pickle({b"num_cases_per_batch": PER_BATCH, b"label_names": LABEL_NAMES, b"num_vis": 3072})
    )
    return root, arrays


def test_written_files_have_the_python2_layout(cifar) -> None:
    content = (cifar[0] / "data_batch_1").read_bytes()
    assert content.startswith(b"\x80\x02}")
    assert b"cnumpy.core.multiarray\n_reconstruct\n" in content and b"U\x04data" in content
    assert b"_codecs" not in content and b"numpy._core" not in content
    reference = pickle.loads(content, encoding="bytes")  # the usual recipe for the official files
    assert set(reference) == {b"batch_label", b"labels", b"data", b"filenames"}


def test_loads_train_batches_in_order_and_the_test_batch(cifar) -> None:
    root, arrays = cifar
    train = load_dataset("cifar10", root=root, split="train", scale="none")
    assert train.X.shape == (5 * PER_BATCH, 3072) and train.X.dtype == np.float32 and train.y.dtype == np.int64
    expected = np.concatenate([arrays[f"data_batch_{i}"] for i in range(1, 6)])
    np.testing.assert_array_equal(train.X, expected)
    np.testing.assert_array_equal(train.y, np.concatenate([arrays[f"data_batch_{i}_labels"] for i in range(1, 6)]))
    test = load_dataset("cifar10", root=root, split="test", scale="unit")
    np.testing.assert_allclose(test.X, arrays["test_batch"] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(test.y, arrays["test_batch_labels"])
    assert train.classes == tuple(n.decode() for n in LABEL_NAMES) and train.image_shape == (3, 32, 32)
    assert train.source == str(root) and train.name == "cifar10"


def test_parent_directory_and_environment_variable(cifar, monkeypatch: pytest.MonkeyPatch) -> None:
    root, _ = cifar
    assert load_raw("cifar10", root=root.parent).source == str(root)
    monkeypatch.setenv("BACKPROPLAB_CIFAR10", str(root))
    assert load_raw("cifar10").train_X.shape == (60, 3072)


def test_meta_file_is_optional(cifar) -> None:
    root, _ = cifar
    (root / "batches.meta").unlink()
    assert load_raw("cifar10", root=root).classes[0] == "airplane"


class Exploit:
    """Unpickling this with the standard pickle module would run a shell command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_refuses_to_unpickle_arbitrary_objects(cifar, tmp_path: Path) -> None:
    root, _ = cifar
    marker = tmp_path / "pwned"
    target = root / "data_batch_3"
    target.write_bytes(py2_pickle({b"data": Exploit(marker), b"labels": []}))
    with pytest.raises(DatasetError, match=re.escape(str(target)) + r".*refusing to load posix\.system"):
        load_raw("cifar10", root=root)
    assert not marker.exists()


def test_refuses_arbitrary_objects_in_the_meta_file(cifar, tmp_path: Path) -> None:
    root, _ = cifar
    marker = tmp_path / "pwned"
    (root / "batches.meta").write_bytes(py2_pickle({b"label_names": Exploit(marker)}))
    with pytest.raises(DatasetError, match=re.escape(str(root / "batches.meta")) + r".*refusing to load posix\.system"):
        load_raw("cifar10", root=root)
    assert not marker.exists()


def test_corrupt_meta_file(cifar) -> None:
    root, _ = cifar
    (root / "batches.meta").write_bytes(b"\x80\x02}q\x01(U\x0blabel_n")  # cut short
    with pytest.raises(DatasetError, match=re.escape(str(root / "batches.meta")) + ": not a readable"):
        load_raw("cifar10", root=root)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            {b"data": np.zeros((3, 3000), np.uint8), b"labels": [0, 1, 2]},
            r"'data' must be uint8 of shape \(N, 3072\); got uint8 \(3, 3000\)",
        ),
        (
            {b"data": np.zeros((3, 3072), np.float32), b"labels": [0, 1, 2]},
            r"'data' must be uint8 of shape \(N, 3072\); got float32",
        ),
        ({b"data": np.zeros((3, 3072), np.uint8), b"labels": [0, 1]}, "3 images but 2 labels"),
        ({b"data": np.zeros((3, 3072), np.uint8)}, "batch lacks 'data' or 'labels'"),
        ([np.zeros((3, 3072), np.uint8), [0, 1, 2]], "expected a pickled dict with 'data' and 'labels'; got list"),
    ],
)
def test_malformed_batches_name_the_file(cifar, content: object, message: str) -> None:
    root, _ = cifar
    target = root / "data_batch_2"
    target.write_bytes(py2_pickle(content))
    with pytest.raises(DatasetError, match=re.escape(str(target)) + ": " + message):
        load_raw("cifar10", root=root)


def test_truncated_batch(cifar) -> None:
    root, _ = cifar
    target = root / "test_batch"
    target.write_bytes(target.read_bytes()[:5000])
    with pytest.raises(DatasetError, match=re.escape(str(target)) + ": not a readable CIFAR-10 batch"):
        load_raw("cifar10", root=root)


def test_label_out_of_range(cifar, rng: np.random.Generator) -> None:
    root, _ = cifar
    write_batch(root / "data_batch_5", rng.integers(0, 256, (2, 3072), dtype=np.uint8), [3, 10])
    with pytest.raises(
        DatasetError,
        match=re.escape(
            f"{root / 'data_batch_5'}: labels must be in [0, 9]; found 10 at row 1 (the dataset has 10 classes)"
        ),
    ):
        load_raw("cifar10", root=root)


def test_missing_batch_and_missing_directory(cifar, tmp_path: Path) -> None:
    root, _ = cifar
    (root / "test_batch").unlink()
    with pytest.raises(DatasetError, match=re.escape(str(root / "test_batch")) + ": missing CIFAR-10 batch file"):
        load_raw("cifar10", root=root)
    with pytest.raises(DatasetError, match="no such directory"):
        load_raw("cifar10", root=tmp_path / "nowhere")


def test_without_a_directory_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BACKPROPLAB_CIFAR10", raising=False)
    with pytest.raises(DatasetError, match="CIFAR-10 is not available on this machine.*cifar-10-batches-py"):
        load_raw("cifar10")


def test_python3_protocol2_pickles_load(tmp_path) -> None:
    import gzip
    import pickle

    from backproplab.data.safe_pickle import load_arrays_pickle

    payload = {b"data": np.arange(6, dtype=np.uint8).reshape(2, 3), b"labels": [0, 1]}
    data = load_arrays_pickle(gzip.decompress(gzip.compress(pickle.dumps(payload, protocol=2))), encoding="bytes")
    np.testing.assert_array_equal(data[b"data"], payload[b"data"])
    assert data[b"labels"] == [0, 1]
