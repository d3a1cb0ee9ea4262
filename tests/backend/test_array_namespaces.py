"""The array namespaces modules compute with (`backproplab._xp`): NumPy's shortcuts give NumPy's own bits, torch's
give array-api-compat's results, and the three additions (out=, expit/log_softmax, axpy) mean the same on both."""

from __future__ import annotations

import numpy as np
import pytest

from backproplab._xp import NUMPY, namespace
from needs import import_torch

pytestmark = pytest.mark.needs_torch

torch = import_torch()
compat = pytest.importorskip("array_api_compat.torch", reason="needs array-api-compat")

SPECIAL = [
    0.0,
    -0.0,
    1e-8,
    -1e-8,
    30.0,
    -30.0,
    88.0,
    -88.0,
    104.0,
    -104.0,
    700.0,
    -700.0,
    746.0,
    -746.0,
    np.inf,
    -np.inf,
    np.nan,
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
def test_numpy_reductions_are_numpys_own_bits(rng: np.random.Generator, dtype: type) -> None:
    a = (rng.standard_normal((33, 7)) * 10).astype(dtype)
    for axis in (None, 0, 1):
        for keepdims in (False, True):
            got, want = NUMPY.sum(a, axis=axis, keepdims=keepdims), np.sum(a, axis=axis, keepdims=keepdims)
            assert np.asarray(got).dtype == np.asarray(want).dtype
            np.testing.assert_array_equal(got, want)
            if dtype is not np.bool_:
                np.testing.assert_array_equal(
                    NUMPY.max(a, axis=axis, keepdims=keepdims), np.max(a, axis=axis, keepdims=keepdims)
                )
                np.testing.assert_array_equal(
                    NUMPY.min(a, axis=axis, keepdims=keepdims), np.min(a, axis=axis, keepdims=keepdims)
                )
    out = np.empty(7, dtype=a.dtype if dtype is not np.bool_ else np.int64)
    assert NUMPY.sum(a, axis=0, out=out) is out


def test_numpy_axpy_is_the_textbook_update_in_place(rng: np.random.Generator) -> None:
    y = rng.standard_normal((5, 4)).astype(np.float32)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    expected = y - np.float32(0.3) * x
    before = y
    NUMPY.axpy(-0.3, x, y)
    assert y is before
    np.testing.assert_array_equal(y, expected)


def test_the_torch_shortcuts_agree_with_array_api_compat(rng: np.random.Generator) -> None:
    a = torch.from_numpy(rng.standard_normal((6, 5)))
    xp = namespace(a)
    assert namespace(torch.zeros(1)) is xp  # cached per array type
    for axis in (None, 0, 1):
        for keepdims in (False, True):
            for name in ("sum", "max", "min"):
                torch.testing.assert_close(
                    getattr(xp, name)(a, axis=axis, keepdims=keepdims),
                    getattr(compat, name)(a, axis=axis, keepdims=keepdims),
                    rtol=0,
                    atol=0,
                )
    assert xp.astype(a, torch.float32).dtype == torch.float32 and xp.astype(a, torch.float64) is not a
    out = torch.empty(5, 5, dtype=torch.float64)
    assert xp.matmul(a.T, a, out=out) is out
    torch.testing.assert_close(out, a.T @ a)
    y, x = a.clone(), a * 2
    xp.axpy(-0.5, x, y)
    torch.testing.assert_close(y, torch.zeros_like(a), rtol=0, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_expit_and_log_softmax_mean_the_same_on_both_backends(rng: np.random.Generator, dtype: type) -> None:
    z = np.concatenate([(rng.standard_normal(200) * 40), SPECIAL]).astype(dtype)
    mine = NUMPY.expit(z)
    theirs = namespace(torch.from_numpy(z)).expit(torch.from_numpy(z)).numpy()
    assert mine.dtype == theirs.dtype == dtype
    np.testing.assert_array_equal(np.isnan(mine), np.isnan(z))
    np.testing.assert_allclose(mine, theirs, rtol=4 * np.finfo(dtype).eps, atol=np.finfo(dtype).tiny * 4)
    rows = (rng.standard_normal((20, 6)) * 30).astype(dtype)
    np.testing.assert_allclose(
        NUMPY.log_softmax(rows, axis=1),
        namespace(torch.zeros(1)).log_softmax(torch.from_numpy(rows), axis=1).numpy(),
        rtol=8 * np.finfo(dtype).eps,
        atol=8 * np.finfo(dtype).eps,
    )


def test_arrays_of_two_backends_are_refused_with_a_message() -> None:
    with pytest.raises(TypeError, match=r"arrays from different backends or devices cannot be combined: .*model.to"):
        namespace(np.zeros(2), torch.zeros(2))
