"""Data: load, validate, split and scale the MNIST family (and CIFAR-10, .npy directories, toy spirals)."""

from ..errors import DatasetError
from .dataset import Dataset
from .raw import RawData
from .registry import DATASETS, load_dataset, load_raw, load_splits
from .scaling import SCALES
from .split import train_validation_indices

__all__ = ["DATASETS", "SCALES", "Dataset", "DatasetError", "RawData", "load_dataset", "load_raw", "load_splits",
           "train_validation_indices"]
