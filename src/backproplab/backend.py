"""Backends: where a model's arrays live, and moving arrays there.

A `Placement` is a backend and a device: ``numpy/cpu`` (the default), ``torch/cpu`` or ``torch/cuda:N``. The
modules compute with whatever arrays they hold (`backproplab._xp.namespace`); this module turns a user's choice
(``"auto"``, ``"cuda"``, a missing torch or GPU) into a placement, with a one-line error when it cannot be had,
and converts arrays between placements. torch is imported only when the torch backend is asked for.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._xp import backend_of, device_of, dtype_name
from .errors import BackendError

BACKENDS = ("numpy", "torch")
DTYPES = ("float32", "float64")  # the parameter dtypes a run config can name
DEVICES_TEXT = "'auto', 'cpu', 'cuda' or 'cuda:N'"
_DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")
# Share of the free device memory the whole training set may take before fit moves it batch by batch instead.
DEVICE_MEMORY_SHARE = 0.5


@dataclass(frozen=True)
class Placement:
    """Where arrays live: ``backend`` ``"numpy"`` or ``"torch"``; ``device`` ``"cpu"`` or ``"cuda:N"``."""

    backend: str = "numpy"
    device: str = "cpu"

    def __str__(self) -> str:
        return f"{self.backend} ({self.device})"


NUMPY = Placement()


def import_torch() -> Any:
    """The torch module, or a `BackendError` saying how to install it."""
    try:
        import torch
    except ImportError:
        raise BackendError(
            "the torch backend needs PyTorch, which is not installed: pip install "
            "'backproplab[torch]' (a CPU build), or use the numpy backend"
        ) from None
    return torch


def torch_version() -> str | None:
    """The installed torch version (without importing torch), or None."""
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return None


def resolve(backend: str = "numpy", device: str | None = None) -> Placement:
    """The placement for ``backend`` and ``device`` (``"auto"``/None: CUDA when torch sees a GPU, else the CPU).

    Raises `BackendError` for an unknown backend or device, a missing torch, or a CUDA device that is not there.
    """
    if backend not in BACKENDS:
        raise BackendError(f"backend: expected 'numpy' or 'torch'; got {backend!r}")
    device = "auto" if device is None else str(device).strip().lower()
    if not _DEVICE.fullmatch(device):
        raise BackendError(f"device: expected {DEVICES_TEXT}; got {device!r}")
    if backend == "numpy":
        if device.startswith("cuda"):
            raise BackendError(
                f"device {device!r} needs the torch backend (NumPy computes on the CPU): "
                "use backend 'torch', or device 'cpu'"
            )
        return NUMPY
    torch = import_torch()
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise BackendError(
                f"device {device!r} needs a CUDA GPU, but torch {torch.__version__} sees none "
                "(torch.cuda.is_available() is False): use device 'cpu' or 'auto'"
            )
        count = torch.cuda.device_count()
        index = int(device.split(":")[1]) if ":" in device else torch.cuda.current_device()
        if index >= count:
            raise BackendError(
                f"device {device!r}: this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}"
            )
        device = f"cuda:{index}"
    return Placement("torch", device)


def placement_of(x: Any) -> Placement:
    """Where the array ``x`` lives."""
    return Placement(backend_of(x), device_of(x))


def move(x: Any, to: Placement, dtype: Any = None, *, copy: bool = False) -> Any:
    """``x`` (a NumPy array or torch tensor) on placement ``to``, converted to ``dtype`` if given.

    Without ``copy`` the result shares memory with ``x`` where it can (NumPy and torch CPU arrays share it), and
    is ``x`` itself when nothing changes; with ``copy`` it is always a new array.
    """
    name = None if dtype is None else dtype_name(dtype)
    if to.backend == "numpy":
        if backend_of(x) != "numpy":
            x = x.detach().cpu().numpy()
        return np.array(x, dtype=name, copy=True) if copy else np.asarray(x, dtype=name)
    torch = import_torch()
    target = None if name is None else getattr(torch, name)
    if isinstance(x, torch.Tensor):
        return x.to(device=to.device, dtype=target, copy=copy)
    return torch.asarray(np.asarray(x), dtype=target, device=to.device, copy=True if copy else None)


def no_grad(placement: Placement) -> Any:
    """A context without autograd for torch placements (``torch.no_grad()``); nothing for NumPy."""
    if placement.backend == "torch":
        return import_torch().no_grad()
    return contextlib.nullcontext()


def fits_on_device(nbytes: int, placement: Placement) -> bool:
    """Whether ``nbytes`` can be kept on the device: always on a CPU; on a GPU within `DEVICE_MEMORY_SHARE` of
    its free memory."""
    if not placement.device.startswith("cuda"):
        return True
    free, _ = import_torch().cuda.mem_get_info(placement.device)
    return nbytes <= DEVICE_MEMORY_SHARE * free


def as_inputs(a: Any, placement: Placement, dtype: Any) -> Any:
    """Features ``a`` (any backend) as a model on ``placement`` with parameters of ``dtype`` takes them: in
    ``dtype`` on its device. ``a`` itself when it is already so (NumPy data of the model's dtype is not copied)."""
    if placement.backend == "numpy" and isinstance(a, np.ndarray) and a.dtype == dtype:
        return a
    return move(a, placement, dtype)


def as_targets(a: Any, placement: Placement, dtype: Any) -> Any:
    """Targets ``a`` for a model on ``placement``: target rows (floating point) in ``dtype``; integer labels as
    they are on NumPy and as int64 on torch (which reads uint8 index arrays as masks)."""
    if isinstance(a, np.ndarray) and a.dtype.kind in "iub":
        return a if placement.backend == "numpy" else move(a, placement, np.int64)
    if isinstance(a, np.ndarray) or a.is_floating_point():
        return as_inputs(a, placement, dtype)
    return move(a, placement, np.int64 if placement.backend == "torch" else None)
