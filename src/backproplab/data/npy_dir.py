"""A directory of ``.npy`` arrays as in the WPI course: ``<prefix>{train,test}_{images,labels}.npy``
(e.g. ``fashion_mnist_train_images.npy``, n x 784 uint8, and ``fashion_mnist_train_labels.npy``, n labels)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DatasetError
from .fashion_mnist import DIGIT_CLASSES, FASHION_CLASSES
from .locations import env_root
from .raw import RawData

_PARTS = ("train_images", "train_labels", "test_images", "test_labels")


def _find(root: Path, part: str) -> Path:
    hits = sorted(root.glob(f"*{part}.npy"))
    if not hits:
        raise DatasetError(f"{root}: no *{part}.npy file (expected e.g. fashion_mnist_{part}.npy)")
    if len(hits) > 1:
        raise DatasetError(f"{root}: several *{part}.npy files ({', '.join(h.name for h in hits)}); keep one")
    return hits[0]


def _load(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise DatasetError(f"{path}: not a readable .npy array ({exc})") from exc


def load_npy_dir(root: Path | None) -> RawData:
    root = root or env_root("npy")
    if root is None:
        raise DatasetError("the 'npy' dataset needs a directory: root= (or --data-root, or BACKPROPLAB_NPY)")
    if not root.is_dir():
        raise DatasetError(f"{root}: no such directory")
    files = {part: _find(root, part) for part in _PARTS}
    arrays = {part: _load(path) for part, path in files.items()}
    for split in ("train", "test"):
        images = arrays[f"{split}_images"]
        if images.ndim == 3:
            arrays[f"{split}_images"] = images.reshape(len(images), -1)
        elif images.ndim != 2:
            raise DatasetError(f"{files[f'{split}_images']}: images must be (n, D) or (n, H, W); "
                               f"got shape {images.shape}")
        labels = arrays[f"{split}_labels"]
        if labels.ndim == 2 and labels.shape[1] > 1:  # one-hot labels
            arrays[f"{split}_labels"] = labels.argmax(axis=1)
        arrays[f"{split}_labels"] = np.asarray(arrays[f"{split}_labels"]).reshape(-1)
        if np.issubdtype(arrays[f"{split}_labels"].dtype, np.integer):
            arrays[f"{split}_labels"] = arrays[f"{split}_labels"].astype(np.int64)
    train_X = arrays["train_images"]
    # Float images already in [0, 1] are unit-scaled; anything else is taken as 0..255 pixel values.
    unit = np.issubdtype(train_X.dtype, np.floating) and train_X.size and float(np.nanmax(train_X)) <= 1.0
    pixel_max = 1.0 if unit else 255.0
    d = train_X.shape[1]
    num_classes = int(max(arrays["train_labels"].max(initial=0), arrays["test_labels"].max(initial=0))) + 1
    if num_classes <= 10:
        classes = FASHION_CLASSES if "fashion" in files["train_images"].name else DIGIT_CLASSES
    else:
        classes = tuple(str(i) for i in range(num_classes))
    return RawData(
        train_X=train_X, train_y=arrays["train_labels"], test_X=arrays["test_images"],
        test_y=arrays["test_labels"], classes=classes,
        source=str(root), pixel_max=pixel_max,
        image_shape={784: (28, 28), 3072: (3, 32, 32)}.get(d), files=tuple(files.values()),
    )
