"""Compiled pieces (numba) shared by the batch-size-1 kernel (`example_kernel`), the mini-batch kernel
(`minibatch_kernel`) and `layer_kernels`: activations and their derivatives, the loss and its gradient, one SGD
row update, and the sparse row accumulation of the first layer. Each repeats the NumPy engine's formulas and
order of operations, so that results agree bit for bit. Arguments are the named tuples of `kernel_args`.
"""

from __future__ import annotations

import math

import numpy as np

from .codes import ACT_ELU, ACT_LEAKY_RELU, ACT_RELU, ACT_SIGMOID, ACT_TANH, LOSS_SOFTMAX_CE, REG_L2
from .kernel_cache import njit

# e^x for x <= 0 (`exp_nonpositive`): x = k ln 2 + r with |r| <= ln 2 / 2, e^r by its Taylor polynomial to degree
# 11 (remainder < 7e-15 relative), times 2^k from a table. ln 2 is split fdlibm's way: _LN2_HI has 33 significant
# bits, so k * _LN2_HI is exact for the |k| <= 150 needed here, and _LN2_HI + _LN2_LO = ln 2 to 1e-26.
_LN2_HI = float.fromhex("0x1.62e42fee00000p-1")
_LN2_LO = float.fromhex("0x1.a39ef35793c76p-33")
_LOG2_E = 1.4426950408889634
_EXP_FLOOR = -104.0  # e^-104 < 2^-150: below it every float32 result is 0
_POW2_NEG = 2.0 ** -np.arange(152, dtype=np.float64)  # 2^-q, q = 0..151


@njit(cache=True, fastmath=False, inline="always")
def exp_nonpositive(x):
    """e^x for a float64 ``x`` <= 0 (e^NaN = NaN, e^-inf = 0), to about 1e-14 relative. Rounded to float32 it is
    the correctly rounded float32 e^x for all but one of the 1,120,927,745 float32 inputs in [-104, 0] (checked
    one by one; the exception lies 2e-15 from a rounding tie), where the C library's expf misses 0.06% of sampled
    inputs by an ulp. Plain arithmetic and one table lookup, so a loop of it runs in vector registers, where a loop
    of library calls runs one call at a time; for float32 sigmoids (`activate`)."""
    x = x if not (x < _EXP_FLOOR) else _EXP_FLOOR  # NaN passes through
    k = math.floor(x * _LOG2_E + 0.5)
    r = (x - k * _LN2_HI) - k * _LN2_LO
    p = 1.0 / 39916800  # Horner, from r^11 / 11! down
    p = 1.0 / 3628800 + r * p
    p = 1.0 / 362880 + r * p
    p = 1.0 / 40320 + r * p
    p = 1.0 / 5040 + r * p
    p = 1.0 / 720 + r * p
    p = 1.0 / 120 + r * p
    p = 1.0 / 24 + r * p
    p = 1.0 / 6 + r * p
    p = 0.5 + r * p
    p = 1.0 + r * p
    p = 1.0 + r * p
    q = np.int64(-k) if k == k else np.int64(0)  # NaN: any valid index (p is NaN)
    return p * _POW2_NEG[q]


@njit(cache=True, fastmath=False, error_model="numpy")  # a division that cannot be by 0 need not check (nor branch)
def activate(z, a, start, count, code, par):
    """a[start:start+count] = f(z[start:start+count]) with NumPy's formulas (one loop per activation, so the
    choice is made once per layer, not per unit). The loops run over local slices (indices from 0, which LLVM
    vectorises; offset indices it does not). A float32 sigmoid takes e^-|v| from `exp_nonpositive` (vector
    registers); a float64 one from the C library, in a loop of its own (library calls run one at a time) so that
    the division still runs in vector registers."""
    one = z.dtype.type(1.0)
    zero = z.dtype.type(0.0)
    zs = z[start : start + count]
    out = a[start : start + count]
    if code == ACT_SIGMOID:  # 1/(1 + e^-v) for v >= 0, e^v/(1 + e^v) below: e = exp(-|v|), no branch
        if zs.itemsize == 4:
            for j in range(count):
                v = zs[j]
                e = np.float32(exp_nonpositive(-abs(np.float64(v))))  # correctly rounded
                out[j] = (one if v >= zero else e) / (one + e)
        else:
            for j in range(count):
                out[j] = np.exp(-abs(zs[j]))
            for j in range(count):
                e = out[j]
                out[j] = (one if zs[j] >= zero else e) / (one + e)
    elif code == ACT_TANH:
        for j in range(count):
            out[j] = np.tanh(zs[j])
    elif code == ACT_RELU:
        for j in range(count):
            v = zs[j]
            out[j] = v if v > zero else zero
    elif code == ACT_LEAKY_RELU:
        for j in range(count):
            v = zs[j]
            out[j] = v if v > zero else par * v
    elif code == ACT_ELU:
        for j in range(count):
            v = zs[j]
            out[j] = v if v > zero else par * np.expm1(v)
    else:
        for j in range(count):
            out[j] = zs[j]


@njit(cache=True, fastmath=False)
def activation_backward(z, a, g, start, count, code, par):
    """g[start:start+count] *= f'(z) in place (dL/da -> dL/dz), with NumPy's formulas and rounding (loops over
    local slices, as in `activate`)."""
    one = z.dtype.type(1.0)
    zero = z.dtype.type(0.0)
    zs = z[start : start + count]
    acts = a[start : start + count]
    gs = g[start : start + count]
    if code == ACT_SIGMOID:
        for j in range(count):
            s = acts[j]
            gs[j] = gs[j] * s * (one - s)
    elif code == ACT_TANH:
        for j in range(count):
            t = acts[j]
            gs[j] = gs[j] * (one - t * t)
    elif code == ACT_RELU:
        for j in range(count):
            gs[j] = gs[j] if zs[j] > zero else zero
    elif code == ACT_LEAKY_RELU:
        for j in range(count):
            gs[j] = gs[j] if zs[j] > zero else par * gs[j]
    elif code == ACT_ELU:
        for j in range(count):
            gs[j] = gs[j] if zs[j] > zero else gs[j] * (acts[j] + par)


@njit(cache=True, fastmath=False)
def loss_and_grad(a, g, start, k, loss, data, n):
    """The loss (`kernel_args.LossSpec`) of outputs a[start:start+k] for example ``n`` of ``data``
    (`kernel_args.TrainData`), and dL/da written to g[start:start+k] (batch size 1)."""
    zero = a.dtype.type(0.0)
    rows = data.rows
    if loss.code == LOSS_SOFTMAX_CE:
        use_rows = data.use_rows
        label = data.labels[n] if not use_rows else 0
        m = a[start]
        for j in range(1, k):
            if a[start + j] > m:
                m = a[start + j]
        s = zero
        for j in range(k):
            s += np.exp(a[start + j] - m)
        lse = np.log(s)
        value = zero
        tsum = zero
        if use_rows:
            for j in range(k):
                tsum += rows[n, j]
        for j in range(k):
            logp = (a[start + j] - m) - lse
            p = np.exp(logp)
            if use_rows:
                t = rows[n, j]
                value -= t * logp
                g[start + j] = p * tsum - t
            else:
                if j == label:
                    value = -logp
                    g[start + j] = p - a.dtype.type(1.0)
                else:
                    g[start + j] = p
        return float(value)
    # MSE: L = c sum (o - t)^2, dL/do = gc (o - t)
    total = zero
    for j in range(k):
        d = a[start + j] - rows[n, j]
        total += d * d
        g[start + j] = loss.mse_gc * d
    return float(loss.mse_c * total)


@njit(cache=True, fastmath=False, inline="always")
def add_scaled_rows(acc, rows, idx, coef, q, stop):
    """acc += sum over p in [q, stop) of coef[p] * rows[idx[p]], the rows added one after another in p order.
    Eight rows per pass over ``acc``, then four, then one: the same additions in the same order (so the same
    bits), an eighth of the ``acc`` traffic. The first layer's sparse sums: the forward x W1 over an example's
    nonzero pixels, and the backward dL/dW1 row of a pixel over the batch rows where it is nonzero."""
    while q + 8 <= stop:
        c0, c1, c2, c3 = coef[q], coef[q + 1], coef[q + 2], coef[q + 3]
        c4, c5, c6, c7 = coef[q + 4], coef[q + 5], coef[q + 6], coef[q + 7]
        r0, r1, r2, r3 = rows[idx[q]], rows[idx[q + 1]], rows[idx[q + 2]], rows[idx[q + 3]]
        r4, r5, r6, r7 = rows[idx[q + 4]], rows[idx[q + 5]], rows[idx[q + 6]], rows[idx[q + 7]]
        for j in range(acc.shape[0]):
            acc[j] = (
                ((((((acc[j] + c0 * r0[j]) + c1 * r1[j]) + c2 * r2[j]) + c3 * r3[j]) + c4 * r4[j]) + c5 * r5[j])
                + c6 * r6[j]
            ) + c7 * r7[j]
        q += 8
    while q + 4 <= stop:
        c0, c1, c2, c3 = coef[q], coef[q + 1], coef[q + 2], coef[q + 3]
        r0, r1, r2, r3 = rows[idx[q]], rows[idx[q + 1]], rows[idx[q + 2]], rows[idx[q + 3]]
        for j in range(acc.shape[0]):
            acc[j] = (((acc[j] + c0 * r0[j]) + c1 * r1[j]) + c2 * r2[j]) + c3 * r3[j]
        q += 4
    while q < stop:
        c = coef[q]
        r = rows[idx[q]]
        for j in range(acc.shape[0]):
            acc[j] += c * r[j]
        q += 1


@njit(cache=True, fastmath=False, inline="always")
def step_row(w, v, i, gr, ready, hyper, regularized):
    """The SGD step (`kernel_args.SGDHyper`) of weight row ``w[i]`` (velocity ``v[i]``) whose loss gradient is
    ``gr`` (overwritten), in the NumPy engine's order of operations: penalties, weight decay (both only if
    ``regularized``), momentum (v = mu v + g, or v = g on the first step when not ``ready``; PyTorch's form),
    ``w -= lr g``."""
    lr, mu, nesterov, wd = hyper.lr, hyper.momentum, hyper.nesterov, hyper.weight_decay
    reg_code, reg_c = hyper.reg_code, hyper.reg_c
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
