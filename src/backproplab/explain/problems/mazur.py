"""``mazur-222``: section D's classic 2-2-2 sigmoid network (inputs 0.05, 0.10; targets 0.01, 0.99).

Weights w1..w8 as wired in the course (w1: i1->h1, w2: i2->h1, w3: i1->h2, w4: i2->h2, w5: h1->o1, w6: h2->o1,
w7: h1->o2, w8: h2->o2), b1 = 0.35 into both hidden units, b2 = 0.60 into both outputs, sigmoid everywhere.
Cost ``cross-entropy`` (C = -sum_j [y_j ln a_j + (1 - y_j) ln(1 - a_j)], so delta_o = a - y; the library's
fused `BinaryCrossEntropy` on the output pre-activations) or ``squared`` (E = 1/2 sum_j (y_j - a_j)^2, the
library's `MSE(half=True)` after a `Sigmoid`). The update uses lr 0.5 by default, the value of the original
walk-through (Matt Mazur's).
"""

from __future__ import annotations

import numpy as np

from ...errors import ConfigError
from ...nn import MSE, BinaryCrossEntropy, Dense, Loss, Module, Sequential, Sigmoid
from ..compute import explain
from ..document import Derivation
from ..notation import LayerSymbols, Notation

X = np.array([0.05, 0.10])
TARGET = np.array([0.01, 0.99])
# Library layout (in, out): row = source unit, column = destination unit.
W1 = np.array(
    [
        [0.15, 0.25],  # i1 -> h1 (w1), i1 -> h2 (w3)
        [0.20, 0.30],
    ]
)  # i2 -> h1 (w2), i2 -> h2 (w4)
W2 = np.array(
    [
        [0.40, 0.50],  # h1 -> o1 (w5), h1 -> o2 (w7)
        [0.45, 0.55],
    ]
)  # h2 -> o1 (w6), h2 -> o2 (w8)
B1, B2 = 0.35, 0.60
NAMES_W1 = np.array([["w1", "w3"], ["w2", "w4"]])
NAMES_W2 = np.array([["w5", "w7"], ["w6", "w8"]])
DEFAULT_LR = 0.5
COSTS = ("cross-entropy", "squared")


def model(cost: str, hidden: Module | None = None) -> Sequential:
    """The network; ``hidden`` replaces the hidden layer's sigmoid (e.g. a `PerUnitActivation`)."""
    layers = [
        Dense.from_arrays(W1, np.full(2, B1), dtype=np.float64),
        hidden or Sigmoid(),
        Dense.from_arrays(W2, np.full(2, B2), dtype=np.float64),
    ]
    if cost == "squared":
        layers.append(Sigmoid())
    return Sequential(*layers)


def cost_loss(cost: str) -> tuple[Loss, str]:
    """The library loss of a cost and its symbol (C for cross-entropy, E for squared error)."""
    if cost not in COSTS:
        raise ConfigError(f"--cost: expected one of {', '.join(COSTS)}; got {cost!r}")
    return (BinaryCrossEntropy(), "C") if cost == "cross-entropy" else (MSE(half=True), "E")


def notation(symbol: str) -> Notation:
    return Notation(
        input="i",
        target="target",
        prediction="out_o",
        loss=symbol,
        layers=(LayerSymbols("net_h", "out_h", "W1", "b1"), LayerSymbols("net_o", "out_o", "W2", "b2")),
        weight_names=(NAMES_W1, NAMES_W2),
        bias_names=(["b1(h1)", "b1(h2)"], ["b2(o1)", "b2(o2)"]),
    )


def build(cost: str = "cross-entropy", lr: float | None = DEFAULT_LR) -> Derivation:
    loss, symbol = cost_loss(cost)
    steps = explain(model(cost), loss, X, TARGET, lr=lr, notation=notation(symbol))
    d = steps.derivation(
        "mazur-222",
        f"The 2-2-2 sigmoid network, {cost} cost",
        "Section D. net_h = i W1 + b1, out_h = sigmoid(net_h), net_o = out_h W2 + b2, out_o = sigmoid(net_o). "
        "W1, W2 are (in, out): entry [r, c] connects unit r of the layer below to unit c above; the entries are "
        "also listed by the course's names w1..w8. Computed by backproplab's modules in float64.",
    )
    sec = d.section("Deltas and the shared biases")
    delta_o = steps.layers[1].grad_pre_activation[0]
    delta_h = steps.layers[0].grad_pre_activation[0]
    sec.quantity(
        "delta_o",
        delta_o,
        f"d{symbol}/dnet_o"
        + (" = out_o - target" if cost == "cross-entropy" else " = (out_o - target) * out_o (1 - out_o)"),
    )
    sec.quantity("delta_h", delta_h, f"(delta_o W2^T) * out_h (1 - out_h) = d{symbol}/dnet_h")
    # The course's b1, b2 are single weights shared by both units of a layer: their gradient is the sum.
    sec.quantity(f"d{symbol}/db1 (shared)", float(delta_h.sum()), "delta_h1 + delta_h2")
    sec.quantity(f"d{symbol}/db2 (shared)", float(delta_o.sum()), "delta_o1 + delta_o2")
    if lr is not None:
        sec.quantity("b1' (shared)", B1 - lr * float(delta_h.sum()), f"b1 - lr d{symbol}/db1")
        sec.quantity("b2' (shared)", B2 - lr * float(delta_o.sum()), f"b2 - lr d{symbol}/db2")
    sec.note(
        "Any other activation f at a unit replaces that unit's out (1 - out) by f'(net) (worked out in "
        "mazur-222-f); a softmax output layer with the log-likelihood cost gives the same "
        "delta_o = out_o - target as sigmoid + cross-entropy."
    )
    return d
