"""`shared_kernels.exp_nonpositive` (the float32 sigmoid's e^-|v|): correctly rounded to float32, recomputed here
with NumPy's float64 exp; and the float32 sigmoid built on it is the NumPy formula with that exponential."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")

from backproplab.fast.codes import ACT_SIGMOID  # noqa: E402
from backproplab.fast.kernel_cache import njit  # noqa: E402
from backproplab.fast.shared_kernels import activate, exp_nonpositive  # noqa: E402


@njit(cache=True)
def exp_all(x, out):
    for j in range(x.shape[0]):
        out[j] = exp_nonpositive(np.float64(x[j]))
    return out


def correctly_rounded(x: np.ndarray) -> np.ndarray:
    """e^x rounded once to float32 (float64's exp is within an ulp of float64, 2^29 times finer than float32's)."""
    return np.exp(x.astype(np.float64)).astype(np.float32)


def test_every_sampled_float32_input_is_correctly_rounded():
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            -rng.uniform(0, 105, 1_000_000),  # the whole range, to past where float32 e^x is 0
            -np.abs(rng.standard_normal(1_000_000)) * 3,  # where sigmoid inputs live
            -rng.uniform(86, 104, 200_000),  # float32 subnormal results
        ]
    ).astype(np.float32)
    got = exp_all(x, np.zeros_like(x))
    np.testing.assert_array_equal(got, correctly_rounded(x))


def test_special_values():
    x = np.array(
        [0.0, -0.0, -1e-45, -87.33654, -103.27893, -103.97, -104.0, -104.5, -1e30, -np.inf, np.nan], np.float32
    )
    got = exp_all(x, np.zeros_like(x))
    want = correctly_rounded(x)
    np.testing.assert_array_equal(got, want)  # NaN == NaN in this comparison
    assert got[0] == 1.0 and got[-2] == 0.0 and np.isnan(got[-1])


def test_float32_sigmoid_is_the_numpy_formula_with_that_exponential():
    rng = np.random.default_rng(1)
    z = np.concatenate([rng.standard_normal(5000) * 6, [0.0, -0.0, 30.0, -30.0, 200.0, -200.0]]).astype(np.float32)
    a = np.zeros_like(z)
    activate(z, a, 0, len(z), ACT_SIGMOID, np.float32(0))
    e = correctly_rounded(-np.abs(z))
    one = np.float32(1.0)
    np.testing.assert_array_equal(a, np.where(z >= 0, one, e) / (one + e))


def test_float64_sigmoid_uses_the_c_library_exp():
    """float64 keeps the C library's exp (not NumPy's own, which differs from it in the last bit at times)."""
    z = np.random.default_rng(2).standard_normal(5000) * 6
    a = np.zeros_like(z)
    activate(z, a, 0, len(z), ACT_SIGMOID, 0.0)
    e = np.exp(-np.abs(z))
    np.testing.assert_allclose(a, np.where(z >= 0, 1.0, e) / (1.0 + e), rtol=4e-16, atol=0)
