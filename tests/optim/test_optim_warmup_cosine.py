"""WarmupCosine: the per-epoch rates by hand, and its bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backproplab.nn import Parameter
from backproplab.optim import SGD, WarmupCosine


def test_rates_by_hand() -> None:
    rates = [WarmupCosine(6, warmup=2)(0.3, e) for e in range(6)]
    cosine = [0.3 * 0.5 * (1 + math.cos(math.pi * k / 4)) for k in range(4)]
    assert rates == pytest.approx([0.1, 0.2, *cosine])
    assert rates[2] == pytest.approx(0.3) and rates[-1] > 0  # the peak right after warm-up; never 0
    assert [WarmupCosine(2)(1.0, e) for e in range(2)] == pytest.approx([1.0, 0.5])
    assert WarmupCosine(4, warmup=1)(1.0, 9) == pytest.approx(0.0)  # past the end: the cosine's end, not beyond


def test_optimizer_follows_the_schedule() -> None:
    opt = SGD([Parameter(np.zeros(1))], lr=0.5, schedule=WarmupCosine(10, warmup=1))
    assert opt.set_epoch(0) == pytest.approx(0.25) and opt.set_epoch(1) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("epochs", "warmup", "message"),
    [
        (0, 0, "WarmupCosine epochs must be >= 1; got 0"),
        (5, 5, r"WarmupCosine warmup must be in \[0, epochs - 1\] = \[0, 4\]; got 5"),
        (5, -1, "got -1"),
    ],
)
def test_bad_values(epochs: int, warmup: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WarmupCosine(epochs, warmup)
