"""The CMU "npnn" package (course HW3 Intro to ML; 10-315 / 10-301), computed by backproplab's modules.

The course's names and signatures (its ``modules.py``, ``optimizer.py``, ``model.py``, ``dataset.py``)::

    from backproplab.courses import npnn
    np.random.seed(0)
    model = npnn.Sequential([npnn.Dense(784, 256), npnn.ELU(0.9), npnn.Dense(256, 64), npnn.ELU(0.9),
                             npnn.Dense(64, 10)], npnn.SoftmaxCrossEntropy(), npnn.SGD(learning_rate=0.1))
    train_loss, train_acc = model.train(npnn.Dataset(X_train, Y_train, batch_size=32))
    val_loss, val_acc = model.test(npnn.Dataset(X_val, Y_val, batch_size=32))

Random draws (Glorot weights, batch order) come from NumPy's global generator, as in the course.
"""

from .dataset import Dataset
from .model import Sequential, categorical_accuracy, categorical_cross_entropy
from .modules import ELU, Dense, Module, SoftmaxCrossEntropy, Variable
from .optimizer import SGD, Adam, Optimizer

__all__ = [
    "ELU",
    "SGD",
    "Adam",
    "Dataset",
    "Dense",
    "Module",
    "Optimizer",
    "Sequential",
    "SoftmaxCrossEntropy",
    "Variable",
    "categorical_accuracy",
    "categorical_cross_entropy",
]
