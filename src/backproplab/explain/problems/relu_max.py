"""``relu-max-graph``: section C's small computation graph with a max node and a softmax pair.

x = (1, -2); h_i = w_i1 x1 + w_i2 x2 (w11=6, w12=2, w21=4, w22=7, w31=5, w32=1); r_i = ReLU(h_i);
s1 = max(r2, r3); (y1, y2) = softmax(r1, s1); z = y1 + y2.

h is backproplab's `Dense` (no bias; weights in its (in, out) layout), r its `ReLU`, y its `Softmax` layer. The
max node and the final sum are not library modules: they are computed here in plain NumPy, with the max
sending its gradient to the larger input (the first on a tie). Every partial derivative is a module's
``backward`` applied to a unit vector.
"""

from __future__ import annotations

import numpy as np

from ...nn import Dense, ReLU, Softmax
from ..document import Derivation

X = np.array([1.0, -2.0])
# Course layout (out, in): row i holds (w_i1, w_i2).
W = np.array([[6.0, 2.0], [4.0, 7.0], [5.0, 1.0]])


def _unit(size: int, index: int) -> np.ndarray:
    e = np.zeros((1, size))
    e[0, index] = 1.0
    return e


def build() -> Derivation:
    dense = Dense.from_arrays(W.T, None, dtype=np.float64)
    relu, soft = ReLU(), Softmax()
    x = X[None, :]

    h = dense.forward(x, training=True)
    r = relu.forward(h, training=True)
    pick = 1 + int(np.argmax(r[0, 1:3]))  # index (0-based) of the larger of r2, r3
    s1 = r[0, pick]
    u = np.array([[r[0, 0], s1]])
    y = soft.forward(u, training=True)
    z = float(y.sum())

    d = Derivation(
        "relu-max-graph",
        "A graph with ReLU, max and softmax nodes",
        "Section C. h = W x (no bias), r = ReLU(h), s1 = max(r2, r3), (y1, y2) = softmax(r1, s1), "
        "z = y1 + y2. h, r and y are backproplab's Dense, ReLU and Softmax modules; the max and the "
        "sum are computed explicitly.",
    )
    given = d.section("Given")
    given.quantity("x", X)
    given.quantity("W", W, note="row i = (w_i1, w_i2); the Dense layer holds W^T")

    fwd = d.section("Forward pass (node values)")
    fwd.quantity("h", h[0], "W x:  h_i = w_i1 x1 + w_i2 x2")
    fwd.quantity("r", r[0], "ReLU(h) = max(h, 0)")
    fwd.quantity("s1", float(s1), "max(r2, r3)", note=f"r{pick + 1} is the larger")
    fwd.quantity("y", y[0], "softmax(r1, s1)")
    fwd.quantity("z", z, "y1 + y2")

    # Local partial derivatives: each module's backward with a unit upstream gradient.
    local = d.section("Local partial derivatives")
    dense.backward(_unit(3, 0))  # d h1 / d(W, x)
    local.quantity("dh1/dw12", float(dense.weight.grad[1, 0]), "x2")
    local.quantity("dh1/dx1", float(dense.backward(_unit(3, 0))[0, 0]), "w11")
    local.quantity("dr1/dh1", float(relu.backward(_unit(3, 0))[0, 0]), "1 if h1 > 0 else 0")
    dy1 = soft.backward(_unit(2, 0))[0]  # (dy1/dr1, dy1/ds1)
    local.quantity("dy1/dr1", float(dy1[0]), "y1 (1 - y1)")
    local.quantity("dy1/ds1", float(dy1[1]), "-y1 y2")
    local.quantity("dz/dy1", 1.0, "d(y1 + y2)/dy1")
    local.quantity("ds1/dr2", 1.0 if pick == 1 else 0.0, "1 if r2 > r3 else 0 (r2 = r3: 1, by convention)")

    back = d.section("Backward pass: dz with respect to every node")
    dz_dy = np.ones((1, 2))  # z = y1 + y2
    back.quantity("dz/dy", dz_dy[0], "(1, 1)")
    dz_du = soft.backward(dz_dy)
    back.quantity("dz/d(r1, s1)", dz_du[0], "y * (dz/dy - sum_k dz/dy_k y_k) = y * (1 - (y1 + y2))")
    dz_dr = np.zeros((1, 3))
    dz_dr[0, 0] = dz_du[0, 0]
    dz_dr[0, pick] = dz_du[0, 1]  # the max passes its gradient to the input it picked
    back.quantity("dz/dr", dz_dr[0], "(dz/dr1, dz/ds1 at the picked input, 0 elsewhere)")
    dz_dh = relu.backward(dz_dr)
    back.quantity("dz/dh", dz_dh[0], "dz/dr * [h > 0]")
    dz_dx = dense.backward(dz_dh)
    back.quantity("dz/dW", dense.weight.grad.T.copy(), "dz/dh x^T", note="course layout: row i = (w_i1, w_i2)")
    back.quantity("dz/dx", dz_dx[0], "W^T dz/dh")
    back.quantity("dz/dx1", float(dz_dx[0, 0]), "sum_i dz/dh_i w_i1")
    back.note(
        "y1 + y2 = 1 for every input (softmax outputs sum to one), so z is constant and every derivative of z "
        "is 0; the chain rule gives the same: dz/dr1 = y1 (1 - y1 - y2) = 0."
    )
    return d
