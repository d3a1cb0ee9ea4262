"""Names a derivation uses for its quantities: the library's (z1, a1, W1, b1) or a course's own.

The computation is always the library's (weights ``(in, out)``, ``z = x W + b``). A `Notation` only changes how
the values are named and laid out on display: e.g. section A's course writes ``a = alpha x`` with the bias folded
into column 0 of ``alpha`` (shape ``(out, 1 + in)``) and indexes entries as ``alpha_{j,m}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class LayerSymbols:
    """Symbols of one Dense layer and its activation: ``pre = W·in + bias``, ``act = f(pre)``."""

    pre: str
    act: str
    weight: str
    bias: str


@dataclass(frozen=True)
class Notation:
    """How a derivation names things.

    Attributes:
        input, target, prediction, loss: symbols of x, y, the network's prediction and the loss.
        layers: symbols per Dense layer (missing ones default to ``z{i}``, ``a{i}``, ``W{i}``, ``b{i}``; the last
            layer's activation is always called ``prediction``).
        fold_bias: show each weight as ``(out, 1 + in)`` with the bias as column 0 (courses' layout), entries
            indexed ``W_{j,m}`` with rows j from 1 and columns m from 0 (0 = bias).
        class_base: count classes from 0 (library) or 1 (courses).
        weight_names: optional per-layer arrays of entry names in the library's ``(in, out)`` layout (e.g.
            Mazur's ``w1``..``w8``); values are then also listed by these names.
        bias_names: optional per-layer sequences of bias entry names.
    """

    input: str = "x"
    target: str = "y"
    prediction: str = "y_hat"
    loss: str = "L"
    layers: tuple[LayerSymbols, ...] = ()
    fold_bias: bool = False
    class_base: int = 0
    weight_names: tuple[Any, ...] = ()
    bias_names: tuple[Any, ...] = ()

    def layer(self, i: int, n_layers: int) -> LayerSymbols:
        """Symbols of layer ``i`` (1-based) of ``n_layers``."""
        if i - 1 < len(self.layers):
            s = self.layers[i - 1]
        else:
            s = LayerSymbols(pre=f"z{i}", act=f"a{i}", weight=f"W{i}", bias=f"b{i}")
        if i == n_layers:
            s = LayerSymbols(s.pre, self.prediction, s.weight, s.bias)
        return s

    def d(self, symbol: str) -> str:
        """``dL/d<symbol>`` in this notation."""
        return f"d{self.loss}/d{symbol}"

    # -- layout of weights -----------------------------------------------------------------------------------
    def weight_display(self, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
        """``(in, out)`` weight (and bias) as displayed: folded ``(out, 1 + in)`` or unchanged."""
        if not self.fold_bias:
            return weight
        b = np.zeros(weight.shape[1]) if bias is None else bias
        return np.column_stack([b, weight.T])

    def weight_labels(self, weight: np.ndarray) -> tuple[list[str] | None, list[str] | None]:
        if not self.fold_bias:
            return None, None
        n_in, n_out = weight.shape
        return [str(j) for j in range(1, n_out + 1)], [str(m) for m in range(0, n_in + 1)]

    def weight_entries(
        self, i: int, symbol: str, weight: np.ndarray, bias: np.ndarray | None, prefix: str = "", suffix: str = ""
    ) -> dict[str, float] | None:
        """Entries by the course's names: ``{prefix}{W}_{j,m}{suffix}`` (folded) or by ``weight_names``."""
        entries: dict[str, float] = {}
        if self.fold_bias:
            folded = self.weight_display(weight, bias)
            for j in range(folded.shape[0]):
                for m in range(folded.shape[1]):
                    entries[f"{prefix}{symbol}_{{{j + 1},{m}}}{suffix}"] = float(folded[j, m])
            return entries
        names = self.weight_names[i - 1] if i - 1 < len(self.weight_names) else None
        if names is not None:
            for name, v in zip(np.asarray(names).reshape(-1), weight.reshape(-1), strict=True):
                entries[f"{prefix}{name}{suffix}"] = float(v)
        return entries or None

    def bias_entries(
        self, i: int, bias: np.ndarray | None, prefix: str = "", suffix: str = ""
    ) -> dict[str, float] | None:
        """Bias entries by ``bias_names`` (library layout only; folded biases are column 0 of the weight)."""
        names = self.bias_names[i - 1] if i - 1 < len(self.bias_names) else None
        if names is None or bias is None or self.fold_bias:
            return None
        return {f"{prefix}{name}{suffix}": float(v) for name, v in zip(_as_list(names), bias.reshape(-1), strict=True)}


def _as_list(names: Sequence[str] | np.ndarray) -> list[str]:
    return [str(n) for n in np.asarray(names).reshape(-1)]
