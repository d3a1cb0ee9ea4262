"""Adam (Kingma & Ba, 2015) with bias correction."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .._xp import namespace
from ..nn.parameter import Parameter
from .optimizer import Optimizer
from .schedules import Schedule


class Adam(Optimizer):
    """At step t (1-based), per parameter with gradient g:

    m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
    m_hat = m / (1 - beta1^t);    v_hat = v / (1 - beta2^t)
    W -= lr * m_hat / (sqrt(v_hat) + eps)

    The CMU course uses eps = 1e-7 (Keras's default); the paper and PyTorch use 1e-8 (the default here).
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        schedule: Schedule | None = None,
    ) -> None:
        super().__init__(params, lr, schedule)
        for name, b in (("beta1", beta1), ("beta2", beta2)):
            if not 0 <= b < 1:
                raise ValueError(f"Adam {name} must be in [0, 1); got {b}")
        if eps <= 0:
            raise ValueError(f"Adam eps must be > 0; got {eps}")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.m: list[Any] = [namespace(p.value).zeros_like(p.value) for p in self.params]
        self.v: list[Any] = [namespace(p.value).zeros_like(p.value) for p in self.params]

    def _slots(self) -> dict[str, list[Any]]:
        return {"m": self.m, "v": self.v}

    def update(self, i: int, p: Parameter) -> None:
        b1, b2 = self.beta1, self.beta2
        # Both bias corrections folded into the step size: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t) and
        # eps_t = eps sqrt(1 - b2^t), algebraically identical to the m_hat / v_hat form above.
        c2 = math.sqrt(1.0 - b2**self.steps)
        lr_t = self.lr * c2 / (1.0 - b1**self.steps)
        g, m, v = p.grad, self.m[i], self.v[i]
        m *= b1
        m += (1.0 - b1) * g
        v *= b2
        v += (1.0 - b2) * (g * g)
        p.value -= lr_t * m / (namespace(v).sqrt(v) + self.eps * c2)

    def __repr__(self) -> str:
        return f"Adam(lr={self.lr}, beta1={self.beta1}, beta2={self.beta2}, eps={self.eps})"
