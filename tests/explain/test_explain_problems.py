"""Built-in network problems: every value recomputed here from the problem statement (SPEC.md), by hand formulas
in plain NumPy and by torch autograd. No number is copied from a course's answer key."""

from __future__ import annotations

import numpy as np
import pytest

from backproplab.explain import build_problem, softmax_temperature
from needs import import_torch

torch = import_torch()
pytestmark = pytest.mark.needs_torch

torch.set_default_dtype(torch.float64)


def sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


# -- hw-643 (SPEC A) ---------------------------------------------------------------------------------------------
ALPHA_STAR = np.array([[2, 1, -1, -1, 0, -2], [0, 1, 0, -1, 1, 3], [-1, 2, 1, 3, 1, -1], [1, 3, 4, 2, -1, 2]], float)
BETA_STAR = np.array([[2, -2, 2, 1], [3, -1, 1, 2], [0, -1, 0, 1]], float)


def hw643_by_hand(lr: float) -> dict[str, np.ndarray]:
    """The course's own formulas with the bias folded into column 0 (x_0 = z_0 = 1)."""
    alpha = np.column_stack([np.ones(4), ALPHA_STAR])
    beta = np.column_stack([np.ones(3), BETA_STAR])
    x = np.array([1.0, 1, 0, 1, 0, 1, 0])  # x_0 = 1 first
    y = np.array([0.0, 1.0, 0.0])  # class 2 of 3
    a = alpha @ x
    z = sigmoid(a)
    zb = np.concatenate([[1.0], z])
    b = beta @ zb
    y_hat = np.exp(b) / np.exp(b).sum()
    loss = -np.sum(y * np.log(y_hat))
    g_b = y_hat - y
    g_beta = np.outer(g_b, zb)
    g_z = BETA_STAR.T @ g_b
    g_a = g_z * z * (1 - z)
    g_alpha = np.outer(g_a, x)
    return {
        "a": a,
        "z": z,
        "b": b,
        "y_hat": y_hat,
        "l": loss,
        "dl/db": g_b,
        "dl/dbeta": g_beta,
        "dl/dz": g_z,
        "dl/da": g_a,
        "dl/dalpha": g_alpha,
        "alpha'": alpha - lr * g_alpha,
        "beta'": beta - lr * g_beta,
        "alpha": alpha,
        "beta": beta,
    }


def test_hw643_every_value_matches_the_course_formulas() -> None:
    values = build_problem("hw-643").values()
    ref = hw643_by_hand(lr=1.0)
    for key, expected in ref.items():
        np.testing.assert_allclose(values[key], expected, rtol=1e-12, atol=1e-15, err_msg=key)
    assert values["predicted class"] == 1 + int(np.argmax(ref["y_hat"]))
    assert values["true class"] == 2
    # The course's indices: beta_{2,1} is row 2 (from 1), column 1 (from 0; 0 = bias); alpha_{3,4} likewise.
    assert values["beta_{2,1}"] == 3.0 and values["alpha_{3,4}"] == 3.0 and values["alpha_{1,0}"] == 1.0
    assert values["dl/dbeta_{2,1}"] == pytest.approx(ref["dl/dbeta"][1, 1], rel=1e-12)
    assert values["dl/dalpha_{3,4}"] == pytest.approx(ref["dl/dalpha"][2, 4], abs=1e-15)
    assert values["beta_{2,1}'"] == pytest.approx(ref["beta'"][1, 1], rel=1e-12)


def test_hw643_matches_torch_autograd_including_the_update_and_new_loss() -> None:
    alpha = torch.tensor(np.column_stack([np.ones(4), ALPHA_STAR]), requires_grad=True)
    beta = torch.tensor(np.column_stack([np.ones(3), BETA_STAR]), requires_grad=True)
    x = torch.tensor([1.0, 1, 0, 1, 0, 1, 0])

    def loss_of(al: torch.Tensor, be: torch.Tensor) -> torch.Tensor:
        z = torch.cat([torch.ones(1), torch.sigmoid(al @ x)])
        return -torch.log_softmax(be @ z, 0)[1]

    loss = loss_of(alpha, beta)
    loss.backward()
    lr = 0.25
    values = build_problem("hw-643", lr=lr).values()
    np.testing.assert_allclose(values["dl/dalpha"], alpha.grad.numpy(), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(values["dl/dbeta"], beta.grad.numpy(), rtol=1e-10, atol=1e-15)
    with torch.no_grad():
        after = loss_of(alpha - lr * alpha.grad, beta - lr * beta.grad).item()
    assert values["l after update"] == pytest.approx(after, rel=1e-12)
    assert values["l after update"] < values["l"]


def test_hw643_displays_the_folded_layout_with_course_indices() -> None:
    text = build_problem("hw-643").render("text", precision=4)
    assert "alpha (4, 7)" in text and "beta (3, 5)" in text and "dl/dalpha (4, 7)" in text
    assert "column 0 = bias" in text
    assert "SGD update (lr = 1)" in text and "alpha' (4, 7)" in text


# -- mazur-222 (SPEC D) ------------------------------------------------------------------------------------------
def mazur_by_hand(cost: str, lr: float) -> dict[str, float]:
    """Scalar formulas written out per weight, as in the walk-through (no matrices)."""
    i1, i2, t1, t2 = 0.05, 0.10, 0.01, 0.99
    w1, w2, w3, w4, w5, w6, w7, w8 = 0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55
    b1, b2 = 0.35, 0.60
    h1, h2 = sigmoid(w1 * i1 + w2 * i2 + b1), sigmoid(w3 * i1 + w4 * i2 + b1)
    o1, o2 = sigmoid(w5 * h1 + w6 * h2 + b2), sigmoid(w7 * h1 + w8 * h2 + b2)
    if cost == "squared":
        loss = 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2
        d1, d2 = (o1 - t1) * o1 * (1 - o1), (o2 - t2) * o2 * (1 - o2)
    else:
        loss = -(t1 * np.log(o1) + (1 - t1) * np.log(1 - o1)) - (t2 * np.log(o2) + (1 - t2) * np.log(1 - o2))
        d1, d2 = o1 - t1, o2 - t2
    dh1 = (d1 * w5 + d2 * w7) * h1 * (1 - h1)
    dh2 = (d1 * w6 + d2 * w8) * h2 * (1 - h2)
    grads = {
        "w1": dh1 * i1,
        "w2": dh1 * i2,
        "w3": dh2 * i1,
        "w4": dh2 * i2,
        "w5": d1 * h1,
        "w6": d1 * h2,
        "w7": d2 * h1,
        "w8": d2 * h2,
    }
    weights = {"w1": w1, "w2": w2, "w3": w3, "w4": w4, "w5": w5, "w6": w6, "w7": w7, "w8": w8}
    out = {
        "loss": loss,
        "out_h1": h1,
        "out_h2": h2,
        "out_o1": o1,
        "out_o2": o2,
        "delta_o1": d1,
        "delta_o2": d2,
        "delta_h1": dh1,
        "delta_h2": dh2,
        "shared_b1": dh1 + dh2,
        "shared_b2": d1 + d2,
    }
    out.update({f"grad_{k}": v for k, v in grads.items()})
    out.update({f"new_{k}": weights[k] - lr * grads[k] for k in weights})
    return out


@pytest.mark.parametrize(("cost", "symbol"), [("cross-entropy", "C"), ("squared", "E")])
def test_mazur_222_matches_the_per_weight_formulas(cost: str, symbol: str) -> None:
    values = build_problem("mazur-222", cost=cost).values()
    ref = mazur_by_hand(cost, lr=0.5)
    assert values[symbol] == pytest.approx(ref["loss"], rel=1e-13)
    np.testing.assert_allclose(values["out_h"], [ref["out_h1"], ref["out_h2"]], rtol=1e-14)
    np.testing.assert_allclose(values["out_o"], [ref["out_o1"], ref["out_o2"]], rtol=1e-14)
    np.testing.assert_allclose(values["delta_o"], [ref["delta_o1"], ref["delta_o2"]], rtol=1e-12)
    np.testing.assert_allclose(values["delta_h"], [ref["delta_h1"], ref["delta_h2"]], rtol=1e-12)
    for k in range(1, 9):
        assert values[f"d{symbol}/dw{k}"] == pytest.approx(ref[f"grad_w{k}"], rel=1e-12), k
        assert values[f"w{k}'"] == pytest.approx(ref[f"new_w{k}"], rel=1e-13), k
    assert values[f"d{symbol}/db1 (shared)"] == pytest.approx(ref["shared_b1"], rel=1e-12)
    assert values[f"d{symbol}/db2 (shared)"] == pytest.approx(ref["shared_b2"], rel=1e-12)
    assert values["b2' (shared)"] == pytest.approx(0.60 - 0.5 * ref["shared_b2"], rel=1e-13)


def test_mazur_lr_option_and_no_update_without_it() -> None:
    values = build_problem("mazur-222", cost="squared", lr=0.1).values()
    ref = mazur_by_hand("squared", lr=0.1)
    assert values["w5'"] == pytest.approx(ref["new_w5"], rel=1e-13)


def test_mazur_rejects_an_unknown_cost() -> None:
    from backproplab.errors import ConfigError

    with pytest.raises(ConfigError, match="cross-entropy, squared"):
        build_problem("mazur-222", cost="hinge")


# -- relu-max-graph (SPEC C) -------------------------------------------------------------------------------------
def test_relu_max_graph_matches_autograd_on_the_graph() -> None:
    x = torch.tensor([1.0, -2.0], requires_grad=True)
    W = torch.tensor([[6.0, 2.0], [4.0, 7.0], [5.0, 1.0]], requires_grad=True)
    h = W @ x
    h.retain_grad()
    r = torch.relu(h)
    r.retain_grad()
    s1 = torch.max(r[1], r[2])
    u = torch.stack([r[0], s1])
    u.retain_grad()
    y = torch.softmax(u, 0)
    y.retain_grad()
    z = y[0] + y[1]
    z.backward()
    values = build_problem("relu-max-graph").values()
    np.testing.assert_allclose(values["h"], [2.0, -10.0, 3.0])
    np.testing.assert_allclose(values["r"], [2.0, 0.0, 3.0])
    assert values["s1"] == 3.0
    np.testing.assert_allclose(values["y"], y.detach().numpy(), rtol=1e-15)
    assert values["z"] == pytest.approx(1.0, abs=1e-15)
    # Every derivative of z through the graph: z = y1 + y2 = 1 identically, so all are zero.
    np.testing.assert_allclose(values["dz/dx"], x.grad.numpy(), atol=1e-15)
    np.testing.assert_allclose(values["dz/dW"], W.grad.numpy(), atol=1e-15)
    np.testing.assert_allclose(values["dz/dh"], h.grad.numpy(), atol=1e-15)
    assert values["dz/dx1"] == pytest.approx(0.0, abs=1e-15)


def test_relu_max_graph_local_partials_by_autograd() -> None:
    def grad(out_fn, wrt: torch.Tensor) -> torch.Tensor:
        (g,) = torch.autograd.grad(out_fn(), wrt)
        return g

    x = torch.tensor([1.0, -2.0], requires_grad=True)
    W = torch.tensor([[6.0, 2.0], [4.0, 7.0], [5.0, 1.0]], requires_grad=True)
    u = torch.tensor([2.0, 3.0], requires_grad=True)  # (r1, s1)
    r = torch.tensor([2.0, 0.0, 3.0], requires_grad=True)
    h1 = torch.tensor(2.0, requires_grad=True)
    values = build_problem("relu-max-graph").values()
    assert values["dh1/dw12"] == grad(lambda: (W @ x)[0], W)[0, 1].item() == -2.0
    assert values["dh1/dx1"] == grad(lambda: (W @ x)[0], x)[0].item() == 6.0
    assert values["dr1/dh1"] == grad(lambda: torch.relu(h1), h1).item() == 1.0
    dy1 = grad(lambda: torch.softmax(u, 0)[0], u)
    assert values["dy1/dr1"] == pytest.approx(dy1[0].item(), rel=1e-14)
    assert values["dy1/ds1"] == pytest.approx(dy1[1].item(), rel=1e-14)
    assert values["dz/dy1"] == 1.0
    assert values["ds1/dr2"] == grad(lambda: torch.max(r[1], r[2]), r)[1].item() == 0.0


# -- affine-composition (SPEC E) ---------------------------------------------------------------------------------
def test_affine_composition_values() -> None:
    values = build_problem("affine-composition").values()
    x1, x2 = -1.0, 1.0
    g = np.array([x1 + 2 * x2, x2, -x1 + 3])
    f = g[0] - 2 * g[1] + g[2] / 4
    np.testing.assert_allclose(values["z1"], g)
    assert values["f(g(x))"] == f == 0.0
    np.testing.assert_allclose(values["dz2/dW2"], [g])  # df/dW2 = z1^T
    np.testing.assert_allclose(values["dz2/db1"], [1.0, -2.0, 0.25])  # df/dz1
    np.testing.assert_allclose(values["dz2/dW1"], np.outer([1.0, -2.0, 0.25], [x1, x2]))
    # f(g(x)) = (x1 + 2 x2) - 2 x2 + (3 - x1)/4 = 0.75 x1 + 0.75
    np.testing.assert_allclose(values["dz2/dx"], [0.75, 0.0])


# -- softmax temperature (SPEC D) --------------------------------------------------------------------------------
def test_softmax_temperature_demo() -> None:
    z = np.array([1.0, 2.0, 3.0])
    for c in (1.0, 10.0):
        expected = np.exp(c * z) / np.exp(c * z).sum()
        np.testing.assert_allclose(softmax_temperature(z, c), expected, rtol=1e-14)
    values = build_problem("softmax-temperature").values()
    np.testing.assert_allclose(values["softmax(c z) (c=10)"], np.exp(10 * z) / np.exp(10 * z).sum(), rtol=1e-12)
    assert values["max_j a_j (c=10)"] > 0.9999 > values["max_j a_j (c=1)"]
    assert values["entropy (c=10)"] < values["entropy (c=1)"]
    # stable for a large c where exp(c z) would overflow
    assert np.isfinite(softmax_temperature(z, 1000.0)).all()
