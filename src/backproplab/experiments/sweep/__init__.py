"""Sweeps in one import: ``from backproplab.experiments.sweep import load_sweep, expand_trials, run_sweep``.

`spec` (the sweep file), `trials` (expanding it), `executors` (where trials run), `worker` (one trial, as a
worker runs it) and `runner` (the sweep loop and its directory).
"""

from .executors import EXECUTORS, open_executor
from .runner import (
    MAX_ATTEMPTS,
    RETRAIN_DIR,
    SWEEP_FILE,
    SWEEP_SUMMARY,
    TRIALS_CSV,
    TRIALS_DIR,
    TRIALS_JSON,
    SweepDirError,
    SweepResult,
    choose_best,
    retrain_config,
    run_sweep,
)
from .spec import SweepConfig, apply_quick_sweep, load_any, load_sweep, parse_sweep, with_sweep_overrides
from .trials import Trial, expand_trials, grid_points, random_points
from .worker import run_trial

__all__ = [
    "EXECUTORS",
    "MAX_ATTEMPTS",
    "RETRAIN_DIR",
    "SWEEP_FILE",
    "SWEEP_SUMMARY",
    "TRIALS_CSV",
    "TRIALS_DIR",
    "TRIALS_JSON",
    "SweepConfig",
    "SweepDirError",
    "SweepResult",
    "Trial",
    "apply_quick_sweep",
    "choose_best",
    "expand_trials",
    "grid_points",
    "load_any",
    "load_sweep",
    "open_executor",
    "parse_sweep",
    "random_points",
    "retrain_config",
    "run_sweep",
    "run_trial",
    "with_sweep_overrides",
]
