"""CIFAR-10 from the standard ``cifar-10-batches-py`` directory (data_batch_1..5, test_batch, batches.meta).

Each batch is a pickled dict with ``data`` (10000 x 3072 uint8; 1024 red, 1024 green, 1024 blue values,
each a 32x32 image in row-major order) and ``labels`` (10000 ints). Read without executing pickled code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DatasetError
from .idx import read_bytes
from .locations import env_root
from .raw import RawData
from .safe_pickle import load_arrays_pickle

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        raise DatasetError(f"{path}: missing CIFAR-10 batch file")
    try:
        batch: Any = load_arrays_pickle(read_bytes(path), encoding="bytes")
    except DatasetError:
        raise
    except Exception as exc:
        raise DatasetError(f"{path}: not a readable CIFAR-10 batch ({type(exc).__name__}: {exc})") from exc
    if not isinstance(batch, dict):
        raise DatasetError(f"{path}: expected a pickled dict with 'data' and 'labels'; got {type(batch).__name__}")
    batch = {(k.decode() if isinstance(k, bytes) else k): v for k, v in batch.items()}
    if "data" not in batch or "labels" not in batch:
        raise DatasetError(f"{path}: batch lacks 'data' or 'labels' (keys: {sorted(batch)})")
    data = np.asarray(batch["data"])
    labels = np.asarray(batch["labels"], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3072 or data.dtype != np.uint8:
        raise DatasetError(f"{path}: 'data' must be uint8 of shape (N, 3072); got {data.dtype} {data.shape}")
    if labels.shape != (data.shape[0],):
        raise DatasetError(f"{path}: {data.shape[0]} images but {labels.size} labels; the counts must match")
    return data, labels


def _class_names(root: Path) -> tuple[str, ...]:
    meta = root / "batches.meta"
    if not meta.is_file():
        return CIFAR10_CLASSES
    try:
        content = load_arrays_pickle(read_bytes(meta), encoding="bytes")
    except DatasetError:
        raise
    except Exception as exc:
        raise DatasetError(f"{meta}: not a readable CIFAR-10 batches.meta ({type(exc).__name__}: {exc})") from exc
    names = content.get(b"label_names") if isinstance(content, dict) else None
    if not names or len(names) != 10:
        return CIFAR10_CLASSES
    return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)


def load_cifar10(root: Path | None) -> RawData:
    root = root or env_root("cifar10")
    if root is None:
        raise DatasetError("CIFAR-10 is not available on this machine: download cifar-10-python.tar.gz "
                           "yourself, extract it, and pass its cifar-10-batches-py directory as root= "
                           "(or --data-root, or BACKPROPLAB_CIFAR10)")
    if (root / "cifar-10-batches-py").is_dir():
        root = root / "cifar-10-batches-py"
    if not root.is_dir():
        raise DatasetError(f"{root}: no such directory (expected cifar-10-batches-py)")
    train = [_read_batch(root / name) for name in TRAIN_BATCHES]
    test_X, test_y = _read_batch(root / "test_batch")
    return RawData(
        train_X=np.concatenate([x for x, _ in train]),
        train_y=np.concatenate([y for _, y in train]),
        test_X=test_X,
        test_y=test_y,
        classes=_class_names(root),
        source=str(root),
        pixel_max=255.0,
        image_shape=(3, 32, 32),
        files=tuple(root / n for n in (*TRAIN_BATCHES, "test_batch")),
    )
