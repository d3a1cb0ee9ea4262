"""`Optimizer`: the base of SGD and Adam. It owns the loop over the parameters and the step count; a subclass
gives only the update of one parameter (``update``), from its ``grad``, in place in its ``value``."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .._xp import to_numpy
from ..backend import move, placement_of
from ..errors import BackendError, ConfigError
from ..nn.parameter import Parameter
from .schedules import Schedule


class Optimizer:
    """Holds the parameters, the base learning rate, an optional per-epoch schedule and per-parameter state.

    ``steps`` counts the calls of `step` (Adam's t). Per-parameter state (``_slots``) lives where the parameters
    lived when it was created: build the optimizer after ``model.to(...)``; stepping with state on another
    backend or device raises `BackendError`.
    """

    def __init__(self, params: Iterable[Parameter], lr: float, schedule: Schedule | None = None) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, Parameter):
                raise TypeError(
                    f"optimizer parameter {i} is a {type(p).__name__}, expected Parameter; pass model.parameters()"
                )
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
        """Count the step, then update every parameter from its gradient."""
        self.steps += 1
        slots = self._slots()
        if slots:
            self._check_placement(slots)
        for i, p in enumerate(self.params):
            self.update(i, p)

    def update(self, i: int, p: Parameter) -> None:
        """Update parameter ``p`` (the ``i``-th) in place from ``p.grad``; ``self.steps`` is this step's number."""
        raise NotImplementedError

    def _check_placement(self, slots: dict[str, list[Any]]) -> None:
        for slot, arrays in slots.items():
            for p, a in zip(self.params, arrays, strict=True):
                if a is not None and (type(a) is not type(p.value) or a.device != p.value.device):
                    raise BackendError(
                        f"{type(self).__name__}'s state {slot!r} is on {placement_of(a)} but parameter {p.name!r} "
                        f"is on {placement_of(p.value)}: build the optimizer after model.to(...)"
                    )

    # -- state ----------------------------------------------------------------------------------------------
    def _slots(self) -> dict[str, list[Any]]:
        """Per-parameter state arrays by slot name (e.g. ``{"m": [...], "v": [...]}``)."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        """Learning rates, step count and state arrays (as NumPy copies, whatever the backend)."""
        state: dict[str, Any] = {"lr": self.lr, "base_lr": self.base_lr, "steps": self.steps}
        for slot, arrays in self._slots().items():
            for i, a in enumerate(arrays):
                state[f"{slot}.{i}"] = None if a is None else np.array(to_numpy(a), copy=True)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a `state_dict`; state arrays go where the parameters are."""
        self.lr = float(state["lr"])
        self.base_lr = float(state["base_lr"])
        self.steps = int(state["steps"])
        for slot, arrays in self._slots().items():
            for i, p in enumerate(self.params):
                value = state.get(f"{slot}.{i}")
                arrays[i] = None if value is None else move(value, placement_of(p.value), p.dtype, copy=True)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr})"
