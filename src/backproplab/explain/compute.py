"""`explain(model, loss, x, y, lr=None) -> Steps`: one training step through the library's own modules.

The model is copied and converted to float64 first, so the caller's model is never changed and the values are
exact to double precision. Every number comes from the modules' own ``forward``/``backward`` and from
`backproplab.optim.SGD`: the worked example is computed by the code that trains real networks.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ..nn.activations import Activation
from ..nn.dense import Dense
from ..nn.losses import BinaryCrossEntropy, Loss, SoftmaxCrossEntropy, one_hot
from ..nn.module import Module, Sequential
from ..nn.per_unit import PerUnitActivation
from ..nn.softmax import Softmax
from ..optim import SGD
from .notation import Notation
from .steps import LayerStep, Steps

FUSED = (SoftmaxCrossEntropy, BinaryCrossEntropy)


def _flatten(model: Module | list[Module] | tuple[Module, ...]) -> list[Module]:
    if isinstance(model, list | tuple):
        return [m for part in model for m in _flatten(part)]
    if isinstance(model, Sequential):
        return [m for layer in model.layers for m in _flatten(layer)]
    return [model]


def _group(modules: list[Module]) -> list[tuple[Dense, Module | None]]:
    """``[(Dense, activation or None), ...]``: each Dense with the single activation that follows it."""
    groups: list[tuple[Dense, Module | None]] = []
    for i, m in enumerate(modules):
        if isinstance(m, Dense):
            groups.append((m, None))
            continue
        if not isinstance(m, Activation | Softmax):
            raise TypeError(
                f"explain() handles Dense layers followed by activations (Sigmoid, ReLU, Tanh, ELU, LeakyReLU, "
                f"Identity, Softmax); module {i} is {type(m).__name__}"
                + (" (dropout is random: build the model without it to explain a step)" if m.kind == "dropout" else "")
            )
        if not groups:
            raise TypeError(f"explain() expects the model to start with a Dense layer; module 0 is {type(m).__name__}")
        dense, act = groups[-1]
        if act is not None:
            raise TypeError(
                f"explain() expects one activation per Dense layer; modules {i - 1} and {i} are "
                f"{type(act).__name__} and {type(m).__name__} after the same Dense layer"
            )
        groups[-1] = (dense, m)
    if not groups:
        raise TypeError("explain() needs a model with at least one Dense layer")
    return groups


def _as_batch(x: Any) -> tuple[np.ndarray, bool]:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        return arr[None, :], True
    if arr.ndim != 2:
        raise ValueError(f"explain(): x must be one example (D,) or a batch (N, D); got shape {arr.shape}")
    return arr, False


def _targets(
    y: Any, n: int, k: int, single: bool, labels_allowed: bool
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """``(what the loss gets, integer labels or None, target rows (N, K))``."""
    arr = np.asarray(y)
    # Integers are class labels, except one example's integer row of length K (a one-hot target like [0, 1, 0]).
    as_labels = (
        labels_allowed
        and np.issubdtype(arr.dtype, np.integer)
        and (arr.ndim == 0 or (arr.ndim == 1 and not (single and arr.size == k)))
    )
    if as_labels:
        labels = arr.reshape(-1).astype(np.int64)
        if labels.shape[0] != n:
            raise ValueError(f"explain(): {n} example(s) but {labels.shape[0]} label(s)")
        if labels.min() < 0 or labels.max() >= k:
            raise ValueError(f"explain(): class labels must be in [0, {k - 1}] for {k} outputs; got {labels.tolist()}")
        return labels, labels, one_hot(labels, k, np.float64)
    rows = np.asarray(y, dtype=np.float64)
    if rows.ndim == 1:
        rows = rows[None, :]
    if rows.shape != (n, k):
        raise ValueError(
            f"explain(): targets must be labels ({n},) or rows ({n}, {k}) matching the model's "
            f"{k} outputs; got shape {np.shape(y)}"
        )
    return rows, None, rows


def _activation_kind(act: Module | None) -> str:
    return "identity" if act is None else getattr(act, "kind", type(act).__name__.lower())


def _unit_kinds(act: Module | None) -> tuple[str, ...]:
    """Each unit's activation for a `PerUnitActivation`, else ``()`` (one activation for the whole layer)."""
    return act.kinds if isinstance(act, PerUnitActivation) else ()


def explain(
    model: Module | list[Module],
    loss: Loss,
    x: Any,
    y: Any,
    lr: float | None = None,
    *,
    notation: Notation | None = None,
) -> Steps:
    """Run one forward pass, loss, backward pass and (if ``lr``) one plain SGD step, recording every quantity.

    Args:
        model: a `Sequential` (or list) of `Dense` layers, each optionally followed by one activation
            (`Sigmoid`, `ReLU`, `Tanh`, `ELU`, `LeakyReLU`, `Identity`, `Softmax`, or a `PerUnitActivation`
            giving each unit its own). Not modified.
        loss: a `SoftmaxCrossEntropy` / `BinaryCrossEntropy` (fused: the last layer outputs logits),
            `CrossEntropy` (after a `Softmax` layer) or `MSE`.
        x: one example ``(D,)`` or a batch ``(N, D)``.
        y: class labels (an int, or ``(N,)`` ints) or target rows ``(K,)`` / ``(N, K)``.
        lr: learning rate of one SGD step ``W' = W - lr dL/dW``; ``None`` for no update.
        notation: names for the displayed quantities (default z1, a1, W1, b1, ..., y_hat, L).

    Returns:
        `Steps`, with every pre-activation, activation, gradient and (with ``lr``) updated weight.
    """
    if not isinstance(loss, Loss):
        raise TypeError(
            f"explain(): loss must be a backproplab Loss (e.g. SoftmaxCrossEntropy()); got {type(loss).__name__}"
        )
    work = copy.deepcopy(_flatten(model))
    for m in work:
        m.astype(np.float64)
    groups = _group(work)
    loss = copy.deepcopy(loss)
    fused = isinstance(loss, FUSED)
    last_kind = _activation_kind(groups[-1][1])
    if fused and last_kind in ("softmax", "sigmoid"):
        raise ValueError(
            f"{type(loss).__name__} applies the {'softmax' if last_kind == 'softmax' else 'sigmoid'} "
            f"itself and takes logits: remove the final {last_kind} layer (or use "
            f"{'CrossEntropy' if last_kind == 'softmax' else 'MSE'} on probabilities)"
        )

    xb, single = _as_batch(x)
    k = groups[-1][0].out_features
    loss_targets, labels, rows = _targets(
        y, xb.shape[0], k, single, labels_allowed=not isinstance(loss, BinaryCrossEntropy)
    )

    # Forward, caching (training mode) for the backward pass.
    inputs, pres, outs = [], [], []
    a = xb
    for dense, act in groups:
        inputs.append(a)
        z = dense.forward(a, training=True)
        a = act.forward(z, training=True) if act is not None else z
        pres.append(z.copy())
        outs.append(a.copy())
    value = loss.forward(a, loss_targets)

    # Backward: each module's own backward, last to first.
    grad = loss.backward()
    grad_outputs = grad.copy()
    grads_out, grads_pre, grads_in, grads_w, grads_b = [], [], [], [], []
    for dense, act in reversed(groups):
        grads_out.append(grad.copy())
        grad = act.backward(grad) if act is not None else grad
        grads_pre.append(grad.copy())
        grad = dense.backward(grad)
        grads_in.append(grad.copy())
        grads_w.append(dense.weight.grad.copy())
        grads_b.append(None if dense.bias is None else dense.bias.grad.copy())
    for lst in (grads_out, grads_pre, grads_in, grads_w, grads_b):
        lst.reverse()

    weights = [d.weight.value.copy() for d, _ in groups]
    biases = [None if d.bias is None else d.bias.value.copy() for d, _ in groups]
    prediction = loss.link(a)

    new_w: list[Any] = [None] * len(groups)
    new_b: list[Any] = [None] * len(groups)
    loss_after = None
    if lr is not None:
        params = [p for d, _ in groups for p in d.parameters()]
        SGD(params, lr=float(lr)).step()
        new_w = [d.weight.value.copy() for d, _ in groups]
        new_b = [None if d.bias is None else d.bias.value.copy() for d, _ in groups]
        out = xb
        for dense, act in groups:
            out = dense.forward(out)
            out = act.forward(out) if act is not None else out
        loss_after = loss.forward(out, loss_targets)

    layers = [
        LayerStep(
            index=i + 1,
            activation=_activation_kind(act),
            input=inputs[i],
            weight=weights[i],
            bias=biases[i],
            pre_activation=pres[i],
            output=outs[i],
            grad_output=grads_out[i],
            grad_pre_activation=grads_pre[i],
            grad_input=grads_in[i],
            grad_weight=grads_w[i],
            grad_bias=grads_b[i],
            new_weight=new_w[i],
            new_bias=new_b[i],
            unit_activations=_unit_kinds(act),
        )
        for i, (_, act) in enumerate(groups)
    ]
    return Steps(
        x=xb,
        targets=rows,
        labels=labels,
        layers=layers,
        outputs=a,
        prediction=prediction,
        loss=value,
        loss_kind=loss.kind,
        fused=fused,
        grad_outputs=grad_outputs,
        predicted_class=np.argmax(prediction, axis=1),
        lr=None if lr is None else float(lr),
        loss_after_update=loss_after,
        notation=notation or Notation(),
        single=single,
        loss_options={"half": getattr(loss, "half", True)},
    )
