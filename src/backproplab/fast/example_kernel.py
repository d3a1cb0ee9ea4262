"""The compiled batch-size-1 SGD loop (numba). One generic kernel; numba compiles it once per dtype.

Its arguments are the named tuples of `kernel_args`: the training data, the packed network (every weight and
bias in one flat ``theta``, see `kernel_args.Network`; layers after the first stored transposed, ``(out, in)``),
the loss, the SGD settings and the work buffers.

One step per example, the NumPy engine's arithmetic at batch size 1: z = x W (+ b), a = f(z); the loss and
dL/d(outputs); backward through the layers, each layer's dL/dx computed from its weights *before* they are
updated; g = x^T dL/dz (+ penalties) (+ weight_decay W); momentum v = mu v + g (v = g on the first step,
PyTorch's form); W -= lr g. Inputs that are exactly 0 contribute nothing, so the first layer's forward sums skip
them, and with plain SGD (no penalty, decay or momentum) the weights they would update are skipped too.

Order of the additions (results are deterministic; like BLAS's, they differ from NumPy's in the last bits): the
first layer's z[j] adds its rows in pixel order; a later layer's z[j] = sum_i a[i] W[i, j] is a dot product
of two contiguous rows (W stored transposed) summed as a fixed pairwise tree (`_dot`); dL/dx[i] =
sum_j dL/dz[j] W[i, j] adds in j order.
"""

from __future__ import annotations

import math

import numpy as np

from .kernel_cache import njit
from .shared_kernels import activate, activation_backward, add_scaled_rows, loss_and_grad, step_row


@njit(cache=True, fastmath=False)
def _step_block(w, v, xin, gs, gr, ready, hyper, regularized):
    """The SGD step of a layer's weights ``w`` ``(n_in, out)`` (velocity ``v``, same shape), whose loss
    gradient is the outer product ``xin gs^T``, row by row (`step_row`). ``gr`` is a work row."""
    out = w.shape[1]
    for i in range(w.shape[0]):
        xv = xin[i]
        for j in range(out):
            gr[j] = xv * gs[j]
        step_row(w, v, i, gr, ready, hyper, regularized)


@njit(cache=True, fastmath=False, inline="always")
def _dot(x, w, p):
    """sum_i x[i] w[i] over the (equal) lengths n of ``x`` and ``w``, as a fixed pairwise tree (``p`` a work
    buffer of length >= n): p = x * w elementwise, then while n > 1, p[i] += p[i + ceil(n / 2)] for
    i < floor(n / 2) and n = ceil(n / 2). Every step is elementwise, so the CPU runs it in vector registers;
    a sequential sum cannot be (each addition waits for the one before)."""
    n = x.shape[0]
    for i in range(n):
        p[i] = x[i] * w[i]
    while n > 16:
        h = n // 2
        m = n - h
        lo = p[:h]
        hi = p[m : m + h]
        for i in range(h):
            lo[i] += hi[i]
        n = m
    if n == 16:  # the last four folds written out (the same additions; loops this short cost more than they do)
        a0, a1, a2, a3 = p[0] + p[8], p[1] + p[9], p[2] + p[10], p[3] + p[11]
        a4, a5, a6, a7 = p[4] + p[12], p[5] + p[13], p[6] + p[14], p[7] + p[15]
        b0, b1, b2, b3 = a0 + a4, a1 + a5, a2 + a6, a3 + a7
        return (b0 + b2) + (b1 + b3)
    while n > 1:
        h = n // 2
        m = n - h
        for i in range(h):
            p[i] += p[i + m]
        n = m
    return p[0]


@njit(cache=True, fastmath=False, inline="always")
def _input_gradient(wt, gs, g, io):
    """g[io + i] = sum_j gs[j] wt[j, i] for i < in (``wt`` the layer's weights transposed, ``(out, in)``), each
    sum in j order: one pass over the row of ``wt`` per j, all i at once."""
    out, nin = wt.shape
    gi = g[io : io + nin]
    gi[:] = wt.dtype.type(0.0)
    for j in range(out):
        gj = gs[j]
        row = wt[j]
        for i in range(nin):
            gi[i] += gj * row[i]


@njit(cache=True, fastmath=False)
def sgd_epoch(data, order, start, stop, net, loss, hyper, work, losses):
    """Train on examples ``order[start:stop]`` of ``data`` (`kernel_args.TrainData`) one at a time, updating
    ``net`` (`kernel_args.Network`) in place with loss ``loss`` (`kernel_args.LossSpec`) and SGD ``hyper``
    (`kernel_args.SGDHyper`); ``work`` is an `kernel_args.ExampleWork`. Returns ``(loss_sum, steps, bad)``.

    ``loss_sum`` is the sum of the per-example losses of the steps taken (``steps`` of them), each also written
    to ``losses[t]`` (float64, one entry per step of the pass, the bad one included); ``bad`` is -1, or
    the position in ``order[start:stop]`` whose loss was NaN or infinite (training stops before its update,
    like the NumPy engine). ``net.vel_ready`` is set as each velocity is first used.
    """
    X = data.X
    theta, vel, vel_ready = net.theta, net.vel, net.vel_ready
    n_in, n_out, has_bias, w_off, b_off, a_off = net.n_in, net.n_out, net.has_bias, net.w_off, net.b_off, net.a_off
    act, act_par = net.act, net.act_par
    z, a, g, grow, nz, nzval, prod = work.z, work.a, work.g, work.grow, work.nz, work.nzval, work.prod
    num_layers = n_in.shape[0]
    zero = theta.dtype.type(0.0)
    lr = hyper.lr
    plain = hyper.momentum == zero and hyper.weight_decay == zero and hyper.reg_code.shape[0] == 0
    last = num_layers - 1
    unit = np.ones(1, dtype=theta.dtype)  # the bias's "input": its gradient is 1 * dL/dz
    w1 = theta[w_off[0] : w_off[0] + n_in[0] * n_out[0]].reshape((n_in[0], n_out[0]))  # the first layer's W
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
            nzval[nnz] = x[i]
            nnz += x[i] != zero
        for layer in range(num_layers):
            out = n_out[layer]
            zo = a_off[layer]
            wo = w_off[layer]
            zs = z[zo : zo + out]
            if layer == 0:
                zs[:] = zero
                add_scaled_rows(zs, w1, nz, nzval, 0, nnz)
            else:  # every zs[j] is assigned
                io = a_off[layer - 1]
                nin = n_in[layer]
                wt = theta[wo : wo + out * nin].reshape((out, nin))
                ai = a[io : io + nin]
                for j in range(out):
                    zs[j] = _dot(ai, wt[j], prod)
            if has_bias[layer]:
                bs = theta[b_off[layer] : b_off[layer] + out]
                for j in range(out):
                    zs[j] += bs[j]
            activate(z, a, zo, out, act[layer], act_par[layer])
        # -- loss -------------------------------------------------------------------------------------------
        value = loss_and_grad(a, g, a_off[last], n_out[last], loss, data, n)
        losses[t] = value
        if not math.isfinite(value):
            return total, t - start, t - start
        total += value
        # -- backward and update, last layer first ---------------------------------------------------------
        for layer in range(last, -1, -1):
            out = n_out[layer]
            go = a_off[layer]
            wo = w_off[layer]
            activation_backward(z, a, g, go, out, act[layer], act_par[layer])
            gs = g[go : go + out]
            nin = n_in[layer]
            if layer > 0:
                io = a_off[layer - 1]
                wt = theta[wo : wo + out * nin].reshape((out, nin))
                _input_gradient(wt, gs, g, io)  # dL/dx from the weights before their update
                if plain:
                    ai = a[io : io + nin]
                    for j in range(out):
                        gj = gs[j]
                        row = wt[j]
                        for i in range(nin):
                            xv = ai[i]
                            row[i] = row[i] - lr * (xv * gj) if xv != zero else row[i]
                else:  # row j of the transposed gradient is gs[j] * a
                    _step_block(
                        wt,
                        vel[wo : wo + out * nin].reshape((out, nin)),
                        gs,
                        a[io : io + nin],
                        grow,
                        vel_ready[2 * layer],
                        hyper,
                        True,
                    )
            elif plain:
                for q in range(nnz):
                    i = nz[q]
                    xv = x[i]
                    ws = theta[wo + i * out : wo + (i + 1) * out]
                    for j in range(out):
                        ws[j] = ws[j] - lr * (xv * gs[j])
            else:
                _step_block(w1, vel[wo : wo + nin * out].reshape((nin, out)), x, gs, grow, vel_ready[0], hyper, True)
            vel_ready[2 * layer] = 1
            if has_bias[layer] and plain:  # the bias's "input" is 1: its gradient is dL/dz itself
                bs = theta[b_off[layer] : b_off[layer] + out]
                for j in range(out):
                    bs[j] = bs[j] - lr * gs[j]
            elif has_bias[layer]:
                bo = b_off[layer]
                _step_block(
                    theta[bo : bo + out].reshape((1, out)),
                    vel[bo : bo + out].reshape((1, out)),
                    unit,
                    gs,
                    grow,
                    vel_ready[2 * layer + 1],
                    hyper,
                    False,
                )
                vel_ready[2 * layer + 1] = 1
    return total, stop - start, -1
