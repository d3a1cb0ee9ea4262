"""ID3 decision trees on categorical tables, recording every number of the construction.

At each node: the entropy of the target, and for every remaining feature its conditional entropy and
information gain (bits). The node splits on the feature of largest gain (ties: the feature that comes first in
the table), one branch per value present at the node, and the feature is not used again below. A node becomes
a leaf when it is pure, when no features are left, or when no split gains (largest gain <= 1e-12). A leaf
predicts the majority class of its rows; a tie goes to the class that appears first in the table's target
column (and the leaf is marked ``tie=True``). A query with a value the tree never saw at a split gets that
node's majority class.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .entropy import conditional_entropy, entropy, information_gain, split_by
from .tables import CategoricalTable

MIN_GAIN = 1e-12


@dataclass
class ValueStats:
    """The rows of one feature value at a node: how many, their class counts and H(Y | X = value)."""

    value: str
    count: int
    class_counts: dict[str, int]
    entropy: float


@dataclass
class FeatureScore:
    feature: str
    conditional_entropy: float
    gain: float
    values: list[ValueStats]


@dataclass
class Node:
    """A node of the tree. ``path`` is the ``(feature, value)`` tests from the root; ``rows`` are 0-based
    indices into the table."""

    path: tuple[tuple[str, str], ...]
    rows: tuple[int, ...]
    class_counts: dict[str, int]
    entropy: float
    prediction: str
    tie: bool
    scores: list[FeatureScore] = field(default_factory=list)
    split: str | None = None
    children: dict[str, Node] = field(default_factory=dict)
    stop_reason: str = ""

    @property
    def is_leaf(self) -> bool:
        return self.split is None

    @property
    def depth(self) -> int:
        return len(self.path)

    def describe(self) -> str:
        """``root`` or ``Education = University, Relationship = Married``."""
        return ", ".join(f"{f} = {v}" for f, v in self.path) or "root"

    def counts_text(self) -> str:
        return ", ".join(f"{c} {n}" for c, n in self.class_counts.items() if n)


@dataclass
class Tree:
    root: Node
    target: str
    classes: list[str]
    features: tuple[str, ...]

    def nodes(self) -> Iterator[Node]:
        """Every node, depth first, children in branch order."""
        stack = [self.root]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(list(node.children.values())))

    def leaves(self) -> list[Node]:
        return [n for n in self.nodes() if n.is_leaf]

    def decision_path(self, query: Mapping[str, str]) -> list[Node]:
        """The nodes a query visits, root first."""
        missing = [f for f in self._used_features() if f not in query]
        if missing:
            raise KeyError(f"the query needs a value for {', '.join(missing)}; got {dict(query)}")
        node, path = self.root, [self.root]
        while not node.is_leaf:
            child = node.children.get(str(query[node.split]))  # type: ignore[index]
            if child is None:  # a value this node never saw: stop here, use its majority
                break
            node = child
            path.append(node)
        return path

    def predict(self, query: Mapping[str, str]) -> str:
        return self.decision_path(query)[-1].prediction

    def _used_features(self) -> list[str]:
        return list(dict.fromkeys(n.split for n in self.nodes() if n.split is not None))

    def to_text(self, precision: int = 4) -> str:
        """The tree as indented text: splits as ``Feature?``, leaves as ``-> class``."""
        lines: list[str] = []

        def label(node: Node) -> str:
            n = len(node.rows)
            stats = f"({n} row{'' if n == 1 else 's'}: {node.counts_text()}; H = {node.entropy:.{precision}f})"
            if node.is_leaf:
                tie = ", tie broken by table order" if node.tie else ""
                return f"-> {node.prediction}  {stats}{tie}"
            gain = next(s.gain for s in node.scores if s.feature == node.split)
            return f"{node.split}?  {stats}, gain {gain:.{precision}f}"

        def walk(node: Node, prefix: str) -> None:
            items = list(node.children.items())
            for i, (value, child) in enumerate(items):
                last = i == len(items) - 1
                lines.append(f"{prefix}{'`-- ' if last else '|-- '}{value} {label(child)}")
                walk(child, prefix + ("    " if last else "|   "))

        lines.append(label(self.root))
        walk(self.root, "")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        def node_dict(node: Node) -> dict[str, Any]:
            return {
                "path": [list(p) for p in node.path],
                "rows": [r + 1 for r in node.rows],
                "class_counts": node.class_counts,
                "entropy": node.entropy,
                "prediction": node.prediction,
                "tie": node.tie,
                "stop_reason": node.stop_reason,
                "split": node.split,
                "scores": [
                    {
                        "feature": s.feature,
                        "conditional_entropy": s.conditional_entropy,
                        "gain": s.gain,
                        "values": [vars(v) for v in s.values],
                    }
                    for s in node.scores
                ],
                "children": {v: node_dict(c) for v, c in node.children.items()},
            }

        return {
            "target": self.target,
            "classes": self.classes,
            "features": list(self.features),
            "root": node_dict(self.root),
        }


def majority(labels: Sequence[str], classes: Sequence[str]) -> tuple[str, bool]:
    """The most frequent label; a tie goes to the class first in ``classes``. Returns ``(label, tied)``."""
    counts = Counter(labels)
    best = max(counts.values())
    winners = [c for c in classes if counts.get(c, 0) == best]
    return winners[0], len(winners) > 1


def score_feature(feature: str, values: Sequence[str], labels: Sequence[str], classes: Sequence[str]) -> FeatureScore:
    stats = []
    for value, ys in split_by(values, labels).items():
        counts = Counter(ys)
        stats.append(ValueStats(str(value), len(ys), {c: counts.get(c, 0) for c in classes}, entropy(ys)))
    return FeatureScore(feature, conditional_entropy(values, labels), information_gain(values, labels), stats)


def id3(table: CategoricalTable, features: Sequence[str] | None = None, *, min_gain: float = MIN_GAIN) -> Tree:
    """Grow an ID3 tree on ``table`` using ``features`` (default: every non-target column)."""
    features = tuple(table.features if features is None else features)
    unknown = [f for f in features if f not in table.features]
    if unknown:
        raise KeyError(f"unknown feature(s) {unknown}; the table's features are {list(table.features)}")
    if len(table) == 0:
        raise ValueError("cannot grow a tree on an empty table")
    classes = table.classes()
    labels = table.labels
    columns = {f: table.column(f) for f in features}

    def grow(rows: tuple[int, ...], remaining: tuple[str, ...], path: tuple[tuple[str, str], ...]) -> Node:
        ys = [labels[i] for i in rows]
        counts = Counter(ys)
        prediction, tie = majority(ys, classes)
        node = Node(path, rows, {c: counts.get(c, 0) for c in classes}, entropy(ys), prediction, tie)
        if node.entropy == 0.0:
            node.stop_reason = "pure"
            return node
        if not remaining:
            node.stop_reason = "no features left"
            return node
        node.scores = [score_feature(f, [columns[f][i] for i in rows], ys, classes) for f in remaining]
        best = max(node.scores, key=lambda s: s.gain)  # max() keeps the first of equal gains
        if best.gain <= min_gain:
            node.stop_reason = "no split gains"
            return node
        node.split = best.feature
        below = tuple(f for f in remaining if f != best.feature)
        for value in dict.fromkeys(columns[best.feature][i] for i in rows):
            child_rows = tuple(i for i in rows if columns[best.feature][i] == value)
            node.children[value] = grow(child_rows, below, path + ((best.feature, value),))
        return node

    return Tree(grow(tuple(range(len(table))), features, ()), table.target, classes, features)
