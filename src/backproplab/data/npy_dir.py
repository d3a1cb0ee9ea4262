"""A directory of ``.npy`` arrays as in the WPI course: ``<prefix>{train,test}_{images,labels}.npy``
(e.g. ``fashion_mnist_train_images.npy``, n x 784 uint8, and ``fashion_mnist_train_labels.npy``, n labels).

Images are ``(n, D)`` or ``(n, H, W)``, either pixel values in [0, 255] or floats in [0, 1]; training and test
images must use the same scale. Labels are integer class indices ``(n,)`` or one-hot rows ``(n, K)``. The test
labels may be missing (a course's test set given without labels, e.g. the MNIST of the HW3 Intro to ML
course): the test split then has images only, to be predicted (``y`` None). The
classes are those of Fashion-MNIST (a file name containing "fashion") or the ten digits, unless the directory
holds ``classes.txt``: one class name a line, which declares K.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._npy import read_npy
from .._text import read_utf8
from ..errors import DatasetError
from .fashion_mnist import DIGIT_CLASSES, FASHION_CLASSES
from .locations import env_root
from .raw import RawData
from .validate import check_images, check_labels

_PARTS = ("train_images", "train_labels", "test_images", "test_labels")
_OPTIONAL = ("test_labels",)
CLASSES_FILE = "classes.txt"


def _find(root: Path, part: str) -> Path | None:
    hits = sorted(root.glob(f"*{part}.npy"))
    if not hits and part in _OPTIONAL:
        return None
    if not hits:
        raise DatasetError(f"{root}: no *{part}.npy file (expected e.g. fashion_mnist_{part}.npy)")
    if len(hits) > 1:
        raise DatasetError(f"{root}: several *{part}.npy files ({', '.join(h.name for h in hits)}); keep one")
    return hits[0]


def _load(path: Path) -> np.ndarray:
    """The array in ``path``, numbers only (never pickled objects), checked against the file's size first."""
    try:
        with path.open("rb") as fh:
            return read_npy(fh, path.stat().st_size, f"{path}: not a readable .npy array", DatasetError, name=str(path))
    except OSError as exc:
        raise DatasetError(f"{path}: not a readable .npy array ({exc.strerror or exc})") from None


def _classes(root: Path, images: Path) -> tuple[str, ...]:
    listed = root / CLASSES_FILE
    if listed.is_file():
        names = tuple(
            line.strip() for line in read_utf8(listed, "class list", DatasetError).splitlines() if line.strip()
        )
        if not names:
            raise DatasetError(f"{listed}: no class names (expected one name a line)")
        return names
    return FASHION_CLASSES if "fashion" in images.name else DIGIT_CLASSES


def _images(array: np.ndarray, path: Path) -> np.ndarray:
    if array.ndim == 3:
        array = array.reshape(len(array), -1)
    elif array.ndim != 2:
        raise DatasetError(f"{path}: images must be (n, D) or (n, H, W); got shape {array.shape}")
    return check_images(array, str(path), pixel_max=255.0)


def _labels(array: np.ndarray, path: Path, classes: tuple[str, ...], root: Path) -> np.ndarray:
    k = len(classes)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    elif array.ndim == 2:  # one-hot rows
        ones = array == 1
        bad = np.flatnonzero(~((ones | (array == 0)).all(axis=1) & (ones.sum(axis=1) == 1)))
        if array.shape[1] != k or bad.size:
            where = f"row {int(bad[0])} is not" if bad.size else f"rows have {array.shape[1]} values, not {k}:"
            raise DatasetError(
                f"{path}: one-hot labels must be rows of {k} values, one 1 and the rest 0 "
                f"(one per class); {where} such a row"
            )
        array = ones.argmax(axis=1)
    hint = "" if (root / CLASSES_FILE).is_file() else f"; list the class names in {root / CLASSES_FILE} for more"
    return check_labels(array, k, str(path), hint)


def _unit_scale(X: np.ndarray) -> bool:
    """Float images all in [0, 1] (the maximum of a unit-scaled set); anything else is 0..255 pixels."""
    return X.dtype.kind == "f" and float(X.max()) <= 1.0


def _fits_pixels(X: np.ndarray) -> bool:
    """Images that can be 0..255 pixel values beside pixel training images: integers, or values beyond 1."""
    return X.dtype.kind in "iu" or float(X.max()) > 1.0 or bool((X == np.round(X)).all())


def _check_same_scale(train: np.ndarray, test: np.ndarray, files: dict[str, Path]) -> None:
    unit = _unit_scale(train)
    if (unit and not _unit_scale(test)) or (not unit and not _fits_pixels(test)):

        def describe(X: np.ndarray) -> str:
            return f"{X.dtype} values in [{float(X.min()):.4g}, {float(X.max()):.4g}]"

        raise DatasetError(
            f"{files['train_images']} holds {describe(train)} but {files['test_images']} holds "
            f"{describe(test)}: training and test images must use the same scale "
            "(both pixel values 0-255, or both floats in [0, 1])"
        )


def load_npy_dir(root: Path | None) -> RawData:
    root = root or env_root("npy")
    if root is None:
        raise DatasetError("the 'npy' dataset needs a directory: root= (or --data-root, or BACKPROPLAB_NPY)")
    if not root.is_dir():
        raise DatasetError(f"{root}: no such directory")
    files = {part: path for part in _PARTS if (path := _find(root, part)) is not None}
    classes = _classes(root, files["train_images"])
    arrays: dict[str, np.ndarray] = {}
    for split in ("train", "test"):
        images, labels = files[f"{split}_images"], files.get(f"{split}_labels")
        arrays[f"{split}_images"] = _images(_load(images), images)
        if labels is None:  # a test set without labels
            continue
        arrays[f"{split}_labels"] = _labels(_load(labels), labels, classes, root)
        if len(arrays[f"{split}_images"]) != len(arrays[f"{split}_labels"]):
            raise DatasetError(
                f"{images} and {labels}: {len(arrays[f'{split}_images'])} images but "
                f"{len(arrays[f'{split}_labels'])} labels; the counts must match"
            )
    train_X, test_X = arrays["train_images"], arrays["test_images"]
    if train_X.shape[1] != test_X.shape[1]:
        raise DatasetError(
            f"{files['train_images']} has {train_X.shape[1]} values per image but "
            f"{files['test_images']} has {test_X.shape[1]}; training and test images must match"
        )
    _check_same_scale(train_X, test_X, files)
    d = train_X.shape[1]
    return RawData(
        train_X=train_X,
        train_y=arrays["train_labels"],
        test_X=test_X,
        test_y=arrays.get("test_labels"),
        classes=classes,
        source=str(root),
        pixel_max=1.0 if _unit_scale(train_X) else 255.0,
        image_shape={784: (28, 28), 3072: (3, 32, 32)}.get(d),
        files=tuple(files.values()),
    )
