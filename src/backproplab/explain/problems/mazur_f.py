"""``mazur-222-f``: section D's "backprop when one neuron uses a different activation f instead of sigmoid".

The 2-2-2 network of `mazur` (same weights, inputs, targets, costs), with hidden unit h2 computing
out_h2 = f(net_h2), f = tanh, while h1 and the outputs keep the sigmoid. The library's `PerUnitActivation` gives
each hidden unit its own activation module. The rule the exercise is after: only the local derivative at h2
changes, delta_h2 = (w6 delta_o1 + w8 delta_o2) f'(net_h2) in place of (...) out_h2 (1 - out_h2); the values
downstream of h2 change too, because out_h2 feeds both outputs. A table repeats the step for other choices of f.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...nn import Activation, Identity, PerUnitActivation, ReLU, Sigmoid, Tanh
from ..compute import explain
from ..document import Derivation
from ..steps import Steps
from .mazur import DEFAULT_LR, TARGET, X, cost_loss, model, notation

F_NAME = "tanh"
# Choices of f at h2 for the comparison table (sigmoid: the original network); derivatives from the modules.
# (net_h2 > 0 here, so ELU and LeakyReLU would repeat the ReLU row.)
CHOICES: dict[str, Callable[[], Activation]] = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "identity": Identity}
F_PRIME = {"sigmoid": "out_h2 (1 - out_h2)", "tanh": "1 - out_h2^2", "relu": "[net_h2 > 0]", "identity": "1"}


def _steps(cost: str, f: Callable[[], Activation], lr: float | None) -> Steps:
    loss, symbol = cost_loss(cost)
    hidden = PerUnitActivation([Sigmoid(), f()])
    return explain(model(cost, hidden), loss, X, TARGET, lr=lr, notation=notation(symbol))


def _slope(f: Callable[[], Activation], net: float) -> float:
    """f'(net) from the activation module itself: its backward of a unit upstream gradient."""
    act = f()
    act.forward(np.array([[net]]), training=True)
    return float(act.backward(np.ones((1, 1)))[0, 0])


def build(cost: str = "cross-entropy", lr: float | None = DEFAULT_LR) -> Derivation:
    steps = _steps(cost, CHOICES[F_NAME], lr)
    _, symbol = cost_loss(cost)
    d = steps.derivation(
        "mazur-222-f",
        f"The 2-2-2 network with hidden unit h2 using f = {F_NAME} instead of sigmoid, {cost} cost",
        "Section D. As mazur-222 (i = [0.05, 0.10], target = [0.01, 0.99], w1..w8 = .15 .20 .25 .30 .40 .45 .50 "
        ".55, b1 = .35, b2 = .60), except out_h2 = f(net_h2) with f = tanh; h1 and both outputs keep the sigmoid. "
        "Computed by backproplab's Dense, PerUnitActivation(Sigmoid, Tanh), Sigmoid and loss modules in float64.",
    )
    hidden, output = steps.layers
    net_h2, out_h2 = float(hidden.pre_activation[0, 1]), float(hidden.output[0, 1])
    delta_o = output.grad_pre_activation[0]
    back_h = hidden.grad_output[0]  # dC/dout_h = W2 delta_o: (w5 delta_o1 + w7 delta_o2, w6 delta_o1 + w8 delta_o2)
    f_prime = _slope(CHOICES[F_NAME], net_h2)
    sec = d.section("Deltas when h2 uses f")
    sec.quantity(
        "delta_o",
        delta_o,
        f"d{symbol}/dnet_o"
        + (" = out_o - target" if cost == "cross-entropy" else " = (out_o - target) * out_o (1 - out_o)"),
        note="the same formula as in mazur-222; its value changes because out_h2 = f(net_h2) feeds net_o",
    )
    sec.quantity(f"d{symbol}/dout_h2", float(back_h[1]), "w6 delta_o1 + w8 delta_o2")
    sec.quantity("f'(net_h2)", f_prime, f"{F_PRIME[F_NAME]}  (f = {F_NAME})")
    sec.quantity(
        "delta_h1",
        float(hidden.grad_pre_activation[0, 0]),
        "(w5 delta_o1 + w7 delta_o2) * out_h1 (1 - out_h1)  (sigmoid, unchanged rule)",
    )
    sec.quantity(
        "delta_h2",
        float(hidden.grad_pre_activation[0, 1]),
        "(w6 delta_o1 + w8 delta_o2) * f'(net_h2)  (the only rule that changes)",
    )
    sec.note(
        "In general: for a unit j with activation f_j, delta_j = f_j'(net_j) * sum_k w_kj delta_k; the sigmoid's "
        "out_j (1 - out_j) is just f'(net_j) for f = sigmoid. The weight partials keep their form: "
        f"d{symbol}/dw3 = delta_h2 i1, d{symbol}/dw4 = delta_h2 i2, d{symbol}/dw6 = delta_o1 out_h2, "
        f"d{symbol}/dw8 = delta_o2 out_h2."
    )
    rows = []
    for name, f in CHOICES.items():
        s = _steps(cost, f, None)
        h, o = s.layers
        rows.append(
            [
                name,
                F_PRIME[name],
                float(h.output[0, 1]),
                _slope(f, float(h.pre_activation[0, 1])),
                float(h.grad_pre_activation[0, 1]),
                float(h.grad_weight[0, 1]),
                float(h.grad_weight[1, 1]),
                float(o.grad_weight[1, 0]),
                float(o.grad_weight[1, 1]),
                s.loss,
            ]
        )
    d.section("Other choices of f at h2").table(
        "choices of f",
        [
            "f",
            "f' formula",
            "out_h2",
            "f'(net_h2)",
            "delta_h2",
            f"d{symbol}/dw3",
            f"d{symbol}/dw4",
            f"d{symbol}/dw6",
            f"d{symbol}/dw8",
            symbol,
        ],
        rows,
        title=f"net_h2 = {net_h2:.6g} for every f (the layer below h2 is unchanged); out_h2 = {out_h2:.6g} for tanh. "
        "net_h2 > 0, so ReLU (and ELU, LeakyReLU) act as the identity here.",
    )
    return d
