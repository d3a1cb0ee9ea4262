"""The fast engine's packed layout: weights and work buffers on cache lines (`backproplab.fast.aligned`), and the
batch-size-1 plan's transposed later layers (`backproplab.fast.plan`)."""

from __future__ import annotations

import numpy as np
import pytest

from backproplab.fast.aligned import CACHE_LINE, aligned_zeros, line_multiple
from backproplab.fast.plan import Plan
from backproplab.nn import SoftmaxCrossEntropy, mlp


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("shape", [1, 7, 784, (3, 5), (32, 784)])
def test_aligned_zeros_are_zeros_on_a_cache_line(shape, dtype):
    arrays = [aligned_zeros(shape, dtype) for _ in range(20)]  # many allocations: different raw addresses
    for a in arrays:
        assert a.ctypes.data % CACHE_LINE == 0
        assert a.shape == np.zeros(shape).shape and a.dtype == dtype and a.flags.c_contiguous
        assert not a.any()
        a[...] = 1  # writable, and its own memory
    assert all(a.sum() == np.prod(shape) for a in arrays)


def test_line_multiple_rounds_up_to_whole_lines():
    assert [line_multiple(n, np.float32) for n in (0, 1, 16, 17, 2560)] == [0, 16, 16, 32, 2560]
    assert [line_multiple(n, np.float64) for n in (1, 8, 9)] == [8, 8, 16]


def test_plan_puts_every_weight_and_bias_on_a_cache_line_and_round_trips():
    model = mlp([784, 100, 30, 10], "relu", seed=0)  # 100 * 784 floats etc.: not whole lines
    plan = Plan.build(model, SoftmaxCrossEntropy())
    itemsize = plan.theta.itemsize
    for off in (*plan.w_off, *plan.b_off):
        assert (plan.theta.ctypes.data + int(off) * itemsize) % CACHE_LINE == 0
        assert (plan.vel.ctypes.data + int(off) * itemsize) % CACHE_LINE == 0
    from backproplab.optim import SGD

    opt = SGD(model.parameters(), lr=0.1)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    plan.pack(opt)
    for p in model.parameters():
        p.value[...] = 0
    plan.unpack(opt)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_batch1_plan_stores_later_layers_transposed_and_round_trips_momentum():
    from backproplab.optim import SGD

    model = mlp([784, 30, 20, 10], "relu", seed=0)
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(0)
    opt.velocity = [rng.standard_normal(p.value.shape).astype(p.value.dtype) for p in opt.params]
    plan = Plan.build(model, SoftmaxCrossEntropy(), transpose_later=True)
    plan.pack(opt)
    layers = [model[0], model[2], model[4]]
    for i, dense in enumerate(layers):
        off, n_in, n_out = int(plan.w_off[i]), int(plan.n_in[i]), int(plan.n_out[i])
        stored = plan.theta[off : off + n_in * n_out]
        expected = dense.weight.value if i == 0 else dense.weight.value.T  # (in, out) first, (out, in) later
        np.testing.assert_array_equal(stored, np.ascontiguousarray(expected).reshape(-1))
    before_w = {k: v.copy() for k, v in model.state_dict().items()}
    before_v = [v.copy() for v in opt.velocity]
    for p in model.parameters():
        p.value[...] = 0
    opt.velocity = [None] * len(opt.params)
    plan.unpack(opt)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before_w[key])
    for got, want in zip(opt.velocity, before_v, strict=True):
        assert got.flags.c_contiguous and not np.shares_memory(got, plan.vel)
        np.testing.assert_array_equal(got, want)
