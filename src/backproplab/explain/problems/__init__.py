"""Built-in worked problems for `backproplab explain`, and the route for user TOML files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..._text import did_you_mean
from ...errors import ConfigError
from ..document import Derivation
from ..temperature import temperature_derivation
from . import (
    adaboost_10pt,
    affine_composition,
    forest_sickness,
    hw643,
    id3_phone,
    knn_dimensionality,
    mazur,
    mazur_f,
    relu_max,
)


@dataclass(frozen=True)
class Problem:
    """A built-in problem: ``build(**options)`` returns its `Derivation`; ``options`` are the keyword options it
    accepts (``lr``, ``cost``, ``plots``)."""

    name: str
    summary: str
    source: str
    build: Callable[..., Derivation]
    options: tuple[str, ...] = ()


PROBLEMS: dict[str, Problem] = {
    p.name: p
    for p in [
        Problem(
            "hw-643",
            "6-4-3 sigmoid/softmax network, bias folded into alpha/beta, one SGD step (lr 1)",
            "HW3 Neural Networks",
            hw643.build,
            ("lr",),
        ),
        Problem(
            "relu-max-graph",
            "graph with ReLU, max and softmax nodes; node values and partials incl. dz/dx1",
            "HW3 Intro to ML",
            relu_max.build,
        ),
        Problem(
            "mazur-222",
            "2-2-2 sigmoid network, deltas and all partials (--cost cross-entropy|squared, lr 0.5)",
            "Deep Learning HW4",
            mazur.build,
            ("lr", "cost"),
        ),
        Problem(
            "mazur-222-f",
            "the 2-2-2 network with hidden unit h2 using f = tanh: deltas, and a table over f",
            "Deep Learning HW4",
            mazur_f.build,
            ("lr", "cost"),
        ),
        Problem(
            "softmax-temperature",
            "softmax(c z) for c = 1 and c = 10 on z = [1, 2, 3]",
            "Deep Learning HW4",
            lambda: temperature_derivation(),
        ),
        Problem(
            "affine-composition",
            "f o g of affine maps at x = [-1, 1] with every gradient",
            "Deep Learning HW2",
            affine_composition.build,
        ),
        Problem(
            "knn-dimensionality",
            "curse of dimensionality: 0.1^d and 0.1^(1/d) over d (--plots for a PNG)",
            "HW3 Intro to ML",
            knn_dimensionality.build,
            ("plots",),
        ),
        Problem(
            "id3-phone-usage",
            "ID3 on the 15-row phone-usage table, every entropy and gain (--plots: tree PNG)",
            "HW3 Intro to ML",
            id3_phone.build,
            ("plots",),
        ),
        Problem(
            "forest-sickness",
            "three ID3 trees on feature pairs, votes for (Old, Yes, No)",
            "HW3 Intro to ML",
            forest_sickness.build,
            ("plots",),
        ),
        Problem(
            "adaboost-10pt",
            "two AdaBoost rounds on ten points, base-2 and natural-log forms",
            "HW3 Intro to ML",
            adaboost_10pt.build,
        ),
    ]
}

OPTION_FLAGS = {"lr": "--lr", "cost": "--cost", "plots": "--plots", "target": "--target"}


def problem_names() -> list[str]:
    return list(PROBLEMS)


def _is_file(name: str) -> bool:
    return name.endswith(".toml") or (name not in PROBLEMS and Path(name).exists() and not name.endswith(".csv"))


def _reject(given: dict[str, Any], allowed: set[str], what: str) -> None:
    extra = sorted(set(given) - allowed)
    if extra:
        flags = ", ".join(OPTION_FLAGS[o] for o in extra)
        only = ", ".join(OPTION_FLAGS[o] for o in sorted(allowed)) or "none"
        raise ConfigError(f"{flags}: not used by {what} (options: {only})")


def build_problem(name: str, **options: Any) -> Derivation:
    """The derivation of a built-in problem (by name) or of a TOML file (by path).

    A ``.csv`` path is a categorical table explained by ID3 (target: the last column or ``target``).
    ``options``: ``lr``, ``cost``, ``plots`` (a directory for PNG figures), ``target``; ``None`` values are
    ignored. An option the problem does not use raises `ConfigError`.
    """
    given = {k: v for k, v in options.items() if v is not None}
    unknown = sorted(set(given) - set(OPTION_FLAGS))
    if unknown:
        raise ConfigError(f"unknown option(s) {unknown}; known: {sorted(OPTION_FLAGS)}")
    if "plots" in given:
        given["plots"] = Path(given["plots"])
    if name.endswith(".csv"):
        from ...classic.tables import read_csv
        from .id3_phone import id3_derivation

        _reject(given, {"plots", "target"}, "CSV tables")
        return id3_derivation(read_csv(name, target=given.get("target")), Path(name).stem, given.get("plots"))
    if _is_file(name):
        from ..toml_problem import build_from_file

        _reject(given, {"lr"}, "TOML problems")
        return build_from_file(name, lr=given.get("lr"))
    if name not in PROBLEMS:
        hint = did_you_mean(name, PROBLEMS)
        known = (
            " (`backproplab explain --list` lists them all)" if hint else f"; built-in problems: {', '.join(PROBLEMS)}"
        )
        raise ConfigError(f"unknown problem {name!r}{hint}{known}; or give a path to a .toml network or a .csv table")
    problem = PROBLEMS[name]
    extra = sorted(set(given) - set(problem.options))
    if extra:
        users = {o: [p.name for p in PROBLEMS.values() if o in p.options] or ["CSV tables"] for o in extra}
        detail = "; ".join(f"{OPTION_FLAGS[o]} applies to {', '.join(users[o])}" for o in extra)
        raise ConfigError(f"{name} does not take {', '.join(OPTION_FLAGS[o] for o in extra)} ({detail})")
    return problem.build(**given)
