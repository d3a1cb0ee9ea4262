"""The compiled mini-batch SGD loop (numba): `fit(batch_size=B > 1)` on the packed layout of `kernels.py`.

Each batch of ``m <= B`` rows ``order[s:s+m]`` takes exactly the NumPy engine's step: forward of every row,
loss = mean of the rows' losses, dL/d(outputs) divided by m once, backward through the layers (dL/dx from
the weights before their update), g = A^T dL/dZ (+ penalties) (+ weight_decay W), momentum, ``W -= lr g``.

The first layer exploits zero inputs twice. Forward: each row's pre-activations sum only its nonzero
pixels' weight rows, four rows per pass over z. Backward: the batch's nonzero entries are regrouped by
pixel (a CSC of the batch), so dL/dW1 row i sums only the rows whose pixel i is nonzero, and with plain SGD
the rows of W1 no example in the batch touches are not visited at all. Deeper layers are dense loops.

Work buffers (all allocated once per `fit` by `FastTrainer`): ``Z``, ``A``, ``G`` ``(B, a_off[-1])`` (row b
holds every layer's pre-activations / activations / gradients of example b, layer l at ``a_off[l]``);
``gw`` ``(max n_in * n_out,)`` one layer's weight gradient; ``grow`` ``(max n_out,)``; ``nzidx`` ``(B, D)``
and ``nzcnt`` ``(B,)`` each row's nonzero pixels; ``colptr`` ``(D + 1,)``, ``colrow`` ``(B * D,)`` the CSC.
"""

from __future__ import annotations

import math

from numba import njit

from .kernels import LOSS_MSE, LOSS_SOFTMAX_CE, REG_L2, _activate, _activation_backward, _loss_and_grad


@njit(cache=True, fastmath=False)
def _apply_step(w, v, gw, ready, hyper, reg_code, reg_c, regularized):
    """The SGD step of ``w`` ``(r, c)`` with loss gradient ``gw`` (same shape, overwritten), in the NumPy
    engine's order: penalties and weight decay (only if ``regularized``), momentum, ``w -= lr g``."""
    lr, mu, nesterov, wd = hyper[0], hyper[1], hyper[2], hyper[3]
    zero = w.dtype.type(0.0)
    one = w.dtype.type(1.0)
    out = w.shape[1]
    for i in range(w.shape[0]):
        gr = gw[i]
        if regularized:
            for r in range(reg_code.shape[0]):
                c = reg_c[r]
                if reg_code[r] == REG_L2:
                    for j in range(out):
                        gr[j] = gr[j] + c * w[i, j]
                else:
                    for j in range(out):
                        sgn = one if w[i, j] > zero else (-one if w[i, j] < zero else zero)
                        gr[j] = gr[j] + c * sgn
            if wd != zero:
                for j in range(out):
                    gr[j] = gr[j] + wd * w[i, j]
        if mu != zero:
            if ready:
                for j in range(out):
                    v[i, j] = mu * v[i, j] + gr[j]
            else:
                for j in range(out):
                    v[i, j] = gr[j]
            if nesterov != zero:
                for j in range(out):
                    gr[j] = gr[j] + mu * v[i, j]
            else:
                for j in range(out):
                    gr[j] = v[i, j]
        for j in range(out):
            w[i, j] = w[i, j] - lr * gr[j]


@njit(cache=True, fastmath=False)
def _first_layer_forward(X, rows_of_batch, m, nzidx, nzcnt, theta, wo, out, Z):
    """Z[b, :out] = x_b W1 over x_b's nonzero pixels (also fills ``nzidx``/``nzcnt``), for b < m."""
    zero = theta.dtype.type(0.0)
    for b in range(m):
        x = X[rows_of_batch[b]]
        nnz = 0
        for i in range(x.shape[0]):
            if x[i] != zero:
                nzidx[b, nnz] = i
                nnz += 1
        nzcnt[b] = nnz
        zs = Z[b, 0:out]
        zs[:] = zero
        nz = nzidx[b]
        q = 0
        while q + 4 <= nnz:  # four weight rows per pass over z: same additions, same order
            i0, i1, i2, i3 = nz[q], nz[q + 1], nz[q + 2], nz[q + 3]
            x0, x1, x2, x3 = x[i0], x[i1], x[i2], x[i3]
            w0 = theta[wo + i0 * out:wo + (i0 + 1) * out]
            w1 = theta[wo + i1 * out:wo + (i1 + 1) * out]
            w2 = theta[wo + i2 * out:wo + (i2 + 1) * out]
            w3 = theta[wo + i3 * out:wo + (i3 + 1) * out]
            for j in range(out):
                zs[j] = (((zs[j] + x0 * w0[j]) + x1 * w1[j]) + x2 * w2[j]) + x3 * w3[j]
            q += 4
        while q < nnz:
            i = nz[q]
            xv = x[i]
            ws = theta[wo + i * out:wo + (i + 1) * out]
            for j in range(out):
                zs[j] += xv * ws[j]
            q += 1


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
                      G, gw, grow, nzidx, nzcnt, colptr, colrow, batch_rows):
    """Train on batches ``start..stop-1`` of ``order`` (batch k = ``order[k B:(k + 1) B]``). Returns
    ``(loss_sum, batches, bad)``: the sum of the batch losses of the batches taken, their number, and -1 or
    the position (from ``start``) of the batch whose loss was NaN or infinite (stopped before its update)."""
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
        _first_layer_forward(X, batch_rows, m, nzidx, nzcnt, theta, w_off[0], n_out[0], Z)
        for layer in range(num_layers):
            out = n_out[layer]
            zo = a_off[layer]
            if layer > 0:
                nin = n_in[layer]
                io = a_off[layer - 1]
                wo = w_off[layer]
                w2 = theta[wo:wo + nin * out].reshape((nin, out))
                for b in range(m):
                    zs = Z[b, zo:zo + out]
                    zs[:] = zero
                    ar = A[b]
                    for i in range(nin):
                        xv = ar[io + i]
                        if xv != zero:
                            for j in range(out):
                                zs[j] += xv * w2[i, j]
            for b in range(m):
                if has_bias[layer]:
                    bs = theta[b_off[layer]:b_off[layer] + out]
                    for j in range(out):
                        Z[b, zo + j] += bs[j]
                _activate(Z[b], A[b], zo, out, act[layer], act_par[layer])
        # -- loss: mean over the batch, gradient divided by m once ------------------------------------------
        ko = a_off[last]
        kk = n_out[last]
        value = zero
        for b in range(m):
            n = batch_rows[b]
            label = labels[n] if not use_rows and loss_code == LOSS_SOFTMAX_CE else 0
            value += dt(_loss_and_grad(A[b], G[b], ko, kk, loss_code, hyper, label, rows, n, use_rows))
            if loss_code == LOSS_MSE:
                coef = dt(hyper[5] / m)  # NumPy: (c / N) * (o - t), the factor rounded once
                for j in range(kk):
                    G[b, ko + j] = coef * (A[b, ko + j] - rows[n, j])
            else:
                for j in range(kk):
                    G[b, ko + j] = G[b, ko + j] / fm
        value = value / fm
        if not math.isfinite(value):
            return total, k - start, k - start
        total += float(value)
        # -- backward and update, last layer first ---------------------------------------------------------
        for layer in range(last, -1, -1):
            out = n_out[layer]
            go = a_off[layer]
            wo = w_off[layer]
            nin = n_in[layer]
            for b in range(m):
                _activation_backward(Z[b], A[b], G[b], go, out, act[layer], act_par[layer])
            w2 = theta[wo:wo + nin * out].reshape((nin, out))
            gw2 = gw[0:nin * out].reshape((nin, out))
            if layer > 0:
                io = a_off[layer - 1]
                for b in range(m):  # dL/dx from the weights before their update
                    gb = G[b]
                    for i in range(nin):
                        acc = zero
                        for j in range(out):
                            acc += gb[go + j] * w2[i, j]
                        gb[io + i] = acc
                gw2[:, :] = zero
                for b in range(m):
                    ar = A[b]
                    gb = G[b]
                    for i in range(nin):
                        xv = ar[io + i]
                        if xv != zero:
                            for j in range(out):
                                gw2[i, j] += xv * gb[go + j]
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
                    for q in range(c0, c1):
                        b = colrow[q]
                        xv = X[batch_rows[b], i]
                        gb = G[b]
                        for j in range(out):
                            gr[j] += xv * gb[go + j]
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
                grow[0:out] = zero
                for b in range(m):
                    for j in range(out):
                        grow[j] += G[b, go + j]
                _apply_step(theta[bo:bo + out].reshape((1, out)), vel[bo:bo + out].reshape((1, out)),
                            grow[0:out].reshape((1, out)), vel_ready[2 * layer + 1], hyper, reg_code, reg_c, False)
                vel_ready[2 * layer + 1] = 1
    return total, stop - start, -1
