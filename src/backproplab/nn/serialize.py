"""Save and load models as ``.npz`` (no pickle): parameter arrays plus a JSON description of the layers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_write
from .._xp import to_numpy
from ..errors import BackproplabError, ModelFileError
from .batchnorm import BatchNorm
from .build import ACTIVATIONS
from .dense import Dense
from .dropout import Dropout
from .model_file import ARCHITECTURE as _ARCH_KEY
from .model_file import read_model_file
from .module import Module, Sequential
from .softmax import Softmax

# Layer types a model file can hold: the activations of the registry (`ACTIVATIONS`), Dense, BatchNorm, Dropout,
# Softmax; each with the constructor options its description carries (Dense is rebuilt from its sizes, BatchNorm
# from its options, both in the file's dtype).
LAYER_TYPES: dict[str, type[Module]] = {
    cls.__name__: cls for cls in (*ACTIVATIONS.values(), BatchNorm, Dropout, Softmax)
}
LAYER_OPTIONS = {
    "ELU": ("alpha",),
    "LeakyReLU": ("slope",),
    "Dropout": ("p",),
    "BatchNorm": ("features", "momentum", "eps"),
}


def layer_spec(layer: Module) -> dict[str, Any]:
    """A JSON-able description of one layer, enough to rebuild it."""
    kind = type(layer).__name__
    if isinstance(layer, Dense):
        return {
            "type": "Dense",
            "in_features": layer.in_features,
            "out_features": layer.out_features,
            "bias": layer.bias is not None,
        }
    if LAYER_TYPES.get(kind) is not type(layer):
        raise BackproplabError(f"cannot describe layer {kind} for saving")
    return {"type": kind, **{option: getattr(layer, option) for option in LAYER_OPTIONS.get(kind, ())}}


def _build_layer(spec: dict[str, Any], dtype: Any) -> Module:
    kind = spec.get("type")
    if kind == "Dense":
        return Dense(spec["in_features"], spec["out_features"], bias=spec["bias"], init="zeros", dtype=dtype)
    if kind == "BatchNorm":
        return BatchNorm(spec["features"], momentum=spec["momentum"], eps=spec["eps"], dtype=dtype)
    if kind not in LAYER_TYPES:
        raise BackproplabError(f"unknown layer type {kind!r} in saved model")
    return LAYER_TYPES[kind](*(spec[option] for option in LAYER_OPTIONS.get(kind, ())))


def architecture(model: Module) -> list[dict[str, Any]]:
    layers = model.layers if isinstance(model, Sequential) else [model]
    return [layer_spec(layer) for layer in layers]


def save_model(model: Module, path: str | Path) -> Path:
    """Write ``model`` to ``path`` (``.npz``) atomically: a crash never leaves a half-written file.

    The file is the same on every backend (NumPy arrays); `load_model` gives a NumPy model, and
    ``load_model(path).to("torch", device=...)`` puts it back on torch."""
    path = Path(path)
    arrays = {name: to_numpy(value) for name, value in model.state_dict().items()}  # parameters and buffers
    arrays[_ARCH_KEY] = np.array(json.dumps(architecture(model)))
    return atomic_write(path, lambda fh: np.savez(fh, **arrays))


def load_model(path: str | Path) -> Sequential:
    """Rebuild a model saved by `save_model`; the file is checked before it is unpacked (`read_model_file`), and
    any problem raises `ModelFileError` naming the file (`ResourceError` when the model cannot fit in memory)."""
    path = Path(path)
    specs, arrays = read_model_file(path)
    dtype = next(iter(arrays.values())).dtype.newbyteorder("=") if arrays else np.dtype(np.float32)
    layers = []
    for i, spec in enumerate(specs):
        try:
            layers.append(_build_layer(spec, dtype))
        except (BackproplabError, KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{path}: layer {i} ({spec.get('type')}) cannot be rebuilt: {exc}") from None
    model = Sequential(*layers)
    model.load_state_dict(arrays)
    return model
