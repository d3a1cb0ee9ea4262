"""A layer whose units use different activations: the module, the ``mazur-222-f`` problem and the TOML form.

SPEC D's written question "backprop when one neuron uses a different activation f instead of sigmoid", worked
on the 2-2-2 network with hidden unit h2 using f = tanh. Values are checked against torch autograd and against
the hand formulas delta_o = out_o - target, delta_h2 = (w6 delta_o1 + w8 delta_o2) f'(net_h2).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from backproplab import fast, nn, optim
from backproplab.check import gradcheck
from backproplab.cli.main import main
from backproplab.errors import ConfigError, ShapeError
from backproplab.explain import build_problem
from backproplab.explain.problems import mazur
from needs import import_torch

torch = import_torch()
F = torch.nn.functional
pytestmark = pytest.mark.needs_torch

W1 = [[0.15, 0.25], [0.20, 0.30]]  # (in, out): w1 w3 / w2 w4
W2 = [[0.40, 0.50], [0.45, 0.55]]  # w5 w7 / w6 w8
X, TARGET = [0.05, 0.10], [0.01, 0.99]


# -- the module -------------------------------------------------------------------------------------------------
def test_each_unit_goes_through_its_own_activation_like_torch(rng: np.random.Generator) -> None:
    x = rng.standard_normal((5, 4)) * 2
    x = np.sign(x) * (0.05 + np.abs(x))  # no exact zeros at the ReLU kink
    g = rng.standard_normal((5, 4))
    layer = nn.PerUnitActivation([nn.Sigmoid(), nn.Tanh(), nn.ReLU(), nn.ELU(0.9)])
    out = layer.forward(x, training=True)
    grad = layer.backward(g)
    tx = torch.tensor(x, requires_grad=True)
    ref = torch.stack(
        [torch.sigmoid(tx[:, 0]), torch.tanh(tx[:, 1]), torch.relu(tx[:, 2]), F.elu(tx[:, 3], alpha=0.9)], dim=1
    )
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(out, ref.detach().numpy(), rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(grad, tx.grad.numpy(), rtol=1e-13, atol=1e-16)
    assert layer.kinds == ("sigmoid", "tanh", "relu", "elu")
    assert repr(layer) == "PerUnitActivation(sigmoid, tanh, relu, elu)"


def test_per_unit_activation_passes_the_gradient_check(rng: np.random.Generator) -> None:
    x = rng.standard_normal((4, 3))
    x = np.sign(x) * (0.2 + np.abs(x))
    report = gradcheck(nn.PerUnitActivation([nn.Tanh(), nn.LeakyReLU(0.1), nn.Sigmoid()]), x, eps=1e-3, order=4)
    assert report.max_error < 1e-7, str(report)


def test_per_unit_activation_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="one activation per unit; got none"):
        nn.PerUnitActivation([])
    with pytest.raises(TypeError, match="unit 1 must be an elementwise activation .*; got Softmax"):
        nn.PerUnitActivation([nn.Sigmoid(), nn.Softmax()])
    tanh = nn.Tanh()
    with pytest.raises(ValueError, match="the same object was given twice"):
        nn.PerUnitActivation([tanh, tanh])
    layer = nn.PerUnitActivation([nn.Sigmoid(), nn.Tanh()])
    with pytest.raises(ShapeError, match=r"has 2 units and expects input of shape \(N, 2\); got \(3, 4\)"):
        layer.forward(np.zeros((3, 4)))
    reasons = fast.unsupported(
        nn.Sequential(nn.Dense(3, 2), layer),
        nn.SoftmaxCrossEntropy(),
        optim.SGD(layer.parameters() or nn.Dense(1, 1).parameters(), lr=0.1),
        [],
        1,
    )
    assert "layer 1 is PerUnitActivation (supported: Dense and elementwise activations)" in reasons
    layer.forward(np.zeros((3, 2)), training=False)
    with pytest.raises(RuntimeError, match=r"PerUnitActivation.backward\(\) needs the cache of a training-mode"):
        layer.backward(np.zeros((3, 2)))


# -- mazur-222-f ----------------------------------------------------------------------------------------------------
def torch_step(cost: str, lr: float) -> dict[str, torch.Tensor]:
    """The 2-2-2 network with h2 = tanh, by torch autograd: cost, every gradient, updated weights."""
    w1 = torch.tensor(W1, dtype=torch.float64, requires_grad=True)
    b1 = torch.tensor([0.35, 0.35], dtype=torch.float64, requires_grad=True)
    w2 = torch.tensor(W2, dtype=torch.float64, requires_grad=True)
    b2 = torch.tensor([0.60, 0.60], dtype=torch.float64, requires_grad=True)
    net_h = torch.tensor(X, dtype=torch.float64) @ w1 + b1
    net_h.retain_grad()
    out_h = torch.stack([torch.sigmoid(net_h[0]), torch.tanh(net_h[1])])
    net_o = out_h @ w2 + b2
    net_o.retain_grad()
    t = torch.tensor(TARGET, dtype=torch.float64)
    if cost == "cross-entropy":
        c = F.binary_cross_entropy_with_logits(net_o, t, reduction="sum")
    else:
        c = 0.5 * ((torch.sigmoid(net_o) - t) ** 2).sum()
    c.backward()
    return {
        "C": c,
        "net_h": net_h,
        "out_h": out_h,
        "delta_h": net_h.grad,
        "delta_o": net_o.grad,
        "dW1": w1.grad,
        "db1": b1.grad,
        "dW2": w2.grad,
        "db2": b2.grad,
        "W1'": w1 - lr * w1.grad,
        "W2'": w2 - lr * w2.grad,
    }


def close(ours: object, theirs: torch.Tensor) -> None:
    np.testing.assert_allclose(np.asarray(ours, dtype=np.float64), theirs.detach().numpy(), rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("cost", ["cross-entropy", "squared"])
def test_mazur_222_f_equals_torch_autograd(cost: str) -> None:
    d = build_problem("mazur-222-f", cost=cost, lr=0.5)
    ref = torch_step(cost, 0.5)
    symbol = "C" if cost == "cross-entropy" else "E"
    close(d[symbol], ref["C"])
    close(d["net_h"], ref["net_h"])
    close(d["out_h"], ref["out_h"])
    close(d[f"d{symbol}/dnet_h"], ref["delta_h"])
    close(d[f"d{symbol}/dnet_o"], ref["delta_o"])
    close(d["delta_h2"], ref["delta_h"][1])
    close(d[f"d{symbol}/dW1"], ref["dW1"])
    close(d[f"d{symbol}/dW2"], ref["dW2"])
    close(d[f"d{symbol}/db1"], ref["db1"])
    close(d[f"d{symbol}/db2"], ref["db2"])
    close(d["W1'"], ref["W1'"])
    close(d["W2'"], ref["W2'"])
    close([d[f"d{symbol}/dw3"], d[f"d{symbol}/dw4"]], ref["dW1"][:, 1])


def test_mazur_222_f_deltas_follow_the_hand_formulas() -> None:
    d = build_problem("mazur-222-f")
    net_h1 = 0.15 * 0.05 + 0.20 * 0.10 + 0.35
    net_h2 = 0.25 * 0.05 + 0.30 * 0.10 + 0.35
    out_h1, out_h2 = 1 / (1 + math.exp(-net_h1)), math.tanh(net_h2)
    out_o = [
        1 / (1 + math.exp(-(0.40 * out_h1 + 0.45 * out_h2 + 0.60))),
        1 / (1 + math.exp(-(0.50 * out_h1 + 0.55 * out_h2 + 0.60))),
    ]
    delta_o = [out_o[0] - 0.01, out_o[1] - 0.99]  # sigmoid + cross-entropy
    f_prime = 1 - out_h2**2
    delta_h2 = (0.45 * delta_o[0] + 0.55 * delta_o[1]) * f_prime
    delta_h1 = (0.40 * delta_o[0] + 0.50 * delta_o[1]) * out_h1 * (1 - out_h1)
    assert d["f'(net_h2)"] == pytest.approx(f_prime, rel=1e-14)
    assert d["delta_h2"] == pytest.approx(delta_h2, rel=1e-13)
    assert d["delta_h1"] == pytest.approx(delta_h1, rel=1e-13)
    np.testing.assert_allclose(d["delta_o"], delta_o, rtol=1e-13)
    assert d["dC/dw3"] == pytest.approx(delta_h2 * 0.05, rel=1e-13)
    assert d["dC/dw4"] == pytest.approx(delta_h2 * 0.10, rel=1e-13)
    assert d["dC/dw6"] == pytest.approx(delta_o[0] * out_h2, rel=1e-13)
    assert d["dC/dw8"] == pytest.approx(delta_o[1] * out_h2, rel=1e-13)


def test_the_choices_table_repeats_the_step_for_other_f() -> None:
    rows = {r["f"]: r for r in build_problem("mazur-222-f")["choices of f"]}
    assert list(rows) == ["sigmoid", "tanh", "relu", "identity"]
    original = build_problem("mazur-222")  # f = sigmoid is the original network
    assert rows["sigmoid"]["delta_h2"] == pytest.approx(original["dC/dnet_h"][1], rel=1e-15)
    assert rows["sigmoid"]["C"] == pytest.approx(original["C"], rel=1e-15)
    assert rows["tanh"]["delta_h2"] == build_problem("mazur-222-f")["delta_h2"]
    net_h2 = 0.3925
    assert rows["relu"]["f'(net_h2)"] == rows["identity"]["f'(net_h2)"] == 1.0  # net_h2 > 0
    assert rows["relu"]["out_h2"] == pytest.approx(net_h2, rel=1e-15)
    assert rows["sigmoid"]["f'(net_h2)"] == pytest.approx(
        rows["sigmoid"]["out_h2"] * (1 - rows["sigmoid"]["out_h2"]), rel=1e-14
    )


def test_mazur_222_keeps_its_values() -> None:
    """The refactor that lets mazur-222-f reuse mazur-222's network changed nothing there."""
    d = build_problem("mazur-222", cost="squared")
    sig = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    out_h1, out_h2 = sig(0.15 * 0.05 + 0.20 * 0.10 + 0.35), sig(0.25 * 0.05 + 0.30 * 0.10 + 0.35)
    out_o1 = sig(0.40 * out_h1 + 0.45 * out_h2 + 0.60)
    assert d["dE/dw5"] == pytest.approx((out_o1 - 0.01) * out_o1 * (1 - out_o1) * out_h1, rel=1e-13)
    assert isinstance(mazur.model("squared")[1], nn.Sigmoid)


# -- TOML: one activation per unit ---------------------------------------------------------------------------------
TOML = """
title = "2-2-2 with a tanh unit"
sizes = [2, 2, 2]
layout = "in_out"
loss = "binary_cross_entropy"
input = [0.05, 0.10]
target = [0.01, 0.99]
lr = 0.5
[[layers]]
activation = {hidden}
weights = [[0.15, 0.25], [0.20, 0.30]]
bias = 0.35
[[layers]]
activation = "identity"
weights = [[0.40, 0.50], [0.45, 0.55]]
bias = 0.60
"""


def test_toml_per_unit_activations_give_the_built_in_values(tmp_path: Path) -> None:
    path = tmp_path / "mixed.toml"
    path.write_text(TOML.format(hidden='["sigmoid", "tanh"]'))
    ours = build_problem(str(path))
    builtin = build_problem("mazur-222-f")
    np.testing.assert_array_equal(ours["dL/dz1"], builtin["dC/dnet_h"])
    np.testing.assert_array_equal(ours["dL/dW1"], builtin["dC/dW1"])
    assert "[sigmoid(z1[1]), tanh(z1[2])]" in ours.render()
    assert "dL/da1 * [a1[1] * (1 - a1[1]), (1 - a1[2]^2)]" in ours.render()


@pytest.mark.parametrize(
    "hidden, message",
    [
        (
            '["sigmoid", "tanh", "relu"]',
            r"layers\[0\].*\.activation: a list gives one activation per unit, so expected 2 "
            r"names for 2 units; got 3",
        ),
        (
            '["sigmoid", "softmax"]',
            r"layers\[0\].*\.activation: a list gives each unit its own activation, each 'sigmoid'"
            r".* or 'identity'; got \['sigmoid', 'softmax'\]",
        ),
        (
            '"softplus"',
            r"layers\[0\].*\.activation: expected 'sigmoid', .* or 'softmax', or a list with one per unit; "
            r"got 'softplus'",
        ),
    ],
)
def test_toml_per_unit_errors_name_the_key_and_what_is_allowed(tmp_path: Path, hidden: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(TOML.format(hidden=hidden))
    with pytest.raises(ConfigError, match=message):
        build_problem(str(path))


def test_cli_lists_and_explains_mazur_222_f() -> None:
    runner = CliRunner()
    listed = runner.invoke(main, ["explain", "--list"])
    assert listed.exit_code == 0 and "mazur-222-f" in listed.output
    result = runner.invoke(main, ["explain", "mazur-222-f", "--cost", "squared", "--lr", "0.1"])
    assert result.exit_code == 0, result.output
    assert "delta_h2 = (w6 delta_o1 + w8 delta_o2) * f'(net_h2)" in result.output
    assert "SGD update (lr = 0.1)" in result.output
