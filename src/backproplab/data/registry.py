"""`load_dataset` and `load_splits`: read a dataset by name, split it, scale it."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from .._text import did_you_mean
from ..errors import ConfigError, DatasetError
from .cifar10 import load_cifar10
from .dataset import Dataset
from .fashion_mnist import FASHION_CLASSES, read_idx_set
from .locations import FASHION_MNIST_DEFAULT, env_root
from .mnist import load_mnist
from .npy_dir import load_npy_dir
from .raw import RawData
from .scaling import fit_scaler
from .spiral import load_spiral
from .split import train_validation_indices
from .toy import load_toy

DATASETS = ("fashion-mnist", "mnist", "cifar10", "npy", "spiral", "toy")
SPLITS = ("train", "validation", "test")


def _load_fashion(root: Path | None) -> RawData:
    root = root or env_root("fashion-mnist") or FASHION_MNIST_DEFAULT
    if not root.is_dir():
        raise DatasetError(
            f"Fashion-MNIST not found: {root} does not exist. Run `backproplab data fetch fashion-mnist` "
            "(as root it installs the Debian package dataset-fashion-mnist), or "
            "`sudo apt-get install dataset-fashion-mnist`, or point BACKPROPLAB_FASHION_MNIST (or root=) "
            "at a directory holding the four IDX .gz files"
        )
    return read_idx_set(root, FASHION_CLASSES)


@functools.lru_cache(maxsize=8)
def _raw_cached(name: str, root: str | None, options: tuple[tuple[str, Any], ...]) -> RawData:
    path = Path(root).expanduser() if root else None
    if name == "fashion-mnist":
        return _load_fashion(path)
    if name == "mnist":
        return load_mnist(path)
    if name == "cifar10":
        return load_cifar10(path)
    if name == "npy":
        return load_npy_dir(path)
    if name == "toy":
        return load_toy()
    return load_spiral(**dict(options))


def load_raw(name: str, root: str | Path | None = None, **options: Any) -> RawData:
    """The unscaled train and test arrays of dataset ``name`` (cached per process)."""
    key = normalize_name(name)
    if options and key != "spiral":
        raise ConfigError(f"dataset options {sorted(options)} are only for 'spiral'; got them for {name!r}")
    if root is None:
        # resolve the environment variable before the cache lookup, which is keyed by the root: otherwise a
        # variable set after a first load would be ignored for the rest of the process
        root = env_root(key)
    return _raw_cached(key, str(root) if root is not None else None, tuple(sorted(options.items())))


def normalize_name(name: str) -> str:
    key = name.lower().replace("_", "-")
    key = {"fashion": "fashion-mnist", "fashionmnist": "fashion-mnist", "cifar-10": "cifar10"}.get(key, key)
    if key not in DATASETS:
        raise ConfigError(f"dataset: expected one of {list(DATASETS)}; got {name!r}{did_you_mean(name, DATASETS)}")
    return key


def load_splits(
    name: str,
    *,
    scale: str = "unit",
    root: str | Path | None = None,
    validation_size: int | float | None = None,
    seed: int = 0,
    dtype: Any = np.float32,
    **options: Any,
) -> dict[str, Dataset]:
    """``{"train", "test"}`` (and ``"validation"`` when ``validation_size`` is given), scaled alike.

    The scaling statistics come from the ``train`` part only (after the validation rows are removed).
    """
    key = normalize_name(name)
    if key == "spiral":
        options.setdefault("seed", seed)
    raw = load_raw(key, root, **options)
    parts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    split_meta: dict[str, Any] = {}
    if validation_size is not None:
        tr, va = train_validation_indices(len(raw.train_y), validation_size, seed)
        parts["train"] = (raw.train_X[tr], raw.train_y[tr])
        parts["validation"] = (raw.train_X[va], raw.train_y[va])
        split_meta = {"validation_size": len(va), "split_seed": seed}
    else:
        parts["train"] = (raw.train_X, raw.train_y)
    parts["test"] = (raw.test_X, raw.test_y)
    scaler = fit_scaler(scale, parts["train"][0], raw.pixel_max)
    meta = {**scaler.describe(), **split_meta, "files": [str(f) for f in raw.files]}
    return {
        split: Dataset(
            X=scaler(X, dtype),
            y=y,
            classes=raw.classes,
            name=key,
            split=split,
            source=raw.source,
            image_shape=raw.image_shape,
            meta=dict(meta),
        )
        for split, (X, y) in parts.items()
    }


def load_dataset(
    name: str,
    *,
    split: str = "train",
    scale: str = "unit",
    root: str | Path | None = None,
    validation_size: int | float | None = None,
    seed: int = 0,
    limit: int | None = None,
    dtype: Any = np.float32,
    **options: Any,
) -> Dataset:
    """Load one split of a dataset as a `Dataset` (``X`` float32 ``(N, D)``, ``y`` int64 ``(N,)``).

    Args:
        name: ``fashion-mnist``, ``mnist``, ``cifar10``, ``npy``, ``spiral`` or ``toy`` (the generated cs231n
            5-sample problem; its test split is its training split).
        split: ``train``, ``test``, or ``validation`` (needs ``validation_size``).
        scale: ``unit`` ([0, 1]), ``centered`` ([-0.5, 0.5]), ``standardize`` (train statistics), ``none``.
        root: where the files are (default: an environment variable, then the standard place).
        validation_size: rows (or a fraction) of the training files held out as ``validation``; ``train``
            is then the rest. Deterministic in ``seed``.
        limit: keep only the first ``limit`` rows (for quick experiments).
        options: for ``spiral``: ``n_per_class``, ``num_classes``, ``noise``, ``seed``.
    """
    if split not in SPLITS:
        raise ConfigError(f"split: expected one of {list(SPLITS)}; got {split!r}")
    if split == "validation" and validation_size is None:
        raise ConfigError("split='validation' needs validation_size (e.g. 10000 for a 50k/10k MNIST split)")
    if limit is not None and limit < 1:
        raise ConfigError(f"limit: must be a positive number of rows; got {limit}")
    splits = load_splits(
        name, scale=scale, root=root, validation_size=validation_size, seed=seed, dtype=dtype, **options
    )
    return splits[split].take(limit)
