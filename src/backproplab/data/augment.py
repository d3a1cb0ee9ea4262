"""Data augmentation for training batches: random shifts (and optional horizontal flips) of images, mixup,
and a composition of them.

An augmentation is a callable ``(X, y) -> (X', y')`` on one training batch (``X`` ``(B, D)``, ``y`` labels ``(B,)``
or target rows ``(B, K)``) that `backproplab.train.fit` applies before each forward pass (never to evaluation
data). It draws from its own seeded `numpy.random.Generator`, whose state `state_dict` / `load_state_dict` save
and restore, so a run is reproducible and can be resumed exactly. The arrays it returns may be reused by its
next call.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ConfigError

# What `fit(augment=...)` takes: one training batch in, the batch to train on out.
Augment = Callable[[Any, Any], tuple[Any, Any]]


class RandomShift:
    """Move each image by (dy, dx), each drawn uniformly from {-max_shift, ..., max_shift}, filling the pixels
    that enter the frame with ``fill`` (the value of a blank pixel); with ``flip``, first mirror it left-right with
    probability 1/2.

    Output pixel (c, i, j) of an image is input pixel (c, i - dy, j' - dx), j' = j or, flipped, W - 1 - j; ``fill``
    where that lies outside the image. Rows are images flattened in C order from ``image_shape``, ``(H, W)`` or
    ``(C, H, W)`` (every channel moves alike). Per batch of B rows the generator draws, in this order, B values of
    dy, B of dx, then (with ``flip``) B uniform numbers (< 0.5: flip).
    """

    def __init__(
        self,
        max_shift: int,
        image_shape: tuple[int, ...],
        *,
        flip: bool = False,
        fill: float = 0.0,
        rng: np.random.Generator | int | None = 0,
    ) -> None:
        shape = tuple(int(s) for s in image_shape)
        if len(shape) not in (2, 3) or min(shape) < 1:
            raise ConfigError(f"RandomShift needs an image shape (H, W) or (C, H, W); got {image_shape}")
        if int(max_shift) < 0 or int(max_shift) >= min(shape[-2:]):
            raise ConfigError(
                f"RandomShift max_shift must be in [0, {min(shape[-2:]) - 1}] for images of shape "
                f"{shape}; got {max_shift}"
            )
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

    def __call__(self, X: np.ndarray, y: Any = None) -> tuple[np.ndarray, Any]:
        """``(X moved, y)``: ``X`` ``(B, D)``, the targets unchanged."""
        return self.shift(X), y

    def shift(self, X: np.ndarray) -> np.ndarray:
        """A new ``(B, D)`` batch: ``X`` moved (the returned array is reused by the next call: copy to keep it)."""
        if X.ndim != 2 or X.shape[1] != self.num_features:
            raise ValueError(
                f"RandomShift for images of shape {self.image_shape} expects a batch (B, "
                f"{self.num_features}); got {tuple(X.shape)}"
            )
        dy, dx, flips = self.draw(len(X))
        out = self._out
        if out is None or out.shape[0] < len(X) or out.dtype != X.dtype:
            out = self._out = np.empty(X.shape, dtype=X.dtype)
        out = out[: len(X)]
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


class Mixup:
    """Blend each batch with a shuffled copy of itself (Zhang et al., 2018, "mixup"): per batch, draw
    lam ~ Beta(alpha, alpha) and a permutation p of its rows, then X' = lam X + (1 - lam) X[p] and
    T' = lam T + (1 - lam) T[p], T the one-hot rows of the labels (or the given target rows). The loss then
    sees probability rows (`SoftmaxCrossEntropy` takes them). Draws per batch: lam, then the permutation.
    """

    def __init__(self, alpha: float, num_classes: int, *, rng: np.random.Generator | int | None = 0) -> None:
        if not float(alpha) > 0:
            raise ConfigError(f"Mixup alpha must be > 0; got {alpha}")
        if int(num_classes) < 2:
            raise ConfigError(f"Mixup needs at least 2 classes; got {num_classes}")
        self.alpha = float(alpha)
        self.num_classes = int(num_classes)
        self.rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)

    def __call__(self, X: np.ndarray, y: Any) -> tuple[np.ndarray, np.ndarray]:
        rows = y if y.ndim == 2 else np.eye(self.num_classes, dtype=X.dtype)[y]
        lam = float(self.rng.beta(self.alpha, self.alpha))
        p = self.rng.permutation(len(X))
        return lam * X + (1.0 - lam) * X[p], lam * rows + (1.0 - lam) * rows[p]

    def state_dict(self) -> dict[str, Any]:
        return {"bit_generator": copy.deepcopy(self.rng.bit_generator.state)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = copy.deepcopy(state["bit_generator"])

    def __repr__(self) -> str:
        return f"Mixup(alpha={self.alpha})"


class Compose:
    """Augmentations applied in turn: ``(X, y) -> a_n(...a_1(X, y))``."""

    def __init__(self, *steps: Any) -> None:
        self.steps = list(steps)

    def __call__(self, X: np.ndarray, y: Any) -> tuple[np.ndarray, Any]:
        for step in self.steps:
            X, y = step(X, y)
        return X, y

    def state_dict(self) -> dict[str, Any]:
        return {str(i): step.state_dict() for i, step in enumerate(self.steps)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for i, step in enumerate(self.steps):
            step.load_state_dict(state[str(i)])

    def __repr__(self) -> str:
        return "Compose(" + ", ".join(repr(s) for s in self.steps) + ")"
