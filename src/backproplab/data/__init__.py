"""Data: load, validate, split and scale the MNIST family (and CIFAR-10, .npy directories, toy spirals, the
cs231n toy problem); optional PCA."""

from ..errors import DatasetError
from .augment import Compose, Mixup, RandomShift
from .dataset import Dataset
from .pca import PCA, fit_pca
from .raw import RawData
from .registry import DATASETS, load_dataset, load_raw, load_splits
from .scaling import SCALES
from .split import train_validation_indices

__all__ = [
    "DATASETS",
    "PCA",
    "SCALES",
    "Compose",
    "Dataset",
    "DatasetError",
    "Mixup",
    "RandomShift",
    "RawData",
    "load_dataset",
    "load_raw",
    "load_splits",
    "fit_pca",
    "train_validation_indices",
]
