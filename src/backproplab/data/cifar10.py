"""CIFAR-10 from the standard ``cifar-10-batches-py`` directory (data_batch_1..5, test_batch, batches.meta).

Each batch is a pickled dict with ``data`` (10000 x 3072 uint8; 1024 red, 1024 green, 1024 blue values,
each a 32x32 image in row-major order) and ``labels`` (10000 ints). Read without executing pickled code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BackproplabError, DatasetError, brief
from .idx import read_bytes
from .locations import env_root
from .raw import RawData
from .safe_pickle import load_arrays_pickle
from .validate import check_images, check_labels

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))


def _unpickle(path: Path, what: str) -> Any:
    try:
        return load_arrays_pickle(read_bytes(path), encoding="bytes")
    except BackproplabError:
        raise
    except Exception as exc:  # any unpickling failure means the file is not what we expect
        raise DatasetError(f"{path}: not a readable CIFAR-10 {what} ({type(exc).__name__}: {brief(exc)})") from exc


def _text_keys(content: dict[Any, Any]) -> dict[str, Any]:
    """Python 2 pickles have byte-string keys: decode them (latin-1 never fails); other keys are dropped."""
    return {
        (k.decode("latin-1") if isinstance(k, bytes) else k): v
        for k, v in content.items()
        if isinstance(k, bytes | str)
    }


def _labels_array(labels: Any, path: Path) -> np.ndarray:
    """The batch's ``labels`` (a list of ints, or an integer array) as an array, without converting floats."""
    if isinstance(labels, np.ndarray):
        return labels
    if not isinstance(labels, list | tuple) or not all(type(v) is int for v in labels):
        kinds = sorted({type(v).__name__ for v in labels}) if isinstance(labels, list | tuple) else None
        raise DatasetError(
            f"{path}: 'labels' must be a list of integers; got "
            + (f"a list of {', '.join(kinds)}" if kinds else type(labels).__name__)
        )
    try:
        return np.array(labels, dtype=np.int64)
    except OverflowError:
        raise DatasetError(f"{path}: 'labels' holds integers too large to be class indices") from None


def _read_batch(path: Path, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        raise DatasetError(f"{path}: missing CIFAR-10 batch file")
    batch = _unpickle(path, "batch")
    if not isinstance(batch, dict):
        raise DatasetError(f"{path}: expected a pickled dict with 'data' and 'labels'; got {type(batch).__name__}")
    batch = _text_keys(batch)
    if "data" not in batch or "labels" not in batch:
        raise DatasetError(f"{path}: batch lacks 'data' or 'labels' (keys: {sorted(batch)})")
    data = batch["data"]
    if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[1] != 3072 or data.dtype != np.uint8:
        got = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DatasetError(f"{path}: 'data' must be uint8 of shape (N, 3072); got {got}")
    labels = check_labels(_labels_array(batch["labels"], path), num_classes, str(path))
    if labels.shape != (data.shape[0],):
        raise DatasetError(f"{path}: {data.shape[0]} images but {labels.size} labels; the counts must match")
    check_images(data, str(path))
    return data, labels


def _class_names(root: Path) -> tuple[str, ...]:
    meta = root / "batches.meta"
    if not meta.is_file():
        return CIFAR10_CLASSES
    content = _unpickle(meta, "batches.meta")
    names = _text_keys(content).get("label_names") if isinstance(content, dict) else None
    if not isinstance(names, list) or len(names) != 10 or not all(isinstance(n, bytes | str) for n in names):
        return CIFAR10_CLASSES
    return tuple(n.decode("latin-1") if isinstance(n, bytes) else n for n in names)


def load_cifar10(root: Path | None) -> RawData:
    root = root or env_root("cifar10")
    if root is None:
        raise DatasetError(
            "CIFAR-10 is not available on this machine: download cifar-10-python.tar.gz "
            "yourself, extract it, and pass its cifar-10-batches-py directory as root= "
            "(or --data-root, or BACKPROPLAB_CIFAR10)"
        )
    if (root / "cifar-10-batches-py").is_dir():
        root = root / "cifar-10-batches-py"
    if not root.is_dir():
        raise DatasetError(f"{root}: no such directory (expected cifar-10-batches-py)")
    classes = _class_names(root)
    train = [_read_batch(root / name, len(classes)) for name in TRAIN_BATCHES]
    test_X, test_y = _read_batch(root / "test_batch", len(classes))
    return RawData(
        train_X=np.concatenate([x for x, _ in train]),
        train_y=np.concatenate([y for _, y in train]),
        test_X=test_X,
        test_y=test_y,
        classes=classes,
        source=str(root),
        pixel_max=255.0,
        image_shape=(3, 32, 32),
        files=tuple(root / n for n in (*TRAIN_BATCHES, "test_batch")),
    )
