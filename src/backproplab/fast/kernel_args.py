"""The compiled kernels' arguments, grouped by what they are (numba takes named tuples of arrays and scalars and
reads their fields by name at no cost). Numba-free; built by `plan` and `fast_trainer`.

Scalars are in the parameters' dtype where they meet parameters, so every product rounds like the NumPy engine's
(Python floats there are "weak" scalars that take the array's dtype).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np


class TrainData(NamedTuple):
    """The training set in the kernels' form."""

    X: np.ndarray  # (N, D) in the parameters' dtype
    labels: np.ndarray  # (N,) int64 class labels (softmax cross-entropy), else a (1,) placeholder
    rows: np.ndarray  # (N, K) target rows (MSE, or soft targets), else a (1, K) placeholder
    use_rows: bool  # True: the targets are ``rows``; False: ``labels``


class Network(NamedTuple):
    """A Sequential of Dense layers and activations, packed: layer l's weight ``(n_in[l], n_out[l])`` row-major at
    ``theta[w_off[l]:]`` (for the batch-size-1 kernel, layers after the first transposed: ``(n_out[l], n_in[l])``,
    see `plan.Plan`), its bias at ``theta[b_off[l]:]`` (when ``has_bias[l]``); ``vel`` has the same layout
    (momentum); layer l's units are entries ``a_off[l]:a_off[l + 1]`` of the per-example work buffers."""

    theta: np.ndarray  # every weight and bias, in the parameters' dtype
    vel: np.ndarray  # their velocities (same layout)
    vel_ready: np.ndarray  # (2 L,) uint8: layer l's weight (2l) / bias (2l + 1) velocity exists yet
    n_in: np.ndarray  # (L,) int64
    n_out: np.ndarray  # (L,) int64
    has_bias: np.ndarray  # (L,) bool
    w_off: np.ndarray  # (L,) int64
    b_off: np.ndarray  # (L,) int64
    a_off: np.ndarray  # (L + 1,) int64: cumulative n_out
    act: np.ndarray  # (L,) int64 activation codes (`codes.ACT_*`)
    act_par: np.ndarray  # (L,) the activation's parameter (LeakyReLU slope, ELU alpha), parameters' dtype


class LossSpec(NamedTuple):
    """The loss: `codes.LOSS_*` and, for MSE, L = mse_c sum (o - t)^2, dL/do = mse_gc (o - t)."""

    code: int
    mse_c: Any  # parameters' dtype
    mse_gc: Any  # parameters' dtype


class SGDHyper(NamedTuple):
    """One SGD step's settings: penalties ``reg_code``/``reg_c`` (`codes.REG_*` and coefficient c, applied in
    order), weight decay, momentum (nesterov or not), learning rate."""

    lr: Any  # parameters' dtype, as are momentum, nesterov and weight_decay
    momentum: Any
    nesterov: Any  # 1 for Nesterov momentum, else 0 (not a bool: see docs/performance.md, "Fast-engine tidy")
    weight_decay: Any
    reg_code: np.ndarray  # (R,) int64
    reg_c: np.ndarray  # (R,) parameters' dtype


class ExampleWork(NamedTuple):
    """Work buffers of the batch-size-1 kernel."""

    z: np.ndarray  # (a_off[-1],) pre-activations of every layer
    a: np.ndarray  # (a_off[-1],) activations
    g: np.ndarray  # (a_off[-1],) gradients
    grow: np.ndarray  # (max n_out,) one row's gradient
    nz: np.ndarray  # (D,) int64 the example's nonzero pixels
    nzval: np.ndarray  # (D,) their values
    prod: np.ndarray  # (max n_in,) the products of a later layer's dot product


class BatchWork(NamedTuple):
    """Work buffers of the mini-batch kernel, for B rows: layer l's block of ``Z``/``A``/``G`` is the C-contiguous
    ``(m, n_out[l])`` at ``B * a_off[l]`` (contiguous so that BLAS takes it as it is)."""

    Z: np.ndarray  # (B a_off[-1],) pre-activations
    A: np.ndarray  # (B a_off[-1],) activations
    G: np.ndarray  # (B a_off[-1],) gradients
    gw: np.ndarray  # (max n_in n_out,) one layer's weight gradient
    grow: np.ndarray  # (max n_out,) one row's gradient
    nzidx: np.ndarray  # (B, D) int64 each row's nonzero pixels
    nzval: np.ndarray  # (B, D) their values
    nzcnt: np.ndarray  # (B,) int64 how many
    colptr: np.ndarray  # (D + 1,) int64 the batch's nonzeros by pixel (CSC): pixel i's are colptr[i]:colptr[i + 1]
    colrow: np.ndarray  # (B D,) int64 their rows in the batch
    colval: np.ndarray  # (B D,) their values
    batch_rows: np.ndarray  # (B,) int64 the batch's rows of X


def sgd_hyper(optimizer: Any, reg_code: np.ndarray, reg_c: np.ndarray, dtype: Any) -> SGDHyper:
    """The `SGDHyper` of an `SGD` optimizer (its current ``lr``) and penalty codes, scalars in ``dtype``."""
    dt = np.dtype(dtype).type
    return SGDHyper(
        lr=dt(optimizer.lr),
        momentum=dt(optimizer.momentum),
        nesterov=dt(bool(optimizer.nesterov)),
        weight_decay=dt(optimizer.weight_decay),
        reg_code=reg_code,
        reg_c=reg_c,
    )
