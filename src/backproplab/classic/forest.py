"""The courses' random forest: one ID3 tree per feature subset, majority vote.

Subsets are given (the course uses every pair of features) or drawn at random without replacement. The vote
is a plain majority; a tie goes to the tied class voted by the earliest tree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .id3 import Node, Tree, id3
from .tables import CategoricalTable


@dataclass
class TreeVote:
    features: tuple[str, ...]
    tree: Tree
    path: list[Node]
    vote: str


@dataclass
class ForestVote:
    """Each tree's vote for ``query``, the vote counts and the forest's answer (``tie`` if broken by tree order)."""

    query: dict[str, str]
    votes: list[TreeVote]
    counts: dict[str, int]
    prediction: str
    tie: bool


def random_feature_subsets(features: Sequence[str], size: int, n_trees: int, seed: int = 0) -> list[tuple[str, ...]]:
    """``n_trees`` subsets of ``size`` distinct features each (in table order), drawn with ``seed``."""
    if not 1 <= size <= len(features):
        raise ValueError(f"subset size must be between 1 and {len(features)}; got {size}")
    rng = np.random.default_rng(seed)
    subsets = []
    for _ in range(n_trees):
        picked = set(rng.choice(len(features), size=size, replace=False).tolist())
        subsets.append(tuple(f for i, f in enumerate(features) if i in picked))
    return subsets


def grow_forest(table: CategoricalTable, subsets: Sequence[Sequence[str]]) -> list[Tree]:
    """One ID3 tree per feature subset."""
    if not subsets:
        raise ValueError("give at least one feature subset")
    return [id3(table, tuple(s)) for s in subsets]


def forest_vote(trees: Sequence[Tree], query: Mapping[str, str]) -> ForestVote:
    votes = []
    for tree in trees:
        path = tree.decision_path(query)
        votes.append(TreeVote(tree.features, tree, path, path[-1].prediction))
    counts = Counter(v.vote for v in votes)
    best = max(counts.values())
    order = list(dict.fromkeys(v.vote for v in votes))  # classes in order of the first tree voting for them
    winners = [c for c in order if counts[c] == best]
    return ForestVote(dict(query), votes, dict(counts), winners[0], len(winners) > 1)
