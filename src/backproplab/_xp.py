"""Array namespaces: the one place that knows which array library an array belongs to.

Modules compute through ``xp = namespace(x)`` and are written once for every backend: NumPy arrays get NumPy,
torch tensors `array_api_compat`'s torch namespace (the optional ``torch`` extra). NumPy 2 and torch follow the
array-API standard, with three additions the modules use on purpose:

- ``out=``: NumPy and torch both accept it on elementwise functions, ``matmul``, ``sum`` and ``take``, so a module
  that writes into a kept array (a gradient, a work buffer) does so with the same line on both backends;
- ``expit`` (the logistic sigmoid) and ``log_softmax``, which the standard lacks. torch has both as single fused
  operations (``torch.special``); NumPy has neither (SciPy has, and backproplab does not depend on it), so their
  NumPy forms are written out below. The two backends compute the same functions to within a unit in the last
  place (float64 results agree to ~1e-16), not to the bit;
- ``axpy(a, x, y)``: y += a x in place (BLAS's name), SGD's update: one fused pass on torch
  (``y.add_(x, alpha=a)``), ``y += a * x`` on NumPy (the same bits as ``y -= lr * x`` for a = -lr).

The namespaces call the few functions of every training step directly (`_NumPy.sum` is ``np.add.reduce``;
`_Torch.matmul` is ``torch.matmul``): NumPy's and array-api-compat's Python wrappers around them cost more than
the arithmetic on a batch of 32. Everything else falls through to NumPy or array-api-compat unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class _Namespace:
    """A library's namespace with a few functions replaced; other names are looked up there (once)."""

    def __init__(self, base: Any) -> None:
        self._base = base

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._base, name)
        setattr(self, name, value)
        return value


class _NumPy(_Namespace):
    """NumPy: reductions straight to their ufuncs (the same bits as ``np.sum``/``np.max``/``np.min``), and the
    logistic function, log-softmax and ``axpy`` written out."""

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

    @staticmethod
    def axpy(a: float, x: Any, y: Any) -> None:
        y += a * x

    @staticmethod
    def expit(x: Any) -> Any:
        """1 / (1 + e^-x), stable: with e = exp(-|x|) in (0, 1], 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0.

        The numerator is max([x >= 0], e) (1 where x >= 0 since e <= 1, e where x < 0, NaN for NaN) rather than
        where(x >= 0, ...), whose per-element branch costs 3-4x the arithmetic on mixed signs; e is computed in
        place.
        """
        e = np.abs(x)
        np.negative(e, out=e)
        np.exp(e, out=e)
        num = np.maximum(x >= 0, e, dtype=e.dtype)
        e += 1.0
        num /= e
        return num

    @staticmethod
    def log_softmax(z: Any, /, *, axis: int = -1) -> Any:
        """(z - max z) - log sum exp(z - max z) along ``axis``."""
        shifted = z - np.maximum.reduce(z, axis=axis, keepdims=True)
        shifted -= np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))
        return shifted


class _Torch(_Namespace):
    """array-api-compat's torch namespace, with the functions of every step calling torch directly (the
    compat versions first reconcile mixed dtypes, which modules never pass: ~5 µs per matmul) and torch's fused
    ``expit``, ``log_softmax`` and ``axpy``."""

    def __init__(self, base: Any) -> None:
        import torch

        super().__init__(base)
        self._torch = torch
        self.matmul = torch.matmul
        self.expit = torch.special.expit

    def sum(self, x: Any, /, *, axis: Any = None, dtype: Any = None, keepdims: bool = False, out: Any = None) -> Any:
        if axis is None:
            return self._base.sum(x, dtype=dtype, keepdims=keepdims)
        return self._torch.sum(x, axis, keepdim=keepdims, dtype=dtype, out=out)

    def max(self, x: Any, /, *, axis: Any = None, keepdims: bool = False) -> Any:
        return self._torch.amax(x, () if axis is None else axis, keepdim=keepdims)

    def min(self, x: Any, /, *, axis: Any = None, keepdims: bool = False) -> Any:
        return self._torch.amin(x, () if axis is None else axis, keepdim=keepdims)

    @staticmethod
    def astype(x: Any, dtype: Any, /, *, copy: bool = True) -> Any:
        return x.to(dtype=dtype, copy=copy)

    def log_softmax(self, z: Any, /, *, axis: int = -1) -> Any:
        return self._torch.special.log_softmax(z, axis)

    @staticmethod
    def axpy(a: float, x: Any, y: Any) -> None:
        y.add_(x, alpha=a)


NUMPY = _NumPy(np)
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
        raise TypeError(
            f"arrays from different backends or devices cannot be combined: {kinds}; move the "
            "model with model.to(...) and give it data of the same backend"
        ) from exc
    if backend_of(arrays[0]) == "torch":
        xp = _Torch(xp)
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
