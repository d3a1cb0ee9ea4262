"""Section E's affine helpers: ``AffineTransformation``, ``Composition`` and ``ComputeGradients``.

The course writes column vectors: a layer is ``(W, b)`` with ``W`` of shape ``(out, in)``, and
``z = W x + b``. A stack ``L = [(W_1, b_1), ..., (W_n, b_n)]`` computes ``z_i = W_i z_{i-1} + b_i`` with
``z_0 = x``. For a scalar output ``z_n`` the gradients follow from ``delta_n = 1`` and, going down,
``dz_n/dW_i = delta_i z_{i-1}^T``, ``dz_n/db_i = delta_i``, ``delta_{i-1} = W_i^T delta_i``.

Every value is computed by `backproplab.nn.Dense` (weights transposed to its ``(in, out)`` layout), in float64.
Any n >= 1 works (the course asks for n >= 2; its reference code fails for some n).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ShapeError
from ..nn.dense import Dense

Layer = tuple[Any, Any]


def _vector(v: Any, what: str) -> np.ndarray:
    arr = np.asarray(v, dtype=np.float64)
    if arr.ndim == 2 and 1 in arr.shape:  # a column or row vector written as a matrix
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ShapeError(f"{what} must be a vector; got shape {arr.shape}")
    return arr


def _dense(W: Any, b: Any, n_in: int, what: str) -> Dense:
    w = np.asarray(W, dtype=np.float64)
    if w.ndim != 2:
        raise ShapeError(f"{what}: W must be a matrix (out, in); got shape {w.shape}")
    if w.shape[1] != n_in:
        raise ShapeError(f"{what}: W must have shape (out, {n_in}) to take an input of size {n_in}; got {w.shape}")
    bias = _vector(b, f"{what}: b")
    if bias.shape[0] != w.shape[0]:
        raise ShapeError(f"{what}: b must have shape ({w.shape[0]},) to match W {w.shape}; got {bias.shape}")
    return Dense.from_arrays(w.T, bias, dtype=np.float64)


def _layers(layers: Sequence[Layer], n_in: int) -> list[Dense]:
    if len(layers) == 0:
        raise ValueError("the list of layers is empty; give at least one (W, b) pair")
    dense = []
    for i, layer in enumerate(layers, start=1):
        if len(layer) != 2:
            raise ValueError(f"layer {i} must be a (W, b) pair; got {len(layer)} items")
        d = _dense(layer[0], layer[1], n_in, f"layer {i}")
        dense.append(d)
        n_in = d.out_features
    return dense


def affine(W: Any, b: Any, x: Any) -> np.ndarray:
    """``W x + b`` for ``W`` ``(out, in)``, ``b`` ``(out,)``, ``x`` ``(in,)``; returns ``(out,)``."""
    xv = _vector(x, "x")
    return _dense(W, b, xv.shape[0], "affine")(xv[None, :])[0]


def compose(layers: Sequence[Layer], x: Any) -> list[np.ndarray]:
    """``[z_1, ..., z_n]`` with ``z_i = W_i z_{i-1} + b_i`` and ``z_0 = x``."""
    xv = _vector(x, "x")
    zs, z = [], xv[None, :]
    for d in _layers(layers, xv.shape[0]):
        z = d(z)
        zs.append(z[0].copy())
    return zs


def compose_gradients(
    layers: Sequence[Layer], x: Any, zs: Sequence[Any], grad_output: Any = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(dz_n/dW_1, dz_n/db_1), ..., (dz_n/dW_n, dz_n/db_n)]`` in the course's shapes ``(out, in)``, ``(out,)``.

    ``zs`` are the intermediate values from `compose` (the inputs of each layer). The last layer must have one
    output (a scalar function); for a vector output give ``grad_output`` = dL/dz_n to get the gradients of
    ``L = grad_output . z_n``.
    """
    xv = _vector(x, "x")
    dense = _layers(layers, xv.shape[0])
    if len(zs) != len(dense):
        raise ValueError(f"zs must hold one vector per layer ({len(dense)}); got {len(zs)}")
    inputs = [xv] + [_vector(z, f"zs[{i}]") for i, z in enumerate(zs[:-1])]
    for i, (d, z) in enumerate(zip(dense, zs, strict=True)):
        if _vector(z, f"zs[{i}]").shape != (d.out_features,):
            raise ShapeError(f"zs[{i}] must have shape ({d.out_features},) (layer {i + 1}'s output); got {np.shape(z)}")
    n_out = dense[-1].out_features
    if grad_output is None:
        if n_out != 1:
            raise ShapeError(
                f"the last layer has {n_out} outputs, so z_n is not a scalar; give grad_output "
                f"(shape ({n_out},)) to differentiate grad_output . z_n"
            )
        delta = np.ones((1, 1))
    else:
        delta = _vector(grad_output, "grad_output")[None, :]
        if delta.shape[1] != n_out:
            raise ShapeError(f"grad_output must have shape ({n_out},); got {np.shape(grad_output)}")
    for d, z_in in zip(dense, inputs, strict=True):
        d.forward(z_in[None, :], training=True)  # caches the layer input for backward
    grads: list[tuple[np.ndarray, np.ndarray]] = []
    for d in reversed(dense):
        delta = d.backward(delta)
        assert d.bias is not None
        grads.append((d.weight.grad.T.copy(), d.bias.grad.copy()))
    grads.reverse()
    return grads
