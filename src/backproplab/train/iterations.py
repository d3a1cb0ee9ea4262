"""Iterations: a run's length in optimizer steps, and the training loss recorded as training goes.

An iteration is one optimizer step (one batch); iterations are counted over the whole run from 1. A run lasts
``epochs`` passes over the training set, or ``iterations`` steps: ceil(iterations / steps per epoch) passes, the
last one stopped after the remaining steps.

The loss as training goes is one point every ``k`` iterations, the mean of those iterations' batch losses
(cs231n's ``loss_history`` when ``k`` = 1). The batch
loss of iteration i is the mean loss of its batch, computed by the forward pass that the step's gradient comes
from (before the update; the data loss alone, without a weight penalty, which `fit` records per epoch as
``penalty``); ``every = k`` records at iterations k, 2k, 3k, ... the mean of the k batch losses
since the previous point, added one by one in iteration order. When training ends (not when it is interrupted)
the steps since the last point, if any, make one last point at the last iteration (a mean of fewer than k).
The batch whose loss was NaN or infinite (training stops before its update) is recorded too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

# ``loss_every = "auto"`` records every ceil(total iterations / AUTO_POINTS) iterations: at most about this many
# points per run, every iteration whenever a run has no more iterations than this.
AUTO_POINTS = 10_000


def training_length(epochs: int | None, iterations: int | None, steps_per_epoch: int) -> tuple[int, int]:
    """``(epochs, total iterations)`` of a run given exactly one of ``epochs`` and ``iterations``."""
    if (epochs is None) == (iterations is None):
        raise ValueError(
            "give exactly one of epochs (passes over the training set) and iterations (optimizer "
            f"steps); got epochs={epochs!r}, iterations={iterations!r}"
        )
    if iterations is None:
        if int(epochs) < 1:
            raise ValueError(f"epochs must be >= 1; got {epochs}")
        return int(epochs), int(epochs) * steps_per_epoch
    if int(iterations) < 1:
        raise ValueError(f"iterations must be >= 1; got {iterations}")
    return math.ceil(int(iterations) / steps_per_epoch), int(iterations)


def resolve_every(loss_every: int | str, total_iterations: int) -> int:
    """The recording interval k for ``loss_every`` (an int >= 1, or ``"auto"``) in a run of that length."""
    if loss_every == "auto":
        return max(1, math.ceil(total_iterations / AUTO_POINTS))
    if isinstance(loss_every, bool) or not isinstance(loss_every, int) or loss_every < 1:
        raise ValueError(f"loss_every: expected an integer >= 1 or 'auto'; got {loss_every!r}")
    return loss_every


class BatchLossLog:
    """Adds the batch losses of a run to ``history.iterations`` / ``history.batch_losses``.

    ``window`` = (sum, count) of the batch losses since the last point: the part of the log's state that a
    checkpoint carries (`Position.window_loss`, `Position.window_steps`), so that a resumed run records the same
    points, bit for bit, as one that never stopped.
    """

    def __init__(self, history: Any, every: int, window: tuple[float, int] = (0.0, 0)) -> None:
        self.history = history
        self.every = int(every)
        self.total, self.count = float(window[0]), int(window[1])

    @property
    def window(self) -> tuple[float, int]:
        return self.total, self.count

    def add(self, losses: Sequence[float], first_iteration: int) -> None:
        """The batch losses of iterations ``first_iteration``, ``first_iteration + 1``, ... (in that order).

        The open window is finished one loss at a time, whole windows are summed as columns of a
        ``(windows, every)`` array (column after column: each window's losses added in order, as one by one),
        the rest opens the next window; the same additions as a loop over the losses, without its per-loss cost.
        """
        values = np.asarray(losses, dtype=np.float64).reshape(-1)
        every, total, count = self.every, self.total, self.count
        iterations, points = self.history.iterations, self.history.batch_losses
        i, n = 0, len(values)
        while count and i < n:
            total += float(values[i])
            count += 1
            i += 1
            if count == every:
                iterations.append(first_iteration + i - 1)
                points.append(total / count)
                total, count = 0.0, 0
        windows = (n - i) // every
        if windows:
            block = values[i : i + windows * every].reshape(windows, every)
            with np.errstate(over="ignore", invalid="ignore"):  # a diverged run's inf/NaN losses, as floats have
                sums = 0.0 + block[:, 0]
                for column in range(1, every):
                    sums += block[:, column]
            iterations.extend(range(first_iteration + i + every - 1, first_iteration + i + windows * every, every))
            points.extend((sums / every).tolist())
            i += windows * every
        for value in values[i:].tolist():
            total += value
            count += 1
        self.total, self.count = total, count

    def flush(self, last_iteration: int) -> None:
        """Record the open window (fewer than ``every`` losses) as a point at ``last_iteration``."""
        if self.count:
            self.history.iterations.append(int(last_iteration))
            self.history.batch_losses.append(self.total / self.count)
            self.total, self.count = 0.0, 0
