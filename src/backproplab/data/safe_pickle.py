"""Read the pickle files that datasets ship in (MNIST's ``mnist.pkl.gz``, CIFAR-10's batches) without
executing arbitrary code: only NumPy array reconstruction and plain containers may be loaded."""

from __future__ import annotations

import io
import pickle
from typing import Any

_ALLOWED = {
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),  # how Python 3 writes bytes into protocol <= 2 pickles
}


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        # Files written with NumPy 1.x refer to numpy.core, which NumPy 2 renamed numpy._core.
        if module.startswith("numpy.core"):
            module = "numpy._core" + module[len("numpy.core") :]
        if (module, name) in _ALLOWED or (module == "numpy.dtypes" and name.endswith("DType")):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only NumPy arrays are allowed")


def load_arrays_pickle(data: bytes, encoding: str = "latin1") -> Any:
    """Unpickle ``data`` allowing only NumPy arrays, numbers, strings, lists, tuples and dicts."""
    return _ArrayUnpickler(io.BytesIO(data), encoding=encoding).load()
