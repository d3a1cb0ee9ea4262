"""The compiled batch-size-1 SGD loop (numba). One generic kernel; numba compiles it once per dtype.

Everything the loop needs comes in as flat arrays (the "packed layout" of `backproplab.fast.plan`):

- ``theta``: every weight and bias, layer after layer; layer l's W ``(n_in[l], n_out[l])`` row-major at
  ``w_off[l]``, its bias at ``b_off[l]`` (when ``has_bias[l]``). ``vel`` has the same layout (momentum).
- ``act[l]``, ``act_par[l]``: the activation after layer l as an integer code (`ACTIVATION_CODES`) and its
  parameter (LeakyReLU slope, ELU alpha).
- ``hyper``: ``[lr, momentum, nesterov, weight_decay, mse_c, mse_gc]`` in the parameters' dtype, so every product rounds
  like the NumPy engine's (Python floats there are "weak" scalars that take the array's dtype).
- ``reg_code``/``reg_c``: weight penalties in order: 1 = L2 with dR/dW = c W, 2 = L1 with dR/dW = c sign(W).

One step per example, exactly the NumPy engine's arithmetic at batch size 1: z = x W (+ b), a = f(z); the loss
and dL/d(outputs); backward through the layers, each layer's dL/dx computed from its weights *before* they
are updated; g = x^T dL/dz (+ penalties) (+ weight_decay W); momentum v = mu v + g (v = g on the first step,
PyTorch's form); W -= lr g. Inputs that are exactly 0 contribute nothing, so the forward sums skip them, and
with plain SGD (no penalty, decay or momentum) the rows of W they would update are skipped too.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

ACT_IDENTITY, ACT_SIGMOID, ACT_TANH, ACT_RELU, ACT_LEAKY_RELU, ACT_ELU = 0, 1, 2, 3, 4, 5
LOSS_SOFTMAX_CE, LOSS_MSE = 0, 1
REG_L2, REG_L1 = 1, 2


@njit(cache=True, fastmath=False)
def _activate(z, a, start, count, code, par):
    """a[start:start+count] = f(z[start:start+count]) with NumPy's formulas (one loop per activation, so the
    choice is made once per layer, not per unit)."""
    one = z.dtype.type(1.0)
    zero = z.dtype.type(0.0)
    stop = start + count
    if code == ACT_SIGMOID:
        for j in range(start, stop):  # 1/(1 + e^-v) for v >= 0, e^v/(1 + e^v) below: e = exp(-|v|), no branch
            v = z[j]
            e = np.exp(-abs(v))
            a[j] = (one if v >= zero else e) / (one + e)
    elif code == ACT_TANH:
        for j in range(start, stop):
            a[j] = np.tanh(z[j])
    elif code == ACT_RELU:
        for j in range(start, stop):
            v = z[j]
            a[j] = v if v > zero else zero
    elif code == ACT_LEAKY_RELU:
        for j in range(start, stop):
            v = z[j]
            a[j] = v if v > zero else par * v
    elif code == ACT_ELU:
        for j in range(start, stop):
            v = z[j]
            a[j] = v if v > zero else par * np.expm1(v)
    else:
        for j in range(start, stop):
            a[j] = z[j]


@njit(cache=True, fastmath=False)
def _activation_backward(z, a, g, start, count, code, par):
    """g[start:start+count] *= f'(z) in place (dL/da -> dL/dz), with NumPy's formulas and rounding."""
    one = z.dtype.type(1.0)
    zero = z.dtype.type(0.0)
    stop = start + count
    if code == ACT_SIGMOID:
        for j in range(start, stop):
            s = a[j]
            g[j] = g[j] * s * (one - s)
    elif code == ACT_TANH:
        for j in range(start, stop):
            t = a[j]
            g[j] = g[j] * (one - t * t)
    elif code == ACT_RELU:
        for j in range(start, stop):
            if not z[j] > zero:
                g[j] = zero
    elif code == ACT_LEAKY_RELU:
        for j in range(start, stop):
            if not z[j] > zero:
                g[j] = par * g[j]
    elif code == ACT_ELU:
        for j in range(start, stop):
            if not z[j] > zero:
                g[j] = g[j] * (a[j] + par)


@njit(cache=True, fastmath=False)
def _loss_and_grad(a, g, start, k, loss_code, hyper, label, rows, n, use_rows):
    """The loss of outputs a[start:start+k] and dL/da written to g[start:start+k] (batch size 1)."""
    zero = a.dtype.type(0.0)
    if loss_code == LOSS_SOFTMAX_CE:
        m = a[start]
        for j in range(1, k):
            if a[start + j] > m:
                m = a[start + j]
        s = zero
        for j in range(k):
            s += np.exp(a[start + j] - m)
        lse = np.log(s)
        loss = zero
        tsum = zero
        if use_rows:
            for j in range(k):
                tsum += rows[n, j]
        for j in range(k):
            logp = (a[start + j] - m) - lse
            p = np.exp(logp)
            if use_rows:
                t = rows[n, j]
                loss -= t * logp
                g[start + j] = p * tsum - t
            else:
                if j == label:
                    loss = -logp
                    g[start + j] = p - a.dtype.type(1.0)
                else:
                    g[start + j] = p
        return float(loss)
    # MSE: L = c sum (o - t)^2, dL/do = gc (o - t)
    mse_c, mse_gc = hyper[4], hyper[5]
    total = zero
    for j in range(k):
        d = a[start + j] - rows[n, j]
        total += d * d
        g[start + j] = mse_gc * d
    return float(mse_c * total)


@njit(cache=True, fastmath=False, inline="always")
def _add_sparse_rows(zs, x, nz, q, nnz, theta, wo, out):
    """zs += sum over p in [q, nnz) of x[nz[p]] * W[nz[p]], W the ``(., out)`` weight block at ``theta[wo:]``,
    added row after row in ``nz`` order; four rows per pass over ``zs`` (the same additions in the same order,
    a quarter of the ``zs`` traffic). Shared by the batch-1 and mini-batch first layers."""
    while q + 4 <= nnz:
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


@njit(cache=True, fastmath=False, inline="always")
def _step_row(w, v, i, gr, ready, hyper, reg_code, reg_c, regularized):
    """The SGD step of weight row ``w[i]`` (velocity ``v[i]``) whose loss gradient is ``gr`` (overwritten), in
    the NumPy engine's order of operations: penalties, weight decay (both only if ``regularized``), momentum,
    ``w -= lr g``. Shared by the batch-1 and mini-batch kernels."""
    lr, mu, nesterov, wd = hyper[0], hyper[1], hyper[2], hyper[3]
    zero = w.dtype.type(0.0)
    one = w.dtype.type(1.0)
    out = w.shape[1]
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
def _step_block(w, v, xin, gs, gr, ready, hyper, reg_code, reg_c, regularized):
    """The SGD step of a layer's weights ``w`` ``(n_in, out)`` (velocity ``v``, same shape), whose loss
    gradient is the outer product ``xin gs^T``, row by row (`_step_row`). ``gr`` is a work row."""
    out = w.shape[1]
    for i in range(w.shape[0]):
        xv = xin[i]
        for j in range(out):
            gr[j] = xv * gs[j]
        _step_row(w, v, i, gr, ready, hyper, reg_code, reg_c, regularized)


@njit(cache=True, fastmath=False, inline="always")
def _input_gradient(w2, gs, g, io, nin, out):
    """g[io + i] = sum_j gs[j] w2[i, j] for i < nin, each sum in j order. Four rows at a time: their sums are
    independent, so the CPU overlaps them instead of waiting for each addition in turn (same additions, same
    order, same result per row)."""
    zero = w2.dtype.type(0.0)
    i = 0
    while i + 4 <= nin:
        s0, s1, s2, s3 = zero, zero, zero, zero
        for j in range(out):
            gj = gs[j]
            s0 += gj * w2[i, j]
            s1 += gj * w2[i + 1, j]
            s2 += gj * w2[i + 2, j]
            s3 += gj * w2[i + 3, j]
        g[io + i], g[io + i + 1], g[io + i + 2], g[io + i + 3] = s0, s1, s2, s3
        i += 4
    while i < nin:
        s = zero
        for j in range(out):
            s += gs[j] * w2[i, j]
        g[io + i] = s
        i += 1


@njit(cache=True, fastmath=False)
def sgd_epoch(X, labels, rows, use_rows, order, start, stop, theta, vel, vel_ready, w_off, b_off, n_in, n_out,
              has_bias, a_off, act, act_par, loss_code, hyper, reg_code, reg_c, z, a, g, grow, nz, losses):
    """Train on examples ``order[start:stop]`` one at a time. Returns ``(loss_sum, steps, bad)``.

    ``loss_sum`` is the sum of the per-example losses of the steps taken (``steps`` of them), each also written
    to ``losses[t]`` (float64, one entry per step of the pass, the bad one included); ``bad`` is -1, or
    the position in ``order[start:stop]`` whose loss was NaN or infinite (training stops before its update,
    like the NumPy engine). ``z``, ``a``, ``g`` are work buffers of ``a_off[-1]`` entries (pre-activations,
    activations, gradients of every layer), ``grow`` one of max(n_out) entries (a row's gradient), ``nz`` one
    of ``X.shape[1]`` indices; ``vel_ready[2l]`` and
    ``vel_ready[2l+1]`` say whether layer l's weight / bias velocity exists yet (set on first use).
    """
    num_layers = n_in.shape[0]
    zero = theta.dtype.type(0.0)
    lr = hyper[0]
    plain = hyper[1] == zero and hyper[3] == zero and reg_code.shape[0] == 0
    last = num_layers - 1
    unit = np.ones(1, dtype=theta.dtype)  # the bias's "input": its gradient is 1 * dL/dz
    total = 0.0
    # Inner loops over one row of the first (wide) layer use a local slice of theta, which LLVM vectorises
    # (theta[row + j] it does not); narrower layers index one 2-D view, as a slice per short row costs more.
    for t in range(start, stop):
        n = order[t]
        x = X[n]
        # -- forward --------------------------------------------------------------------------------------
        nnz = 0
        for i in range(n_in[0]):  # branch-free: about half the pixels are 0, in no predictable pattern
            nz[nnz] = i
            nnz += x[i] != zero
        for layer in range(num_layers):
            out = n_out[layer]
            zo = a_off[layer]
            wo = w_off[layer]
            zs = z[zo:zo + out]
            zs[:] = zero
            if layer == 0:
                _add_sparse_rows(zs, x, nz, 0, nnz, theta, wo, out)
            else:
                io = a_off[layer - 1]
                w2 = theta[wo:wo + n_in[layer] * out].reshape((n_in[layer], out))  # no per-row slices
                for i in range(n_in[layer]):
                    xv = a[io + i]
                    if xv != zero:
                        for j in range(out):
                            zs[j] += xv * w2[i, j]
            if has_bias[layer]:
                bs = theta[b_off[layer]:b_off[layer] + out]
                for j in range(out):
                    zs[j] += bs[j]
            _activate(z, a, zo, out, act[layer], act_par[layer])
        # -- loss -------------------------------------------------------------------------------------------
        label = labels[n] if not use_rows and loss_code == LOSS_SOFTMAX_CE else 0
        value = _loss_and_grad(a, g, a_off[last], n_out[last], loss_code, hyper, label, rows, n, use_rows)
        losses[t] = value
        if not math.isfinite(value):
            return total, t - start, t - start
        total += value
        # -- backward and update, last layer first ---------------------------------------------------------
        for layer in range(last, -1, -1):
            out = n_out[layer]
            go = a_off[layer]
            wo = w_off[layer]
            _activation_backward(z, a, g, go, out, act[layer], act_par[layer])
            gs = g[go:go + out]
            nin = n_in[layer]
            w2 = theta[wo:wo + nin * out].reshape((nin, out))
            if layer > 0:
                io = a_off[layer - 1]
                _input_gradient(w2, gs, g, io, nin, out)  # dL/dx from the weights before their update
                if plain:
                    for i in range(nin):
                        xv = a[io + i]
                        if xv != zero:
                            for j in range(out):
                                w2[i, j] = w2[i, j] - lr * (xv * gs[j])
                else:
                    _step_block(w2, vel[wo:wo + nin * out].reshape((nin, out)), a[io:io + nin], gs, grow,
                                vel_ready[2 * layer], hyper, reg_code, reg_c, True)
            elif plain:
                for q in range(nnz):
                    i = nz[q]
                    xv = x[i]
                    ws = theta[wo + i * out:wo + (i + 1) * out]
                    for j in range(out):
                        ws[j] = ws[j] - lr * (xv * gs[j])
            else:
                _step_block(w2, vel[wo:wo + nin * out].reshape((nin, out)), x, gs, grow, vel_ready[0], hyper,
                            reg_code, reg_c, True)
            vel_ready[2 * layer] = 1
            if has_bias[layer]:
                bo = b_off[layer]
                _step_block(theta[bo:bo + out].reshape((1, out)), vel[bo:bo + out].reshape((1, out)), unit, gs, grow,
                            vel_ready[2 * layer + 1], hyper, reg_code, reg_c, False)
                vel_ready[2 * layer + 1] = 1
    return total, stop - start, -1
