"""``id3-phone-usage``: ID3 on section C's 15-row phone-usage table (Relationship, Age, Education, Income ->
Usage), every entropy, conditional entropy and information gain at every node, in bits. `id3_derivation` does
the same for any categorical table (e.g. a CSV file)."""

from __future__ import annotations

from pathlib import Path

from ...classic.id3 import id3
from ...classic.tables import CategoricalTable, builtin_table
from ..document import Derivation
from .trees import table_section, tree_sections


def id3_derivation(table: CategoricalTable, name: str, plots: Path | None = None) -> Derivation:
    tree = id3(table)
    target = table.target
    d = Derivation(
        name,
        f"ID3 decision tree on the {table.name or 'given'} table",
        f"At each node: H({target}), and for every remaining feature H({target} | feature) and the "
        "information gain (log base 2); split on the largest gain, stop when a node is pure, no "
        "feature is left or no split gains; impure leaves predict their majority class.",
    )
    table_section(d, table)
    tree_sections(d, tree, f"ID3 tree for {target}", plots=plots, filename=f"{name}.png")
    return d


def build(plots: Path | None = None) -> Derivation:
    d = id3_derivation(builtin_table("phone-usage"), "id3-phone-usage", plots)
    d.summary = "Section C. " + d.summary
    return d
