"""Named presets: the TOML files in ``backproplab/configs`` (the repository's ``configs/`` directory)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import ConfigError
from .config import RunConfig, load_config


def presets_dir() -> Path:
    return Path(str(resources.files("backproplab") / "configs"))


def preset_names() -> list[str]:
    return sorted(p.stem for p in presets_dir().glob("*.toml"))


def load_preset(name_or_path: str) -> RunConfig:
    """A preset by name (``fashion-sgd``) or a path to a TOML file."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        return load_config(path)
    candidate = presets_dir() / f"{name_or_path}.toml"
    if not candidate.is_file():
        raise ConfigError(f"unknown preset {name_or_path!r}; available: {', '.join(preset_names())} "
                          "(or give a path to a .toml file)")
    config = load_config(candidate)
    return config if config.name == name_or_path else config.model_copy(update={"name": name_or_path})
