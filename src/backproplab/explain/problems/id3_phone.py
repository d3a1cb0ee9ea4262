"""``id3-phone-usage``: ID3 on section C's 15-row phone-usage table (Relationship, Age, Education, Income ->
Usage), every entropy, conditional entropy and information gain at every node, in bits."""

from __future__ import annotations

from pathlib import Path

from ...classic.id3 import id3
from ...classic.tables import builtin_table
from ..document import Derivation
from .trees import table_section, tree_sections


def build(plots: Path | None = None) -> Derivation:
    table = builtin_table("phone-usage")
    tree = id3(table)
    d = Derivation("id3-phone-usage", "ID3 decision tree on the phone-usage table",
                   "Section C. At each node: H(Usage), and for every remaining feature H(Usage | feature) and the "
                   "information gain (log base 2); split on the largest gain, stop when a node is pure, no "
                   "feature is left or no split gains; impure leaves predict their majority class.")
    table_section(d, table)
    tree_sections(d, tree, "ID3 tree for Usage", plots=plots, filename="id3-phone-usage.png")
    return d
