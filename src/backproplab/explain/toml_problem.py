"""User-defined networks to explain, from a TOML file, validated with pydantic.

```toml
title = "My 3-2-2 network"           # optional
sizes = [3, 2, 2]                    # input, hidden..., output
layout = "folded"                    # "folded": weights (out, 1 + in), bias in column 0 (as courses write it)
                                     # "in_out": weights (in, out) plus a `bias` per layer (the library's layout)
loss = "softmax_cross_entropy"       # softmax_cross_entropy | cross_entropy | binary_cross_entropy | mse | mse_full
input = [1.0, 0.5, -1.0]             # one example (or a list of examples)
target = 1                           # a class index (counted from `class_base`) or a target row [0.0, 1.0]
class_base = 0                       # 0 or 1
lr = 0.5                             # optional: show one SGD update

[[layers]]                           # one table per Dense layer, input side first
activation = "sigmoid"               # sigmoid | relu | tanh | elu | leaky_relu | identity | softmax, or one
weights = [[0.1, 0.2, 0.3, 0.4], [0.0, -0.1, 0.5, 0.2]]   # per unit: ["sigmoid", "tanh"] (no softmax)

[[layers]]
activation = "identity"              # logits for softmax_cross_entropy
weights = [[0.0, 1.0, -1.0], [0.5, 0.5, 0.5]]

[names]                              # optional symbols: input, target, prediction, loss
loss = "J"
```

`mse` is 1/2 sum_k (y_hat_k - y_k)^2 (the backprop courses' convention); `mse_full` drops the 1/2.
Every error names the key and the expected shape.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .._text import read_utf8
from ..errors import ConfigError
from ..nn import (
    ELU,
    MSE,
    BinaryCrossEntropy,
    CrossEntropy,
    Dense,
    Identity,
    LeakyReLU,
    Loss,
    PerUnitActivation,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    SoftmaxCrossEntropy,
    Tanh,
)
from ..nn.activations import Activation as NNActivation
from ..nn.module import Module
from .compute import explain
from .document import Derivation
from .notation import Notation

UNIT_ACTIVATIONS = ("sigmoid", "relu", "tanh", "elu", "leaky_relu", "identity")  # elementwise: one per unit allowed
ACTIVATIONS = (*UNIT_ACTIVATIONS, "softmax")
LossName = Literal["softmax_cross_entropy", "cross_entropy", "binary_cross_entropy", "mse", "mse_full"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class LayerSpec(_Strict):
    activation: str | list[str] = "sigmoid"
    weights: list[list[float]]
    bias: float | list[float] | None = None
    elu_alpha: float = Field(1.0, gt=0)
    leaky_slope: float = Field(0.01, ge=0)

    @field_validator("activation", mode="before")
    @classmethod
    def _known_activation(cls, value: Any) -> Any:
        if isinstance(value, list):
            if not value or any(a not in UNIT_ACTIVATIONS for a in value):
                raise ValueError(
                    f"a list gives each unit its own activation, each {_names(UNIT_ACTIVATIONS)}; got {value!r}"
                )
        elif value not in ACTIVATIONS:
            raise ValueError(f"expected {_names(ACTIVATIONS)}, or a list with one per unit; got {value!r}")
        return value


class NamesSpec(_Strict):
    input: str = "x"
    target: str = "y"
    prediction: str = "y_hat"
    loss: str = "L"


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(repr(n) for n in names[:-1]) + f" or {names[-1]!r}"


def _ordinal(i: int) -> str:
    n = i + 1
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"layers[{i}] (the {n}{suffix} [[layers]] table)"


def _matrix(rows: list[list[float]], key: str) -> np.ndarray:
    lengths = sorted({len(r) for r in rows})
    if not rows or len(lengths) != 1 or lengths[0] == 0:
        raise ValueError(
            f"{key}: expected a non-empty matrix (a list of equally long rows); "
            f"got row lengths {[len(r) for r in rows]}"
        )
    return np.asarray(rows, dtype=np.float64)


class ProblemSpec(_Strict):
    title: str = ""
    description: str = ""
    sizes: list[int] = Field(min_length=2)
    layout: Literal["folded", "in_out"]
    loss: LossName
    input: list[float] | list[list[float]]
    target: int | list[int | float] | list[list[float]]
    class_base: Literal[0, 1] = 0
    lr: float | None = Field(None, gt=0)
    layers: list[LayerSpec]
    names: NamesSpec = Field(default_factory=NamesSpec)

    @model_validator(mode="after")
    def _shapes(self) -> ProblemSpec:
        sizes = self.sizes
        if any(s < 1 for s in sizes):
            raise ValueError(f"sizes: every size must be >= 1; got {sizes}")
        if len(self.layers) != len(sizes) - 1:
            raise ValueError(
                f"layers: sizes {sizes} describe {len(sizes) - 1} Dense layer(s), so expected "
                f"{len(sizes) - 1} [[layers]] table(s); got {len(self.layers)}"
            )
        for i, (layer, n_in, n_out) in enumerate(zip(self.layers, sizes[:-1], sizes[1:], strict=True)):
            where = _ordinal(i)
            w = _matrix(layer.weights, f"{where}.weights")
            if self.layout == "folded":
                if w.shape != (n_out, n_in + 1):
                    raise ValueError(
                        f"{where}.weights: expected shape ({n_out}, {n_in + 1}) = (out, 1 + in) for "
                        f"{n_in} -> {n_out} units, bias in column 0 (layout = 'folded'); got {w.shape}"
                    )
                if layer.bias is not None:
                    raise ValueError(
                        f"{where}.bias: not used with layout = 'folded' (the bias is column 0 of "
                        "weights); remove it or set layout = 'in_out'"
                    )
            else:
                if w.shape != (n_in, n_out):
                    raise ValueError(
                        f"{where}.weights: expected shape ({n_in}, {n_out}) = (in, out) for "
                        f"{n_in} -> {n_out} units (layout = 'in_out'); got {w.shape}"
                    )
                if layer.bias is None:
                    raise ValueError(f"{where}.bias: required with layout = 'in_out': a number or {n_out} numbers")
                if isinstance(layer.bias, list) and len(layer.bias) != n_out:
                    raise ValueError(
                        f"{where}.bias: expected {n_out} numbers (one per unit) or one number; got {len(layer.bias)}"
                    )
            if isinstance(layer.activation, list) and len(layer.activation) != n_out:
                raise ValueError(
                    f"{where}.activation: a list gives one activation per unit, so expected {n_out} "
                    f"names for {n_out} units; got {len(layer.activation)}"
                )
            if i < len(self.layers) - 1 and layer.activation == "softmax":
                raise ValueError(f"{where}.activation: 'softmax' is only supported on the output layer")
        self._check_input_target()
        self._check_loss()
        return self

    def _check_input_target(self) -> None:
        n_in, k = self.sizes[0], self.sizes[-1]
        if self.input and isinstance(self.input[0], list):
            _matrix(self.input, "input")  # type: ignore[arg-type]  # rejects ragged batches
        if isinstance(self.target, list) and self.target and isinstance(self.target[0], list):
            _matrix(self.target, "target")  # type: ignore[arg-type]
        x = np.asarray(self.input, dtype=np.float64)
        if x.shape[-1] != n_in:
            raise ValueError(f"input: expected {n_in} numbers per example (sizes[0] = {n_in}); got shape {x.shape}")
        n = 1 if x.ndim == 1 else x.shape[0]
        classes = self._class_indices()
        if classes is None:
            t = np.asarray(self.target, dtype=np.float64)
            expected = (k,) if x.ndim == 1 else (n, k)
            if t.shape != expected:
                raise ValueError(
                    f"target: expected a class index or target values of shape {expected} "
                    f"(sizes[-1] = {k} outputs); got shape {t.shape}"
                )
            return
        if self.loss == "binary_cross_entropy":
            raise ValueError("target: binary_cross_entropy needs target values in [0, 1] per output, not class indices")
        if len(classes) != n:
            raise ValueError(f"target: {n} example(s) but {len(classes)} class index(es)")
        lo, hi = self.class_base, self.class_base + k - 1
        bad = [c for c in classes if not lo <= c <= hi]
        if bad:
            raise ValueError(
                f"target: class indices must be in {lo}..{hi} ({k} classes counted from class_base = "
                f"{self.class_base}); got {bad}"
            )

    def _check_loss(self) -> None:
        last = self.layers[-1].activation
        where = _ordinal(len(self.layers) - 1)
        if self.loss in ("softmax_cross_entropy", "binary_cross_entropy") and last != "identity":
            link = "softmax" if self.loss == "softmax_cross_entropy" else "sigmoid"
            alt = "cross_entropy (after activation = 'softmax')" if link == "softmax" else "mse"
            raise ValueError(
                f"{where}.activation: loss = '{self.loss}' applies the {link} itself and takes the "
                f"last layer's pre-activations; set activation = 'identity' (got '{last}') or use "
                f"loss = {alt}"
            )
        if self.loss == "cross_entropy" and last != "softmax":
            raise ValueError(
                f"{where}.activation: loss = 'cross_entropy' takes probabilities; set activation = "
                f"'softmax' (got '{last}') or use loss = 'softmax_cross_entropy' with 'identity'"
            )

    # -- building --------------------------------------------------------------------------------------------
    def model(self) -> Sequential:
        modules: list[Module] = []
        for layer, n_out in zip(self.layers, self.sizes[1:], strict=True):
            w = np.asarray(layer.weights, dtype=np.float64)
            if self.layout == "folded":
                weight, bias = w[:, 1:].T, w[:, 0]
            else:
                weight, bias = w, np.broadcast_to(np.asarray(layer.bias, dtype=np.float64), (n_out,))
            modules.append(Dense.from_arrays(weight, bias, dtype=np.float64))
            act = _activation(layer)
            if act is not None:
                modules.append(act)
        return Sequential(*modules)

    def loss_module(self) -> Loss:
        return {
            "softmax_cross_entropy": SoftmaxCrossEntropy,
            "cross_entropy": CrossEntropy,
            "binary_cross_entropy": BinaryCrossEntropy,
            "mse": lambda: MSE(half=True),
            "mse_full": lambda: MSE(half=False),
        }[self.loss]()

    def _class_indices(self) -> list[int] | None:
        """The target as class indices (an int, or a list of ints for a batch), or None for target rows.

        One example's list of K integers (e.g. [0, 1, 0]) is a target row, not K class indices.
        """
        if isinstance(self.target, int):
            return [self.target]
        n = 1 if np.ndim(self.input) == 1 else len(self.input)
        ints = all(isinstance(t, int) and not isinstance(t, bool) for t in self.target)
        if ints and (n > 1 or len(self.target) != self.sizes[-1]):
            return list(self.target)  # type: ignore[arg-type]
        return None

    def targets(self) -> Any:
        classes = self._class_indices()
        if classes is None:
            return np.asarray(self.target, dtype=np.float64)
        labels = np.asarray(classes, dtype=np.int64) - self.class_base
        return labels[0] if isinstance(self.target, int) else labels

    def notation(self) -> Notation:
        return Notation(
            input=self.names.input,
            target=self.names.target,
            prediction=self.names.prediction,
            loss=self.names.loss,
            fold_bias=self.layout == "folded",
            class_base=self.class_base,
        )


def _activation(layer: LayerSpec) -> Module | None:
    if isinstance(layer.activation, list):
        return PerUnitActivation([_unit_activation(name, layer) for name in layer.activation])
    return {
        "sigmoid": Sigmoid,
        "relu": ReLU,
        "tanh": Tanh,
        "identity": lambda: None,
        "softmax": Softmax,
        "elu": lambda: ELU(layer.elu_alpha),
        "leaky_relu": lambda: LeakyReLU(layer.leaky_slope),
    }[layer.activation]()


def _unit_activation(name: str, layer: LayerSpec) -> NNActivation:
    return {
        "sigmoid": Sigmoid,
        "relu": ReLU,
        "tanh": Tanh,
        "identity": Identity,
        "elu": lambda: ELU(layer.elu_alpha),
        "leaky_relu": lambda: LeakyReLU(layer.leaky_slope),
    }[name]()


def _messages(exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        loc = err["loc"]
        parts = []
        for i, p in enumerate(loc):
            if isinstance(p, int) and i > 0 and loc[i - 1] == "layers":
                parts[-1] = _ordinal(p)
            elif isinstance(p, int):
                parts[-1] = f"{parts[-1]}[{p}]"
            else:
                parts.append(str(p))
        key = ".".join(parts) or "(top level)"
        if err["type"] == "value_error":  # the model validator's messages name their key already
            message = err["msg"].removeprefix("Value error, ")
            lines.append(f"{key}: {message}" if loc else message)
        elif err["type"] == "extra_forbidden":
            lines.append(f"{key}: unknown key (see `backproplab explain --help` for the file format)")
        elif err["type"] == "missing":
            lines.append(f"{key}: required key is missing")
        elif err["type"] == "literal_error":
            lines.append(f"{key}: expected {err['ctx']['expected']}; got {err.get('input')!r}")
        else:
            lines.append(f"{key}: {err['msg']}; got {err.get('input')!r}")
    return list(dict.fromkeys(lines))


def parse_problem(data: dict[str, Any], source: str = "") -> ProblemSpec:
    """Validate a problem mapping; raise `ConfigError` naming every bad key."""
    try:
        return ProblemSpec.model_validate(data)
    except ValidationError as exc:
        where = f" in {source}" if source else ""
        raise ConfigError(f"invalid problem file{where}:\n  " + "\n  ".join(_messages(exc))) from None


def load_problem(path: str | Path) -> ProblemSpec:
    path = Path(path)
    try:
        data = tomllib.loads(read_utf8(path, "problem file", ConfigError))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    return parse_problem(data, str(path))


def build_from_spec(spec: ProblemSpec, name: str = "problem", lr: float | None = None) -> Derivation:
    """Explain ``spec`` (``lr`` overrides the file's learning rate)."""
    steps = explain(
        spec.model(),
        spec.loss_module(),
        spec.input,
        spec.targets(),
        lr=lr if lr is not None else spec.lr,
        notation=spec.notation(),
    )
    return steps.derivation(name, spec.title or f"{name}: forward and backward pass", spec.description)


def build_from_file(path: str | Path, lr: float | None = None) -> Derivation:
    return build_from_spec(load_problem(path), Path(path).stem, lr)
