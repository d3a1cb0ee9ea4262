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


def montage(tiles: np.ndarray, cols: int, gap: int = 1, fill: float = np.nan, row_gap: int | None = None) -> np.ndarray:
    """``(T, H, W[, 3])`` tiles laid out row by row in one image, ``gap`` pixels between columns and ``row_gap``
    (default ``gap``) above each row but the first; ``fill`` elsewhere (NaN: the colormap's "bad" colour).
    Tile j's top-left corner is at row ``(j // cols) * (H + row_gap)``, column ``(j % cols) * (W + gap)``."""
    n, h, w = tiles.shape[:3]
    row_gap = gap if row_gap is None else row_gap
    rows = max(1, -(-n // cols))
    canvas = np.full((rows * (h + row_gap) - row_gap, cols * (w + gap) - gap, *tiles.shape[3:]), fill, dtype=np.float64)
    for j, tile in enumerate(tiles):
        r, c = divmod(j, cols)
        canvas[r * (h + row_gap) : r * (h + row_gap) + h, c * (w + gap) : c * (w + gap) + w] = tile
    return canvas


def plot_weight_tiles(
    weights: np.ndarray,
    image_shape: Sequence[int],
    path: Path,
    *,
    title: str,
    max_tiles: int = 100,
    labels: Sequence[str] | None = None,
) -> Path:
    """The first ``max_tiles`` units' input weights as images (normalised per tile), drawn as one montage image
    (one imshow: a hundred subplots would take seconds). ``labels`` names the tiles (e.g. the classes when the
    first layer is the output layer); without them, unit j is at row j // 10, column j % 10, as the axes say."""
    tiles = weight_tiles(weights, image_shape, max_tiles)
    n = len(tiles)
    cols = min(10, n)
    rows = -(-n // cols)
    colour = tiles.ndim == 4
    h, w = tiles.shape[1:3]
    image = montage(tiles, cols, fill=1.0 if colour else np.nan)
    scale = 0.55  # inches per tile: 60 pixels for 28, enough to see each weight
    with plt.rc_context({**STYLE, "axes.grid": False}):
        fig, ax = plt.subplots(
            figsize=(scale * cols + (0.5 if colour else 1.6), scale * rows + 1.0), layout="constrained"
        )
        cmap = plt.get_cmap("RdBu_r").with_extremes(bad="white")
        im = (
            ax.imshow(image, interpolation="nearest")
            if colour
            else ax.imshow(image, cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
        )
        if labels is not None:
            ax.set_xticks([])
            ax.set_yticks([])
            for j, label in enumerate(labels[:n]):
                r, c = divmod(j, cols)
                ax.text(c * (w + 1) + w / 2, r * (h + 1) - 0.5, label, ha="center", va="bottom", fontsize=7)
        else:
            ax.set_xticks([c * (w + 1) + w / 2 for c in range(cols)], labels=[f"+{c}" for c in range(cols)], fontsize=7)
            ax.set_yticks(
                [r * (h + 1) + h / 2 for r in range(rows)], labels=[f"unit {cols * r}" for r in range(rows)], fontsize=7
            )
            ax.tick_params(length=0)
        for side in ax.spines.values():
            side.set_visible(False)
        if not colour:
            bar = fig.colorbar(im, ax=ax, shrink=0.9 if rows == 1 else 0.6)
            bar.set_label("w / max |w| of the tile", fontsize=8)
        shown = f"first {n} of {weights.shape[1]}" if n < weights.shape[1] else f"all {n}"
        how = "min-max per tile" if colour else "red > 0 > blue, scaled per tile"
        fig.suptitle(f"{title}\n({shown} units of the first layer; {how})", fontsize=10)
    save(fig, str(path))
    return path
