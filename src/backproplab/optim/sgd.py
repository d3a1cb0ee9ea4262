"""Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .._xp import namespace
from ..nn.parameter import Parameter
from .optimizer import Optimizer
from .schedules import Schedule


class SGD(Optimizer):
    """Per parameter, with g = grad + weight_decay * W (weights only, never biases):

    - plain: ``W -= lr * g``
    - momentum mu: ``v = mu * v + g``; ``W -= lr * v`` (PyTorch's form)
    - Nesterov: ``v = mu * v + g``; ``W -= lr * (g + mu * v)``
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        schedule: Schedule | None = None,
    ) -> None:
        super().__init__(params, lr, schedule)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1); got {momentum}")
        if nesterov and momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0; got {weight_decay}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.weight_decay = float(weight_decay)
        self.velocity: list[Any] = [None] * len(self.params)

    def _slots(self) -> dict[str, list[Any]]:
        return {"velocity": self.velocity} if self.momentum else {}

    def update(self, i: int, p: Parameter) -> None:
        g = p.grad
        if self.weight_decay and p.regularize:
            g = g + self.weight_decay * p.value
        if self.momentum:
            v = self.velocity[i]
            if v is None:
                v = self.velocity[i] = namespace(g).asarray(g, copy=True)
            else:
                v *= self.momentum
                v += g
            g = g + self.momentum * v if self.nesterov else v
        namespace(g).axpy(-self.lr, g, p.value)  # W -= lr * g, in place

    def __repr__(self) -> str:
        return (
            f"SGD(lr={self.lr}, momentum={self.momentum}, nesterov={self.nesterov}, weight_decay={self.weight_decay})"
        )
