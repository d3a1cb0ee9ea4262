"""First-layer weights of an image model drawn as image tiles (one tile per hidden unit)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .style import STYLE, plt, save


def first_layer_weights(model_path: Path) -> np.ndarray | None:
    """The first Dense layer's weight matrix ``(in_features, units)`` from a ``model.npz``, or None."""
    found = _dense_weights(model_path)
    return found[0] if found else None


def dense_layer_count(model_path: Path) -> int:
    return len(_dense_weights(model_path))


def _dense_weights(model_path: Path) -> list[np.ndarray]:
    from ..nn import load_model
    from ..nn.dense import Dense

    model = load_model(model_path)
    return [np.asarray(layer.weight.value, dtype=np.float64) for layer in model.layers if isinstance(layer, Dense)]


def weight_tiles(weights: np.ndarray, image_shape: Sequence[int], max_tiles: int = 100) -> np.ndarray:
    """``(T, H, W)`` grey tiles scaled to [-1, 1] by each tile's max |w|, or ``(T, H, W, 3)`` colour tiles
    min-max scaled to [0, 1] per tile (CIFAR's (3, H, W) rows moved to (H, W, 3)); T = min(units, max_tiles).

    ``weights`` is ``(in_features, units)`` with ``in_features == prod(image_shape)``: column j is unit j's
    input weights, the "template" it matches against an image.
    """
    shape = tuple(int(s) for s in image_shape)
    if weights.shape[0] != int(np.prod(shape)):
        raise ValueError(f"first layer has {weights.shape[0]} inputs, not an image of shape {shape}")
    cols = weights[:, :max_tiles].T  # (T, in)
    if len(shape) == 3 and shape[0] == 3:
        tiles = cols.reshape(-1, *shape).transpose(0, 2, 3, 1)
        lo = tiles.min(axis=(1, 2, 3), keepdims=True)
        hi = tiles.max(axis=(1, 2, 3), keepdims=True)
        return (tiles - lo) / np.where(hi > lo, hi - lo, 1.0)
    tiles = cols.reshape(-1, *shape)
    scale = np.abs(tiles).max(axis=tuple(range(1, tiles.ndim)), keepdims=True)
    return tiles / np.where(scale > 0, scale, 1.0)


def plot_weight_tiles(weights: np.ndarray, image_shape: Sequence[int], path: Path, *, title: str,
                      max_tiles: int = 100, labels: Sequence[str] | None = None) -> Path:
    """A grid of the first ``max_tiles`` units' input weights as images (normalised per tile). ``labels``
    names the tiles (e.g. the classes when the first layer is the output layer); default "unit j"."""
    tiles = weight_tiles(weights, image_shape, max_tiles)
    n = len(tiles)
    cols = min(10, n)
    rows = int(np.ceil(n / cols))
    colour = tiles.ndim == 4
    with plt.rc_context({**STYLE, "axes.grid": False}):
        fig, axes = plt.subplots(rows, cols, figsize=(1.0 * cols + (0 if colour else 1.1), 1.0 * rows + 1.3),
                                 layout="constrained", squeeze=False)
        im = None
        for ax in axes.flat:
            ax.axis("off")
        for j, (ax, tile) in enumerate(zip(axes.flat, tiles, strict=False)):
            im = ax.imshow(tile) if colour else ax.imshow(tile, cmap="RdBu_r", vmin=-1, vmax=1)
            ax.set_title(labels[j] if labels is not None and j < len(labels) else f"unit {j}", fontsize=7, pad=2)
        if not colour and im is not None:
            bar = fig.colorbar(im, ax=axes, shrink=0.9 if rows == 1 else 0.6)
            bar.set_label("w / max |w| of the tile", fontsize=8)
        shown = f"first {n} of {weights.shape[1]}" if n < weights.shape[1] else f"all {n}"
        how = "min-max per tile" if colour else "red > 0 > blue, scaled per tile"
        fig.suptitle(f"{title}\n({shown} units of the first layer; {how})", fontsize=10)
    save(fig, str(path))
    return path
