"""Optimizers (update ``Parameter.value`` in place) and learning-rate schedules."""

from .adam import Adam
from .optimizer import Optimizer
from .schedules import InverseScaling, Schedule, StepDecay
from .sgd import SGD

# The optimizers a run config can name.
OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam}

__all__ = ["OPTIMIZERS", "SGD", "Adam", "InverseScaling", "Optimizer", "Schedule", "StepDecay"]
