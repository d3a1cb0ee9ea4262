"""Experiments: validated run configs, presets, and runs written to their own directories."""

from .build import Experiment, build_experiment
from .config import RunConfig, apply_quick, load_config, parse_config, with_overrides
from .presets import load_any, load_preset, preset_kind, preset_names, presets_dir
from .runner import RunResult, run_experiment

__all__ = ["Experiment", "RunConfig", "RunResult", "apply_quick", "build_experiment", "load_config",
           "load_any", "load_preset", "parse_config", "preset_kind", "preset_names", "presets_dir",
           "run_experiment", "with_overrides"]
