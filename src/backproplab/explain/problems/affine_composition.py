"""``affine-composition``: section E's f o g with g(x) = [x1 + 2 x2, x2, -x1 + 3], f(x) = x1 - 2 x2 + x3 / 4.

Both maps are affine layers (W, b) in the course's column-vector layout, evaluated at x = [-1, 1] with
`backproplab.explain.compose` and differentiated with `compose_gradients` (both built on backproplab's Dense).
"""

from __future__ import annotations

import numpy as np

from ...nn import Dense
from ..affine import compose, compose_gradients
from ..document import Derivation

W_G = np.array([[1.0, 2.0], [0.0, 1.0], [-1.0, 0.0]])
B_G = np.array([0.0, 0.0, 3.0])
W_F = np.array([[1.0, -2.0, 0.25]])
B_F = np.array([0.0])
X = np.array([-1.0, 1.0])
LAYERS = [(W_G, B_G), (W_F, B_F)]


def build() -> Derivation:
    zs = compose(LAYERS, X)
    grads = compose_gradients(LAYERS, X, zs)
    d = Derivation(
        "affine-composition",
        "Composition of affine maps and its gradients: f(g(x))",
        "Section E. AffineTransformation(W, b, x) = W x + b; Composition(L, x) returns every z_i; "
        "ComputeGradients(L, x, z) returns d z_n / d(W_i, b_i) for a scalar z_n, any n >= 1.",
    )
    given = d.section("Given")
    given.quantity("x", X)
    given.quantity("W1", W_G, note="g(x) = [x1 + 2 x2, x2, -x1 + 3]")
    given.quantity("b1", B_G)
    given.quantity("W2", W_F, note="f(x) = x1 - 2 x2 + x3 / 4")
    given.quantity("b2", B_F)

    fwd = d.section("Composition")
    fwd.quantity("z1", zs[0], "g(x) = W1 x + b1")
    fwd.quantity("z2", zs[1], "f(z1) = W2 z1 + b2")
    fwd.quantity("f(g(x))", float(zs[1][0]), "z2 (a scalar)")

    back = d.section("Gradients of z2")
    back.quantity("delta2", np.ones(1), "dz2/dz2 = 1")
    back.quantity("dz2/dW2", grads[1][0], "delta2 z1^T")
    back.quantity("dz2/db2", grads[1][1], "delta2")
    back.quantity("delta1", grads[0][1], "W2^T delta2 = dz2/dz1")
    back.quantity("dz2/dW1", grads[0][0], "delta1 x^T")
    back.quantity("dz2/db1", grads[0][1], "delta1")
    first = Dense.from_arrays(W_G.T, B_G, dtype=np.float64)
    first.forward(X[None, :], training=True)
    back.quantity(
        "dz2/dx",
        first.backward(grads[0][1][None, :])[0],
        "W1^T delta1",
        note="f(g(x)) = 0.75 x1 + 0.75, so this is (0.75, 0)",
    )
    return d
