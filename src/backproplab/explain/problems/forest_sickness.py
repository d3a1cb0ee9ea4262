"""``forest-sickness``: the course's random forest on section C's 8-row sickness table: three ID3 trees on the
feature pairs {Age, Social distancing}, {Age, Hand washing}, {Social distancing, Hand washing}, majority vote,
and each tree's vote for the query (Age = Old, Social distancing = Yes, Hand washing = No)."""

from __future__ import annotations

from pathlib import Path

from ...classic.forest import forest_vote, grow_forest
from ...classic.tables import builtin_table
from ..document import Derivation
from .trees import table_section, tree_sections

SUBSETS = [("Age", "Social distancing"), ("Age", "Hand washing"), ("Social distancing", "Hand washing")]
QUERY = {"Age": "Old", "Social distancing": "Yes", "Hand washing": "No"}
_SHORT = {"Age": "A", "Social distancing": "S", "Hand washing": "H"}


def build(plots: Path | None = None) -> Derivation:
    table = builtin_table("sickness")
    trees = grow_forest(table, SUBSETS)
    result = forest_vote(trees, QUERY)
    d = Derivation(
        "forest-sickness",
        "A random forest of three ID3 trees on the sickness table",
        "Section C. One ID3 tree per pair of features (information gain, log2; majority vote at impure "
        "leaves); the forest predicts by majority vote of the trees.",
    )
    table_section(d, table)
    for features, tree in zip(SUBSETS, trees, strict=True):
        name = "{" + ",".join(_SHORT[f] for f in features) + "}"
        tree_sections(
            d,
            tree,
            f"{name} = {' + '.join(features)}",
            prefix=f"tree {name} ",
            plots=plots,
            filename=f"forest-sickness-{''.join(_SHORT[f] for f in features)}.png",
        )
    sec = d.section("Votes for the query " + ", ".join(f"{k} = {v}" for k, v in QUERY.items()))
    rows = []
    for vote in result.votes:
        name = "{" + ",".join(_SHORT[f] for f in vote.features) + "}"
        rows.append([name, " -> ".join(n.describe().split(", ")[-1] for n in vote.path), vote.vote])
    sec.table("votes", ["tree", "path", f"vote ({table.target})"], rows)
    sec.table("vote counts", ["class", "votes"], [[c, n] for c, n in result.counts.items()])
    tie = "; tie broken by the earliest tree's vote" if result.tie else ""
    sec.quantity("forest prediction", result.prediction, "majority vote", note=f"{table.target}{tie}")
    return d
