"""explain(): every quantity of a training step equals an independent computation (torch autograd, plain NumPy)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from backproplab import nn
from backproplab.explain import Notation, explain
from needs import import_torch

torch = import_torch()
pytestmark = pytest.mark.needs_torch

torch.set_default_dtype(torch.float64)

TORCH_ACT = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "elu": lambda t: torch.nn.functional.elu(t, alpha=0.9),
    "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.1),
    "identity": lambda t: t,
    "softmax": lambda t: torch.softmax(t, dim=1),
}
OUR_ACT = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "elu": lambda: nn.ELU(0.9),
    "leaky_relu": lambda: nn.LeakyReLU(0.1),
    "identity": None,
    "softmax": nn.Softmax,
}


def build(sizes: list[int], acts: list[str], rng: np.random.Generator) -> tuple[nn.Sequential, list, list]:
    """Our model plus the same weights as plain arrays (library layout (in, out))."""
    layers, ws, bs = [], [], []
    for n_in, n_out, act in zip(sizes[:-1], sizes[1:], acts, strict=True):
        w, b = rng.standard_normal((n_in, n_out)), rng.standard_normal(n_out) * 0.5
        ws.append(w)
        bs.append(b)
        layers.append(nn.Dense.from_arrays(w, b, dtype=np.float64))
        if OUR_ACT[act] is not None:
            layers.append(OUR_ACT[act]())
    return nn.Sequential(*layers), ws, bs


def torch_step(ws, bs, acts, x, targets, loss_kind, lr):
    """Forward/backward with autograd; returns a dict of every intermediate and gradient."""
    W = [torch.tensor(w, requires_grad=True) for w in ws]
    B = [torch.tensor(b, requires_grad=True) for b in bs]
    a = torch.tensor(x)
    pres, outs = [], []
    for w, b, act in zip(W, B, acts, strict=True):
        z = a @ w + b
        z.retain_grad()
        a = TORCH_ACT[act](z)
        if act != "identity":
            a.retain_grad()
        pres.append(z)
        outs.append(a)
    t = torch.tensor(targets)
    n = a.shape[0]
    if loss_kind == "softmax_cross_entropy":
        loss = -(t * torch.log_softmax(a, dim=1)).sum() / n
    elif loss_kind == "cross_entropy":
        loss = -(t * torch.log(a)).sum() / n
    elif loss_kind == "binary_cross_entropy":
        loss = torch.nn.functional.binary_cross_entropy_with_logits(a, t, reduction="sum") / n
    elif loss_kind == "mse":
        loss = 0.5 * ((a - t) ** 2).sum() / n
    else:
        loss = ((a - t) ** 2).sum() / n
    loss.backward()
    out = {
        "loss": loss.item(),
        "pre": [z.detach().numpy() for z in pres],
        "act": [o.detach().numpy() for o in outs],
        "grad_pre": [z.grad.numpy() for z in pres],
        "grad_act": [(o.grad if o.grad is not None else p.grad).numpy() for o, p in zip(outs, pres, strict=True)],
        "gw": [w.grad.numpy() for w in W],
        "gb": [b.grad.numpy() for b in B],
    }
    if lr is not None:
        with torch.no_grad():
            out["new_w"] = [(w - lr * w.grad).numpy() for w in W]
            out["new_b"] = [(b - lr * b.grad).numpy() for b in B]
    return out


CASES = [
    # sizes, activations, loss, target kind
    ([4, 5, 3], ["sigmoid", "identity"], "softmax_cross_entropy", "labels"),
    ([3, 4, 4, 2], ["tanh", "relu", "identity"], "softmax_cross_entropy", "rows"),
    ([5, 3, 3], ["elu", "softmax"], "cross_entropy", "labels"),
    ([2, 3, 2], ["leaky_relu", "sigmoid"], "mse", "rows"),
    ([2, 2, 2], ["sigmoid", "identity"], "binary_cross_entropy", "rows"),
    ([3, 6, 5, 4, 2], ["relu", "tanh", "sigmoid", "identity"], "softmax_cross_entropy", "labels"),
    ([3, 2], ["identity"], "mse_full", "rows"),
]


def make_loss(kind: str) -> nn.Loss:
    return {
        "softmax_cross_entropy": nn.SoftmaxCrossEntropy,
        "cross_entropy": nn.CrossEntropy,
        "binary_cross_entropy": nn.BinaryCrossEntropy,
        "mse": lambda: nn.MSE(half=True),
        "mse_full": lambda: nn.MSE(half=False),
    }[kind]()


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize(("sizes", "acts", "loss_kind", "target_kind"), CASES)
def test_every_quantity_matches_torch_autograd(sizes, acts, loss_kind, target_kind, batch) -> None:
    rng = np.random.default_rng(sum(sizes) + batch)
    model, ws, bs = build(sizes, acts, rng)
    x = rng.standard_normal((batch, sizes[0]))
    k = sizes[-1]
    labels = rng.integers(0, k, size=batch)
    if target_kind == "labels":
        y, rows = labels, np.eye(k)[labels]
    else:
        rows = rng.uniform(0.05, 0.95, size=(batch, k))
        if loss_kind == "softmax_cross_entropy":  # its gradient p - t assumes probability rows
            rows /= rows.sum(axis=1, keepdims=True)
        y = rows
    lr = 0.3
    steps = explain(model, make_loss(loss_kind), x, y, lr=lr)
    ref = torch_step(ws, bs, acts, x, rows, loss_kind, lr)

    assert steps.loss == pytest.approx(ref["loss"], rel=1e-12, abs=1e-14)
    for i, layer in enumerate(steps.layers):
        np.testing.assert_allclose(layer.pre_activation, ref["pre"][i], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(layer.output, ref["act"][i], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(layer.grad_pre_activation, ref["grad_pre"][i], rtol=1e-9, atol=1e-13)
        np.testing.assert_allclose(layer.grad_output, ref["grad_act"][i], rtol=1e-9, atol=1e-13)
        np.testing.assert_allclose(layer.grad_weight, ref["gw"][i], rtol=1e-9, atol=1e-13)
        np.testing.assert_allclose(layer.grad_bias, ref["gb"][i], rtol=1e-9, atol=1e-13)
        np.testing.assert_allclose(layer.new_weight, ref["new_w"][i], rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(layer.new_bias, ref["new_b"][i], rtol=1e-12, atol=1e-13)
    # The input of layer i+1 is the output of layer i; dL/dx of layer i+1 is dL/d(output) of layer i.
    for lower, upper in zip(steps.layers[:-1], steps.layers[1:], strict=True):
        np.testing.assert_array_equal(upper.input, lower.output)
        np.testing.assert_allclose(upper.grad_input, lower.grad_output, rtol=1e-12)
    # Loss after the update: the same batch through the updated weights, by autograd's forward.
    after = torch_step(
        [layer.new_weight for layer in steps.layers],
        [layer.new_bias for layer in steps.layers],
        acts,
        x,
        rows,
        loss_kind,
        None,
    )["loss"]
    assert steps.loss_after_update == pytest.approx(after, rel=1e-12)
    # The prediction is the loss's link of the output, and the predicted class its argmax.
    out = torch.tensor(ref["act"][-1])
    link = {"softmax_cross_entropy": lambda t: torch.softmax(t, 1), "binary_cross_entropy": torch.sigmoid}.get(
        loss_kind, lambda t: t
    )
    np.testing.assert_allclose(steps.prediction, link(out).numpy(), rtol=1e-12)
    np.testing.assert_array_equal(steps.predicted_class, np.argmax(link(out).numpy(), axis=1))


def test_explain_leaves_the_callers_model_and_loss_untouched() -> None:
    rng = np.random.default_rng(0)
    model, _, _ = build([3, 4, 2], ["sigmoid", "identity"], rng)
    model.astype(np.float32)
    before = copy.deepcopy(model.state_dict())
    loss = nn.SoftmaxCrossEntropy()
    steps = explain(model, loss, rng.standard_normal(3), 1, lr=10.0)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
        assert value.dtype == np.float32
    assert loss._cache is None
    assert steps.layers[0].weight.dtype == np.float64  # computed in float64


def test_single_example_is_shown_as_vectors_and_batch_as_matrices() -> None:
    rng = np.random.default_rng(1)
    model, _, _ = build([3, 4, 2], ["sigmoid", "identity"], rng)
    single = explain(model, nn.SoftmaxCrossEntropy(), [0.1, 0.2, 0.3], 1)
    assert single["z1"].shape == (4,) and single["dL/dW1"].shape == (3, 4) and single["y_hat"].shape == (2,)
    batch = explain(model, nn.SoftmaxCrossEntropy(), rng.standard_normal((5, 3)), np.array([0, 1, 1, 0, 1]))
    assert batch["z1"].shape == (5, 4) and batch["dL/db1"].shape == (4,)
    assert "(1/N) sum_n" in batch.render() and "/ N" in batch.render()
    assert single.lr is None and "SGD update" not in single.render()


def test_steps_lists_by_role() -> None:
    rng = np.random.default_rng(2)
    model, ws, _ = build([2, 3, 2], ["tanh", "identity"], rng)
    steps = explain(model, nn.MSE(), [0.5, -0.5], [0.2, 0.8], lr=0.1)
    assert len(steps.pre_activations) == len(steps.activations) == 2
    assert [g.shape for g in steps.weight_grads] == [w.shape for w in ws]
    np.testing.assert_allclose(steps.updated_weights[0], ws[0] - 0.1 * steps.weight_grads[0])
    np.testing.assert_array_equal(steps.grad_input, steps.layers[0].grad_input)
    assert set(steps.quantities()) >= {
        "x",
        "y",
        "W1",
        "b1",
        "z1",
        "a1",
        "z2",
        "y_hat",
        "L",
        "dL/dy_hat",
        "dL/dz2",
        "dL/dW2",
        "dL/db2",
        "dL/da1",
        "dL/dz1",
        "dL/dW1",
        "dL/db1",
        "dL/dx",
        "W1'",
        "b2'",
        "L after update",
        "predicted class",
    }


def test_notation_renames_quantities() -> None:
    rng = np.random.default_rng(3)
    model, _, _ = build([2, 2, 2], ["sigmoid", "identity"], rng)
    notation = Notation(input="i", loss="J", prediction="p")
    steps = explain(model, nn.SoftmaxCrossEntropy(), [1.0, 2.0], 0, notation=notation)
    assert {"i", "J", "p", "dJ/dz2", "dJ/dW1", "dJ/di"} <= set(steps.quantities())


def test_one_hot_integer_row_is_a_target_not_labels() -> None:
    rng = np.random.default_rng(4)
    model, _, _ = build([2, 3], ["identity"], rng)
    as_row = explain(model, nn.SoftmaxCrossEntropy(), [1.0, 2.0], [0, 0, 1])
    as_label = explain(model, nn.SoftmaxCrossEntropy(), [1.0, 2.0], 2)
    assert as_row.loss == pytest.approx(as_label.loss, rel=1e-15)
    assert as_row.labels is None and as_label.labels.tolist() == [2]


@pytest.mark.parametrize(
    ("model", "loss", "y", "message"),
    [
        (nn.Sequential(nn.Dense(2, 2), nn.Dropout(0.5)), nn.MSE(), [0.0, 1.0], "dropout is random"),
        (nn.Sequential(nn.Sigmoid(), nn.Dense(2, 2)), nn.MSE(), [0.0, 1.0], "start with a Dense layer"),
        (nn.Sequential(nn.Dense(2, 2), nn.Sigmoid(), nn.Tanh()), nn.MSE(), [0.0, 1.0], "one activation per Dense"),
        (nn.Sequential(nn.Dense(2, 2), nn.Softmax()), nn.SoftmaxCrossEntropy(), 1, "remove the final softmax"),
        (nn.Sequential(nn.Dense(2, 2), nn.Sigmoid()), nn.BinaryCrossEntropy(), [0.0, 1.0], "remove the final sigmoid"),
        (nn.Sequential(nn.Dense(2, 2)), nn.SoftmaxCrossEntropy(), 2, r"labels must be in \[0, 1\]"),
        (nn.Sequential(nn.Dense(2, 3)), nn.MSE(), [0.0, 1.0], r"rows \(1, 3\)"),
    ],
)
def test_bad_models_and_targets_get_clear_errors(model, loss, y, message) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        explain(model, loss, [1.0, 2.0], y)
