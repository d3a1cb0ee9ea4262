"""The gradient-check catalogue: every module, loss and whole MLPs against numerical gradients (float64).

`check_all` is what ``backproplab gradcheck`` runs and prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .. import nn
from .gradcheck import GradcheckReport, gradcheck


def cases(rng: np.random.Generator) -> Iterator[tuple[str, Callable[[], Any]]]:
    """(name, thunk returning a GradcheckReport) for every module and loss."""
    x = rng.standard_normal((4, 5))
    x = np.where(np.abs(x) < 0.1, 0.5, x)  # keep away from the kinks of ReLU-like functions
    labels = np.array([0, 2, 1, 2])
    # Probabilities bounded away from 0: near 0 the 2-point rule's error on log p exceeds the tolerance.
    probs = nn.softmax(rng.standard_normal((4, 3)) * 0.5)
    logits = rng.standard_normal((4, 3))
    yield "Dense", lambda: gradcheck(nn.Dense(5, 3, rng=1), x)
    yield "Dense (no bias)", lambda: gradcheck(nn.Dense(5, 3, bias=False, rng=1), x)
    for name, module in [
        ("Sigmoid", nn.Sigmoid()),
        ("ReLU", nn.ReLU()),
        ("LeakyReLU(0.1)", nn.LeakyReLU(0.1)),
        ("ELU(0.9)", nn.ELU(0.9)),
        ("Tanh", nn.Tanh()),
        ("Softmax", nn.Softmax()),
        ("Dropout(0.5)", nn.Dropout(0.5, rng=0)),
    ]:
        yield name, (lambda m=module: gradcheck(m, x))
    # BatchNorm's dL/dx is a small difference of large terms: 8 rows and the 4th-order stencil resolve it.
    rows8 = rng.standard_normal((8, 5))
    yield "BatchNorm", lambda: gradcheck(nn.BatchNorm(5), rows8, eps=1e-3, order=4)
    yield "SoftmaxCrossEntropy (labels)", lambda: gradcheck(nn.SoftmaxCrossEntropy(), logits, labels)
    yield "SoftmaxCrossEntropy (probs)", lambda: gradcheck(nn.SoftmaxCrossEntropy(), logits, probs)
    yield "CrossEntropy", lambda: gradcheck(nn.CrossEntropy(), probs, labels)
    yield "MSE", lambda: gradcheck(nn.MSE(), logits, probs)
    yield "MSE (half=False)", lambda: gradcheck(nn.MSE(half=False), logits, probs)
    yield "BinaryCrossEntropy", lambda: gradcheck(nn.BinaryCrossEntropy(), logits, (probs > 0.3).astype(float))
    # Whole networks have gradient entries small enough for the 2-point rule's rounding error (~1e-10 absolute)
    # to dominate; the 4th-order stencil with eps 1e-3 resolves them.
    deep = {"eps": 1e-3, "order": 4}
    for act in ("sigmoid", "tanh", "elu"):
        model = nn.mlp([5, 8, 6, 3], act, seed=2)
        yield f"MLP 5-8-6-3 {act} + softmax-CE", (lambda m=model: gradcheck(m, x, labels, **deep))
    yield (
        "MLP 5-8-3 ELU + L2 + L1",
        lambda: gradcheck(nn.mlp([5, 8, 3], "elu", seed=3), x, labels, regularizer=[nn.L2(0.1), nn.L1(0.01)], **deep),
    )


def check_all(seed: int = 0) -> list[tuple[str, GradcheckReport]]:
    """``(name, report)`` for every case of the catalogue, inputs drawn from ``numpy.random.default_rng(seed)``."""
    return [(name, thunk()) for name, thunk in cases(np.random.default_rng(seed))]
