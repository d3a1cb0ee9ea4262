"""User-defined problems from TOML: a new network explained correctly, both weight layouts, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backproplab.errors import ConfigError
from backproplab.explain import build_from_file, build_problem, load_problem
from needs import import_torch

torch = import_torch()
pytestmark = pytest.mark.needs_torch

torch.set_default_dtype(torch.float64)

NETWORK = """
title = "A 3-4-2-3 network"
sizes = [3, 4, 2, 3]
layout = "in_out"
loss = "softmax_cross_entropy"
input = [0.5, -1.0, 2.0]
target = 3
class_base = 1
lr = 0.2

[[layers]]
activation = "tanh"
weights = [[0.1, -0.2, 0.3, 0.0], [0.5, 0.4, -0.1, 0.2], [-0.3, 0.1, 0.2, 0.6]]
bias = [0.1, 0.0, -0.1, 0.2]

[[layers]]
activation = "relu"
weights = [[0.3, -0.5], [0.2, 0.4], [-0.6, 0.1], [0.5, 0.5]]
bias = 0.05

[[layers]]
activation = "identity"
weights = [[1.0, -1.0, 0.5], [0.2, 0.3, -0.4]]
bias = [0.0, 0.1, 0.2]

[names]
loss = "J"
"""


def write(tmp_path: Path, text: str, name: str = "net.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def torch_reference():
    spec_w = [
        np.array([[0.1, -0.2, 0.3, 0.0], [0.5, 0.4, -0.1, 0.2], [-0.3, 0.1, 0.2, 0.6]]),
        np.array([[0.3, -0.5], [0.2, 0.4], [-0.6, 0.1], [0.5, 0.5]]),
        np.array([[1.0, -1.0, 0.5], [0.2, 0.3, -0.4]]),
    ]
    spec_b = [np.array([0.1, 0.0, -0.1, 0.2]), np.array([0.05, 0.05]), np.array([0.0, 0.1, 0.2])]
    W = [torch.tensor(w, requires_grad=True) for w in spec_w]
    B = [torch.tensor(b, requires_grad=True) for b in spec_b]
    x = torch.tensor([0.5, -1.0, 2.0])
    h1 = torch.tanh(x @ W[0] + B[0])
    h2 = torch.relu(h1 @ W[1] + B[1])
    logits = h2 @ W[2] + B[2]
    loss = -torch.log_softmax(logits, 0)[2]  # class 3 counted from 1
    loss.backward()
    return loss.item(), [w.grad.numpy() for w in W], [b.grad.numpy() for b in B], spec_w, spec_b


def test_a_new_network_from_toml_matches_autograd(tmp_path: Path) -> None:
    d = build_from_file(write(tmp_path, NETWORK))
    values = d.values()
    loss, gw, gb, ws, bs = torch_reference()
    assert d.title == "A 3-4-2-3 network" and d.name == "net"
    assert values["J"] == pytest.approx(loss, rel=1e-12)
    for i in range(3):
        np.testing.assert_allclose(values[f"dJ/dW{i + 1}"], gw[i], rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(values[f"dJ/db{i + 1}"], gb[i], rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(values[f"W{i + 1}'"], ws[i] - 0.2 * gw[i], rtol=1e-12)
    assert values["true class"] == 3
    # --lr overrides the file's rate
    values = build_problem(str(write(tmp_path, NETWORK)), lr=1.0).values()
    np.testing.assert_allclose(values["W1'"], ws[0] - 1.0 * gw[0], rtol=1e-12)


def test_folded_and_in_out_layouts_give_the_same_numbers(tmp_path: Path) -> None:
    folded = """
sizes = [2, 2, 1]
layout = "folded"
loss = "mse"
input = [0.3, -0.7]
target = [0.25]
lr = 0.5
[[layers]]
activation = "sigmoid"
weights = [[0.1, 0.2, 0.3], [-0.1, 0.4, -0.5]]
[[layers]]
activation = "sigmoid"
weights = [[0.2, 0.6, -0.8]]
"""
    in_out = """
sizes = [2, 2, 1]
layout = "in_out"
loss = "mse"
input = [0.3, -0.7]
target = [0.25]
lr = 0.5
[[layers]]
activation = "sigmoid"
weights = [[0.2, 0.4], [0.3, -0.5]]
bias = [0.1, -0.1]
[[layers]]
activation = "sigmoid"
weights = [[0.6], [-0.8]]
bias = [0.2]
"""
    a = build_from_file(write(tmp_path, folded, "a.toml")).values()
    b = build_from_file(write(tmp_path, in_out, "b.toml")).values()
    assert a["L"] == b["L"]
    # folded shows (out, 1 + in) with the bias first; in_out shows (in, out) and the bias apart
    np.testing.assert_array_equal(a["dL/dW1"], np.column_stack([b["dL/db1"], b["dL/dW1"].T]))
    np.testing.assert_array_equal(a["W2'"], np.column_stack([b["b2'"], b["W2'"].T]))
    # hand check of the output: 1/2 (sigmoid(...) - t)^2
    h = 1 / (1 + np.exp(-(np.array([0.1, -0.1]) + np.array([0.3, -0.7]) @ np.array([[0.2, 0.4], [0.3, -0.5]]))))
    o = 1 / (1 + np.exp(-(0.2 + h @ np.array([0.6, -0.8]))))
    assert a["L"] == pytest.approx(0.5 * (o - 0.25) ** 2, rel=1e-13)


BASE = """
sizes = [3, 2, 2]
layout = "folded"
loss = "softmax_cross_entropy"
input = [1.0, 0.5, -1.0]
target = 1
[[layers]]
activation = "sigmoid"
weights = [[0.1, 0.2, 0.3, 0.4], [0.0, -0.1, 0.5, 0.2]]
[[layers]]
activation = "identity"
weights = [[0.0, 1.0, -1.0], [0.5, 0.5, 0.5]]
"""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "weights = [[0.1, 0.2, 0.3, 0.4], [0.0, -0.1, 0.5, 0.2]]",
            "weights = [[0.1, 0.2, 0.3], [0.0, -0.1, 0.5]]",
            r"layers\[0\] \(the 1st \[\[layers\]\] table\)\.weights: expected shape \(2, 4\) = \(out, 1 \+ in\).*"
            r"got \(2, 3\)",
        ),
        (
            'layout = "folded"',
            'layout = "in_out"',
            r"layers\[0\].*\.weights: expected shape \(3, 2\) = \(in, out\).*got \(2, 4\)",
        ),
        ('layout = "folded"', 'layout = "sideways"', "layout: expected 'folded' or 'in_out'; got 'sideways'"),
        ('activation = "identity"', 'activation = "swish"', r"layers\[1\].*activation: expected 'sigmoid'"),
        (
            'activation = "identity"',
            'activation = "softmax"',
            "applies the softmax itself.*set activation = 'identity'",
        ),
        ("input = [1.0, 0.5, -1.0]", "input = [1.0, 0.5]", r"input: expected 3 numbers per example \(sizes\[0\] = 3\)"),
        ("target = 1", "target = 2", r"target: class indices must be in 0..1"),
        ("target = 1", "target = [0.0, 1.0, 0.0]", r"target: expected a class index or target values of shape \(2,\)"),
        ("sizes = [3, 2, 2]", "sizes = [3, 2, 2, 2]", r"expected 3 \[\[layers\]\] table\(s\); got 2"),
        ("target = 1", "target = 1\ncolour = 3", "colour: unknown key"),
        ('loss = "softmax_cross_entropy"\n', "", "loss: required key is missing"),
        ('loss = "softmax_cross_entropy"', 'loss = "hinge"', "loss: expected 'softmax_cross_entropy'"),
        ("target = 1", "target = 1\nlr = -0.1", "lr: Input should be greater than 0"),
        (
            'activation = "sigmoid"',
            'activation = "sigmoid"\nbias = [1.0, 2.0]',
            r"\.bias: not used with layout = "
            "'folded'",
        ),
    ],
)
def test_bad_files_name_the_key_and_the_expected_shape(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in BASE
    path = write(tmp_path, BASE.replace(old, new, 1))
    with pytest.raises(ConfigError, match=message):
        load_problem(path)


def test_in_out_layout_needs_a_bias_of_the_right_size(tmp_path: Path) -> None:
    text = BASE.replace('layout = "folded"', 'layout = "in_out"').replace(
        "weights = [[0.1, 0.2, 0.3, 0.4], [0.0, -0.1, 0.5, 0.2]]", "weights = [[0.1, 0.2], [0.3, 0.4], [0.0, -0.1]]"
    )
    with pytest.raises(ConfigError, match=r"layers\[0\].*\.bias: required with layout = 'in_out'"):
        load_problem(write(tmp_path, text))
    text = text.replace(
        "weights = [[0.1, 0.2], [0.3, 0.4], [0.0, -0.1]]",
        "weights = [[0.1, 0.2], [0.3, 0.4], [0.0, -0.1]]\nbias = [1.0, 2.0, 3.0]",
    )
    with pytest.raises(ConfigError, match=r"\.bias: expected 2 numbers \(one per unit\) or one number; got 3"):
        load_problem(write(tmp_path, text))


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="problem file not found"):
        load_problem(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_problem(write(tmp_path, "sizes = [3, 2"))
    with pytest.raises(ConfigError, match="non-empty matrix"):
        load_problem(write(tmp_path, BASE.replace("[[0.0, 1.0, -1.0], [0.5, 0.5, 0.5]]", "[[0.0, 1.0, -1.0], [0.5]]")))


def test_batch_of_examples_with_class_indices(tmp_path: Path) -> None:
    text = BASE.replace("input = [1.0, 0.5, -1.0]", "input = [[1.0, 0.5, -1.0], [0.0, 0.2, 0.4]]").replace(
        "target = 1", "target = [1, 0]"
    )
    values = build_from_file(write(tmp_path, text)).values()
    assert values["z1"].shape == (2, 2) and values["true class"].tolist() == [1, 0]
    single = []
    for x, t in [([1.0, 0.5, -1.0], 1), ([0.0, 0.2, 0.4], 0)]:
        text = BASE.replace("input = [1.0, 0.5, -1.0]", f"input = {x}").replace("target = 1", f"target = {t}")
        single.append(build_from_file(write(tmp_path, text, f"s{t}.toml")).values())
    assert values["L"] == pytest.approx((single[0]["L"] + single[1]["L"]) / 2, rel=1e-14)
    np.testing.assert_allclose(values["dL/dW1"], (single[0]["dL/dW1"] + single[1]["dL/dW1"]) / 2, rtol=1e-12)
