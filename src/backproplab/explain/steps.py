"""`Steps`: every quantity of one forward pass, backward pass and (optionally) SGD step, as data.

Arrays are batch-first in the library's layout: inputs ``(N, D)``, weights ``(in, out)``, biases ``(out,)``.
`Steps.derivation` turns them into a `Derivation` (named by a `Notation`) for display.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .document import Derivation, Section
from .notation import Notation

# f(pre) as written, and f'(pre) in terms of act/pre; {a} = activation symbol, {z} = pre-activation symbol.
ACTIVATION_FORMULAS: dict[str, tuple[str, str]] = {
    "sigmoid": ("sigmoid({z})", "{a} * (1 - {a})"),
    "tanh": ("tanh({z})", "(1 - {a}^2)"),
    "relu": ("ReLU({z}) = max({z}, 0)", "[{z} > 0]"),
    "leaky_relu": ("LeakyReLU({z})", "(1 if {z} > 0 else slope)"),
    "elu": ("ELU({z})", "(1 if {z} > 0 else {a} + alpha)"),
    "identity": ("{z}", "1"),
    "softmax": ("softmax({z})", ""),
}


@dataclass
class LayerStep:
    """One Dense layer (number ``index``, from 1) and the activation after it.

    Forward: ``pre_activation = input @ weight + bias``, ``output = f(pre_activation)``. Backward:
    ``grad_output`` = dL/d(output), ``grad_pre_activation`` = dL/d(pre), ``grad_weight = input^T grad_pre``,
    ``grad_bias = sum_n grad_pre``, ``grad_input = grad_pre @ weight^T``. ``activation`` is ``"per_unit"`` when
    the units use different activations, listed (one kind per unit) in ``unit_activations``.
    """

    index: int
    activation: str
    input: np.ndarray
    weight: np.ndarray
    bias: np.ndarray | None
    pre_activation: np.ndarray
    output: np.ndarray
    grad_output: np.ndarray
    grad_pre_activation: np.ndarray
    grad_input: np.ndarray
    grad_weight: np.ndarray
    grad_bias: np.ndarray | None
    new_weight: np.ndarray | None = None
    new_bias: np.ndarray | None = None
    unit_activations: tuple[str, ...] = ()  # per unit, when the units use different activations


@dataclass
class Steps:
    """All named quantities of one explained training step (see `backproplab.explain.explain`).

    ``x`` ``(N, D)``; ``targets`` ``(N, K)`` (one-hot rows for integer labels, which are kept in ``labels``);
    ``outputs`` the model's output (logits for fused losses); ``prediction`` = ``loss.link(outputs)``
    (probabilities for classification losses); ``loss`` the mean loss; ``grad_outputs`` = dL/d(outputs);
    ``predicted_class`` = argmax of ``prediction`` per row (from 0); ``loss_after_update`` the loss of the same
    batch after the SGD step (with ``lr``).
    """

    x: np.ndarray
    targets: np.ndarray
    labels: np.ndarray | None
    layers: list[LayerStep]
    outputs: np.ndarray
    prediction: np.ndarray
    loss: float
    loss_kind: str
    fused: bool
    grad_outputs: np.ndarray
    predicted_class: np.ndarray
    lr: float | None = None
    loss_after_update: float | None = None
    notation: Notation = field(default_factory=Notation)
    single: bool = False
    loss_options: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        after = (
            "" if self.loss_after_update is None else f", {self.loss_after_update:.6g} after the step (lr {self.lr:g})"
        )
        return (
            f"Steps({len(self.layers)} layers, {len(self.x)} example(s), {self.loss_kind} loss {self.loss:.6g}"
            f"{after}; .derivation() shows every quantity)"
        )

    # -- lists by role ---------------------------------------------------------------------------------------
    @property
    def pre_activations(self) -> list[np.ndarray]:
        return [s.pre_activation for s in self.layers]

    @property
    def activations(self) -> list[np.ndarray]:
        return [s.output for s in self.layers]

    @property
    def grad_pre_activations(self) -> list[np.ndarray]:
        return [s.grad_pre_activation for s in self.layers]

    @property
    def grad_activations(self) -> list[np.ndarray]:
        return [s.grad_output for s in self.layers]

    @property
    def grad_input(self) -> np.ndarray:
        return self.layers[0].grad_input

    @property
    def weight_grads(self) -> list[np.ndarray]:
        return [s.grad_weight for s in self.layers]

    @property
    def bias_grads(self) -> list[np.ndarray | None]:
        return [s.grad_bias for s in self.layers]

    @property
    def updated_weights(self) -> list[np.ndarray | None]:
        return [s.new_weight for s in self.layers]

    @property
    def updated_biases(self) -> list[np.ndarray | None]:
        return [s.new_bias for s in self.layers]

    # -- display -------------------------------------------------------------------------------------------
    def derivation(
        self, name: str = "explain", title: str = "Forward and backward pass, step by step", summary: str = ""
    ) -> Derivation:
        return _Builder(self).build(name, title, summary)

    def quantities(self) -> dict[str, Any]:
        """Every displayed quantity by its key (in this notation), at full precision."""
        return self.derivation().values()

    def __getitem__(self, key: str) -> Any:
        return self.derivation()[key]

    def render(self, format: str = "text", precision: int = 4) -> str:
        return self.derivation().render(format, precision)

    def to_dict(self) -> dict[str, Any]:
        return self.derivation().to_dict()


class _Builder:
    """Writes the quantities of `Steps` into a `Derivation`, with formulas in the steps' notation."""

    def __init__(self, steps: Steps) -> None:
        self.s = steps
        self.n = steps.notation
        self.batch = steps.x.shape[0]

    def v(self, array: Any) -> Any:
        """Drop the batch axis of a single example (shown as the vectors of the course texts)."""
        return array[0] if self.s.single else array

    def mean_over_batch(self, formula: str) -> str:
        return formula if self.batch == 1 else f"(1/N) sum_n [{formula}]"

    def per_batch(self, formula: str) -> str:
        return formula if self.batch == 1 else f"({formula}) / N"

    def build(self, name: str, title: str, summary: str) -> Derivation:
        d = Derivation(name, title, summary)
        self.given(d.section("Given"))
        self.forward(d.section("Forward pass"))
        self.loss(d.section("Loss and prediction"))
        self.backward(d.section("Backward pass"))
        if self.s.lr is not None:
            self.update(d.section(f"SGD update (lr = {self.s.lr:g})"))
        return d

    def symbols(self, step: Any) -> Any:
        return self.n.layer(step.index, len(self.s.layers))

    def input_symbol(self, step: Any) -> str:
        if step.index == 1:
            return self.n.input
        return self.n.layer(step.index - 1, len(self.s.layers)).act

    def weight_quantity(
        self,
        sec: Section,
        step: LayerStep,
        key: str,
        weight: np.ndarray,
        bias: np.ndarray | None,
        formula: str,
        bias_key: str,
        bias_formula: str,
        prefix: str = "",
        suffix: str = "",
        note: str = "",
    ) -> None:
        sym = self.symbols(step)
        rows, cols = self.n.weight_labels(weight)
        entries = self.n.weight_entries(step.index, sym.weight, weight, bias, prefix, suffix)
        if self.n.fold_bias:
            sec.quantity(
                key,
                self.n.weight_display(weight, bias),
                formula,
                row_labels=rows,
                col_labels=cols,
                entries=entries,
                note=note,
            )
            return
        sec.quantity(key, weight, formula, entries=entries)
        if bias is not None:
            sec.quantity(bias_key, bias, bias_formula, entries=self.n.bias_entries(step.index, bias, prefix, suffix))

    def given(self, sec: Section) -> None:
        n = self.n
        note = f"{n.input}_0 = 1 multiplies the bias column" if n.fold_bias else ""
        sec.quantity(n.input, self.v(self.s.x), note=note)
        if self.s.labels is not None:
            base = n.class_base
            sec.quantity("true class", self.v(self.s.labels + base), note=f"classes counted from {base}")
        sec.quantity(n.target, self.v(self.s.targets))
        for step in self.s.layers:
            sym = self.symbols(step)
            layout = "rows: units j from 1; columns: inputs m from 0; column 0 = bias" if n.fold_bias else ""
            self.weight_quantity(sec, step, sym.weight, step.weight, step.bias, "", sym.bias, "", note=layout)
        if self.s.lr is not None:
            sec.quantity("lr", self.s.lr)

    def forward(self, sec: Section) -> None:
        n_layers = len(self.s.layers)
        for step in self.s.layers:
            sym = self.symbols(step)
            src = self.input_symbol(step)
            if self.n.fold_bias:
                pre_formula = f"{sym.weight} {src}  ({src}_0 = 1)"
            else:
                pre_formula = f"{src} {sym.weight}" + (f" + {sym.bias}" if step.bias is not None else "")
            sec.quantity(sym.pre, self.v(step.pre_activation), pre_formula)
            last = step.index == n_layers
            if last and self.s.fused:
                continue  # the prediction is the fused loss's link, shown with the loss
            sec.quantity(sym.act, self.v(step.output), self.activation_formula(step, sym))

    def loss(self, sec: Section) -> None:
        n, s = self.n, self.s
        last = self.symbols(s.layers[-1])
        p, t = n.prediction, n.target
        if s.fused:
            link = "softmax" if s.loss_kind == "softmax_cross_entropy" else "sigmoid"
            sec.quantity(p, self.v(s.prediction), f"{link}({last.pre})", note="applied inside the fused loss")
        formulas = {
            "softmax_cross_entropy": f"-sum_k {t}_k log {p}_k",
            "cross_entropy": f"-sum_k {t}_k log {p}_k",
            "binary_cross_entropy": f"-sum_k [{t}_k log {p}_k + (1 - {t}_k) log(1 - {p}_k)]",
            "mse": (f"1/2 sum_k ({p}_k - {t}_k)^2" if s.loss_options.get("half", True) else f"sum_k ({p}_k - {t}_k)^2"),
        }
        sec.quantity(n.loss, s.loss, self.mean_over_batch(formulas.get(s.loss_kind, s.loss_kind)))
        base = f" + {n.class_base}" if n.class_base else ""
        sec.quantity(
            "predicted class",
            self.v(s.predicted_class + n.class_base),
            f"argmax_k {p}_k{base}",
            note=f"classes counted from {n.class_base}",
        )

    def backward(self, sec: Section) -> None:
        n, s = self.n, self.s
        p, t = n.prediction, n.target
        grad_out_formula = {
            "cross_entropy": f"-{t} / {p}",
            "mse": f"{p} - {t}" if s.loss_options.get("half", True) else f"2 ({p} - {t})",
        }
        for step in reversed(s.layers):
            sym = self.symbols(step)
            src = self.input_symbol(step)
            last = step.index == len(s.layers)
            if last and s.fused:
                sec.quantity(
                    n.d(sym.pre),
                    self.v(step.grad_pre_activation),
                    self.per_batch(f"{p} - {t}"),
                    note=f"{'softmax' if s.loss_kind == 'softmax_cross_entropy' else 'sigmoid'} and "
                    "cross-entropy fused",
                )
            else:
                if last:
                    formula = self.per_batch(grad_out_formula.get(s.loss_kind, "loss.backward()"))
                else:
                    nxt = self.n.layer(step.index + 1, len(s.layers))
                    formula = (
                        f"{nxt.weight}*^T {n.d(nxt.pre)}  ({nxt.weight}* = {nxt.weight} without its bias column)"
                        if n.fold_bias
                        else f"{n.d(nxt.pre)} {nxt.weight}^T"
                    )
                sec.quantity(n.d(sym.act), self.v(step.grad_output), formula)
                sec.quantity(n.d(sym.pre), self.v(step.grad_pre_activation), self.chain(step, sym))
            self.weight_grads(sec, step, sym, src)
        first = s.layers[0]
        sym1 = self.symbols(first)
        formula = f"{sym1.weight}*^T {n.d(sym1.pre)}" if n.fold_bias else f"{n.d(sym1.pre)} {sym1.weight}^T"
        sec.quantity(n.d(n.input), self.v(first.grad_input), formula)

    def activation_formula(self, step: LayerStep, sym: Any) -> str:
        if step.unit_activations:
            units = [
                _formula(kind, 0).format(z=f"{sym.pre}[{j}]", a=f"{sym.act}[{j}]")
                for j, kind in enumerate(step.unit_activations, start=1)
            ]
            return "[" + ", ".join(units) + "]  (one activation per unit)"
        return _formula(step.activation, 0).format(z=sym.pre, a=sym.act)

    def chain(self, step: LayerStep, sym: Any) -> str:
        n = self.n
        if step.unit_activations:
            slopes = [
                _formula(kind, 1).format(a=f"{sym.act}[{j}]", z=f"{sym.pre}[{j}]")
                for j, kind in enumerate(step.unit_activations, start=1)
            ]
            return f"{n.d(sym.act)} * [" + ", ".join(slopes) + "]  (each unit's own f'(z))"
        if step.activation == "softmax":
            g = n.d(sym.act)
            return f"{sym.act} * ({g} - sum_k {g}_k {sym.act}_k)  (softmax Jacobian J^T {g})"
        fprime = _formula(step.activation, 1)
        if fprime == "1":
            return f"{n.d(sym.act)}  (identity)"
        return f"{n.d(sym.act)} * {fprime.format(a=sym.act, z=sym.pre)}"

    def weight_grads(self, sec: Section, step: LayerStep, sym: Any, src: str) -> None:
        n = self.n
        g = n.d(sym.pre)
        if n.fold_bias:
            formula = f"{g} {src}^T  ({src}_0 = 1)" + ("" if self.batch == 1 else ", summed over the batch")
        else:
            formula = f"{src}^T {g}"
        bias_formula = g if self.batch == 1 else f"sum_n {g}"
        self.weight_quantity(
            sec,
            step,
            n.d(sym.weight),
            step.grad_weight,
            step.grad_bias,
            formula,
            n.d(sym.bias),
            bias_formula,
            prefix=f"d{n.loss}/d",
        )

    def update(self, sec: Section) -> None:
        n, s = self.n, self.s
        for step in s.layers:
            sym = self.symbols(step)
            assert step.new_weight is not None
            self.weight_quantity(
                sec,
                step,
                f"{sym.weight}'",
                step.new_weight,
                step.new_bias,
                f"{sym.weight} - lr {n.d(sym.weight)}",
                f"{sym.bias}'",
                f"{sym.bias} - lr {n.d(sym.bias)}",
                suffix="'",
            )
        if s.loss_after_update is not None:
            sec.quantity(
                f"{n.loss} after update",
                s.loss_after_update,
                note="the same input and target through the updated weights",
            )


def _formula(kind: str, which: int) -> str:
    """f(z) (``which`` 0) or f'(z) (1) of an activation kind as a template in {z} and {a}."""
    fallback = (f"{kind}({{z}})", f"{kind}'({{z}})")
    return ACTIVATION_FORMULAS.get(kind, fallback)[which]
