"""`Module`, the forward/backward contract every layer follows, and `Sequential`.

Contract (cs231n-style forward/backward with a cache):
- ``forward(x, training=False)`` maps a batch ``x`` of shape ``(N, ...)`` to outputs. With ``training=True`` it
  also caches what ``backward`` needs; with ``training=False`` it caches nothing (evaluation is lean).
- ``backward(grad_out, need_input_grad=True)`` takes dL/d(output) of the last training-mode forward,
  *overwrites* ``.grad`` of every parameter it owns with dL/d(parameter) and returns dL/d(input), or None when
  ``need_input_grad`` is False (the first layer of a training step: nobody needs dL/dx, and for `Dense` it is a
  whole matrix product). It never divides by the batch size: the loss already did, once.

The same code runs on every backend (`backproplab.backend`): ``model.to("torch", device="cuda")`` moves the
parameters, and each module computes with the namespace of the arrays it is given.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from .._xp import namespace, xp_dtype
from ..backend import NUMPY, Placement, move, placement_of, resolve
from ..errors import ShapeError
from .parameter import Parameter


class Module:
    """Base class of layers and containers.

    ``buffer_names`` lists arrays that are state but not trained (e.g. BatchNorm's running statistics): they are
    saved, restored, moved (`to`) and converted (`astype`) with the parameters, and never touched by an optimizer.
    """

    _placement = NUMPY  # where a module without parameters was last moved (`to`)
    buffer_names: tuple[str, ...] = ()

    def forward(self, x: Any, training: bool = False) -> Any:
        raise NotImplementedError

    def backward(self, grad_out: Any, need_input_grad: bool = True) -> Any:
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
        """Copies of every parameter value and buffer, keyed by dotted name (on the model's backend and device)."""
        state = {name: namespace(p.value).asarray(p.value, copy=True) for name, p in self.named_parameters()}
        state.update((name, namespace(b).asarray(b, copy=True)) for name, b in self.named_buffers())
        return state

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None:
        """Copy values from ``state`` into the parameters and buffers (shapes must match; dtype, backend and
        device are converted, so a NumPy state loads into a torch model and back)."""
        params: dict[str, Any] = dict(self.named_parameters())
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
            p = params[name]
            if tuple(value.shape) != tuple(p.shape):
                raise ShapeError(
                    f"state_dict['{name}'] has shape {tuple(value.shape)}, but the model's array has "
                    f"shape {tuple(p.shape)}"
                )
            if isinstance(p, Parameter):
                p.assign(value)
            else:  # a buffer, written in place
                p[...] = move(value, placement_of(p), p.dtype)

    # -- backend --------------------------------------------------------------------------------------------
    def to(self, backend: str, device: str | None = None) -> Module:
        """Move every parameter (value and grad) to ``backend`` (``"numpy"`` or ``"torch"``) on ``device``
        (``"cpu"``, ``"cuda"``, ``"cuda:N"``, or ``"auto"``/None: CUDA when available). Returns self.

        Build the optimizer after moving: an optimizer's state stays where it was created. Raises
        `BackendError` when torch or the device is missing.
        """
        placement = resolve(backend, device)
        for p in self.parameters():
            p.to(placement)
        for m in self.modules():
            m._placement = placement
            for name in m.buffer_names:
                buffer = getattr(m, name)
                if placement_of(buffer) != placement:
                    setattr(m, name, move(buffer, placement, copy=True))
        return self

    @property
    def placement(self) -> Placement:
        """Where the parameters live (a module without parameters: where it was last moved)."""
        params = self.parameters()
        return placement_of(params[0].value) if params else self._placement

    @property
    def backend(self) -> str:
        """``"numpy"`` or ``"torch"``."""
        return self.placement.backend

    @property
    def device(self) -> str:
        """``"cpu"``, or ``"cuda:N"`` for a torch model on a GPU."""
        return self.placement.device

    def astype(self, dtype: Any) -> Module:
        """Convert every parameter to ``dtype`` (e.g. ``np.float64`` for gradient checks). Returns self."""
        for p in self.parameters():
            p.astype(dtype)
        for m in self.modules():
            for name in m.buffer_names:
                buffer = getattr(m, name)
                xp = namespace(buffer)
                setattr(m, name, xp.astype(buffer, xp_dtype(xp, dtype)))
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

    def backward(self, grad_out: Any, need_input_grad: bool = True) -> Any:
        """Backward through the layers in reverse; the first layer gets ``need_input_grad``."""
        layers = self.layers
        for i in range(len(layers) - 1, 0, -1):
            grad_out = layers[i].backward(grad_out)
        return layers[0].backward(grad_out, need_input_grad) if layers else grad_out

    def __getitem__(self, index: int) -> Module:
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def __repr__(self) -> str:
        inner = "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"
