"""Sweep files: a base run config, a grid or random search space over its keys, seeds, and how to pick the best.

A sweep file is TOML with ``kind = "sweep"`` (see docs/sweeps.md)::

    kind = "sweep"
    name = "spiral-lr"
    base = "fashion-sgd"                       # optional preset name or path; its run config is the start
    [config]                                   # run-config keys merged over the base
    training = { epochs = 20 }
    [search]
    method = "grid"                            # or "random" with num_trials and seed
    [search.space]
    "optimizer.lr" = [0.01, 0.1, 1.0]          # random search also takes { log_uniform = [1e-3, 1.0] } ...
    [selection]
    metric = "test_loss"
    seeds = [0, 1]

Errors name the key, the allowed values and what was given, like run configs do.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ...errors import ConfigError
from ..config import (
    PublishedValue,
    RunConfig,
    Seed,
    _format_error,
    deep_merge,
    parse_assignment,
    parse_config,
    read_toml,
)
from ..presets import find_preset, load_preset, preset_kind
from .trials import expand_trials

DISTRIBUTIONS = ("log_uniform", "uniform", "int_uniform", "choice")
SPLIT_METRICS = [f"{s}_{m}" for s in ("train", "val", "test") for m in ("loss", "acc")]
SEED_KEYS = ("model.seed", "training.seed")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class SearchConfig(_Section):
    method: Literal["grid", "random"] = "grid"
    num_trials: int = Field(0, ge=0, description="random search: how many points to draw")
    seed: Seed = Field(0, description="random search: sampling seed")
    space: dict[str, Any] = Field(default_factory=dict, description="dotted run-config keys -> values")

    @model_validator(mode="after")
    def _check_space(self) -> SearchConfig:
        if not self.space:
            raise ValueError('search.space: give at least one key, e.g. "optimizer.lr" = [0.01, 0.1]')
        for key, value in self.space.items():
            check_space_key(key)
            check_space_value(key, value, self.method)
        if self.method == "random" and self.num_trials < 1:
            raise ValueError(f"search.num_trials: random search needs num_trials >= 1; got {self.num_trials}")
        return self


class SelectionConfig(_Section):
    metric: str = "test_loss"
    mode: Literal["min", "max"] | None = Field(None, description="default: max for *_acc, min otherwise")
    retrain: bool = Field(False, description="retrain the best point on train+validation and evaluate test")
    seeds: list[Seed] = Field(default_factory=lambda: [0], description="every point runs once per seed")

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        if value not in SPLIT_METRICS:
            raise ValueError(f"selection.metric: expected one of {SPLIT_METRICS}; got {value!r}")
        return value

    @field_validator("seeds")
    @classmethod
    def _some_seeds(cls, value: list[int]) -> list[int]:
        if not value:
            raise ValueError("selection.seeds: give at least one seed, e.g. [0]")
        if len(set(value)) != len(value):
            raise ValueError(f"selection.seeds: seeds must be distinct; got {value}")
        return value

    @model_validator(mode="after")
    def _default_mode(self) -> SelectionConfig:
        if self.mode is None:
            self.mode = "max" if self.metric.endswith("_acc") else "min"
        return self


class SweepConfig(_Section):
    kind: Literal["sweep"] = "sweep"
    name: str = "sweep"
    description: str = ""
    base: str | None = Field(None, description="a preset name or path whose run config is the starting point")
    config: dict[str, Any] = Field(default_factory=dict, description="run-config table merged over the base")
    search: SearchConfig
    selection: SelectionConfig = Field(default_factory=SelectionConfig)
    published: list[PublishedValue] = Field(default_factory=list)
    quick: dict[str, Any] = Field(default_factory=dict, description="overrides of this file applied by --quick")

    @model_validator(mode="after")
    def _seeds_not_searched(self) -> SweepConfig:
        for key in SEED_KEYS:
            if key in self.search.space:
                raise ValueError(
                    f"search.space.{key}: seeds are set by selection.seeds (it sets model.seed and "
                    f"training.seed); remove {key!r} from the space"
                )
        return self

    def to_toml(self) -> str:
        return tomli_w.dumps(self.model_dump(mode="json", exclude_none=True))

    def base_config(self) -> RunConfig:
        """The run config every trial starts from: the base preset with ``config`` merged over it."""
        data: dict[str, Any] = {}
        if self.base:
            data = load_preset(self.base).model_dump(mode="json", exclude_none=True)
        data = deep_merge(data, self.config)
        data["name"] = self.name
        data["quick"] = data.get("quick", {})
        return parse_config(data, f"the [config] of sweep {self.name!r}")

    def resolved(self) -> SweepConfig:
        """This sweep with the base folded into ``config`` (self-contained; what ``sweep.toml`` holds)."""
        return self.model_copy(
            update={"base": None, "config": self.base_config().model_dump(mode="json", exclude_none=True)}
        )


def _run_fields(model: type[BaseModel]) -> dict[str, Any]:
    return dict(model.model_fields)


def _submodel(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``annotation`` (``X``, ``X | None``), else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def check_space_key(key: str) -> None:
    """Raise ValueError unless ``key`` (e.g. ``optimizer.lr``) names a setting of a run config."""
    model: type[BaseModel] | None = RunConfig
    parts = key.split(".")
    for i, part in enumerate(parts):
        prefix = ".".join(parts[:i]) or "(top level)"
        fields = _run_fields(model) if model is not None else {}
        # name/description/published/quick are not searchable at the top level; optimizer.name is
        reserved = ("name", "description", "published", "quick") if i == 0 else ()
        if part not in fields or part in reserved:
            allowed = [f for f in fields if f not in reserved]
            raise ValueError(f"search.space: unknown key {key!r} ({prefix} has: {', '.join(allowed)})")
        sub = _submodel(fields[part].annotation)
        if i == len(parts) - 1:
            if sub is not None:
                keys = ", ".join(f"{key}.{f}" for f in _run_fields(sub))
                raise ValueError(f"search.space: {key!r} is a table; search one of its keys ({keys})")
            return
        if sub is None:
            raise ValueError(f"search.space: unknown key {key!r} ({'.'.join(parts[: i + 1])} is not a table)")
        model = sub


def check_space_value(key: str, value: Any, method: str) -> None:
    """A list (grid axis / random choice) or, for random search, one distribution table."""
    where = f"search.space.{key}"
    if isinstance(value, list):
        if not value:
            raise ValueError(f"{where}: the list of values is empty")
        return
    if not isinstance(value, dict):
        raise ValueError(
            f"{where}: expected a list of values or a distribution "
            f"({{ log_uniform = [a, b] }}, uniform, int_uniform, choice); got {value!r}"
        )
    if len(value) != 1 or next(iter(value)) not in DISTRIBUTIONS:
        raise ValueError(f"{where}: expected one of {list(DISTRIBUTIONS)} as the only key; got {sorted(value)}")
    ((kind, args),) = value.items()
    if method == "grid" and kind != "choice":
        raise ValueError(
            f"{where}: {kind} is a distribution for search.method = 'random'; a grid needs a list of values"
        )
    if kind == "choice":
        if not isinstance(args, list) or not args:
            raise ValueError(f"{where}.choice: expected a non-empty list; got {args!r}")
        return
    if (
        not isinstance(args, list)
        or len(args) != 2
        or not all(isinstance(a, int | float) and not isinstance(a, bool) for a in args)
    ):
        raise ValueError(f"{where}.{kind}: expected [low, high]; got {args!r}")
    low, high = args
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise ValueError(f"{where}.{kind}: expected finite low <= high; got {args!r}")
    if kind == "log_uniform" and low <= 0:
        raise ValueError(f"{where}.log_uniform: bounds must be > 0; got {args!r}")
    if kind == "int_uniform" and not all(isinstance(a, int) for a in args):
        raise ValueError(f"{where}.int_uniform: bounds must be integers; got {args!r}")


def parse_sweep(data: dict[str, Any], source: str = "") -> SweepConfig:
    """Validate a sweep mapping; raise `ConfigError` naming every bad key."""
    data = dict(data)
    if data.get("kind", "sweep") != "sweep":
        raise ConfigError(
            f"kind: expected 'sweep' for a sweep file; got {data.get('kind')!r}" + (f" in {source}" if source else "")
        )
    if "search" not in data:
        raise ConfigError(
            f"invalid sweep{' in ' + source if source else ''}:\n  search: missing; a sweep needs "
            "[search] with a [search.space] table"
        )
    try:
        sweep = SweepConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            _format_error(exc, f" in {source}" if source else "").replace("invalid configuration", "invalid sweep", 1)
        ) from None
    sweep.base_config()  # the base must resolve and the merged run config validate
    return sweep


def _resolve_base(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """A ``base`` given as a relative path is read relative to the sweep file."""
    base = data.get("base")
    if isinstance(base, str) and (base.endswith(".toml") or "/" in base) and not Path(base).is_absolute():
        candidate = path.parent / base
        if candidate.exists() or not Path(base).exists():
            data = {**data, "base": str(candidate)}
    return data


def load_sweep(path_or_preset: str | Path) -> SweepConfig:
    """A sweep from a TOML file or a preset name; every trial's run config is validated before returning."""
    path = find_preset(str(path_or_preset))
    sweep = parse_sweep(_resolve_base(read_toml(path), path), str(path))
    expand_trials(sweep)
    return sweep


def apply_quick_sweep(sweep: SweepConfig) -> SweepConfig:
    """The sweep with its ``quick`` overrides applied (deep-merged into this file's tables).

    A sweep without ``[quick]`` gets its base preset's quick run-config overrides instead (merged after
    ``config``), so a sweep over ``fashion-sgd`` is short with --quick too.
    """
    data = sweep.model_dump(mode="json", exclude_none=True)
    if sweep.quick:
        data = deep_merge(data, sweep.quick)
    else:
        base = sweep.base_config()
        if base.quick:
            data = deep_merge(data, {"config": base.quick})
    data["quick"] = {}
    data["name"] = sweep.name
    data.setdefault("config", {})["variant"] = "quick"  # trials record it, and init_from finds quick runs
    return parse_sweep(data, f"sweep {sweep.name!r} with --quick")


def with_sweep_overrides(sweep: SweepConfig, *assignments: str) -> SweepConfig:
    """``--set`` for sweeps: ``search.*`` and ``selection.*`` keys change the sweep file, every other key the
    base run config (e.g. ``training.epochs=3``); ``search.space.optimizer.lr=[0.1, 0.2]`` sets a space axis."""
    data = sweep.model_dump(mode="json", exclude_none=True)
    for text in assignments:
        key, _, raw = text.partition("=")
        if key.strip().startswith("search.space."):  # the rest is one dotted space key
            value = parse_assignment(f"v={raw}")["v"]
            data = deep_merge(data, {"search": {"space": {key.strip().removeprefix("search.space."): value}}})
            continue
        override = parse_assignment(text)
        if set(override) & {"search", "selection", "name", "description"}:
            data = deep_merge(data, override)
        else:
            data = deep_merge(data, {"config": override})
    return parse_sweep(data, f"sweep {sweep.name!r} with --set")


def load_any(name_or_path: str) -> RunConfig | SweepConfig:
    """A RunConfig or a SweepConfig, by the file's ``kind``."""
    if preset_kind(name_or_path) == "sweep":
        return load_sweep(name_or_path)
    return load_preset(name_or_path)
