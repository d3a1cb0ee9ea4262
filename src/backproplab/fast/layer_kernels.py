"""Compiled elementwise steps of `LayerTrainer` (numba): each is one module's forward or backward from nn/,
with the same operations in the same order on arrays of the parameters' dtype, written into kept buffers.

Scalars come in already converted to the arrays' dtype (``keep_old = dtype(1 - momentum)``, ...), so that every
product rounds as NumPy's does when a Python float meets a float32 array. Sums over the batch run row after
row, the order of NumPy's reduction along axis 0 of a C-contiguous array.

Each kernel splits its work into ``blocks`` independent parts (column ranges for BatchNorm, whose sums run
down the columns; row ranges elsewhere) run by numba's threads (``numba.set_num_threads``). Every number is
computed by one thread in the same order whatever the split, so the results do not depend on the thread count.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .kernel_cache import njit
from .shared_kernels import step_row


@njit(cache=True, inline="always")
def _span(total, blocks, b):
    """The ``b``-th of ``blocks`` nearly equal contiguous ranges of ``range(total)``, as (start, stop)."""
    return b * total // blocks, (b + 1) * total // blocks


@njit(cache=True, fastmath=False, parallel=True)
def batchnorm_forward(
    x, gamma, beta, running_mean, running_var, n_div, eps, keep_old, momentum, var_scale, mu, var, s, x_hat, out, blocks
):
    """`BatchNorm.forward(training=True)`: mu = mean_n x, var = mean_n (x - mu)^2, s = 1 / sqrt(var + eps),
    x_hat = (x - mu) s, out = x_hat gamma + beta; running_mean = keep_old running_mean + momentum mu,
    running_var = keep_old running_var + var_scale var. ``mu``, ``var``, ``s`` ``(D,)``; ``x_hat``, ``out`` like x.
    ``n_div`` is N as a float64 (NumPy's mean divides in float64 by its integer count).

    Every loop runs over slices of the block's columns (LLVM vectorises those loops, not ones over offset
    indices ``x[i, j0 + j]``: 7x faster at 128 x 1024 in float32, same bits)."""
    n, d = x.shape
    one = x.dtype.type(1.0)
    for b in prange(blocks):
        j0, j1 = _span(d, blocks, b)
        width = j1 - j0
        m, v, sc = mu[j0:j1], var[j0:j1], s[j0:j1]
        ga, be, rm, rv = gamma[j0:j1], beta[j0:j1], running_mean[j0:j1], running_var[j0:j1]
        m[:] = 0
        for i in range(n):
            xr = x[i, j0:j1]
            for j in range(width):
                m[j] += xr[j]
        for j in range(width):
            m[j] = m[j] / n_div
        v[:] = 0
        for i in range(n):
            xr, hr = x[i, j0:j1], x_hat[i, j0:j1]
            for j in range(width):
                c = xr[j] - m[j]
                hr[j] = c
                v[j] += c * c
        for j in range(width):
            v[j] = v[j] / n_div
            sc[j] = one / np.sqrt(v[j] + eps)
            rm[j] = rm[j] * keep_old
            rm[j] += momentum * m[j]
            rv[j] = rv[j] * keep_old
            rv[j] += var_scale * v[j]
        for i in range(n):
            hr, orow = x_hat[i, j0:j1], out[i, j0:j1]
            for j in range(width):
                h = hr[j] * sc[j]
                hr[j] = h
                orow[j] = h * ga[j] + be[j]


@njit(cache=True, fastmath=False, parallel=True)
def batchnorm_backward(g, gamma, s, x_hat, n_weak, dgamma, dbeta, need_input_grad, out, blocks):
    """`BatchNorm.backward`: dbeta = sum_n g, dgamma = sum_n g x_hat, and (if ``need_input_grad``)
    out = (gamma s) (g - dbeta / N - x_hat (dgamma / N)); ``n_weak`` is N in g's dtype. Loops over column
    slices, as `batchnorm_forward`."""
    n, d = g.shape
    for b in prange(blocks):
        j0, j1 = _span(d, blocks, b)
        width = j1 - j0
        db, dg, ga, sc = dbeta[j0:j1], dgamma[j0:j1], gamma[j0:j1], s[j0:j1]
        db[:] = 0
        dg[:] = 0
        for i in range(n):
            gr, hr = g[i, j0:j1], x_hat[i, j0:j1]
            for j in range(width):
                db[j] += gr[j]
                dg[j] += gr[j] * hr[j]
        if need_input_grad:
            for i in range(n):
                gr, hr, orow = g[i, j0:j1], x_hat[i, j0:j1], out[i, j0:j1]
                for j in range(width):
                    orow[j] = (ga[j] * sc[j]) * ((gr[j] - db[j] / n_weak) - hr[j] * (dg[j] / n_weak))


@njit(cache=True, fastmath=False, parallel=True)
def relu_forward(x, out, blocks):
    """`ReLU.forward`: out = x * (x > 0)."""
    zero = x.dtype.type(0.0)
    one = x.dtype.type(1.0)
    for b in prange(blocks):
        i0, i1 = _span(x.shape[0], blocks, b)
        for i in range(i0, i1):
            for j in range(x.shape[1]):
                v = x[i, j]
                out[i, j] = v * (one if v > zero else zero)


@njit(cache=True, fastmath=False, parallel=True)
def relu_backward(g, x, out, blocks):
    """`ReLU.backward`: out = g * (x > 0), x the forward's input."""
    zero = x.dtype.type(0.0)
    one = x.dtype.type(1.0)
    for b in prange(blocks):
        i0, i1 = _span(x.shape[0], blocks, b)
        for i in range(i0, i1):
            for j in range(x.shape[1]):
                out[i, j] = g[i, j] * (one if x[i, j] > zero else zero)


@njit(cache=True, fastmath=False, parallel=True)
def dropout_forward(x, draws, keep, scale, mask, out, blocks):
    """`Dropout.forward(training=True)` given its uniform draws: mask = (draws < keep) * scale (scale = 1 / keep
    in x's dtype), out = x * mask."""
    zero = x.dtype.type(0.0)
    for b in prange(blocks):
        i0, i1 = _span(x.shape[0], blocks, b)
        for i in range(i0, i1):
            for j in range(x.shape[1]):
                m = scale if draws[i, j] < keep else zero
                mask[i, j] = m
                out[i, j] = x[i, j] * m


@njit(cache=True, fastmath=False, parallel=True)
def multiply(a, c, out, blocks):
    """out = a * c elementwise (`Dropout.backward`: g * mask)."""
    for b in prange(blocks):
        i0, i1 = _span(a.shape[0], blocks, b)
        for i in range(i0, i1):
            for j in range(a.shape[1]):
                out[i, j] = a[i, j] * c[i, j]


@njit(cache=True, fastmath=False, parallel=True)
def sgd_update(w, v, g, hyper, regularized, ready, blocks):
    """The SGD step (`kernel_args.SGDHyper`) of ``w`` ``(r, c)`` (velocity ``v``, same shape when momentum is on)
    from its loss gradient ``g``, row by row through `shared_kernels.step_row` (penalties and weight decay if
    ``regularized``,
    momentum, ``w -= lr g``); ``g`` is left as it is (each row is copied into a work row first)."""
    for b in prange(blocks):
        i0, i1 = _span(w.shape[0], blocks, b)
        row = np.empty(w.shape[1], dtype=w.dtype)
        for i in range(i0, i1):
            for j in range(w.shape[1]):
                row[j] = g[i, j]
            step_row(w, v, i, row, ready, hyper, regularized)
