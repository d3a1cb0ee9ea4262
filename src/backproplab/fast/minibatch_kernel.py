"""The compiled mini-batch SGD loop (numba): `fit(batch_size=B > 1)` on the packed network of `kernel_args`.

Each batch of ``m <= B`` rows ``order[s:s+m]`` takes exactly the NumPy engine's step: forward of every row,
loss = mean of the rows' losses, dL/d(outputs) divided by m once, backward through the layers (dL/dx from
the weights before their update), g = A^T dL/dZ (+ penalties) (+ weight_decay W), momentum, ``W -= lr g``.

The first layer exploits zero inputs twice. Forward: each row's pre-activations sum only its nonzero
pixels' weight rows (`shared_kernels.add_scaled_rows`). Backward: the batch's nonzero entries are regrouped by
pixel (a CSC of the batch), so dL/dW1 row i sums only the rows whose pixel i is nonzero, and with plain SGD
the rows of W1 no example in the batch touches are not visited at all. Deeper layers (narrow, dense) are
matrix products through BLAS (``np.dot``). The work buffers are a `kernel_args.BatchWork`.
"""

from __future__ import annotations

import math

import numpy as np

from .codes import LOSS_MSE
from .kernel_cache import njit
from .shared_kernels import activate, activation_backward, add_scaled_rows, loss_and_grad, step_row


@njit(cache=True, fastmath=False)
def _apply_step(w, v, gw, ready, hyper, regularized):
    """The SGD step of ``w`` ``(r, c)`` with loss gradient ``gw`` (same shape, overwritten), row by row
    (`step_row`: penalties and weight decay only if ``regularized``, momentum, ``w -= lr g``)."""
    for i in range(w.shape[0]):
        step_row(w, v, i, gw[i], ready, hyper, regularized)


@njit(cache=True, fastmath=False)
def _first_layer_forward(X, m, w1, work, Z):
    """Z[b] = x_b W1 over x_b's nonzero pixels, x_b = X[work.batch_rows[b]], for b < m (also fills
    ``work.nzidx``/``nzval``/``nzcnt``); ``Z`` (m, out)."""
    zero = w1.dtype.type(0.0)
    for b in range(m):
        x = X[work.batch_rows[b]]
        nnz = 0
        nzb = work.nzidx[b]
        nzv = work.nzval[b]
        for i in range(x.shape[0]):  # branch-free: about half the pixels are 0, in no predictable pattern
            nzb[nnz] = i
            nzv[nnz] = x[i]
            nnz += x[i] != zero
        work.nzcnt[b] = nnz
        zs = Z[b]
        zs[:] = zero
        add_scaled_rows(zs, w1, nzb, nzv, 0, nnz)


@njit(cache=True, fastmath=False)
def _batch_csc(m, work):
    """Regroup the batch's nonzero (row b, pixel i, value) entries by pixel: rows of pixel i, ascending, are
    ``colrow[colptr[i]:colptr[i + 1]]``, their values ``colval[...]`` (all fields of ``work``)."""
    nzidx, nzval, nzcnt = work.nzidx, work.nzval, work.nzcnt
    colptr, colrow, colval = work.colptr, work.colrow, work.colval
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
            colval[colptr[i]] = nzval[b, q]
            colptr[i] += 1
    for i in range(d, 0, -1):
        colptr[i] = colptr[i - 1]
    colptr[0] = 0


@njit(cache=True, fastmath=False)
def sgd_epoch_batches(data, order, batch_size, start, stop, net, loss, hyper, work, losses):
    """Train on batches ``start..stop-1`` of ``order`` (batch k = ``order[k B:(k + 1) B]``, B = ``batch_size``,
    the rows of ``work``'s blocks) of ``data`` (`kernel_args.TrainData`), updating ``net`` (`kernel_args.Network`)
    with ``loss`` (`kernel_args.LossSpec`) and ``hyper`` (`kernel_args.SGDHyper`). Returns
    ``(loss_sum, batches, bad)``: the sum of the batch losses of the batches taken, their number, and -1 or
    the position (from ``start``) of the batch whose loss was NaN or infinite (stopped before its update).
    Batch k's loss is also written to ``losses[k]`` (float64; the bad batch's too)."""
    X, rows = data.X, data.rows
    theta, vel, vel_ready = net.theta, net.vel, net.vel_ready
    n_in, n_out, has_bias, w_off, b_off, a_off = net.n_in, net.n_out, net.has_bias, net.w_off, net.b_off, net.a_off
    act, act_par = net.act, net.act_par
    Z, A, G, gw, grow, batch_rows = work.Z, work.A, work.G, work.gw, work.grow, work.batch_rows
    colptr, colrow, colval = work.colptr, work.colrow, work.colval
    num_layers = n_in.shape[0]
    last = num_layers - 1
    dt = theta.dtype.type
    zero = dt(0.0)
    lr = hyper.lr
    plain = hyper.momentum == zero and hyper.weight_decay == zero and hyper.reg_code.shape[0] == 0
    w1 = theta[w_off[0] : w_off[0] + n_in[0] * n_out[0]].reshape((n_in[0], n_out[0]))  # the first layer's W
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
            zl = Z[zo : zo + m * out].reshape((m, out))
            wo = w_off[layer]
            nin = n_in[layer]
            if layer == 0:
                _first_layer_forward(X, m, w1, work, zl)
            else:
                io = batch_size * a_off[layer - 1]
                np.dot(A[io : io + m * nin].reshape((m, nin)), theta[wo : wo + nin * out].reshape((nin, out)), zl)
            if has_bias[layer]:
                bs = theta[b_off[layer] : b_off[layer] + out]
                for b in range(m):
                    zr = zl[b]
                    for j in range(out):
                        zr[j] += bs[j]
            activate(Z, A, zo, m * out, act[layer], act_par[layer])
        # -- loss: mean over the batch, gradient divided by m once ------------------------------------------
        ko = batch_size * a_off[last]
        kk = n_out[last]
        value = zero
        coef = dt(loss.mse_gc / m)  # MSE in NumPy: (c / N) * (o - t), the factor rounded once
        for b in range(m):
            n = batch_rows[b]
            o = ko + b * kk
            value += dt(loss_and_grad(A, G, o, kk, loss, data, n))
            if loss.code == LOSS_MSE:
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
            activation_backward(Z, A, G, go, m * out, act[layer], act_par[layer])
            gl = G[go : go + m * out].reshape((m, out))
            w2 = theta[wo : wo + nin * out].reshape((nin, out))
            gw2 = gw[0 : nin * out].reshape((nin, out))
            if layer > 0:
                io = batch_size * a_off[layer - 1]
                np.dot(gl, w2.T, G[io : io + m * nin].reshape((m, nin)))  # dL/dx from the weights before the update
                np.dot(A[io : io + m * nin].reshape((m, nin)).T, gl, gw2)
                _apply_step(w2, vel[wo : wo + nin * out].reshape((nin, out)), gw2, vel_ready[2 * layer], hyper, True)
            else:
                _batch_csc(m, work)
                for i in range(nin):
                    c0, c1 = colptr[i], colptr[i + 1]
                    if c0 == c1:
                        if not plain:
                            gw2[i, :] = zero
                        continue
                    gr = gw2[i]
                    gr[:] = zero
                    add_scaled_rows(gr, gl, colrow, colval, c0, c1)
                    if plain:
                        ws = w2[i]
                        for j in range(out):
                            ws[j] = ws[j] - lr * gr[j]
                if not plain:
                    _apply_step(w2, vel[wo : wo + nin * out].reshape((nin, out)), gw2, vel_ready[0], hyper, True)
            vel_ready[2 * layer] = 1
            if has_bias[layer]:
                bo = b_off[layer]
                gb = grow[0:out]
                gb[:] = zero
                for b in range(m):
                    gr = gl[b]
                    for j in range(out):
                        gb[j] += gr[j]
                _apply_step(
                    theta[bo : bo + out].reshape((1, out)),
                    vel[bo : bo + out].reshape((1, out)),
                    gb.reshape((1, out)),
                    vel_ready[2 * layer + 1],
                    hyper,
                    False,
                )
                vel_ready[2 * layer + 1] = 1
    return total, stop - start, -1
