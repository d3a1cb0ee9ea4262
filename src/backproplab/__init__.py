"""backproplab: neural networks whose every forward and backward pass is written out, layer by layer.

import backproplab as bp
train = bp.load_dataset("fashion-mnist", split="train")
test = bp.load_dataset("fashion-mnist", split="test")
model = bp.nn.mlp([784, 256, 10], "sigmoid", seed=0)
history = bp.fit(model, bp.nn.SoftmaxCrossEntropy(), bp.optim.SGD(model.parameters(), lr=0.01),
                 train, epochs=15, batch_size=1, shuffle=False, eval_sets={"test": test})
"""

from . import check, data, nn, optim, train
from .check import gradcheck, rel_error
from .data import Dataset, load_dataset
from .errors import BackproplabError, ConfigError, DatasetError
from .nn import load_model, save_model
from .train import EarlyStopping, History, TerminateOnDivergence, evaluate, fit, predict, predict_proba

__version__ = "0.1.0"

__all__ = [
    "BackproplabError",
    "ConfigError",
    "Dataset",
    "DatasetError",
    "EarlyStopping",
    "History",
    "__version__",
    "check",
    "data",
    "evaluate",
    "fit",
    "gradcheck",
    "load_dataset",
    "load_model",
    "nn",
    "optim",
    "predict",
    "predict_proba",
    "rel_error",
    "save_model",
    "TerminateOnDivergence",
    "train",
]
