"""`Optimizer`: the base of SGD and Adam. Updates ``Parameter.value`` in place from ``Parameter.grad``."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..nn.parameter import Parameter
from .schedules import Schedule


class Optimizer:
    """Holds the parameters, the base learning rate, an optional per-epoch schedule and per-parameter state."""

    def __init__(self, params: Iterable[Parameter], lr: float, schedule: Schedule | None = None) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, Parameter):
                raise TypeError(f"optimizer parameter {i} is a {type(p).__name__}, expected Parameter; "
                                "pass model.parameters()")
        if not (lr > 0 and math.isfinite(lr)):
            raise ConfigError(f"learning rate must be a finite number > 0; got {lr}")
        self.base_lr = float(lr)
        self.lr = float(lr)
        self.schedule = schedule
        self.steps = 0

    def set_epoch(self, epoch: int) -> float:
        """Set ``lr`` for 0-based ``epoch`` from the schedule (no schedule: the base rate). Returns it."""
        self.lr = self.schedule(self.base_lr, epoch) if self.schedule is not None else self.base_lr
        return self.lr

    def step(self) -> None:
        raise NotImplementedError

    # -- state ----------------------------------------------------------------------------------------------
    def _slots(self) -> dict[str, list[Any]]:
        """Per-parameter state arrays by slot name (e.g. ``{"m": [...], "v": [...]}``)."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"lr": self.lr, "base_lr": self.base_lr, "steps": self.steps}
        for slot, arrays in self._slots().items():
            for i, a in enumerate(arrays):
                state[f"{slot}.{i}"] = None if a is None else np.array(a, copy=True)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.lr = float(state["lr"])
        self.base_lr = float(state["base_lr"])
        self.steps = int(state["steps"])
        for slot, arrays in self._slots().items():
            for i in range(len(arrays)):
                value = state.get(f"{slot}.{i}")
                arrays[i] = None if value is None else np.array(value, copy=True)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr})"
