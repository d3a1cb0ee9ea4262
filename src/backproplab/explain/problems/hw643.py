"""``hw-643``: section A's written 6-4-3 network (sigmoid hidden layer, softmax output, cross-entropy).

The course folds each bias into column 0 of its weight matrix: alpha is (4, 1 + 6), beta is (3, 1 + 4), with
x_0 = z_0 = 1, and indexes entries alpha_{j,m} (rows j from 1, columns m from 0). Given: alpha* (the non-bias
columns), beta*, every bias weight 1, x = [1, 0, 1, 0, 1, 0], true class 2 of 3; one SGD step with lr 1.
"""

from __future__ import annotations

import numpy as np

from ...nn import Dense, Sequential, Sigmoid, SoftmaxCrossEntropy
from ..compute import explain
from ..document import Derivation
from ..notation import LayerSymbols, Notation

ALPHA_STAR = np.array(
    [[2, 1, -1, -1, 0, -2], [0, 1, 0, -1, 1, 3], [-1, 2, 1, 3, 1, -1], [1, 3, 4, 2, -1, 2]], dtype=np.float64
)
BETA_STAR = np.array([[2, -2, 2, 1], [3, -1, 1, 2], [0, -1, 0, 1]], dtype=np.float64)
ALPHA_BIAS = np.ones(4)
BETA_BIAS = np.ones(3)
X = np.array([1, 0, 1, 0, 1, 0], dtype=np.float64)
TRUE_CLASS = 2  # counted from 1, as in the course
DEFAULT_LR = 1.0

NOTATION = Notation(
    input="x",
    target="y",
    prediction="y_hat",
    loss="l",
    layers=(
        LayerSymbols(pre="a", act="z", weight="alpha", bias="alpha_0"),
        LayerSymbols(pre="b", act="y_hat", weight="beta", bias="beta_0"),
    ),
    fold_bias=True,
    class_base=1,
)


def model() -> Sequential:
    """The network in the library's layout: Dense weights are the transposes of alpha*, beta*."""
    return Sequential(
        Dense.from_arrays(ALPHA_STAR.T, ALPHA_BIAS, dtype=np.float64),
        Sigmoid(),
        Dense.from_arrays(BETA_STAR.T, BETA_BIAS, dtype=np.float64),
    )


def build(lr: float | None = DEFAULT_LR) -> Derivation:
    steps = explain(model(), SoftmaxCrossEntropy(), X, TRUE_CLASS - 1, lr=lr, notation=NOTATION)
    d = steps.derivation(
        "hw-643",
        "HW3 written part: the 6-4-3 network (sigmoid, softmax, cross-entropy)",
        "Section A. a = alpha x, z = sigmoid(a), b = beta z, y_hat = softmax(b), l = -sum_k y_k log y_hat_k, "
        "with the biases folded into column 0 of alpha and beta (x_0 = z_0 = 1). Computed by backproplab's Dense, "
        "Sigmoid and SoftmaxCrossEntropy modules in float64 and one plain SGD step.",
    )
    return d
