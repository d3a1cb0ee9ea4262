"""The batch-size-1 kernel's dot product (`example_kernel._dot`): a fixed pairwise tree, recomputed here in NumPy."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("numba")

from backproplab.fast.example_kernel import _dot  # noqa: E402


def tree_sum(products: np.ndarray) -> np.floating:
    """p[i] += p[i + ceil(n/2)] for i < floor(n/2), n = ceil(n/2), until one term is left (NumPy, elementwise)."""
    p = products.copy()
    n = len(p)
    while n > 1:
        h, m = n // 2, n - n // 2
        p[:h] = p[:h] + p[m : m + h]
        n = m
    return p[0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 2, 3, 10, 16, 17, 30, 255, 256, 1000])
def test_dot_is_the_pairwise_tree_bit_for_bit(n, dtype):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n).astype(dtype)
    w = rng.standard_normal(n).astype(dtype)
    work = np.full(n + 3, np.nan, dtype)  # longer than needed, and dirty
    got = _dot(x, w, work)
    want = tree_sum(x * w)
    assert got == float(want)  # numba hands the float32 result back as a Python float: exact
    exact = math.fsum((x.astype(np.float64) * w.astype(np.float64)).tolist())
    assert abs(float(got) - exact) <= 10 * np.finfo(dtype).eps * float(np.abs(x * w).sum())
