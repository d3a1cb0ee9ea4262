"""`BatchNorm`: batch normalisation of each feature (Ioffe & Szegedy, 2015), with running statistics."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._xp import namespace
from ..errors import ShapeError
from .module import Module
from .parameter import Parameter


class BatchNorm(Module):
    """Normalise each of ``features`` columns over the batch, then scale and shift.

    Shapes: x ``(N, D)``, gamma ``weight`` ``(D,)``, beta ``bias`` ``(D,)``, y ``(N, D)``.

    Training: mu = mean_n x, var = mean_n (x - mu)^2 (biased), s = 1 / sqrt(var + eps),
    x_hat = (x - mu) s, y = gamma x_hat + beta; the running statistics move towards the batch's:
    running_mean = (1 - momentum) running_mean + momentum mu and running_var likewise with the *unbiased*
    variance var N / (N - 1) (PyTorch's ``BatchNorm1d`` conventions, so weights carry over).
    Evaluation: y = gamma (x - running_mean) / sqrt(running_var + eps) + beta.

    Backward, given G = dL/dy: dL/dbeta = sum_n G, dL/dgamma = sum_n G x_hat,
    dL/dx = gamma s (G - dL/dbeta / N - x_hat dL/dgamma / N) (the batch statistics depend on x too).
    gamma and beta are not weight-penalised (``regularize=False``), like biases.

    One code path for every backend (``xp = namespace(x)``); the running statistics are module buffers, moved
    by ``model.to(...)`` and saved with the model.
    """

    buffer_names = ("running_mean", "running_var")

    def __init__(self, features: int, *, momentum: float = 0.1, eps: float = 1e-5, dtype: Any = np.float32) -> None:
        if int(features) < 1:
            raise ValueError(f"BatchNorm needs a positive number of features; got {features}")
        if not 0.0 <= float(momentum) <= 1.0:
            raise ValueError(f"BatchNorm momentum must be in [0, 1]; got {momentum}")
        if not float(eps) > 0.0:
            raise ValueError(f"BatchNorm eps must be > 0; got {eps}")
        self.features = int(features)
        self.momentum = float(momentum)
        self.eps = float(eps)
        self.weight = Parameter(np.ones(self.features, dtype=dtype), name="weight", regularize=False)
        self.bias = Parameter(np.zeros(self.features, dtype=dtype), name="bias", regularize=False)
        self.running_mean: Any = np.zeros(self.features, dtype=dtype)
        self.running_var: Any = np.ones(self.features, dtype=dtype)
        self._cache: Any = None

    def forward(self, x: Any, training: bool = False) -> Any:
        if x.ndim != 2 or x.shape[1] != self.features:
            raise ShapeError(
                f"BatchNorm({self.features}) expects input of shape (N, {self.features}); got {tuple(x.shape)}"
            )
        xp = namespace(x)
        gamma, beta = self.weight.value, self.bias.value
        if not training:
            scale = gamma / xp.sqrt(self.running_var + self.eps)
            return (x - self.running_mean) * scale + beta
        n = x.shape[0]
        if n < 2:
            raise ValueError(
                f"BatchNorm needs at least 2 rows per training batch to estimate a variance; got {n} "
                "(an epoch's last batch holds N mod batch_size rows: pick a batch size that leaves "
                "none or more than one)"
            )
        mu = xp.mean(x, axis=0)
        xc = x - mu
        var = xp.mean(xc * xc, axis=0)
        s = 1.0 / xp.sqrt(var + self.eps)
        x_hat = xc * s
        m = self.momentum
        self.running_mean *= 1.0 - m
        self.running_mean += m * mu
        self.running_var *= 1.0 - m
        self.running_var += (m * n / (n - 1)) * var
        self._cache = (x_hat, s)
        return x_hat * gamma + beta

    def backward(self, grad_out: Any, need_input_grad: bool = True) -> Any:
        """Writes dL/dgamma and dL/dbeta into the parameters' ``grad``; returns dL/dx (None if not
        ``need_input_grad``)."""
        if self._cache is None:
            raise self._missing_cache(self)
        x_hat, s = self._cache
        xp = namespace(grad_out)
        dbeta = xp.sum(grad_out, axis=0, out=self.bias.grad)
        dgamma = xp.sum(grad_out * x_hat, axis=0, out=self.weight.grad)
        if not need_input_grad:
            return None
        n = grad_out.shape[0]
        return (self.weight.value * s) * (grad_out - dbeta / n - x_hat * (dgamma / n))

    def _on_dtype_change(self, dtype: Any) -> None:
        self._cache = None  # the buffers are converted by Module.astype

    def extra_repr(self) -> str:
        return f"{self.features}, momentum={self.momentum}, eps={self.eps}"
