"""Short names for the config keys set most often, and the rules that come with them.

``config_with(lr=0.1, seed=3, validation_size=10000)`` is what ``backproplab train --lr 0.1 --seed 3
--validation-size 10000`` builds: each short name sets its config key (`SHORTCUTS`), and three carry a rule:

- ``seed`` seeds everything random in a run: ``model.seed``, ``training.seed`` and ``data.split_seed``;
- ``lr_decay`` (a factor per epoch) implies ``optimizer.schedule = "step"``;
- ``validation_size`` > 0 evaluates the validation set too: ``training.eval = ["validation", "test"]``.

Then ``assignments`` (``"optimizer.lr=0.05"``, as ``--set`` takes them) apply, and ``name`` names the run.
`load_with` does the same for a preset or TOML file of either kind (``backproplab run`` and ``sweep``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .config import RunConfig, apply_quick, deep_merge, load_config, parse_assignment, parse_config
from .presets import preset_kind
from .sweep.spec import SweepConfig, apply_quick_sweep, load_sweep, parse_sweep, with_sweep_overrides
from .sweep.trials import expand_trials

# short name -> dotted config key
SHORTCUTS = {
    "dataset": "data.dataset",
    "data_root": "data.root",
    "scale": "data.scale",
    "validation_size": "data.validation_size",
    "limit_train": "data.limit_train",
    "limit_test": "data.limit_test",
    "hidden": "model.hidden",
    "activation": "model.activation",
    "elu_alpha": "model.elu_alpha",
    "dropout": "model.dropout",
    "init": "model.init",
    "init_std": "model.init_std",
    "dtype": "model.dtype",
    "backend": "model.backend",
    "device": "model.device",
    "loss": "loss.name",
    "optimizer": "optimizer.name",
    "lr": "optimizer.lr",
    "momentum": "optimizer.momentum",
    "lr_decay": "optimizer.lr_decay",
    "l2": "regularization.l2",
    "l2_convention": "regularization.l2_convention",
    "l1": "regularization.l1",
    "epochs": "training.epochs",
    "batch_size": "training.batch_size",
    "shuffle": "training.shuffle",
    "engine": "training.engine",
    "threads": "training.threads",
    "predict": "training.predict",
}
SEED_KEYS = ("model.seed", "training.seed", "data.split_seed")


def nested(key: str, value: Any) -> dict[str, Any]:
    """``nested("optimizer.lr", 0.1)`` -> ``{"optimizer": {"lr": 0.1}}``."""
    out: dict[str, Any] = {}
    inner = out
    *sections, last = key.split(".")
    for section in sections:
        inner = inner.setdefault(section, {})
    inner[last] = value
    return out


def shortcut_overrides(seed: int | None = None, **settings: Any) -> list[dict[str, Any]]:
    """The config overrides that ``settings`` (short names, None = not given) and ``seed`` stand for, rules
    included (see the module docstring)."""
    unknown = sorted(set(settings) - set(SHORTCUTS))
    if unknown:
        raise ConfigError(f"unknown setting(s) {unknown}; known: {sorted(SHORTCUTS)} and seed")
    overrides = [nested(SHORTCUTS[k], v) for k, v in settings.items() if v is not None]
    if settings.get("lr_decay") is not None:
        overrides.append(nested("optimizer.schedule", "step"))
    if seed is not None:
        overrides += [nested(key, seed) for key in SEED_KEYS]
    if settings.get("validation_size"):
        overrides.append(nested("training.eval", ["validation", "test"]))
    return overrides


def config_with(
    base: RunConfig | str | Path | None = None,
    *,
    assignments: Iterable[str] = (),
    name: str | None = None,
    seed: int | None = None,
    **settings: Any,
) -> RunConfig:
    """``base`` (a config, a TOML file, or None for the defaults: the flagship experiment) with the short-name
    ``settings`` and ``seed`` (rules included), then the ``KEY=VALUE`` ``assignments``, then ``name``."""
    source = "" if base is None or isinstance(base, RunConfig) else str(base)
    if base is None:
        base = RunConfig()
    elif not isinstance(base, RunConfig):
        base = load_config(base)
    data = base.model_dump(mode="json", exclude_none=True)
    for override in shortcut_overrides(seed, **settings):
        data = deep_merge(data, override)
    for text in assignments:
        data = deep_merge(data, parse_assignment(text))
    if name:
        data["name"] = name
    return parse_config(data, source)


def load_with(
    name_or_path: str, *, quick: bool = False, assignments: Iterable[str] = (), seed: int | None = None, **settings: Any
) -> RunConfig | SweepConfig:
    """A run or sweep preset (or TOML file), its ``quick`` variant if asked, with the short-name ``settings``
    and then the ``KEY=VALUE`` ``assignments`` applied (for a sweep: to its base run config, except ``search.*``
    and ``selection.*`` keys). A sweep's trials are all validated before it is returned."""
    if preset_kind(name_or_path) == "sweep":
        sweep = load_sweep(name_or_path)
        if quick:
            sweep = apply_quick_sweep(sweep)
        overrides = shortcut_overrides(seed, **settings)
        if overrides:
            data = sweep.model_dump(mode="json", exclude_none=True)
            for override in overrides:
                data = deep_merge(data, {"config": override})
            sweep = parse_sweep(data, f"sweep {sweep.name!r}")
        if assignments:
            sweep = with_sweep_overrides(sweep, *assignments)
        expand_trials(sweep)  # every trial's config valid before anything runs
        return sweep
    from .presets import load_preset

    config = load_preset(name_or_path)
    return config_with(apply_quick(config) if quick else config, assignments=assignments, seed=seed, **settings)
