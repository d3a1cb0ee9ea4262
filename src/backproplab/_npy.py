"""One ``.npy`` array from an untrusted file: the header is checked before a byte of data is read.

Refused before reading: a bad magic string or header, a format version other than 1.0/2.0, Python objects
(which would need pickle), structured or sub-array dtypes, dtypes of a kind the caller does not accept, a
negative size, a header whose shape does not match the bytes the file holds, and more data than fits in memory.
"""

from __future__ import annotations

import math
import warnings
from typing import BinaryIO, NamedTuple

import numpy as np

from ._memory import check_memory
from .errors import BackproplabError, brief

_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
_KIND_NAMES = {"biuf": "numbers", "f": "floats", "U": "text"}


class NpyHeader(NamedTuple):
    shape: tuple[int, ...]
    fortran_order: bool
    dtype: np.dtype
    offset: int  # bytes before the data

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


def read_npy_header(fh: BinaryIO, where: str, error: type[BackproplabError], kinds: str) -> NpyHeader:
    """Parse and check the header at the start of ``fh``; ``kinds``: the accepted dtype kinds (e.g. ``"iuf"``)."""
    try:
        version = np.lib.format.read_magic(fh)
    except ValueError as exc:
        raise error(f"{where}: not a .npy array ({brief(exc)})") from None
    reader = _HEADER_READERS.get(version)
    if reader is None:
        raise error(f"{where}: .npy format version {version[0]}.{version[1]} is not read here (1.0 and 2.0 are)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numpy warns about headers written by Python 2; they are fine
            shape, fortran_order, dtype = reader(fh)
    except Exception as exc:  # numpy's parser of the header's Python literal raises several kinds of error
        raise error(f"{where}: corrupt .npy header ({brief(exc)})") from None
    if dtype.hasobject:
        raise error(
            f"{where}: holds Python objects (dtype {dtype}), which would need pickle to load; "
            "only arrays of numbers are read"
        )
    if dtype.names is not None or dtype.subdtype is not None or dtype.kind not in kinds:
        raise error(
            f"{where}: dtype {dtype} is not allowed here; expected an array of "
            f"{_KIND_NAMES.get(kinds, 'dtype kind ' + kinds)}"
        )
    if any(d < 0 for d in shape):
        raise error(f"{where}: corrupt .npy header (negative size in shape {shape})")
    return NpyHeader(tuple(int(d) for d in shape), bool(fortran_order), dtype, fh.tell())


def read_npy(
    fh: BinaryIO, size: int, where: str, error: type[BackproplabError], kinds: str = "biuf", name: str | None = None
) -> np.ndarray:
    """The array stored in ``fh`` (``size`` bytes from its start), after `read_npy_header`'s checks, a check
    that the header's shape accounts for exactly the bytes held, and a check of the memory it needs.

    Problems with the file raise ``error`` with messages starting with ``where``; too little memory raises
    `ResourceError` naming the array ``name`` (default ``where``)."""
    header = read_npy_header(fh, where, error, kinds)
    held = size - header.offset
    if held != header.nbytes:
        what = "truncated" if held < header.nbytes else "has trailing bytes"
        raise error(
            f"{where}: .npy data {what}: the header says shape {header.shape} of {header.dtype} "
            f"({header.nbytes} bytes), the file holds {max(held, 0)} bytes after the header"
        )
    check_memory(header.nbytes, f"{name or where}: an array of shape {header.shape} ({header.dtype})")
    buffer = bytearray(header.nbytes)
    view, got = memoryview(buffer), 0
    while got < header.nbytes:
        n = fh.readinto(view[got:])
        if not n:
            raise error(f"{where}: .npy data truncated: {got} of {header.nbytes} bytes could be read")
        got += n
    array = np.frombuffer(buffer, dtype=header.dtype)
    return array.reshape(header.shape, order="F" if header.fortran_order else "C")
