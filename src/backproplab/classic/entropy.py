"""Entropy, conditional entropy and information gain of categorical columns, in bits (log base 2).

- H(Y) = -sum_c p(c) log2 p(c), with 0 log 0 = 0
- H(Y | X) = sum_v p(X = v) H(Y | X = v)
- IG(Y; X) = H(Y) - H(Y | X) >= 0
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence

# IG is >= 0 in exact arithmetic; H(Y) - H(Y|X) can come out as -1e-16 when X tells nothing about Y.
_ROUNDING = 1e-12


def entropy(labels: Sequence[Hashable]) -> float:
    """H(Y) in bits of the empirical distribution of ``labels`` (0 for an empty or pure column)."""
    n = len(labels)
    if n == 0:
        return 0.0
    h = -sum((c / n) * math.log2(c / n) for c in Counter(labels).values())
    return h + 0.0  # a pure column gives -0.0; report it as 0.0


def split_by(feature: Sequence[Hashable], labels: Sequence[Hashable]) -> dict[Hashable, list[Hashable]]:
    """The labels of the rows with each value of ``feature``, values in order of first appearance."""
    if len(feature) != len(labels):
        raise ValueError(f"feature has {len(feature)} values but there are {len(labels)} labels")
    groups: dict[Hashable, list[Hashable]] = {}
    for v, y in zip(feature, labels, strict=True):
        groups.setdefault(v, []).append(y)
    return groups


def conditional_entropy(feature: Sequence[Hashable], labels: Sequence[Hashable]) -> float:
    """H(Y | X) = sum_v p(X = v) H(Y | X = v) in bits."""
    n = len(labels)
    if n == 0:
        return 0.0
    return sum(len(ys) / n * entropy(ys) for ys in split_by(feature, labels).values())


def information_gain(feature: Sequence[Hashable], labels: Sequence[Hashable]) -> float:
    """IG = H(Y) - H(Y | X) in bits; rounding noise below 1e-12 is reported as 0."""
    gain = entropy(labels) - conditional_entropy(feature, labels)
    return 0.0 if -_ROUNDING < gain < 0 else gain
