"""Zero-filled arrays that start on a cache-line boundary, and offsets rounded up to one.

NumPy places a large array 16 bytes past a page boundary, so a 64-byte vector load of a weight row straddles
two cache lines; the batch-size-1 kernel's first-layer rows then cost about a fifth more to read and rewrite
(docs/performance.md, "Batch 1 at the floor"). The fast engine's packed weights and work buffers are allocated here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

CACHE_LINE = 64  # bytes


def aligned_zeros(shape: int | tuple[int, ...], dtype: Any) -> np.ndarray:
    """``np.zeros(shape, dtype)`` whose first element starts at a multiple of `CACHE_LINE` bytes."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape))
    buffer = np.zeros(count * dtype.itemsize + CACHE_LINE, dtype=np.uint8)
    skip = -buffer.ctypes.data % CACHE_LINE
    return buffer[skip : skip + count * dtype.itemsize].view(dtype).reshape(shape)


def line_multiple(count: int, dtype: Any) -> int:
    """The smallest number of ``dtype`` elements >= ``count`` that fills whole cache lines."""
    per_line = max(1, CACHE_LINE // np.dtype(dtype).itemsize)
    return -(-int(count) // per_line) * per_line
