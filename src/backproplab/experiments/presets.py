"""Named presets: the TOML files in ``backproplab/configs`` (the repository's ``configs/`` directory).

A preset is a run config, or a sweep (``kind = "sweep"``, see `backproplab.experiments.sweep.spec`, which also
has `load_any` for either kind).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .._text import did_you_mean
from ..errors import ConfigError
from .config import RunConfig, parse_config, read_toml


def presets_dir() -> Path:
    return Path(str(resources.files("backproplab") / "configs"))


def preset_names() -> list[str]:
    """Every preset, runs and sweeps alike."""
    return sorted(p.stem for p in presets_dir().glob("*.toml"))


def find_preset(name_or_path: str) -> Path:
    """The TOML file of a preset name (``fashion-sgd``) or a path to a TOML file."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        return path
    candidate = presets_dir() / f"{name_or_path}.toml"
    if not candidate.is_file():
        hint = did_you_mean(name_or_path, preset_names())
        known = (
            " (`backproplab presets` lists them all)"
            if hint
            else f"; the presets are {', '.join(preset_names())} (`backproplab presets` describes them)"
        )
        raise ConfigError(f"unknown preset {name_or_path!r}{hint}{known}; or give a path to a .toml file")
    return candidate


def preset_kind(name_or_path: str) -> str:
    """``"run"`` or ``"sweep"``, from the file's ``kind`` key (absent: run)."""
    path = find_preset(name_or_path)
    kind = read_toml(path).get("kind", "run")
    if kind not in ("run", "sweep"):
        raise ConfigError(f"{path}: kind: expected one of 'run', 'sweep'; got {kind!r}")
    return kind


def _named(config: RunConfig, name_or_path: str) -> RunConfig:
    if Path(name_or_path).suffix == ".toml" or config.name == name_or_path:
        return config
    return config.model_copy(update={"name": name_or_path})


def load_preset(name_or_path: str) -> RunConfig:
    """A run preset by name (``fashion-sgd``) or a path to a run-config TOML file."""
    path = find_preset(name_or_path)
    data = read_toml(path)
    kind = data.pop("kind", "run")
    if kind == "sweep":
        raise ConfigError(
            f"{name_or_path!r} is a sweep, not a single run; run it with "
            f"`backproplab sweep {name_or_path}` (or `backproplab run {name_or_path}`)"
        )
    if kind != "run":
        raise ConfigError(f"{path}: kind: expected one of 'run', 'sweep'; got {kind!r}")
    return _named(parse_config(data, str(path)), name_or_path)
