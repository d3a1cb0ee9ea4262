"""Array namespaces: the one place that knows which array library an array belongs to.

Modules compute through ``xp = namespace(x)`` and are written once for every backend. NumPy arrays use NumPy
itself (NumPy 2 follows the array-API standard, and calling it directly keeps the hot path free of wrapper
calls; `NUMPY` only shortens four calls); torch tensors use `array_api_compat`'s torch namespace (the optional
``torch`` extra).

One extension of the standard is used on purpose: ``out=``. NumPy and torch both accept it on elementwise
functions, ``matmul``, ``sum`` and ``take``, so a module that writes into a kept array (a gradient, a work
buffer) does so with the same line on both backends.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class _NumPy:
    """NumPy as the modules call it: NumPy itself, except that the reductions of every training step and
    ``astype`` call their ufunc or method directly (``np.sum(x, axis)`` is ``np.add.reduce(x, axis)`` behind a
    Python wrapper that costs more than the reduction itself on a batch; the results are the same bits)."""

    def __getattr__(self, name: str) -> Any:
        value = getattr(np, name)
        setattr(self, name, value)  # looked up once
        return value

    @staticmethod
    def sum(x: Any, /, *, axis: Any = None, dtype: Any = None, keepdims: bool = False, out: Any = None) -> Any:
        return np.add.reduce(x, axis=axis, dtype=dtype, keepdims=keepdims, out=out)

    @staticmethod
    def max(x: Any, /, *, axis: Any = None, keepdims: bool = False) -> Any:
        return np.maximum.reduce(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def min(x: Any, /, *, axis: Any = None, keepdims: bool = False) -> Any:
        return np.minimum.reduce(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def astype(x: Any, dtype: Any, /, *, copy: bool = True) -> Any:
        return x.astype(dtype, copy=copy)


NUMPY = _NumPy()
_NAMESPACES: dict[type, Any] = {np.ndarray: NUMPY}


def namespace(*arrays: Any) -> Any:
    """Return the array namespace (``xp``) that ``arrays`` belong to (all from one backend)."""
    kind = type(arrays[0])
    xp = _NAMESPACES.get(kind)
    if xp is not None and all(type(a) is kind for a in arrays[1:]):
        return xp
    return _lookup(arrays)


def _lookup(arrays: tuple[Any, ...]) -> Any:
    if all(isinstance(a, np.ndarray | np.generic) for a in arrays):
        return NUMPY
    kinds = sorted({f"{type(a).__module__}.{type(a).__name__}" for a in arrays})
    try:
        from array_api_compat import array_namespace
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        raise TypeError(
            f"backproplab computes on NumPy arrays by default; got {kinds}. Other array types need the "
            "optional 'array-api-compat' package: pip install 'backproplab[torch]'"
        ) from exc
    try:
        xp = array_namespace(*arrays)
    except TypeError as exc:
        raise TypeError(f"arrays from different backends or devices cannot be combined: {kinds}; move the "
                        "model with model.to(...) and give it data of the same backend") from exc
    if len({type(a) for a in arrays}) == 1:
        _NAMESPACES[type(arrays[0])] = xp
    return xp


def backend_of(x: Any) -> str:
    """``"numpy"`` for NumPy arrays, else the array library's name (``"torch"``)."""
    if isinstance(x, np.ndarray | np.generic):
        return "numpy"
    return type(x).__module__.split(".")[0]


def device_of(x: Any) -> str:
    """Where ``x`` lives: ``"cpu"`` for NumPy, ``"cpu"`` / ``"cuda:0"`` ... for torch tensors."""
    device = getattr(x, "device", "cpu")
    return "cpu" if device is None else str(device)


def dtype_name(dtype: Any) -> str:
    """``"float32"`` for ``np.float32``, ``np.dtype("float32")`` and ``torch.float32`` alike."""
    try:
        return np.dtype(dtype).name
    except TypeError:
        return str(dtype).rsplit(".", 1)[-1]


def xp_dtype(xp: Any, dtype: Any) -> Any:
    """The dtype of namespace ``xp`` named like ``dtype`` (e.g. ``torch.float64`` for ``np.float64``)."""
    return getattr(xp, dtype_name(dtype))


def to_numpy(x: Any) -> np.ndarray:
    """A NumPy array with the values of ``x`` (a copy when ``x`` lives on another device or backend)."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "detach"):  # torch
        return x.detach().cpu().numpy()
    return np.asarray(x)

