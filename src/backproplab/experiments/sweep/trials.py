"""Expanding a sweep into trials: grid (cartesian product) or random points, times seeds.

Trial ids are ``t000``, ``t001``, ... in expansion order: points in grid order (the first space key varies
slowest) or in the order they are drawn, and for each point the seeds of ``selection.seeds`` in turn. The same
sweep file therefore always gives the same ids, which is what makes a sweep resumable.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ...backend import resolve
from ...errors import ConfigError
from ..config import RunConfig, deep_merge, parse_config

if TYPE_CHECKING:
    from .spec import SweepConfig


@dataclass(frozen=True)
class Trial:
    """One run of a sweep: ``params`` (dotted key -> value) at ``seed``, with its validated run config."""

    trial_id: str
    index: int
    point: int
    params: dict[str, Any]
    seed: int
    config: RunConfig


def grid_points(space: dict[str, Any]) -> list[dict[str, Any]]:
    """Cartesian product of the value lists, first key slowest: {a: [1, 2], b: [x, y]} -> a1b x, a1 y, a2 x, a2 y."""
    keys = list(space)
    axes = [_values(space[k]) for k in keys]
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*axes)]


def random_points(space: dict[str, Any], num_trials: int, seed: int) -> list[dict[str, Any]]:
    """``num_trials`` points drawn with ``numpy.random.default_rng(seed)``, key by key in space order.

    log_uniform [a, b]: exp(U(ln a, ln b)); uniform [a, b]: U(a, b); int_uniform [a, b]: an integer in a..b
    (both included); a list or choice: one of its values, equally likely.
    """
    rng = np.random.default_rng(seed)
    return [{key: _draw(value, rng) for key, value in space.items()} for _ in range(num_trials)]


def _values(value: Any) -> list[Any]:
    return value["choice"] if isinstance(value, dict) else value


def _draw(value: Any, rng: np.random.Generator) -> Any:
    if isinstance(value, list) or "choice" in value:
        options = _values(value)
        return options[int(rng.integers(len(options)))]
    ((kind, (low, high)),) = value.items()
    if kind == "log_uniform":
        return float(min(max(math.exp(rng.uniform(math.log(low), math.log(high))), low), high))
    if kind == "uniform":
        return float(rng.uniform(low, high))
    return int(rng.integers(low, high + 1))  # int_uniform


def points(sweep: SweepConfig) -> list[dict[str, Any]]:
    s = sweep.search
    return grid_points(s.space) if s.method == "grid" else random_points(s.space, s.num_trials, s.seed)


def nested(params: dict[str, Any]) -> dict[str, Any]:
    """``{"optimizer.lr": 0.1}`` -> ``{"optimizer": {"lr": 0.1}}``."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        *parents, leaf = key.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def trial_config(base: RunConfig, params: dict[str, Any], seed: int, name: str) -> RunConfig:
    """``base`` with the point's values and the seed (model.seed, training.seed) set; raises ConfigError."""
    data = deep_merge(base.model_dump(mode="json", exclude_none=True), nested(params))
    data = deep_merge(data, {"model": {"seed": seed}, "training": {"seed": seed}})
    if data["training"].get("threads", "auto") == "auto":  # trials share the cores: one BLAS thread each, and
        data["training"]["threads"] = 1  # the same bits wherever a trial runs
    data["name"], data["quick"] = name, {}
    where = ", ".join(f"{k} = {v!r}" for k, v in params.items())
    return parse_config(data, f"sweep trial {name} ({where}, seed {seed})")


def expand_trials(sweep: SweepConfig) -> list[Trial]:
    """Every trial of the sweep, its run config validated (a bad value fails here, before any training)."""
    base = sweep.base_config()
    trials: list[Trial] = []
    for p, params in enumerate(points(sweep)):
        for seed in sweep.selection.seeds:
            tid = f"t{len(trials):03d}"
            config = trial_config(base, params, seed, f"{sweep.name}-{tid}")
            trials.append(Trial(tid, len(trials), p, params, seed, config))
    _check_selection(sweep, trials)
    return trials


def _check_selection(sweep: SweepConfig, trials: list[Trial]) -> None:
    metric = sweep.selection.metric
    if metric.startswith("val_"):
        bad = [t.trial_id for t in trials if t.config.data.validation_size == 0]
        if bad:
            raise ConfigError(
                f"selection.metric = {metric!r} needs a validation split, but data.validation_size "
                f"is 0 in trial(s) {', '.join(bad[:5])}; set config.data.validation_size"
            )


def check_placements(trials: list[Trial]) -> None:
    """Raise `BackendError` (one line) if a trial's ``model.backend`` / ``model.device`` cannot be had here."""
    for backend, device in sorted({(t.config.model.backend, t.config.model.device) for t in trials}):
        resolve(backend, device)
