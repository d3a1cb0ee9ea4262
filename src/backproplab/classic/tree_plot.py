"""Draw an ID3 `Tree` as a PNG: splits as boxes naming the feature, leaves as boxes naming the class,
edges labelled with the feature value."""

from __future__ import annotations

from pathlib import Path

from .id3 import Node, Tree
from .plotting import new_figure, save


def _layout(tree: Tree) -> dict[int, tuple[float, float]]:
    """x: leaves at 0, 1, 2, ... left to right, parents centred over their children; y: -depth."""
    pos: dict[int, tuple[float, float]] = {}
    next_leaf = [0.0]

    def place(node: Node) -> float:
        if node.is_leaf:
            x = next_leaf[0]
            next_leaf[0] += 1.0
        else:
            xs = [place(child) for child in node.children.values()]
            x = (min(xs) + max(xs)) / 2
        pos[id(node)] = (x, -float(node.depth))
        return x

    place(tree.root)
    return pos


def draw_tree(tree: Tree, path: str | Path, title: str = "", precision: int = 3) -> Path:
    """Write the tree to ``path`` (PNG)."""
    pos = _layout(tree)
    n_leaves = len(tree.leaves())
    depth = max(n.depth for n in tree.nodes())
    fig, ax = new_figure(width=max(4.0, 2.2 * n_leaves), height=max(2.5, 1.6 * (depth + 1)))
    ax.set_axis_off()
    for node in tree.nodes():
        x, y = pos[id(node)]
        for value, child in node.children.items():
            cx, cy = pos[id(child)]
            ax.annotate(
                "", xy=(cx, cy + 0.18), xytext=(x, y - 0.18), arrowprops={"arrowstyle": "->", "color": "#555555"}
            )
            ax.text(
                (x + cx) / 2,
                (y + cy) / 2,
                value,
                ha="center",
                va="center",
                fontsize=8,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none"},
            )
        counts = node.counts_text()
        if node.is_leaf:
            text = f"{tree.target} = {node.prediction}\n{counts}"
            face = "#e8f4e8" if not node.tie else "#fff3cd"
        else:
            gain = next(s.gain for s in node.scores if s.feature == node.split)
            text = f"{node.split}?\n{counts}\nH = {node.entropy:.{precision}f}, IG = {gain:.{precision}f}"
            face = "#e8eef8"
        ax.text(
            x,
            y,
            text,
            ha="center",
            va="center",
            fontsize=8,
            bbox={"boxstyle": "round,pad=0.4", "fc": face, "ec": "#444444"},
        )
    xs = [p[0] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.7, max(xs) + 0.7)
    ax.set_ylim(-depth - 0.5, 0.5)
    if title:
        ax.set_title(title)
    return save(fig, path)
