"""What the fast engine can train, and the packed layout it trains on.

`unsupported` lists, in words, everything about a run the compiled kernel cannot do (an empty list means it
can). `Plan` maps a supported model to flat arrays (`kernel_args.Network`): ``pack`` copies the
model's parameters and the optimizer's momentum into them before an epoch, ``unpack`` writes them back into
the same ``Parameter.value`` arrays and ``SGD.velocity`` entries afterwards, so the model and
``SGD.state_dict()`` are exactly what the NumPy engine would leave, and engines can be switched between epochs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..nn.activations import ELU, Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from ..nn.dense import Dense
from ..nn.losses import MSE, Loss, SoftmaxCrossEntropy
from ..nn.module import Module, Sequential
from ..nn.regularization import L1, L2, Regularizer
from ..optim.optimizer import Optimizer
from ..optim.sgd import SGD
from .aligned import aligned_zeros, line_multiple
from .codes import (
    ACT_ELU,
    ACT_IDENTITY,
    ACT_LEAKY_RELU,
    ACT_RELU,
    ACT_SIGMOID,
    ACT_TANH,
    LOSS_MSE,
    LOSS_SOFTMAX_CE,
    REG_L1,
    REG_L2,
)
from .kernel_args import LossSpec, Network

ACTIVATION_CODES = {
    Identity: ACT_IDENTITY,
    Sigmoid: ACT_SIGMOID,
    Tanh: ACT_TANH,
    ReLU: ACT_RELU,
    LeakyReLU: ACT_LEAKY_RELU,
    ELU: ACT_ELU,
}
LOSS_CODES = {SoftmaxCrossEntropy: LOSS_SOFTMAX_CE, MSE: LOSS_MSE}
SUPPORTED_DTYPES = (np.float32, np.float64)

SUPPORTED_TEXT = (
    "a Sequential of Dense layers, each optionally followed by one of Sigmoid, ReLU, LeakyReLU, "
    "ELU, Tanh, Identity; loss SoftmaxCrossEntropy or MSE; optimizer SGD (momentum, nesterov, "
    "weight_decay, schedules); L2/L1 regularizers; any batch_size; float32 or float64"
)


def _flatten(model: Module) -> list[Module]:
    if isinstance(model, Sequential) and type(model) is Sequential:
        return [m for layer in model.layers for m in _flatten(layer)]
    return [model]


def _blocks(model: Module) -> tuple[list[tuple[Dense, Module | None]], list[str]]:
    """``[(dense, activation or None), ...]`` and the reasons the layer sequence is unsupported."""
    blocks: list[tuple[Dense, Module | None]] = []
    reasons: list[str] = []
    for i, layer in enumerate(_flatten(model)):
        if type(layer) is Dense:
            blocks.append((layer, None))
        elif type(layer) in ACTIVATION_CODES:
            if not blocks:
                reasons.append(f"layer {i} ({type(layer).__name__}) comes before the first Dense layer")
            elif blocks[-1][1] is not None:
                reasons.append(f"layer {i} ({type(layer).__name__}) is a second activation after one Dense layer")
            else:
                blocks[-1] = (blocks[-1][0], layer)
        else:
            reasons.append(f"layer {i} is {type(layer).__name__} (supported: Dense and elementwise activations)")
    if not blocks and not reasons:
        reasons.append("the model has no Dense layer")
    return blocks, reasons


def unsupported(
    model: Module,
    loss: Loss,
    optimizer: Optimizer,
    regularizers: Sequence[Regularizer],
    batch_size: int,
    X: Any = None,
    y: Any = None,
) -> list[str]:
    """Everything that keeps the fast engine from training this run (empty: it can)."""
    reasons: list[str] = []
    if not isinstance(model, Sequential | Dense):
        reasons.append(f"model is {type(model).__name__} (supported: a Sequential of Dense layers and activations)")
        blocks: list[tuple[Dense, Module | None]] = []
    else:
        blocks, why = _blocks(model)
        reasons += why
    params = model.parameters()
    dtypes = {p.value.dtype for p in params if isinstance(p.value, np.ndarray)}
    if any(not isinstance(p.value, np.ndarray) for p in params):
        reasons.append("parameters are not NumPy arrays")
    elif len(dtypes) > 1:
        reasons.append(f"parameters mix dtypes {sorted(str(d) for d in dtypes)}")
    elif dtypes and next(iter(dtypes)) not in SUPPORTED_DTYPES:
        reasons.append(f"parameter dtype is {next(iter(dtypes))} (supported: float32, float64)")
    for dense, _ in blocks:
        if not dense.weight.regularize or (dense.bias is not None and dense.bias.regularize):
            reasons.append("a Dense layer's weight/bias penalty flags differ from the defaults (weights only)")
            break
    if type(loss) not in LOSS_CODES:
        reasons.append(f"loss is {type(loss).__name__} (supported: SoftmaxCrossEntropy, MSE)")
    if type(optimizer) is not SGD:
        reasons.append(f"optimizer is {type(optimizer).__name__} (supported: SGD)")
    elif {id(p) for p in optimizer.params} != {id(p) for p in params} or len(optimizer.params) != len(params):
        reasons.append("the optimizer does not hold exactly the model's parameters")
    for r in regularizers:
        if type(r) not in (L1, L2):
            reasons.append(f"regularizer {type(r).__name__} (supported: L1, L2)")
    if int(batch_size) < 1:
        reasons.append(f"batch_size is {batch_size} (expected a positive integer)")
    if X is not None:
        xdt = np.asarray(X[:0]).dtype
        if not np.issubdtype(xdt, np.floating):
            reasons.append(f"training X has dtype {xdt} (supported: floating point)")
        elif dtypes and len(dtypes) == 1 and np.result_type(xdt, next(iter(dtypes))) != next(iter(dtypes)):
            reasons.append(f"training X is {xdt} but the parameters are {next(iter(dtypes))}")
    if y is not None:
        yarr = np.asarray(y[:0])
        if yarr.ndim == 2 and dtypes and yarr.dtype not in dtypes:
            reasons.append(f"target rows are {yarr.dtype} but the parameters are {next(iter(dtypes))}")
        elif yarr.ndim == 1 and not np.issubdtype(yarr.dtype, np.integer):
            reasons.append(f"1-D targets have dtype {yarr.dtype} (expected integer labels)")
        elif yarr.ndim not in (1, 2):
            reasons.append(f"targets have {yarr.ndim} dimensions (expected labels (N,) or rows (N, K))")
    return reasons


@dataclass
class Plan:
    """The packed layout of one model (build it with `Plan.build` after `unsupported` returned nothing).

    With ``transpose_later`` (the batch-size-1 kernel's layout) the weights of every layer after the first are
    stored transposed, ``(out, in)``: that kernel's dot products and dL/dx then run along contiguous rows.
    """

    dense: list[Dense]
    dtype: Any
    act: np.ndarray
    act_par: np.ndarray
    n_in: np.ndarray
    n_out: np.ndarray
    has_bias: np.ndarray
    w_off: np.ndarray
    b_off: np.ndarray
    a_off: np.ndarray
    theta: np.ndarray
    vel: np.ndarray
    vel_ready: np.ndarray
    loss_code: int
    mse_c: float
    mse_gc: float
    transpose_later: bool = False

    @classmethod
    def build(cls, model: Module, loss: Loss, *, transpose_later: bool = False) -> Plan:
        blocks, reasons = _blocks(model)
        if reasons:
            raise ValueError("; ".join(reasons))
        dtype = blocks[0][0].weight.value.dtype
        num = len(blocks)
        n_in = np.array([d.in_features for d, _ in blocks], dtype=np.int64)
        n_out = np.array([d.out_features for d, _ in blocks], dtype=np.int64)
        has_bias = np.array([d.bias is not None for d, _ in blocks], dtype=np.bool_)
        w_off = np.zeros(num, dtype=np.int64)
        b_off = np.zeros(num, dtype=np.int64)
        pos = 0  # every weight matrix and bias vector starts on a cache line (`aligned`)
        for i in range(num):
            w_off[i] = pos
            pos += line_multiple(n_in[i] * n_out[i], dtype)
            b_off[i] = pos
            pos += line_multiple(n_out[i], dtype) if has_bias[i] else 0
        a_off = np.concatenate([[0], np.cumsum(n_out)]).astype(np.int64)
        act = np.array(
            [ACTIVATION_CODES[type(a)] if a is not None else ACT_IDENTITY for _, a in blocks], dtype=np.int64
        )
        par = [getattr(a, "slope", getattr(a, "alpha", 0.0)) if a is not None else 0.0 for _, a in blocks]
        half = getattr(loss, "half", True)
        return cls(
            dense=[d for d, _ in blocks],
            dtype=dtype,
            act=act,
            act_par=np.array(par, dtype=dtype),
            n_in=n_in,
            n_out=n_out,
            has_bias=has_bias,
            w_off=w_off,
            b_off=b_off,
            a_off=a_off,
            theta=aligned_zeros(pos, dtype),
            vel=aligned_zeros(pos, dtype),
            vel_ready=np.zeros(2 * num, dtype=np.uint8),
            loss_code=LOSS_CODES[type(loss)],
            mse_c=0.5 if half else 1.0,
            mse_gc=1.0 if half else 2.0,
            transpose_later=transpose_later,
        )

    def _slots(self) -> list[tuple[Any, int, tuple[int, ...], bool]]:
        """``(parameter or None, offset, stored shape, transposed)`` for weight and bias of each layer (slots 2l
        and 2l + 1)."""
        out: list[tuple[Any, int, tuple[int, ...], bool]] = []
        for i, d in enumerate(self.dense):
            n_in, n_out = int(self.n_in[i]), int(self.n_out[i])
            if self.transpose_later and i > 0:
                out.append((d.weight, int(self.w_off[i]), (n_out, n_in), True))
            else:
                out.append((d.weight, int(self.w_off[i]), (n_in, n_out), False))
            out.append((d.bias, int(self.b_off[i]), (n_out,), False))
        return out

    @staticmethod
    def _view(flat: np.ndarray, offset: int, shape: tuple[int, ...], transposed: bool) -> np.ndarray:
        """The parameter-shaped view of its stored block (a transposed view of a transposed block)."""
        view = flat[offset : offset + int(np.prod(shape))].reshape(shape)
        return view.T if transposed else view

    def pack(self, optimizer: SGD) -> None:
        """Copy parameter values and momentum (if any) from the model and optimizer into the packed arrays."""
        index = {id(p): i for i, p in enumerate(optimizer.params)}
        for slot, (p, offset, shape, transposed) in enumerate(self._slots()):
            if p is None:
                continue
            self._view(self.theta, offset, shape, transposed)[...] = p.value
            v = optimizer.velocity[index[id(p)]] if optimizer.momentum else None
            self.vel_ready[slot] = v is not None
            if v is not None:
                self._view(self.vel, offset, shape, transposed)[...] = v

    def unpack(self, optimizer: SGD) -> None:
        """Write the packed values back into the same ``Parameter.value`` arrays and the optimizer's velocity."""
        index = {id(p): i for i, p in enumerate(optimizer.params)}
        for slot, (p, offset, shape, transposed) in enumerate(self._slots()):
            if p is None:
                continue
            p.value[...] = self._view(self.theta, offset, shape, transposed)
            if optimizer.momentum and self.vel_ready[slot]:
                optimizer.velocity[index[id(p)]] = self._view(self.vel, offset, shape, transposed).copy()

    def network(self) -> Network:
        """The packed arrays as the kernels take them (views of this plan's arrays, not copies)."""
        return Network(
            theta=self.theta,
            vel=self.vel,
            vel_ready=self.vel_ready,
            n_in=self.n_in,
            n_out=self.n_out,
            has_bias=self.has_bias,
            w_off=self.w_off,
            b_off=self.b_off,
            a_off=self.a_off,
            act=self.act,
            act_par=self.act_par,
        )

    def loss_spec(self) -> LossSpec:
        """The loss code and MSE's factors in the parameters' dtype."""
        dt = np.dtype(self.dtype).type
        return LossSpec(code=self.loss_code, mse_c=dt(self.mse_c), mse_gc=dt(self.mse_gc))


def penalty_codes(regularizers: Sequence[Regularizer], dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """Codes and gradient coefficients: L2 -> c = strength (half) or 2 strength; L1 -> c = strength."""
    codes, coef = [], []
    for r in regularizers:
        if isinstance(r, L2):
            codes.append(REG_L2)
            coef.append(r.strength if r.half else 2.0 * r.strength)
        else:
            codes.append(REG_L1)
            coef.append(r.strength)
    return np.array(codes, dtype=np.int64), np.array(coef, dtype=dtype)
