"""Weight penalties. They apply to parameters with ``regularize=True`` (weights), never to biases.

- ``L2(strength)``: R = lambda * sum ||W||^2, dR/dW = 2 lambda W (cs231n / HLCV convention).
- ``L2(strength, half=True)``: R = lambda/2 * sum ||W||^2, dR/dW = lambda W (weight-decay convention).
- ``L1(strength)``: R = lambda * sum |W|, dR/dW = lambda sign(W) (0 at W = 0).

The penalty is not divided by the batch size: it is a term of the objective, added once per step.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .._xp import namespace
from .parameter import Parameter


class Regularizer:
    """Base class: ``penalty(params) -> float`` and ``add_gradient(params)`` (adds dR/dW to each ``.grad``)."""

    strength: float

    def penalty(self, params: Iterable[Parameter]) -> float:
        raise NotImplementedError

    def add_gradient(self, params: Iterable[Parameter]) -> None:
        raise NotImplementedError


class L2(Regularizer):
    def __init__(self, strength: float, *, half: bool = False) -> None:
        if strength < 0:
            raise ValueError(f"L2 strength must be >= 0; got {strength}")
        self.strength = float(strength)
        self.half = bool(half)

    def penalty(self, params: Iterable[Parameter]) -> float:
        c = 0.5 * self.strength if self.half else self.strength
        total = 0.0
        for p in params:
            if p.regularize:
                total += float(namespace(p.value).sum(p.value * p.value))
        return c * total

    def add_gradient(self, params: Iterable[Parameter]) -> None:
        c = self.strength if self.half else 2.0 * self.strength
        for p in params:
            if p.regularize:
                p.grad += c * p.value

    def __repr__(self) -> str:
        return f"L2({self.strength}{', half=True' if self.half else ''})"


class L1(Regularizer):
    def __init__(self, strength: float) -> None:
        if strength < 0:
            raise ValueError(f"L1 strength must be >= 0; got {strength}")
        self.strength = float(strength)

    def penalty(self, params: Iterable[Parameter]) -> float:
        total = 0.0
        for p in params:
            if p.regularize:
                total += float(namespace(p.value).sum(namespace(p.value).abs(p.value)))
        return self.strength * total

    def add_gradient(self, params: Iterable[Parameter]) -> None:
        for p in params:
            if p.regularize:
                p.grad += self.strength * namespace(p.value).sign(p.value)

    def __repr__(self) -> str:
        return f"L1({self.strength})"


def as_regularizers(reg: Regularizer | Sequence[Regularizer] | None) -> list[Regularizer]:
    """Normalise ``None`` / one regularizer / a sequence to a list, dropping zero strengths."""
    if reg is None:
        return []
    regs = [reg] if isinstance(reg, Regularizer) else list(reg)
    for r in regs:
        if not isinstance(r, Regularizer):
            raise TypeError(f"expected L2/L1 regularizers; got {type(r).__name__}")
    return [r for r in regs if r.strength > 0]


def total_penalty(regs: Sequence[Regularizer], params: Sequence[Parameter]) -> float:
    return sum(r.penalty(params) for r in regs)
