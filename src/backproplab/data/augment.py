"""Data augmentation for training batches: random shifts (and optional horizontal flips) of images.

An augmentation is a callable ``batch (B, D) -> new batch (B, D)`` that `backproplab.train.fit` applies to each
training batch (never to evaluation data). It draws from its own seeded `numpy.random.Generator`, whose state
`state_dict` / `load_state_dict` save and restore, so a run is reproducible and can be resumed exactly.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ..errors import ConfigError


class RandomShift:
    """Move each image by (dy, dx), each drawn uniformly from {-max_shift, ..., max_shift}, filling the pixels
    that enter the frame with ``fill`` (the value of a blank pixel); with ``flip``, first mirror it left-right with
    probability 1/2.

    Output pixel (c, i, j) of an image is input pixel (c, i - dy, j' - dx), j' = j or, flipped, W - 1 - j; ``fill``
    where that lies outside the image. Rows are images flattened in C order from ``image_shape``, ``(H, W)`` or
    ``(C, H, W)`` (every channel moves alike). Per batch of B rows the generator draws, in this order, B values of
    dy, B of dx, then (with ``flip``) B uniform numbers (< 0.5: flip).
    """

    def __init__(self, max_shift: int, image_shape: tuple[int, ...], *, flip: bool = False, fill: float = 0.0,
                 rng: np.random.Generator | int | None = 0) -> None:
        shape = tuple(int(s) for s in image_shape)
        if len(shape) not in (2, 3) or min(shape) < 1:
            raise ConfigError(f"RandomShift needs an image shape (H, W) or (C, H, W); got {image_shape}")
        if int(max_shift) < 0 or int(max_shift) >= min(shape[-2:]):
            raise ConfigError(f"RandomShift max_shift must be in [0, {min(shape[-2:]) - 1}] for images of shape "
                              f"{shape}; got {max_shift}")
        self.max_shift = int(max_shift)
        self.image_shape = shape
        self.flip = bool(flip)
        self.fill = float(fill)
        self.rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        self._out: np.ndarray | None = None

    @property
    def num_features(self) -> int:
        return int(np.prod(self.image_shape))

    def draw(self, rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The next batch's shifts ``dy``, ``dx`` (int64) and flips (bool), each ``(rows,)``."""
        s = self.max_shift
        dy = self.rng.integers(-s, s + 1, size=rows)
        dx = self.rng.integers(-s, s + 1, size=rows)
        flips = self.rng.random(rows) < 0.5 if self.flip else np.zeros(rows, dtype=np.bool_)
        return dy, dx, flips

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """A new ``(B, D)`` batch: ``X`` moved (the returned array is reused by the next call: copy to keep it)."""
        if X.ndim != 2 or X.shape[1] != self.num_features:
            raise ValueError(f"RandomShift for images of shape {self.image_shape} expects a batch (B, "
                             f"{self.num_features}); got {tuple(X.shape)}")
        dy, dx, flips = self.draw(len(X))
        out = self._out
        if out is None or out.shape[0] < len(X) or out.dtype != X.dtype:
            out = self._out = np.empty(X.shape, dtype=X.dtype)
        out = out[:len(X)]
        from ._shift_kernel import shift_images  # numba is imported only when augmenting

        c, h, w = (1, *self.image_shape) if len(self.image_shape) == 2 else self.image_shape
        shift_images(np.ascontiguousarray(X), dy, dx, flips, c, h, w, X.dtype.type(self.fill), out)
        return out

    def state_dict(self) -> dict[str, Any]:
        """The generator's state (everything a resumed run needs to draw the same shifts)."""
        return {"bit_generator": copy.deepcopy(self.rng.bit_generator.state)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = copy.deepcopy(state["bit_generator"])

    def __repr__(self) -> str:
        flip = ", flip=True" if self.flip else ""
        return f"RandomShift(max_shift={self.max_shift}, image_shape={self.image_shape}{flip}, fill={self.fill})"
