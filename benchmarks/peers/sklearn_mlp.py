"""scikit-learn's MLPClassifier: solver sgd, momentum 0, logistic hidden units, constant lr 0.01, alpha 0.

One ``partial_fit(X, y)`` call is one epoch over X in batches of ``batch_size`` (``shuffle=False``). The
classifier is initialised by an untimed ``partial_fit`` on the first rows; then its weights are overwritten
in place with the common initial weights (its SGD optimizer updates those same arrays; with momentum 0 it
keeps no state that matters).
"""

from __future__ import annotations

import numpy as np

from ..problem import LR, SIZES, Params, Problem, copy_params
from .base import Peer, Unavailable


class SklearnMLP(Peer):
    key = "sklearn"
    label = "scikit-learn MLPClassifier"

    def __init__(self) -> None:
        try:
            from sklearn.neural_network import MLPClassifier
        except ImportError as exc:
            raise Unavailable(f"scikit-learn is not installed ({exc})") from exc
        self.cls = MLPClassifier

    def setup(self, data: Problem, batch_size: int) -> None:
        self.X, self.y = data.X, data.y
        self.clf = self.cls(
            hidden_layer_sizes=(SIZES[1],),
            activation="logistic",
            solver="sgd",
            learning_rate="constant",
            learning_rate_init=LR,
            momentum=0.0,
            nesterovs_momentum=False,
            alpha=0.0,
            batch_size=batch_size,
            shuffle=False,
            random_state=0,
        )
        self.clf.partial_fit(data.X[:batch_size], data.y[:batch_size], classes=np.arange(SIZES[2]))

    def load(self, params: Params) -> None:
        W1, b1, W2, b2 = params
        c, i = self.clf.coefs_, self.clf.intercepts_
        for dst, src in ((c[0], W1), (i[0], b1), (c[1], W2), (i[1], b2)):
            if dst.shape != src.shape:
                raise Unavailable(f"unexpected MLPClassifier parameter shape {dst.shape}, wanted {src.shape}")
            dst[...] = src

    def epoch(self) -> None:
        self.clf.partial_fit(self.X, self.y)

    def params(self) -> Params:
        c, i = self.clf.coefs_, self.clf.intercepts_
        return copy_params((c[0], i[0], c[1], i[1]))

    def describe(self) -> dict[str, object]:
        return {"param_dtype": str(self.clf.coefs_[0].dtype)}
