"""Classic models of the courses' written work, keeping every intermediate number for display.

- `KNNClassifier` (Euclidean, majority vote, ties to the nearest tied class) and `curse_of_dimensionality`
- `entropy`, `conditional_entropy`, `information_gain` (bits) and `id3` trees on `CategoricalTable`s
- the courses' random forest (`grow_forest`, `forest_vote`)
- `adaboost` with `LinearStump` inequalities, natural-log or base-2 form
"""

from .adaboost import AdaBoostResult, LinearStump, Round, adaboost
from .dimensionality import DimensionRow, curse_of_dimensionality, plot_dimensionality
from .entropy import conditional_entropy, entropy, information_gain
from .forest import ForestVote, TreeVote, forest_vote, grow_forest, random_feature_subsets
from .id3 import FeatureScore, Node, Tree, ValueStats, id3, majority
from .knn import KNNClassifier
from .tables import BUILTIN_TABLES, CategoricalTable, builtin_table, load_table, parse_csv, read_csv
from .tree_plot import draw_tree

__all__ = [
    "BUILTIN_TABLES",
    "AdaBoostResult",
    "CategoricalTable",
    "DimensionRow",
    "FeatureScore",
    "ForestVote",
    "KNNClassifier",
    "LinearStump",
    "Node",
    "Round",
    "Tree",
    "TreeVote",
    "ValueStats",
    "adaboost",
    "builtin_table",
    "conditional_entropy",
    "curse_of_dimensionality",
    "draw_tree",
    "entropy",
    "forest_vote",
    "grow_forest",
    "id3",
    "information_gain",
    "load_table",
    "majority",
    "parse_csv",
    "plot_dimensionality",
    "random_feature_subsets",
    "read_csv",
]
