"""Fashion-MNIST (and MNIST) from the four IDX files of the official distribution."""

from __future__ import annotations

from pathlib import Path

from ..errors import DatasetError
from .idx import read_idx
from .raw import RawData
from .validate import check_images, check_labels

FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
DIGIT_CLASSES = tuple(str(d) for d in range(10))

_STEMS = {
    "train_images": "train-images{sep}idx3-ubyte",
    "train_labels": "train-labels{sep}idx1-ubyte",
    "test_images": "t10k-images{sep}idx3-ubyte",
    "test_labels": "t10k-labels{sep}idx1-ubyte",
}


def idx_files(root: Path) -> dict[str, Path] | None:
    """The four IDX files in ``root`` (``-idx`` or ``.idx`` spelling, gzipped or not), or None if any is missing."""
    found: dict[str, Path] = {}
    for key, stem in _STEMS.items():
        candidates = [root / (stem.format(sep=sep) + ext) for sep in ("-", ".") for ext in (".gz", "")]
        hit = next((c for c in candidates if c.is_file()), None)
        if hit is None:
            return None
        found[key] = hit
    return found


def read_idx_set(root: Path, classes: tuple[str, ...]) -> RawData:
    files = idx_files(root)
    if files is None:
        names = ", ".join(s.format(sep="-") + ".gz" for s in _STEMS.values())
        raise DatasetError(f"{root}: expected the four IDX files ({names})")
    arrays = {}
    for key, path in files.items():
        a = read_idx(path, expected_ndim=3 if key.endswith("images") else 1)
        if key.endswith("labels"):
            arrays[key] = check_labels(a, len(classes), str(path))
            continue
        if a.shape[1:] != (28, 28):
            raise DatasetError(f"{path}: images must be 28x28; header says {a.shape[1]}x{a.shape[2]}")
        arrays[key] = check_images(a.reshape(len(a), -1), str(path), pixel_max=255.0)
    for split in ("train", "test"):
        n_img, n_lab = len(arrays[f"{split}_images"]), len(arrays[f"{split}_labels"])
        if n_img != n_lab:
            raise DatasetError(
                f"{files[f'{split}_images']} holds {n_img} images but "
                f"{files[f'{split}_labels']} holds {n_lab} labels; the counts must match"
            )
    return RawData(
        train_X=arrays["train_images"],
        train_y=arrays["train_labels"],
        test_X=arrays["test_images"],
        test_y=arrays["test_labels"],
        classes=classes,
        source=str(root),
        pixel_max=255.0,
        image_shape=(28, 28),
        files=tuple(files.values()),
    )
