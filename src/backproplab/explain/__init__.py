"""Worked examples computed by backproplab's own modules, shown step by step.

    from backproplab import explain as ex
    steps = ex.explain(model, bp.nn.SoftmaxCrossEntropy(), x, y, lr=1.0)
    print(steps.render("text", precision=4))      # or "markdown", "json"
    steps.layers[0].grad_weight                   # every quantity as an array
    ex.build_problem("hw-643").render()           # built-in problems (ex.PROBLEMS)

Section E's helpers: `affine`, `compose`, `compose_gradients`; section D's `softmax_temperature`.
"""

from .affine import affine, compose, compose_gradients
from .compute import explain
from .document import Derivation, Figure, Note, Quantity, Section, Table
from .notation import LayerSymbols, Notation
from .problems import PROBLEMS, Problem, build_problem, problem_names
from .render import render
from .steps import LayerStep, Steps
from .temperature import softmax_temperature, temperature_derivation
from .toml_problem import ProblemSpec, build_from_file, load_problem, parse_problem

__all__ = [
    "PROBLEMS",
    "Derivation",
    "Figure",
    "LayerStep",
    "LayerSymbols",
    "Notation",
    "Note",
    "Problem",
    "ProblemSpec",
    "Quantity",
    "Section",
    "Steps",
    "Table",
    "affine",
    "build_from_file",
    "build_problem",
    "compose",
    "compose_gradients",
    "explain",
    "load_problem",
    "parse_problem",
    "problem_names",
    "render",
    "softmax_temperature",
    "temperature_derivation",
]
