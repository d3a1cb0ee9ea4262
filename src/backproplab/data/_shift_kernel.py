"""The compiled image shift behind `backproplab.data.augment.RandomShift` (numba; imported on first use).

Compiled because the same gather through NumPy fancy indexing costs about as much as a training step of the
network it feeds (docs/performance.md has the figures).
"""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def shift_images(X, dy, dx, flips, channels, height, width, fill, out):
    """out[r, (c, i, j)] = X[r, (c, i - dy[r], j' - dx[r])], j' = width - 1 - j if flips[r] else j; ``fill``
    where the source pixel lies outside the image. X and out are ``(B, channels * height * width)``."""
    for r in range(X.shape[0]):
        src = X[r]
        dst = out[r]
        a, b, flip = dy[r], dx[r], flips[r]
        for c in range(channels):
            base = c * height * width
            for i in range(height):
                si = i - a
                row = base + i * width
                if si < 0 or si >= height:
                    for j in range(width):
                        dst[row + j] = fill
                    continue
                srow = base + si * width
                for j in range(width):
                    sj = (width - 1 - j if flip else j) - b
                    dst[row + j] = src[srow + sj] if 0 <= sj < width else fill
    return out
