"""`LayerTrainer`: mini-batch training of MLPs with BatchNorm, Dropout or a batch augmentation, which the
per-example kernels cannot train, through BLAS matrix products and compiled elementwise steps.

Each step is the NumPy engine's, operation for operation: [augment,] forward through every layer (Dense: one
``matmul`` into a kept buffer, plus the bias; BatchNorm, activation, Dropout: the kernels of `layer_kernels`,
which repeat the modules' arithmetic), the loss module's own forward and backward, backward through the
layers (the first one skips dL/dx), then the update (SGD: compiled, `step_row`, with the penalties; any other
optimizer: the regularizers' ``add_gradient`` and its own ``step``). It works on the model's own
``Parameter.value`` and ``.grad`` arrays, BatchNorm's running statistics, Dropout's generators and the
optimizer's state, so after an epoch the model, the optimizer and every generator are exactly where the NumPy
engine would leave them, and engines can be switched between epochs. What it saves is the NumPy engine's
temporaries and passes over memory: one pass per elementwise step, no allocation per step, and a fused update.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..nn.activations import ReLU
from ..nn.batchnorm import BatchNorm
from ..nn.dense import Dense
from ..nn.dropout import Dropout
from ..nn.losses import Loss
from ..nn.module import Module, Sequential
from ..nn.regularization import L1, L2, Regularizer
from ..optim.optimizer import Optimizer
from ..optim.sgd import SGD
from .kernel_args import SGDHyper, sgd_hyper
from .plan import ACTIVATION_CODES, SUPPORTED_DTYPES, penalty_codes

LAYER_TEXT = (
    "a Sequential of Dense, BatchNorm, Dropout and elementwise activation layers (Sigmoid, ReLU, "
    "LeakyReLU, ELU, Tanh, Identity); any loss; SGD (compiled update) or any other optimizer; L2/L1 "
    "regularizers; batch_size > 1; float32 or float64"
)


def _flatten(model: Module) -> list[Module]:
    if type(model) is Sequential:
        return [m for layer in model.layers for m in _flatten(layer)]
    return [model]


def layer_unsupported(
    model: Module, optimizer: Optimizer, regularizers: Sequence[Regularizer], batch_size: int, X: Any = None
) -> list[str]:
    """Everything that keeps `LayerTrainer` from training this run (empty: it can)."""
    reasons: list[str] = []
    layers = _flatten(model)
    for i, layer in enumerate(layers):
        if type(layer) not in (Dense, BatchNorm, Dropout) and type(layer) not in ACTIVATION_CODES:
            reasons.append(f"layer {i} is {type(layer).__name__} (supported: Dense, BatchNorm, Dropout, activations)")
    if not any(type(layer) is Dense for layer in layers):
        reasons.append("the model has no Dense layer")
    params = model.parameters()
    if any(not isinstance(p.value, np.ndarray) for p in params):
        reasons.append("parameters are not NumPy arrays")
    else:
        dtypes = {p.value.dtype for p in params}
        if len(dtypes) != 1 or next(iter(dtypes)) not in SUPPORTED_DTYPES:
            reasons.append(
                f"parameter dtypes are {sorted(str(d) for d in dtypes)} (supported: one of float32, float64)"
            )
        elif X is not None:
            xdt, pdt = np.asarray(X[:0]).dtype, next(iter(dtypes))
            if not np.issubdtype(xdt, np.floating):
                reasons.append(f"training X has dtype {xdt} (supported: floating point)")
            elif np.result_type(xdt, pdt) != pdt:
                reasons.append(f"training X is {xdt} but the parameters are {pdt}")
    if {id(p) for p in optimizer.params} != {id(p) for p in params} or len(optimizer.params) != len(params):
        reasons.append("the optimizer does not hold exactly the model's parameters")
    for r in regularizers:
        if type(r) not in (L1, L2):
            reasons.append(f"regularizer {type(r).__name__} (supported: L1, L2)")
    if int(batch_size) < 2:
        reasons.append(f"batch_size is {batch_size} (the layer trainer takes mini-batches of 2 or more rows)")
    return reasons


class LayerTrainer:
    """Runs epochs of one `fit` (see the module docstring); buffers are allocated once, for ``batch_size`` rows."""

    def __init__(
        self,
        model: Module,
        loss: Loss,
        optimizer: Optimizer,
        regularizers: Sequence[Regularizer],
        X: Any,
        y: Any,
        batch_size: int,
        augment: Callable[[Any, Any], tuple[Any, Any]] | None = None,
        threads: int = 1,
    ) -> None:
        import numba

        from . import layer_kernels  # numba is imported only when this engine actually runs

        self.k = layer_kernels
        # numba threads of the elementwise kernels (the same bits for any count). One by default: with two, numba's
        # workers and the BLAS's compete for the two cores at every step, 4-5x slower even on an idle machine
        # (docs/performance.md); the BLAS alone takes the second core for the products.
        most = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]  # set at import, not in the stubs
        self.threads = min(max(1, int(threads)), most)
        self.layers = _flatten(model)
        self.params = model.parameters()
        self.loss, self.optimizer, self.regularizers = loss, optimizer, list(regularizers)
        self.augment = augment
        self.dtype = dtype = self.params[0].value.dtype
        self.X = np.ascontiguousarray(X, dtype=dtype)
        self.y = np.asarray(y)
        self.batch_size = b = int(min(batch_size, len(self.X)))
        self.reg_code, self.reg_c = penalty_codes(self.regularizers, dtype)
        width = self.X.shape[1]
        self.out: list[np.ndarray] = []  # each layer's output (B, width)
        self.grad: list[np.ndarray] = []  # dL/d(each layer's input) (B, width of the input)
        self.work: list[dict[str, np.ndarray]] = []
        for layer in self.layers:
            w_in = width
            if isinstance(layer, Dense):
                width = layer.out_features
            work: dict[str, np.ndarray] = {}
            if isinstance(layer, BatchNorm):
                work = {
                    "mu": np.empty(width, dtype),
                    "var": np.empty(width, dtype),
                    "s": np.empty(width, dtype),
                    "x_hat": np.empty((b, width), dtype),
                }
            elif isinstance(layer, Dropout):
                work = {"draws": np.empty((b, width), np.float64), "mask": np.empty((b, width), dtype)}
            self.out.append(np.empty((b, width), dtype))
            self.grad.append(np.empty((b, w_in), dtype))
            self.work.append(work)
        self.batch = np.empty((b, self.X.shape[1]), dtype)
        # the batch loss of each step of the current pass
        self.losses = np.zeros(-(-len(self.X) // b), dtype=np.float64)

    @staticmethod
    def _code(activation: Module) -> int:
        """The kernels' code of an elementwise activation (`layer_unsupported` let only those through)."""
        return next(code for kind, code in ACTIVATION_CODES.items() if type(activation) is kind)

    def _par(self, activation: Module) -> Any:
        """The activation's parameter (LeakyReLU slope, ELU alpha) in the parameters' dtype, as the module uses it."""
        return self.dtype.type(getattr(activation, "slope", getattr(activation, "alpha", 0.0)))

    # -- one step ----------------------------------------------------------------------------------------------
    def _forward(self, xb: np.ndarray) -> np.ndarray:
        k, m = self.k, len(xb)
        a = xb
        self.inputs: list[np.ndarray] = []
        for layer, out, work in zip(self.layers, self.out, self.work, strict=True):
            self.inputs.append(a)
            o = out[:m]
            if isinstance(layer, Dense):
                np.matmul(a, layer.weight.value, out=o)
                if layer.bias is not None:
                    o += layer.bias.value
            elif isinstance(layer, BatchNorm):
                if m < 2:
                    layer.forward(a, training=True)  # raises the module's own error
                mo, dt = layer.momentum, self.dtype.type
                k.batchnorm_forward(
                    a,
                    layer.weight.value,
                    layer.bias.value,
                    layer.running_mean,
                    layer.running_var,
                    float(m),
                    dt(layer.eps),
                    dt(1.0 - mo),
                    dt(mo),
                    dt(mo * m / (m - 1)),
                    work["mu"],
                    work["var"],
                    work["s"],
                    work["x_hat"][:m],
                    o,
                    self.threads,
                )
            elif isinstance(layer, Dropout):
                if layer.p == 0.0:
                    o = a
                else:
                    keep = 1.0 - layer.p
                    draws = layer.rng.random(out=work["draws"][:m])
                    k.dropout_forward(
                        a, draws, keep, self.dtype.type(1.0) / self.dtype.type(keep), work["mask"][:m], o, self.threads
                    )
            elif isinstance(layer, ReLU):
                k.relu_forward(a, o, self.threads)
            else:
                from .shared_kernels import activate

                activate(a.reshape(-1), o.reshape(-1), 0, a.size, self._code(layer), self._par(layer))
            a = o
        return a

    def _backward(self, g: np.ndarray) -> None:
        k, m = self.k, len(g)
        for i in range(len(self.layers) - 1, -1, -1):
            layer, x, work, out = self.layers[i], self.inputs[i], self.work[i], self.grad[i][:m]
            need = i > 0
            if isinstance(layer, Dense):
                np.matmul(x.T, g, out=layer.weight.grad)
                if layer.bias is not None:
                    g.sum(axis=0, out=layer.bias.grad)
                if need:
                    np.matmul(g, layer.weight.value.T, out=out)
            elif isinstance(layer, BatchNorm):
                k.batchnorm_backward(
                    g,
                    layer.weight.value,
                    work["s"],
                    work["x_hat"][:m],
                    self.dtype.type(m),
                    layer.weight.grad,
                    layer.bias.grad,
                    need,
                    out,
                    self.threads,
                )
            elif isinstance(layer, Dropout):
                if layer.p == 0.0:
                    out = g
                else:
                    k.multiply(g, work["mask"][:m], out, self.threads)
            elif isinstance(layer, ReLU):
                k.relu_backward(g, x, out, self.threads)
            else:
                from .shared_kernels import activation_backward

                out[...] = g
                activation_backward(
                    x.reshape(-1),
                    self.out[i][:m].reshape(-1),
                    out.reshape(-1),
                    0,
                    out.size,
                    self._code(layer),
                    self._par(layer),
                )
            g = out

    def _update(self, hyper: SGDHyper | None, ready: list[bool]) -> None:
        opt = self.optimizer
        if hyper is None:  # not SGD: the optimizer's own step, as the NumPy engine takes it
            for reg in self.regularizers:
                reg.add_gradient(self.params)
            opt.step()
            return
        assert isinstance(opt, SGD)
        for i, p in enumerate(opt.params):
            w = p.value.reshape(1, -1) if p.value.ndim == 1 else p.value
            g = p.grad.reshape(w.shape)
            if opt.momentum:
                if opt.velocity[i] is None:
                    opt.velocity[i] = np.empty_like(p.value)
                v = opt.velocity[i].reshape(w.shape)
            else:
                v = w  # never read without momentum
            self.k.sgd_update(w, v, g, hyper, p.regularize, ready[i], min(self.threads, w.shape[0]))
            ready[i] = True
        opt.steps += 1

    # -- one epoch ---------------------------------------------------------------------------------------------
    def run_epoch(
        self,
        order: np.ndarray | None,
        chunk: int | None = None,
        on_chunk: Callable[[int, float], None] | None = None,
        *,
        start: int = 0,
        total: float = 0.0,
        should_stop: Callable[[], Any] | None = None,
        stop: int | None = None,
    ) -> tuple[float, int, int | None, int | None]:
        """Steps ``start, start + 1, ...`` (up to ``stop``, default the whole pass) of one pass over the data in
        ``order`` (None: file order) at the optimizer's current ``lr``, in chunks of ``chunk`` steps; step t's batch
        loss is written to ``self.losses[t]``. Returns ``(loss_sum, steps, bad, stopped)`` exactly like
        `FastTrainer.run_epoch` (``bad``: the 1-based step whose loss was NaN or infinite, where training stopped
        before that step's update; ``stopped``: the step at which ``should_stop()`` ended the pass before a chunk)."""
        import numba

        threads_before = numba.get_num_threads()
        numba.set_num_threads(self.threads)
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                return self._epoch(order, chunk, on_chunk, int(start), float(total), should_stop, stop)
        finally:
            numba.set_num_threads(threads_before)

    def _epoch(
        self,
        order: np.ndarray | None,
        chunk: int | None,
        on_chunk: Callable[[int, float], None] | None,
        start: int,
        total: float,
        should_stop: Callable[[], Any] | None,
        stop: int | None,
    ) -> tuple[float, int, int | None, int | None]:
        n, b = len(self.X) if order is None else len(order), self.batch_size
        steps = -(-n // b)
        if stop is not None:
            steps = min(steps, int(stop))
        if steps > len(self.losses):
            self.losses = np.zeros(steps, dtype=np.float64)
        chunk = steps if not chunk or chunk < 1 else int(chunk)
        opt = self.optimizer
        hyper = sgd_hyper(opt, self.reg_code, self.reg_c, self.dtype) if type(opt) is SGD else None
        ready = [v is not None for v in opt.velocity] if isinstance(opt, SGD) else []
        chunk_total, taken = 0.0, 0
        for step in range(start, steps):
            if (step - start) % chunk == 0:
                if should_stop is not None and should_stop():
                    return total, taken, None, step
            s = step * b
            if order is None:
                xb, yb = self.X[s : s + b], self.y[s : s + b]
            else:
                idx = order[s : s + b]
                xb = np.take(self.X, idx, axis=0, out=self.batch[: len(idx)])
                yb = self.y[idx]
            if self.augment is not None:
                xb, yb = self.augment(xb, yb)
            value = self.loss.forward(self._forward(xb), yb)
            self.losses[step] = value
            if not math.isfinite(value):
                return total, taken, step + 1, None
            total += value
            chunk_total += value
            self._backward(self.loss.backward())
            self._update(hyper, ready)
            taken += 1
            if on_chunk is not None and (step + 1 - start) % chunk == 0:
                on_chunk(chunk, chunk_total / chunk)
                chunk_total = 0.0
        return total, taken, None, None
