"""The compiled mini-batch SGD loop (numba): `fit(batch_size=B > 1)` on the packed layout of `kernels.py`.

Each batch of ``m <= B`` rows ``order[s:s+m]`` takes exactly the NumPy engine's step: forward of every row,
loss = mean of the rows' losses, dL/d(outputs) divided by m once, backward through the layers (dL/dx from
the weights before their update), g = A^T dL/dZ (+ penalties) (+ weight_decay W), momentum, ``W -= lr g``.

The first layer exploits zero inputs twice. Forward: each row's pre-activations sum only its nonzero
pixels' weight rows, four rows per pass over z. Backward: the batch's nonzero entries are regrouped by
pixel (a CSC of the batch), so dL/dW1 row i sums only the rows whose pixel i is nonzero, and with plain SGD
the rows of W1 no example in the batch touches are not visited at all. Deeper layers (narrow, dense) are
matrix products through BLAS (``np.dot``).

Work buffers (all allocated once per `fit` by `FastTrainer`): ``Z``, ``A``, ``G`` ``(B * a_off[-1],)``: layer
l's pre-activations / activations / gradients of the batch are the C-contiguous block ``(m, n_out[l])`` at
``B * a_off[l]`` (contiguous so that BLAS takes them as they are);
``gw`` ``(max n_in * n_out,)`` one layer's weight gradient; ``grow`` ``(max n_out,)``; ``nzidx`` ``(B, D)``
and ``nzcnt`` ``(B,)`` each row's nonzero pixels; ``colptr`` ``(D + 1,)``, ``colrow`` ``(B * D,)`` the CSC.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .kernels import (
    LOSS_MSE,
    LOSS_SOFTMAX_CE,
    _activate,
    _activation_backward,
    _add_sparse_rows,
    _loss_and_grad,
    _step_row,
)


@njit(cache=True, fastmath=False)
def _apply_step(w, v, gw, ready, hyper, reg_code, reg_c, regularized):
    """The SGD step of ``w`` ``(r, c)`` with loss gradient ``gw`` (same shape, overwritten), row by row
    (`_step_row`: penalties and weight decay only if ``regularized``, momentum, ``w -= lr g``)."""
    for i in range(w.shape[0]):
        _step_row(w, v, i, gw[i], ready, hyper, reg_code, reg_c, regularized)


@njit(cache=True, fastmath=False)
def _first_layer_forward(X, rows_of_batch, m, nzidx, nzcnt, theta, wo, out, Z):
    """Z[b] = x_b W1 over x_b's nonzero pixels (also fills ``nzidx``/``nzcnt``), for b < m; ``Z`` (m, out)."""
    zero = theta.dtype.type(0.0)
    for b in range(m):
        x = X[rows_of_batch[b]]
        nnz = 0
        nzb = nzidx[b]
        for i in range(x.shape[0]):  # branch-free: about half the pixels are 0, in no predictable pattern
            nzb[nnz] = i
            nnz += x[i] != zero
        nzcnt[b] = nnz
        zs = Z[b]
        zs[:] = zero
        nz = nzidx[b]
        q = 0
        while q + 8 <= nnz:
            i0, i1, i2, i3 = nz[q], nz[q + 1], nz[q + 2], nz[q + 3]
            i4, i5, i6, i7 = nz[q + 4], nz[q + 5], nz[q + 6], nz[q + 7]
            x0, x1, x2, x3 = x[i0], x[i1], x[i2], x[i3]
            x4, x5, x6, x7 = x[i4], x[i5], x[i6], x[i7]
            w0 = theta[wo + i0 * out:wo + (i0 + 1) * out]
            w1 = theta[wo + i1 * out:wo + (i1 + 1) * out]
            w2 = theta[wo + i2 * out:wo + (i2 + 1) * out]
            w3 = theta[wo + i3 * out:wo + (i3 + 1) * out]
            w4 = theta[wo + i4 * out:wo + (i4 + 1) * out]
            w5 = theta[wo + i5 * out:wo + (i5 + 1) * out]
            w6 = theta[wo + i6 * out:wo + (i6 + 1) * out]
            w7 = theta[wo + i7 * out:wo + (i7 + 1) * out]
            for j in range(out):
                zs[j] = (((((((zs[j] + x0 * w0[j]) + x1 * w1[j]) + x2 * w2[j]) + x3 * w3[j]) + x4 * w4[j])
                          + x5 * w5[j]) + x6 * w6[j]) + x7 * w7[j]
            q += 8
        _add_sparse_rows(zs, x, nz, q, nnz, theta, wo, out)  # the rest: four rows, then one, per pass


@njit(cache=True, fastmath=False)
def _batch_csc(m, nzidx, nzcnt, colptr, colrow):
    """Regroup the batch's nonzero (row b, pixel i) pairs by pixel: rows of pixel i, ascending, are
    ``colrow[colptr[i]:colptr[i + 1]]``."""
    d = colptr.shape[0] - 1
    colptr[:] = 0
    for b in range(m):
        for q in range(nzcnt[b]):
            colptr[nzidx[b, q] + 1] += 1
    for i in range(d):
        colptr[i + 1] += colptr[i]
    for b in range(m):  # colptr[i] walks forward as pixel i's rows are written, then is restored below
        for q in range(nzcnt[b]):
            i = nzidx[b, q]
            colrow[colptr[i]] = b
            colptr[i] += 1
    for i in range(d, 0, -1):
        colptr[i] = colptr[i - 1]
    colptr[0] = 0


@njit(cache=True, fastmath=False)
def sgd_epoch_batches(X, labels, rows, use_rows, order, batch_size, start, stop, theta, vel, vel_ready, w_off,
                      b_off, n_in, n_out, has_bias, a_off, act, act_par, loss_code, hyper, reg_code, reg_c, Z, A,
                      G, gw, grow, nzidx, nzcnt, colptr, colrow, batch_rows, losses):
    """Train on batches ``start..stop-1`` of ``order`` (batch k = ``order[k B:(k + 1) B]``). Returns
    ``(loss_sum, batches, bad)``: the sum of the batch losses of the batches taken, their number, and -1 or
    the position (from ``start``) of the batch whose loss was NaN or infinite (stopped before its update).
    Batch k's loss is also written to ``losses[k]`` (float64; the bad batch's too)."""
    num_layers = n_in.shape[0]
    last = num_layers - 1
    dt = theta.dtype.type
    zero = dt(0.0)
    lr = hyper[0]
    plain = hyper[1] == zero and hyper[3] == zero and reg_code.shape[0] == 0
    n_total = order.shape[0]
    total = 0.0
    for k in range(start, stop):
        s = k * batch_size
        m = min(batch_size, n_total - s)
        fm = dt(m)
        for b in range(m):
            batch_rows[b] = order[s + b]
        # -- forward --------------------------------------------------------------------------------------
        for layer in range(num_layers):
            out = n_out[layer]
            zo = batch_size * a_off[layer]
            zl = Z[zo:zo + m * out].reshape((m, out))
            wo = w_off[layer]
            nin = n_in[layer]
            if layer == 0:
                _first_layer_forward(X, batch_rows, m, nzidx, nzcnt, theta, wo, out, zl)
            else:
                io = batch_size * a_off[layer - 1]
                np.dot(A[io:io + m * nin].reshape((m, nin)), theta[wo:wo + nin * out].reshape((nin, out)), zl)
            if has_bias[layer]:
                bs = theta[b_off[layer]:b_off[layer] + out]
                for b in range(m):
                    zr = zl[b]
                    for j in range(out):
                        zr[j] += bs[j]
            _activate(Z, A, zo, m * out, act[layer], act_par[layer])
        # -- loss: mean over the batch, gradient divided by m once ------------------------------------------
        ko = batch_size * a_off[last]
        kk = n_out[last]
        value = zero
        coef = dt(hyper[5] / m)  # MSE in NumPy: (c / N) * (o - t), the factor rounded once
        for b in range(m):
            n = batch_rows[b]
            label = labels[n] if not use_rows and loss_code == LOSS_SOFTMAX_CE else 0
            o = ko + b * kk
            value += dt(_loss_and_grad(A, G, o, kk, loss_code, hyper, label, rows, n, use_rows))
            if loss_code == LOSS_MSE:
                for j in range(kk):
                    G[o + j] = coef * (A[o + j] - rows[n, j])
            else:
                for j in range(kk):
                    G[o + j] = G[o + j] / fm
        value = value / fm
        losses[k] = value
        if not math.isfinite(value):
            return total, k - start, k - start
        total += float(value)
        # -- backward and update, last layer first ---------------------------------------------------------
        for layer in range(last, -1, -1):
            out = n_out[layer]
            go = batch_size * a_off[layer]
            wo = w_off[layer]
            nin = n_in[layer]
            _activation_backward(Z, A, G, go, m * out, act[layer], act_par[layer])
            gl = G[go:go + m * out].reshape((m, out))
            w2 = theta[wo:wo + nin * out].reshape((nin, out))
            gw2 = gw[0:nin * out].reshape((nin, out))
            if layer > 0:
                io = batch_size * a_off[layer - 1]
                np.dot(gl, w2.T, G[io:io + m * nin].reshape((m, nin)))  # dL/dx from the weights before the update
                np.dot(A[io:io + m * nin].reshape((m, nin)).T, gl, gw2)
                _apply_step(w2, vel[wo:wo + nin * out].reshape((nin, out)), gw2, vel_ready[2 * layer], hyper,
                            reg_code, reg_c, True)
            else:
                _batch_csc(m, nzidx, nzcnt, colptr, colrow)
                for i in range(nin):
                    c0, c1 = colptr[i], colptr[i + 1]
                    if c0 == c1:
                        if not plain:
                            gw2[i, :] = zero
                        continue
                    gr = gw2[i]
                    gr[:] = zero
                    q = c0
                    while q + 8 <= c1:
                        r0, r1, r2, r3 = colrow[q], colrow[q + 1], colrow[q + 2], colrow[q + 3]
                        r4, r5, r6, r7 = colrow[q + 4], colrow[q + 5], colrow[q + 6], colrow[q + 7]
                        x0, x1 = X[batch_rows[r0], i], X[batch_rows[r1], i]
                        x2, x3 = X[batch_rows[r2], i], X[batch_rows[r3], i]
                        x4, x5 = X[batch_rows[r4], i], X[batch_rows[r5], i]
                        x6, x7 = X[batch_rows[r6], i], X[batch_rows[r7], i]
                        g0, g1, g2, g3 = gl[r0], gl[r1], gl[r2], gl[r3]
                        g4, g5, g6, g7 = gl[r4], gl[r5], gl[r6], gl[r7]
                        for j in range(out):
                            gr[j] = (((((((gr[j] + x0 * g0[j]) + x1 * g1[j]) + x2 * g2[j]) + x3 * g3[j])
                                       + x4 * g4[j]) + x5 * g5[j]) + x6 * g6[j]) + x7 * g7[j]
                        q += 8
                    while q + 4 <= c1:  # four examples per pass over the row: same additions, same order
                        r0, r1, r2, r3 = colrow[q], colrow[q + 1], colrow[q + 2], colrow[q + 3]
                        x0, x1 = X[batch_rows[r0], i], X[batch_rows[r1], i]
                        x2, x3 = X[batch_rows[r2], i], X[batch_rows[r3], i]
                        g0, g1, g2, g3 = gl[r0], gl[r1], gl[r2], gl[r3]
                        for j in range(out):
                            gr[j] = (((gr[j] + x0 * g0[j]) + x1 * g1[j]) + x2 * g2[j]) + x3 * g3[j]
                        q += 4
                    while q < c1:
                        b = colrow[q]
                        xv = X[batch_rows[b], i]
                        gb = gl[b]
                        for j in range(out):
                            gr[j] += xv * gb[j]
                        q += 1
                    if plain:
                        ws = w2[i]
                        for j in range(out):
                            ws[j] = ws[j] - lr * gr[j]
                if not plain:
                    _apply_step(w2, vel[wo:wo + nin * out].reshape((nin, out)), gw2, vel_ready[0], hyper,
                                reg_code, reg_c, True)
            vel_ready[2 * layer] = 1
            if has_bias[layer]:
                bo = b_off[layer]
                gb = grow[0:out]
                gb[:] = zero
                for b in range(m):
                    gr = gl[b]
                    for j in range(out):
                        gb[j] += gr[j]
                _apply_step(theta[bo:bo + out].reshape((1, out)), vel[bo:bo + out].reshape((1, out)),
                            gb.reshape((1, out)), vel_ready[2 * layer + 1], hyper, reg_code, reg_c, False)
                vel_ready[2 * layer + 1] = 1
    return total, stop - start, -1
