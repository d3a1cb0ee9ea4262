"""Shared pieces of the ID3 and random-forest derivations: the table, every node's numbers, the text tree."""

from __future__ import annotations

from pathlib import Path

from ...classic.id3 import Node, Tree
from ...classic.tables import CategoricalTable
from ...classic.tree_plot import draw_tree
from ..document import Derivation, Section


def table_section(d: Derivation, table: CategoricalTable, key: str = "table") -> None:
    sec = d.section(f"Data: {table.name or 'table'} ({len(table)} rows, target {table.target})")
    sec.table(key, ["row", *table.columns], [[i, *row] for i, row in enumerate(table.rows, start=1)])


def rows_text(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def entropy_formula(counts: dict[str, int]) -> str:
    n = sum(counts.values())
    terms = [f"({c}/{n}) log2({c}/{n})" for c in counts.values() if c]
    return "-" + " - ".join(terms) if terms else "0"


def node_section(d: Derivation, tree: Tree, node: Node, prefix: str = "") -> Section:
    where = node.describe()
    key = f"{prefix}{where}"
    sec = d.section(f"{prefix}node [{where}]: {rows_text(len(node.rows))} ({node.counts_text()})")
    sec.quantity(f"{key}: rows", [r + 1 for r in node.rows], name="rows", note="row numbers of the table")
    sec.quantity(f"{key}: H({tree.target})", node.entropy, entropy_formula(node.class_counts), name=f"H({tree.target})")
    if node.scores:
        classes = tree.classes
        rows = []
        for score in node.scores:
            for v in score.values:
                rows.append([score.feature, v.value, v.count, *[v.class_counts[c] for c in classes], v.entropy])
        sec.table(
            f"{key}: values",
            ["feature", "value", "rows", *classes, f"H({tree.target} | value)"],
            rows,
            title="rows per feature value, class counts and the entropy of the target within them",
        )
        sec.table(
            f"{key}: gains",
            ["feature", f"H({tree.target} | feature)", "information gain"],
            [[s.feature, s.conditional_entropy, s.gain] for s in node.scores],
            title=f"H({tree.target} | X) = sum_v p(v) H({tree.target} | X = v); IG = H({tree.target}) - "
            f"H({tree.target} | X)",
        )
    if node.is_leaf:
        reason = {
            "pure": "pure node",
            "no features left": "no features left",
            "no split gains": "no split gains (every information gain is 0)",
        }[node.stop_reason]
        tie = "; tie broken by the table's class order" if node.tie else ""
        sec.quantity(f"{key}: leaf", node.prediction, "majority class", name="leaf", note=f"{reason}{tie}")
    else:
        sec.quantity(
            f"{key}: split",
            str(node.split),
            "argmax information gain",
            name="split on",
            note="equal gains go to the feature listed first",
        )
    return sec


def tree_sections(
    d: Derivation, tree: Tree, title: str, prefix: str = "", plots: Path | None = None, filename: str = "tree.png"
) -> None:
    for node in tree.nodes():
        node_section(d, tree, node, prefix)
    sec = d.section(f"Tree: {title}")
    sec.note(tree.to_text(), preformatted=True)
    if plots is not None:
        path = draw_tree(tree, Path(plots) / filename, title=title)
        sec.figure(f"{prefix}figure", str(path), title)
