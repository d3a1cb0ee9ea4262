"""Compiled elementwise steps of `LayerTrainer` (numba): each is one module's forward or backward from nn/,
with the same operations in the same order on arrays of the parameters' dtype, written into kept buffers.

Scalars come in already converted to the arrays' dtype (``c1 = dtype(1 - momentum)``, ...), so that every
product rounds as NumPy's does when a Python float meets a float32 array. Sums over the batch run row after
row, the order of NumPy's reduction along axis 0 of a C-contiguous array.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .kernels import _step_row


@njit(cache=True, fastmath=False)
def batchnorm_forward(x, gamma, beta, running_mean, running_var, n_div, eps, keep_old, momentum, var_scale,
                      mu, var, s, x_hat, out):
    """`BatchNorm.forward(training=True)`: mu = mean_n x, var = mean_n (x - mu)^2, s = 1 / sqrt(var + eps),
    x_hat = (x - mu) s, out = x_hat gamma + beta; running_mean = keep_old running_mean + momentum mu,
    running_var = keep_old running_var + var_scale var. ``mu``, ``var``, ``s`` ``(D,)``; ``x_hat``, ``out`` like x.
    ``n_div`` is N as a float64 (NumPy's mean divides in float64 by its integer count)."""
    n, d = x.shape
    one = x.dtype.type(1.0)
    mu[:] = 0
    for i in range(n):
        for j in range(d):
            mu[j] += x[i, j]
    for j in range(d):
        mu[j] = mu[j] / n_div
    var[:] = 0
    for i in range(n):
        for j in range(d):
            c = x[i, j] - mu[j]
            x_hat[i, j] = c
            var[j] += c * c
    for j in range(d):
        var[j] = var[j] / n_div
        s[j] = one / np.sqrt(var[j] + eps)
        running_mean[j] = running_mean[j] * keep_old
        running_mean[j] += momentum * mu[j]
        running_var[j] = running_var[j] * keep_old
        running_var[j] += var_scale * var[j]
    for i in range(n):
        for j in range(d):
            h = x_hat[i, j] * s[j]
            x_hat[i, j] = h
            out[i, j] = h * gamma[j] + beta[j]


@njit(cache=True, fastmath=False)
def batchnorm_backward(g, gamma, s, x_hat, n_weak, dgamma, dbeta, need_input_grad, out):
    """`BatchNorm.backward`: dbeta = sum_n g, dgamma = sum_n g x_hat, and (if ``need_input_grad``)
    out = (gamma s) (g - dbeta / N - x_hat (dgamma / N)); ``n_weak`` is N in g's dtype."""
    n, d = g.shape
    dbeta[:] = 0
    dgamma[:] = 0
    for i in range(n):
        for j in range(d):
            dbeta[j] += g[i, j]
            dgamma[j] += g[i, j] * x_hat[i, j]
    if not need_input_grad:
        return
    for i in range(n):
        for j in range(d):
            out[i, j] = (gamma[j] * s[j]) * ((g[i, j] - dbeta[j] / n_weak) - x_hat[i, j] * (dgamma[j] / n_weak))


@njit(cache=True, fastmath=False)
def relu_forward(x, out):
    """`ReLU.forward`: out = x * (x > 0)."""
    zero = x.dtype.type(0.0)
    one = x.dtype.type(1.0)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            v = x[i, j]
            out[i, j] = v * (one if v > zero else zero)


@njit(cache=True, fastmath=False)
def relu_backward(g, x, out):
    """`ReLU.backward`: out = g * (x > 0), x the forward's input."""
    zero = x.dtype.type(0.0)
    one = x.dtype.type(1.0)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[i, j] = g[i, j] * (one if x[i, j] > zero else zero)


@njit(cache=True, fastmath=False)
def dropout_forward(x, draws, keep, scale, mask, out):
    """`Dropout.forward(training=True)` given its uniform draws: mask = (draws < keep) * scale (scale = 1 / keep
    in x's dtype), out = x * mask."""
    zero = x.dtype.type(0.0)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            m = scale if draws[i, j] < keep else zero
            mask[i, j] = m
            out[i, j] = x[i, j] * m


@njit(cache=True, fastmath=False)
def multiply(a, b, out):
    """out = a * b elementwise (`Dropout.backward`: g * mask)."""
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[i, j] = a[i, j] * b[i, j]


@njit(cache=True, fastmath=False)
def sgd_update(w, v, g, row, ready, hyper, reg_code, reg_c, regularized):
    """The SGD step of ``w`` ``(r, c)`` (velocity ``v``, same shape when momentum is on) from its loss gradient
    ``g``, row by row through the compiled engine's `_step_row` (penalties and weight decay if ``regularized``,
    momentum, ``w -= lr g``); ``g`` is left as it is (each row is copied into the work row ``row`` first)."""
    for i in range(w.shape[0]):
        for j in range(w.shape[1]):
            row[j] = g[i, j]
        _step_row(w, v, i, row, ready, hyper, reg_code, reg_c, regularized)
