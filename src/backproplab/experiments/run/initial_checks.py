"""A run's initial checks: what the config's ``[check]`` section asks of the model before training, run with the
tools of `backproplab.check` and written to the run's ``check.json``.

- scores and loss (data loss + weight penalty) on the first ``check.samples`` training rows, in float64;
- ``check.gradient``: numerical gradient check of that loss w.r.t. every parameter (`backproplab.check.gradcheck`);
- ``check.reference = "two_layer"``: the library's scores, loss and gradients against the plain NumPy net of
  `backproplab.check.reference` (the cs231n toy check).

Parameters are named ``W1, b1, W2, b2, ...`` by Dense layer, as in the courses.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ..._xp import to_numpy
from ...backend import as_inputs, as_targets
from ...check import gradcheck, rel_error, two_layer_net
from ...nn import Dense, Sequential
from ...nn.regularization import total_penalty
from .build import Experiment


def parameter_names(model: Sequential) -> dict[str, str]:
    """``{"0.weight": "W1", "0.bias": "b1", "2.weight": "W2", ...}``: course names by Dense layer."""
    names: dict[str, str] = {}
    dense = 0
    for i, layer in enumerate(model.layers):
        if isinstance(layer, Dense):
            dense += 1
            names[f"{i}.weight"] = f"W{dense}"
            names[f"{i}.bias"] = f"b{dense}"
    return names


def _library_pass(exp: Experiment, model: Sequential, X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    loss = copy.deepcopy(exp.loss)
    scores = model.forward(X, training=False)
    data_loss = float(loss.forward(scores, y))
    params = model.parameters()
    penalty = float(total_penalty(exp.regularizers, params))
    loss.forward(model.forward(X, training=True), y)  # the pass backward needs (with a dropout mask, if any)
    model.backward(loss.backward())
    for reg in exp.regularizers:
        reg.add_gradient(params)
    names = parameter_names(model)
    grads = {names.get(k, k): np.array(to_numpy(p.grad), dtype=np.float64) for k, p in model.named_parameters()}
    return {
        "scores": np.asarray(to_numpy(scores), dtype=np.float64),
        "data_loss": data_loss,
        "penalty": penalty,
        "loss": data_loss + penalty,
        "grads": grads,
    }


def initial_checks(exp: Experiment) -> dict[str, Any]:
    """Run the configured checks on a float64 copy of the initial model; ``"passed"`` sums them up."""
    cfg = exp.config.check
    train = exp.datasets["train"].take(cfg.samples)
    X, y = train.X.astype(np.float64), train.y
    model = copy.deepcopy(exp.model).astype(np.float64)  # on the model's backend and device
    lib = _library_pass(
        exp, model, as_inputs(X, model.placement, model.dtype), as_targets(y, model.placement, model.dtype)
    )
    result: dict[str, Any] = {
        "samples": len(train),
        "tolerance": cfg.tolerance,
        "scores": lib["scores"],
        "data_loss": lib["data_loss"],
        "penalty": lib["penalty"],
        "loss": lib["loss"],
    }
    passed = True
    if cfg.gradient:
        report = gradcheck(model, X, y, loss=exp.loss, regularizer=exp.regularizers, eps=cfg.eps)
        names = parameter_names(model)
        errors = {names.get(k, k): v for k, v in report.errors.items() if k != "input"}
        result["gradcheck"] = {"max_rel_error": errors, "passed": max(errors.values()) < cfg.tolerance}
        passed &= result["gradcheck"]["passed"]
    if cfg.reference == "two_layer":
        dense = [m for m in model.layers if isinstance(m, Dense)]
        W1, b1, W2, b2 = (to_numpy(a.value) for d in dense for a in (d.weight, d.bias))
        reg = exp.config.regularization.l2
        scores, loss, grads = two_layer_net(X, y, W1, b1, W2, b2, reg)
        comparison = {
            "scores_max_abs_diff": float(np.max(np.abs(scores - lib["scores"]))),
            "loss_abs_diff": abs(loss - lib["loss"]),
            "reference_loss": loss,
            "grads_rel_error": {k: rel_error(lib["grads"][k], g) for k, g in grads.items()},
        }
        comparison["passed"] = bool(
            comparison["scores_max_abs_diff"] < 1e-10
            and comparison["loss_abs_diff"] < 1e-12
            and max(comparison["grads_rel_error"].values()) < cfg.tolerance
        )
        result["reference"] = comparison
        passed &= comparison["passed"]
    result["passed"] = bool(passed)
    return result


def format_checks(result: dict[str, Any]) -> str:
    lines = [
        f"Initial check on {result['samples']} training rows (float64): loss {result['loss']:.10f} "
        f"(data {result['data_loss']:.10f} + penalty {result['penalty']:.10f})"
    ]
    if "gradcheck" in result:
        errs = ", ".join(f"{k} {v:.2e}" for k, v in result["gradcheck"]["max_rel_error"].items())
        lines.append(
            f"  gradient check, max relative error: {errs} "
            f"({'ok' if result['gradcheck']['passed'] else 'FAILED'}: < {result['tolerance']:g})"
        )
    if "reference" in result:
        ref = result["reference"]
        errs = ", ".join(f"{k} {v:.2e}" for k, v in ref["grads_rel_error"].items())
        lines.append(
            f"  vs plain NumPy: scores max |diff| {ref['scores_max_abs_diff']:.2e}, loss |diff| "
            f"{ref['loss_abs_diff']:.2e}, gradients rel error {errs} ({'ok' if ref['passed'] else 'FAILED'})"
        )
    return "\n".join(lines)
