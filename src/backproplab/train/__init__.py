"""Training: the `fit` loop, callbacks, `History` and evaluation metrics."""

from .callbacks import Callback, EarlyStopping, LambdaCallback, TrainingState
from .divergence import TerminateOnDivergence
from .fit import fit
from .history import History
from .metrics import accuracy, confusion_matrix, evaluate, first_misclassified, predict, predict_proba

__all__ = [
    "Callback",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "TerminateOnDivergence",
    "TrainingState",
    "accuracy",
    "confusion_matrix",
    "evaluate",
    "first_misclassified",
    "fit",
    "predict",
    "predict_proba",
]
