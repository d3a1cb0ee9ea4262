"""Modules with explicit forward/backward passes, losses, initialisers and weight penalties."""

from .activations import ELU, Activation, Identity, LeakyReLU, ReLU, Sigmoid, Tanh, sigmoid
from .batchnorm import BatchNorm
from .build import ACTIVATIONS, LOSSES, activation, mlp
from .dense import Dense
from .dropout import Dropout
from .init import INITIALIZERS, initialize
from .losses import MSE, BinaryCrossEntropy, CrossEntropy, Loss, SoftmaxCrossEntropy, one_hot
from .module import Module, Sequential
from .parameter import Parameter
from .per_unit import PerUnitActivation
from .regularization import L1, L2, Regularizer
from .serialize import load_model, save_model
from .softmax import Softmax, log_softmax, softmax

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "BatchNorm",
    "BinaryCrossEntropy",
    "CrossEntropy",
    "Dense",
    "Dropout",
    "ELU",
    "INITIALIZERS",
    "Identity",
    "L1",
    "L2",
    "LOSSES",
    "LeakyReLU",
    "Loss",
    "MSE",
    "Module",
    "Parameter",
    "PerUnitActivation",
    "ReLU",
    "Regularizer",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "SoftmaxCrossEntropy",
    "Tanh",
    "activation",
    "initialize",
    "load_model",
    "log_softmax",
    "mlp",
    "one_hot",
    "save_model",
    "sigmoid",
    "softmax",
]
