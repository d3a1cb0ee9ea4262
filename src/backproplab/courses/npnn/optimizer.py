"""npnn's optimizers (``optimizer.py``): ``initialize(params)`` then ``apply_gradients(params)`` per step.

`SGD` and `Adam` hand each step to `backproplab.optim.SGD` / `backproplab.optim.Adam` over the same
`Variable` objects; ``learning_rate`` can be changed between steps.
"""

from __future__ import annotations

from collections.abc import Sequence

from ... import optim
from ...nn import Parameter


class Optimizer:
    """npnn's base class. ``initialize(params)`` binds the optimizer (and its state) to a list of `Variable`;
    ``apply_gradients(params)`` updates their ``.value`` from their ``.grad``."""

    def __init__(self, learning_rate: float) -> None:
        self._learning_rate = float(learning_rate)
        self._impl: optim.Optimizer | None = None

    def _build(self, params: list[Parameter]) -> optim.Optimizer:
        raise NotImplementedError

    def initialize(self, params: Sequence[Parameter]) -> None:
        self._impl = self._build(list(params))

    def apply_gradients(self, params: Sequence[Parameter]) -> None:
        if self._impl is None:
            self.initialize(params)
        assert self._impl is not None
        if [id(p) for p in params] != [id(p) for p in self._impl.params]:
            raise ValueError(
                f"{type(self).__name__}.apply_gradients got other parameters than the "
                f"{len(self._impl.params)} it was initialized with; call initialize(params) first"
            )
        self._impl.step()

    @property
    def learning_rate(self) -> float:
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self._learning_rate = float(value)
        if self._impl is not None:
            self._impl.base_lr = self._impl.lr = self._learning_rate


class SGD(Optimizer):
    """Plain SGD: W -= learning_rate * W.grad."""

    def __init__(self, learning_rate: float = 0.01) -> None:
        super().__init__(learning_rate)

    def _build(self, params: list[Parameter]) -> optim.Optimizer:
        return optim.SGD(params, lr=self._learning_rate)


class Adam(Optimizer):
    """Bias-corrected Adam (Kingma & Ba) with the course's defaults (epsilon 1e-7, Keras's)."""

    def __init__(
        self, learning_rate: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-7
    ) -> None:
        super().__init__(learning_rate)
        self.beta1, self.beta2, self.epsilon = float(beta1), float(beta2), float(epsilon)

    def _build(self, params: list[Parameter]) -> optim.Optimizer:
        return optim.Adam(params, lr=self._learning_rate, beta1=self.beta1, beta2=self.beta2, eps=self.epsilon)
