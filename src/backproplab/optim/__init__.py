"""Optimizers (update ``Parameter.value`` in place) and learning-rate schedules."""

from .adam import Adam
from .optimizer import Optimizer
from .schedules import SCHEDULES, InverseScaling, Schedule, StepDecay, WarmupCosine
from .sgd import SGD

# The optimizers a run config can name.
OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam}

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "SGD",
    "Adam",
    "InverseScaling",
    "Optimizer",
    "Schedule",
    "StepDecay",
    "WarmupCosine",
]
