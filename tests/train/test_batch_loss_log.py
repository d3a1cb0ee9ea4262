"""`BatchLossLog.add` sums whole windows as array columns: the same points, bit for bit, as adding the losses
one by one in a Python loop (the definition in `backproplab.train.iterations`), whatever the chunks."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from backproplab.train.iterations import BatchLossLog


def one_by_one(chunks: list[list[float]], every: int) -> tuple[list[int], list[float], float, int]:
    iterations: list[int] = []
    points: list[float] = []
    total, count, iteration = 0.0, 0, 1
    for chunk in chunks:
        for value in chunk:
            total += value
            count += 1
            if count == every:
                iterations.append(iteration)
                points.append(total / count)
                total, count = 0.0, 0
            iteration += 1
    return iterations, points, total, count


losses = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(losses, max_size=40), max_size=6), st.integers(1, 9), st.booleans())
def test_add_gives_the_points_of_a_loop_over_the_losses(chunks, every, as_arrays):
    history = SimpleNamespace(iterations=[], batch_losses=[])
    log = BatchLossLog(history, every)
    first = 1
    for chunk in chunks:
        log.add(np.array(chunk, dtype=np.float64) if as_arrays else chunk, first)
        first += len(chunk)
    iterations, points, total, count = one_by_one(chunks, every)
    assert history.iterations == iterations
    assert all(type(v) is float for v in history.batch_losses)
    np.testing.assert_array_equal(np.array(history.batch_losses), np.array(points))  # NaN == NaN here
    assert [math.copysign(1, v) for v in history.batch_losses] == [math.copysign(1, v) for v in points]
    assert log.count == count
    assert log.total == total or (math.isnan(log.total) and math.isnan(total))
