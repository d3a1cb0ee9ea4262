"""Learning-rate schedules, applied at the start of each epoch: ``schedule(base_lr, epoch) -> lr``."""

from __future__ import annotations

import math


class Schedule:
    def __call__(self, base_lr: float, epoch: int) -> float:
        raise NotImplementedError


class StepDecay(Schedule):
    """lr = base_lr * gamma ** (epoch // step_size). cs231n's ``lr_decay`` is ``StepDecay(lr_decay)``."""

    def __init__(self, gamma: float, step_size: int = 1) -> None:
        if not 0 < gamma <= 1:
            raise ValueError(f"StepDecay gamma must be in (0, 1]; got {gamma}")
        if step_size < 1:
            raise ValueError(f"StepDecay step_size must be >= 1; got {step_size}")
        self.gamma = float(gamma)
        self.step_size = int(step_size)

    def __call__(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)

    def __repr__(self) -> str:
        return f"StepDecay(gamma={self.gamma}, step_size={self.step_size})"


class InverseScaling(Schedule):
    """lr = base_lr / (1 + decay * epoch) ** power (scikit-learn's ``invscaling`` shape, per epoch)."""

    def __init__(self, power: float = 0.5, decay: float = 1.0) -> None:
        if power < 0 or decay < 0:
            raise ValueError(f"InverseScaling power and decay must be >= 0; got power={power}, decay={decay}")
        self.power = float(power)
        self.decay = float(decay)

    def __call__(self, base_lr: float, epoch: int) -> float:
        return base_lr / (1.0 + self.decay * epoch) ** self.power

    def __repr__(self) -> str:
        return f"InverseScaling(power={self.power}, decay={self.decay})"


class WarmupCosine(Schedule):
    """Linear warm-up, then cosine decay, over a run of ``epochs`` epochs (0-based epoch e):

    - e < warmup: lr = base_lr (e + 1) / (warmup + 1)
    - e >= warmup: lr = base_lr (1 + cos(pi (e - warmup) / (epochs - warmup))) / 2

    so the rate climbs to base_lr in the first epoch after the warm-up and falls towards (never to) 0 in the
    last; with ``warmup=0`` it is plain cosine annealing from base_lr (Loshchilov & Hutter's SGDR, one cycle).
    """

    def __init__(self, epochs: int, warmup: int = 0) -> None:
        if int(epochs) < 1:
            raise ValueError(f"WarmupCosine epochs must be >= 1; got {epochs}")
        if not 0 <= int(warmup) < int(epochs):
            raise ValueError(f"WarmupCosine warmup must be in [0, epochs - 1] = [0, {int(epochs) - 1}]; got {warmup}")
        self.epochs = int(epochs)
        self.warmup = int(warmup)

    def __call__(self, base_lr: float, epoch: int) -> float:
        if epoch < self.warmup:
            return base_lr * (epoch + 1) / (self.warmup + 1)
        progress = min(epoch - self.warmup, self.epochs - self.warmup) / (self.epochs - self.warmup)
        return base_lr * 0.5 * (1.0 + math.cos(math.pi * progress))

    def __repr__(self) -> str:
        return f"WarmupCosine(epochs={self.epochs}, warmup={self.warmup})"


# The schedules a run config can name (``optimizer.schedule``); "none" keeps the base rate.
SCHEDULES: dict[str, type[Schedule] | None] = {
    "none": None,
    "step": StepDecay,
    "inverse": InverseScaling,
    "cosine": WarmupCosine,
}
