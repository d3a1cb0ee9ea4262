"""CIFAR-10 batch files written in the exact format of the official ones (for the loader, preset and fuzz tests).

The official batches are Python 2 pickles (protocol 2): a dict whose keys and strings are Python 2 ``str``
(opcodes SHORT_BINSTRING/BINSTRING, read back as bytes with ``encoding="bytes"``), ``data`` a uint8 array
(N, 3072) pickled by NumPy 1.x under the name ``numpy.core.multiarray._reconstruct`` with its raw bytes as a
``str``, and ``labels`` a list of ints. Python 3's pickle writes bytes differently at protocol 2 (through
``_codecs.encode``), so `Py2Pickler` below reproduces the Python 2 opcodes.
"""

from __future__ import annotations

import io
import pickle
import struct
from pathlib import Path

import numpy as np

LABEL_NAMES = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]


class Py2Pickler(pickle._Pickler):  # the pure-Python pickler: its dispatch table can be changed
    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_str(self, obj: bytes) -> None:
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    def save_global(self, obj: object, name: str | None = None) -> None:
        module = obj.__module__.replace("numpy._core", "numpy.core")  # NumPy 1.x's module name
        self.write(pickle.GLOBAL + f"{module}\n{name or obj.__qualname__}\n".encode())
        self.memoize(obj)

    dispatch[bytes] = save_py2_str
    dispatch[type] = save_global

    def reducer_override(self, obj: object):
        if isinstance(obj, np.dtype):  # NumPy 1.x under Python 2 wrote dtype(str, 0, 1), not (str, False, True)
            cls, (descr, _, _), state = obj.__reduce__()
            return cls, (descr.encode(), 0, 1), tuple(s.encode() if isinstance(s, str) else s for s in state)
        return NotImplemented


def py2_pickle(obj: object) -> bytes:
    buf = io.BytesIO()
    Py2Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def write_batch(path: Path, data: np.ndarray, labels: list[int], label: bytes = b"batch") -> None:
    filenames = [b"image_%05d.png" % i for i in range(len(labels))]
    path.write_bytes(py2_pickle({b"batch_label": label, b"labels": labels, b"data": data, b"filenames": filenames}))
