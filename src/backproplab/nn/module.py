"""`Module`, the forward/backward contract every layer follows, and `Sequential`.

Contract (cs231n-style forward/backward with a cache):
- ``forward(x, training=False)`` maps a batch ``x`` of shape ``(N, ...)`` to outputs. With ``training=True`` it
  also caches what ``backward`` needs; with ``training=False`` it caches nothing (evaluation is lean).
- ``backward(grad_out)`` takes dL/d(output) of the last training-mode forward, *overwrites* ``.grad`` of every
  parameter it owns with dL/d(parameter) and returns dL/d(input). It never divides by the batch size: the loss
  already did, once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from ..errors import ShapeError
from .parameter import Parameter


class Module:
    """Base class of layers and containers.

    Modules whose ``backward`` takes ``need_input_grad=False`` (skip computing dL/dx, e.g. for the first
    layer during training, where nobody needs it) say so with ``accepts_need_input_grad = True``.
    """

    accepts_need_input_grad = False
    # Arrays that are state but not trained (e.g. BatchNorm's running statistics): saved, restored and
    # converted with the parameters, never touched by an optimizer.
    buffer_names: tuple[str, ...] = ()

    def forward(self, x: Any, training: bool = False) -> Any:
        raise NotImplementedError

    def backward(self, grad_out: Any) -> Any:
        raise NotImplementedError

    def __call__(self, x: Any, training: bool = False) -> Any:
        return self.forward(x, training=training)

    # -- parameters ---------------------------------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Yield ``(dotted_name, parameter)`` pairs, e.g. ``("0.weight", p)`` inside a `Sequential`."""
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value
        for name, child in self.named_children():
            yield from child.named_parameters(prefix + name + ".")

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Any]]:
        """Yield ``(dotted_name, array)`` for every buffer, e.g. ``("1.running_mean", a)``."""
        for name in self.buffer_names:
            yield prefix + name, getattr(self, name)
        for name, child in self.named_children():
            yield from child.named_buffers(prefix + name + ".")

    def modules(self) -> Iterator[Module]:
        """This module and every module below it, depth first."""
        yield self
        for _, child in self.named_children():
            yield from child.modules()

    # -- state ----------------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Copies of every parameter value and buffer, keyed by dotted name."""
        state = {name: p.value.copy() for name, p in self.named_parameters()}
        state.update((name, b.copy()) for name, b in self.named_buffers())
        return state

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None:
        """Copy values from ``state`` into the parameters and buffers (shapes must match; dtype is converted)."""
        params: dict[str, Any] = {name: p.value for name, p in self.named_parameters()}
        params.update(self.named_buffers())
        if strict:
            missing = sorted(set(params) - set(state))
            unexpected = sorted(set(state) - set(params))
            if missing or unexpected:
                raise KeyError(
                    f"state_dict does not match the model: missing {missing or 'none'}, "
                    f"unexpected {unexpected or 'none'}; the model has {sorted(params)}"
                )
        for name, value in state.items():
            if name not in params:
                continue
            target = params[name]
            if tuple(value.shape) != tuple(target.shape):
                raise ShapeError(
                    f"state_dict['{name}'] has shape {tuple(value.shape)}, but the model's array has "
                    f"shape {tuple(target.shape)}"
                )
            target[...] = value

    def astype(self, dtype: Any) -> Module:
        """Convert every parameter to ``dtype`` (e.g. ``np.float64`` for gradient checks). Returns self."""
        for p in self.parameters():
            p.astype(dtype)
        for m in self.modules():
            m._on_dtype_change(dtype)
        return self

    def _on_dtype_change(self, dtype: Any) -> None:
        """Hook for modules that keep dtype-specific buffers."""

    @property
    def dtype(self) -> Any:
        params = self.parameters()
        return params[0].dtype if params else None

    def num_parameters(self) -> int:
        return int(sum(np.prod(p.shape) for p in self.parameters()))

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    @staticmethod
    def _missing_cache(owner: Module) -> RuntimeError:
        return RuntimeError(
            f"{type(owner).__name__}.backward() needs the cache of a training-mode forward: "
            "call forward(x, training=True) first"
        )


class Sequential(Module):
    """Modules applied in order; parameters are named ``"<index>.<name>"`` (``"0.weight"``, ``"2.bias"``)."""

    def __init__(self, *layers: Module) -> None:
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential layer {i} must be a Module, got {type(layer).__name__}")
        self.layers = list(layers)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for i, layer in enumerate(self.layers):
            yield str(i), layer

    def forward(self, x: Any, training: bool = False) -> Any:
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    accepts_need_input_grad = True

    def backward(self, grad_out: Any, need_input_grad: bool = True) -> Any:
        """Backward through the layers in reverse. With ``need_input_grad=False`` the first layer may skip
        dL/dx (the parameter gradients are the same) and None may be returned: what `fit` asks for."""
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            if i == 0 and not need_input_grad and layer.accepts_need_input_grad:
                return layer.backward(grad_out, need_input_grad=False)
            grad_out = layer.backward(grad_out)
        return grad_out

    def __getitem__(self, index: int) -> Module:
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def __repr__(self) -> str:
        inner = "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"
