"""Learning-rate schedules, applied at the start of each epoch: ``schedule(base_lr, epoch) -> lr``."""

from __future__ import annotations


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
