"""Optimizers (update ``Parameter.value`` in place) and learning-rate schedules."""

from .adam import Adam
from .optimizer import Optimizer
from .schedules import InverseScaling, Schedule, StepDecay, WarmupCosine
from .sgd import SGD

__all__ = ["SGD", "Adam", "InverseScaling", "Optimizer", "Schedule", "StepDecay", "WarmupCosine"]
