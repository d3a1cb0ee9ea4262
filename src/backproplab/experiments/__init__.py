"""Experiments: validated run configs, presets, one run (`run`) and sweeps of runs (`sweep`).

`backproplab.lab` puts them together with reports and tracking, for the CLI and the API alike.
"""

from .config import RunConfig, apply_quick, load_config, parse_config, with_overrides
from .presets import load_preset, preset_kind, preset_names, presets_dir
from .run import Experiment, RunResult, build_experiment, resume_experiment, run_experiment
from .sweep import load_any

__all__ = [
    "Experiment",
    "RunConfig",
    "RunResult",
    "apply_quick",
    "build_experiment",
    "load_any",
    "load_config",
    "load_preset",
    "parse_config",
    "preset_kind",
    "preset_names",
    "presets_dir",
    "resume_experiment",
    "run_experiment",
    "with_overrides",
]
