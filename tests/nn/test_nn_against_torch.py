"""Forward values, losses and every gradient against torch autograd in float64 (an independent computation)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from backproplab import nn
from needs import import_torch

torch = import_torch()
F = torch.nn.functional
pytestmark = pytest.mark.needs_torch

RTOL, ATOL = 1e-12, 1e-14


def t(a: np.ndarray, grad: bool = False) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def close(ours: np.ndarray | float, theirs: torch.Tensor | float) -> None:
    expected = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=ATOL)


@pytest.fixture
def x(rng: np.random.Generator) -> np.ndarray:
    a = 2.0 * rng.standard_normal((7, 5))
    return np.sign(a) * (0.05 + np.abs(a))  # no exact zeros: torch and we may differ at the kink (a convention)


@pytest.fixture
def upstream(rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((7, 5))


ACTIVATIONS: list[tuple[nn.Module, Callable[[torch.Tensor], torch.Tensor]]] = [
    (nn.Sigmoid(), torch.sigmoid),
    (nn.Tanh(), torch.tanh),
    (nn.ReLU(), F.relu),
    (nn.LeakyReLU(0.01), lambda z: F.leaky_relu(z, 0.01)),
    (nn.LeakyReLU(0.2), lambda z: F.leaky_relu(z, 0.2)),
    (nn.ELU(), lambda z: F.elu(z, 1.0)),
    (nn.ELU(0.9), lambda z: F.elu(z, 0.9)),
    (nn.Softmax(), lambda z: torch.softmax(z, dim=1)),
    (nn.Identity(), lambda z: z),
]


@pytest.mark.parametrize(("module", "reference"), ACTIVATIONS, ids=[repr(m) for m, _ in ACTIVATIONS])
def test_activation_forward_and_backward(
    module: nn.Module, reference: Callable, x: np.ndarray, upstream: np.ndarray
) -> None:
    out = module.forward(x, training=True)
    grad_in = module.backward(upstream)
    xt = t(x, grad=True)
    ref = reference(xt)
    (ref * t(upstream)).sum().backward()
    close(out, ref)
    close(grad_in, xt.grad)
    assert out.dtype == np.float64 and grad_in.dtype == np.float64


@pytest.mark.parametrize("bias", [True, False])
def test_dense_forward_and_all_gradients(rng: np.random.Generator, bias: bool) -> None:
    layer = nn.Dense(5, 4, bias=bias, rng=3, dtype=np.float64)
    if bias:
        layer.bias.value[...] = rng.standard_normal(4)
    x = rng.standard_normal((6, 5))
    g = rng.standard_normal((6, 4))
    out = layer.forward(x, training=True)
    grad_x = layer.backward(g)

    xt, wt = t(x, True), t(layer.weight.value, True)
    bt = t(layer.bias.value, True) if bias else None
    ref = xt @ wt + (bt if bias else 0.0)
    (ref * t(g)).sum().backward()
    close(out, ref)
    close(grad_x, xt.grad)
    close(layer.weight.grad, wt.grad)
    if bias:
        close(layer.bias.grad, bt.grad)


def test_dense_float32_gradients_match_float64_reference(rng: np.random.Generator) -> None:
    # the default dtype: same formulas, float32 rounding (relative ~1e-6)
    layer = nn.Dense(20, 8, rng=1)
    x = rng.standard_normal((16, 20)).astype(np.float32)
    g = rng.standard_normal((16, 8)).astype(np.float32)
    out = layer.forward(x, training=True)
    grad_x = layer.backward(g)
    assert out.dtype == grad_x.dtype == layer.weight.grad.dtype == np.float32
    w = layer.weight.value.astype(np.float64)
    np.testing.assert_allclose(out, x.astype(np.float64) @ w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.weight.grad, x.T.astype(np.float64) @ g, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grad_x, g.astype(np.float64) @ w.T, rtol=1e-5, atol=1e-6)


@pytest.fixture
def logits(rng: np.random.Generator) -> np.ndarray:
    return 3.0 * rng.standard_normal((8, 5))


@pytest.fixture
def labels(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 5, size=8)


@pytest.fixture
def rows(rng: np.random.Generator) -> np.ndarray:
    return rng.dirichlet(np.ones(5), size=8)


def check_loss(
    loss: nn.Loss, outputs: np.ndarray, targets: np.ndarray, reference: Callable[[torch.Tensor], torch.Tensor]
) -> None:
    value = loss.forward(outputs, targets)
    grad = loss.backward()
    ot = t(outputs, True)
    ref = reference(ot)
    ref.backward()
    assert isinstance(value, float)
    np.testing.assert_allclose(value, ref.item(), rtol=RTOL)
    close(grad, ot.grad)


def test_softmax_cross_entropy_labels(logits: np.ndarray, labels: np.ndarray) -> None:
    check_loss(nn.SoftmaxCrossEntropy(), logits, labels, lambda z: F.cross_entropy(z, torch.tensor(labels)))


def test_softmax_cross_entropy_probability_rows(logits: np.ndarray, rows: np.ndarray) -> None:
    check_loss(nn.SoftmaxCrossEntropy(), logits, rows, lambda z: F.cross_entropy(z, t(rows)))


def test_softmax_cross_entropy_one_hot_equals_labels(logits: np.ndarray, labels: np.ndarray) -> None:
    a, b = nn.SoftmaxCrossEntropy(), nn.SoftmaxCrossEntropy()
    assert a.forward(logits, labels) == pytest.approx(b.forward(logits, nn.one_hot(labels, 5, np.float64)), 1e-14)
    np.testing.assert_allclose(a.backward(), b.backward(), rtol=1e-14, atol=1e-16)


def test_cross_entropy_on_probabilities(rows: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> None:
    probs = rng.dirichlet(np.ones(5), size=8)
    one_hot = t(nn.one_hot(labels, 5, np.float64))
    check_loss(nn.CrossEntropy(), probs, labels, lambda p: -(one_hot * torch.log(p)).sum() / 8)
    check_loss(nn.CrossEntropy(), probs, rows, lambda p: -(t(rows) * torch.log(p)).sum() / 8)


def test_softmax_layer_then_cross_entropy_equals_fused_loss(logits: np.ndarray, labels: np.ndarray) -> None:
    softmax, ce, fused = nn.Softmax(), nn.CrossEntropy(), nn.SoftmaxCrossEntropy()
    value = ce.forward(softmax.forward(logits, training=True), labels)
    grad = softmax.backward(ce.backward())
    assert value == pytest.approx(fused.forward(logits, labels), rel=1e-13)
    np.testing.assert_allclose(grad, fused.backward(), rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("half", [True, False])
def test_mse_sums_over_outputs_and_averages_over_the_batch(
    logits: np.ndarray, rows: np.ndarray, labels: np.ndarray, half: bool
) -> None:
    c = 0.5 if half else 1.0
    # not F.mse_loss's default mean over all N*K entries: the course convention sums over outputs
    check_loss(nn.MSE(half=half), logits, rows, lambda o: c * F.mse_loss(o, t(rows), reduction="sum") / 8)
    one_hot = t(nn.one_hot(labels, 5, np.float64))
    check_loss(nn.MSE(half=half), logits, labels, lambda o: c * F.mse_loss(o, one_hot, reduction="sum") / 8)


def test_binary_cross_entropy_with_logits(logits: np.ndarray, rows: np.ndarray) -> None:
    hard = (rows > 0.2).astype(np.float64)
    for targets in (hard, rows):
        check_loss(
            nn.BinaryCrossEntropy(),
            logits,
            targets,
            lambda z, tg=targets: F.binary_cross_entropy_with_logits(z, t(tg), reduction="sum") / 8,
        )


def test_binary_cross_entropy_single_column_accepts_flat_targets(logits: np.ndarray) -> None:
    z = logits[:, :1]
    flat = (logits[:, 1] > 0).astype(np.float64)
    check_loss(
        nn.BinaryCrossEntropy(),
        z,
        flat,
        lambda zt: F.binary_cross_entropy_with_logits(zt[:, 0], t(flat), reduction="sum") / 8,
    )


@pytest.mark.parametrize(
    ("activation", "options", "reference"),
    [
        ("sigmoid", {}, torch.sigmoid),
        ("elu", {"alpha": 0.9}, lambda z: F.elu(z, 0.9)),
        ("relu", {}, F.relu),
        ("tanh", {}, torch.tanh),
    ],
)
def test_whole_mlp_loss_and_every_gradient(
    rng: np.random.Generator, activation: str, options: dict, reference: Callable
) -> None:
    model = nn.mlp([6, 9, 7, 4], activation, activation_options=options, seed=5, dtype=np.float64)
    for p in model.parameters():
        if not p.regularize:
            p.value[...] = 0.1 * rng.standard_normal(p.shape)  # non-zero biases, so their use is tested
    x = rng.standard_normal((10, 6))
    y = rng.integers(0, 4, size=10)
    loss = nn.SoftmaxCrossEntropy()
    value = loss.forward(model.forward(x, training=True), y)
    grad_x = model.backward(loss.backward())

    named = dict(model.named_parameters())
    tp = {k: t(p.value, True) for k, p in named.items()}
    xt = t(x, True)
    h = reference(xt @ tp["0.weight"] + tp["0.bias"])
    h = reference(h @ tp["2.weight"] + tp["2.bias"])
    ref = F.cross_entropy(h @ tp["4.weight"] + tp["4.bias"], torch.tensor(y))
    ref.backward()
    np.testing.assert_allclose(value, ref.item(), rtol=RTOL)
    close(grad_x, xt.grad)
    for k, p in named.items():
        close(p.grad, tp[k].grad)


@pytest.mark.parametrize(
    ("penalty", "torch_penalty"),
    [
        (nn.L2(0.3), lambda ws: 0.3 * sum((w * w).sum() for w in ws)),
        (nn.L2(0.3, half=True), lambda ws: 0.15 * sum((w * w).sum() for w in ws)),
        (nn.L1(0.2), lambda ws: 0.2 * sum(w.abs().sum() for w in ws)),
    ],
    ids=["L2", "L2-half", "L1"],
)
def test_weight_penalty_value_and_gradient(
    rng: np.random.Generator, penalty: nn.Regularizer, torch_penalty: Callable
) -> None:
    model = nn.mlp([4, 5, 3], "tanh", seed=1, dtype=np.float64)
    for p in model.parameters():
        p.value[...] = rng.standard_normal(p.shape)  # biases non-zero: they must still not be penalised
    x, y = rng.standard_normal((6, 4)), rng.integers(0, 3, size=6)
    loss = nn.SoftmaxCrossEntropy()
    params = model.parameters()
    objective = loss.forward(model.forward(x, training=True), y) + penalty.penalty(params)
    model.backward(loss.backward())
    penalty.add_gradient(params)

    named = dict(model.named_parameters())
    tp = {k: t(p.value, True) for k, p in named.items()}
    logits = torch.tanh(t(x) @ tp["0.weight"] + tp["0.bias"]) @ tp["2.weight"] + tp["2.bias"]
    ref = F.cross_entropy(logits, torch.tensor(y)) + torch_penalty([tp["0.weight"], tp["2.weight"]])
    ref.backward()
    np.testing.assert_allclose(objective, ref.item(), rtol=RTOL)
    for k, p in named.items():
        close(p.grad, tp[k].grad)


@pytest.mark.parametrize(("module", "reference"), ACTIVATIONS[2:7], ids=[repr(m) for m, _ in ACTIVATIONS[2:7]])
def test_derivative_at_exactly_zero_follows_torch(module: nn.Module, reference: Callable) -> None:
    # not a derivative (the kink), but a convention that should not surprise: f'(0) = 0 for ReLU, slope for
    # LeakyReLU, alpha for ELU
    x = np.zeros((1, 3))
    module.forward(x, training=True)
    xt = t(x, grad=True)
    reference(xt).sum().backward()
    close(module.backward(np.ones_like(x)), xt.grad)


def test_softmax_cross_entropy_gradient_for_rows_not_summing_to_one() -> None:
    from backproplab.check import gradcheck

    rng = np.random.default_rng(0)
    logits, rows = rng.standard_normal((4, 3)), rng.random((4, 3)) * 2  # row sums between 0 and 6
    assert gradcheck(nn.SoftmaxCrossEntropy(), logits, rows).max_error < 1e-7
    z = torch.tensor(logits, requires_grad=True)
    (-(torch.tensor(rows) * torch.log_softmax(z, dim=1)).sum() / 4).backward()
    loss = nn.SoftmaxCrossEntropy()
    loss.forward(logits, rows)
    np.testing.assert_allclose(loss.backward(), z.grad.numpy(), rtol=1e-12, atol=1e-15)
