"""Numerical gradient checking: central differences in float64 against each module's ``backward``."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._xp import namespace, to_numpy
from ..backend import Placement, as_targets, move, no_grad, placement_of
from ..nn.dropout import Dropout
from ..nn.losses import Loss, SoftmaxCrossEntropy
from ..nn.module import Module
from ..nn.regularization import Regularizer, as_regularizers, total_penalty


def rel_error(a: Any, b: Any) -> float:
    """max_i |a_i - b_i| / max(1e-8, |a_i| + |b_i|)  (cs231n's relative error)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: shapes differ: {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


@dataclass
class GradcheckReport:
    """Max relative error per checked tensor (``"input"``, ``"0.weight"``, ...) and how many entries were checked."""

    errors: dict[str, float] = field(default_factory=dict)
    checked: dict[str, int] = field(default_factory=dict)
    analytic: dict[str, np.ndarray] = field(default_factory=dict)
    numeric: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def max_error(self) -> float:
        return max(self.errors.values(), default=0.0)

    def passed(self, tol: float = 1e-7) -> bool:
        return self.max_error < tol

    def __repr__(self) -> str:
        worst = max(self.errors, key=self.errors.__getitem__, default=None)
        where = f" in {worst!r}" if worst is not None else ""
        return (
            f"GradcheckReport(max_error={self.max_error:.3g}{where}, {len(self.errors)} tensors, "
            f"{sum(self.checked.values())} entries checked; print() it for the table)"
        )

    def __str__(self) -> str:
        width = max((len(k) for k in self.errors), default=5)
        lines = [f"{'tensor':<{width}}  {'entries':>8}  max rel error"]
        lines += [f"{k:<{width}}  {self.checked[k]:>8}  {v:.3e}" for k, v in self.errors.items()]
        return "\n".join(lines)


def _rng_states(model: Module) -> list[tuple[Dropout, Any]]:
    return [(m, copy.deepcopy(m.rng.bit_generator.state)) for m in model.modules() if isinstance(m, Dropout)]


def _restore(states: list[tuple[Dropout, Any]]) -> None:
    for module, st in states:
        module.rng.bit_generator.state = copy.deepcopy(st)


def _positions(size: int, max_checks: int | None, rng: np.random.Generator) -> np.ndarray:
    if max_checks is None or size <= max_checks:
        return np.arange(size)
    return np.sort(rng.choice(size, size=max_checks, replace=False))


def gradcheck(
    module: Module | Loss,
    x: Any,
    y: Any = None,
    *,
    loss: Loss | None = None,
    regularizer: Regularizer | list[Regularizer] | None = None,
    eps: float = 1e-6,
    order: int = 2,
    max_checks: int | None = None,
    seed: int = 0,
) -> GradcheckReport:
    """Compare analytic gradients with central differences in float64.

    ``order=2`` (default): (f(v + eps) - f(v - eps)) / (2 eps), error O(eps^2).
    ``order=4``: (-f(v + 2eps) + 8 f(v + eps) - 8 f(v - eps) + f(v - 2eps)) / (12 eps), error O(eps^4); with
    eps ~ 1e-3 it resolves gradients too small for the 2-point rule's rounding error (deep nets).

    The scalar checked is:
    - for a `Loss`: ``loss(x, y)``, gradient w.r.t. its input x;
    - for a module with targets ``y``: ``loss(module(x), y)`` (+ weight penalty), ``loss`` defaulting to
      `SoftmaxCrossEntropy`;
    - for a module without ``y``: ``sum(module(x) * R)`` for a fixed random R, so that backward receives R.

    The module is deep-copied and converted to float64 on its own backend and device (a torch model is checked
    with torch tensors); the original is untouched. Dropout masks are held fixed across evaluations.
    ``max_checks`` limits the entries checked per tensor (chosen at random). The report holds NumPy arrays.
    """
    if order not in (2, 4):
        raise ValueError(f"gradcheck order must be 2 or 4; got {order}")
    placement = module.placement if isinstance(module, Module) else placement_of(x)
    with no_grad(placement):
        return _gradcheck(module, x, y, placement, loss, regularizer, eps, order, max_checks, seed)


def _gradcheck(
    module: Module | Loss,
    x: Any,
    y: Any,
    placement: Placement,
    loss: Loss | None,
    regularizer: Regularizer | list[Regularizer] | None,
    eps: float,
    order: int,
    max_checks: int | None,
    seed: int,
) -> GradcheckReport:
    rng = np.random.default_rng(seed)
    x = move(x, placement, np.float64, copy=True)
    y64 = None if y is None else as_targets(y if hasattr(y, "dtype") else np.asarray(y), placement, np.float64)
    # Weights of the differences f(v + k eps) - f(v - k eps): pairing equal terms first makes the estimate
    # exactly 0 when the objective does not depend on v (e.g. weights of zero pixels).
    stencil = [(1.0, 1 / 2)] if order == 2 else [(1.0, 8 / 12), (2.0, -1 / 12)]

    if isinstance(module, Loss):
        the_loss = copy.deepcopy(module)
        if y64 is None:
            raise ValueError("gradcheck of a loss needs targets y")

        def objective() -> float:
            return the_loss.forward(x, y64)

        objective()
        analytic = {"input": _float64(the_loss.backward())}
        tensors = {"input": x}
    else:
        model = copy.deepcopy(module).astype(np.float64)
        regs = as_regularizers(regularizer)
        params = model.parameters()
        states = _rng_states(model)
        if y64 is not None:
            the_loss = copy.deepcopy(loss) if loss is not None else SoftmaxCrossEntropy()
            projection = None
        else:
            shape = tuple(model.forward(x, training=False).shape)
            projection = move(rng.standard_normal(shape), placement, np.float64)

        def objective() -> float:
            _restore(states)
            out = model.forward(x, training=True)
            if projection is not None:
                return float(namespace(out).sum(out * projection))
            return the_loss.forward(out, y64) + total_penalty(regs, params)

        objective()
        upstream = projection if projection is not None else the_loss.backward()
        grad_x = model.backward(upstream)
        for reg in regs:
            reg.add_gradient(params)
        analytic = {"input": _float64(grad_x)}
        tensors = {"input": x}
        for name, p in model.named_parameters():
            analytic[name] = _float64(p.grad)
            tensors[name] = p.value

    report = GradcheckReport()
    for name, tensor in tensors.items():
        flat = tensor.reshape(-1)  # a view: perturbing it perturbs the tensor
        positions = _positions(flat.shape[0], max_checks, rng)
        numeric = np.zeros(positions.size)
        for j, i in enumerate(positions):
            old = float(flat[i])
            total = 0.0
            for k, weight in stencil:
                flat[i] = old + k * eps
                plus = objective()
                flat[i] = old - k * eps
                total += weight * (plus - objective())
            flat[i] = old
            numeric[j] = total / eps
        a = analytic[name].reshape(-1)[positions]
        report.errors[name] = rel_error(a, numeric)
        report.checked[name] = int(positions.size)
        report.analytic[name] = a
        report.numeric[name] = numeric
    return report


def _float64(a: Any) -> np.ndarray:
    return np.array(to_numpy(a), dtype=np.float64)
