"""Sweeps in one import: ``from backproplab.experiments.sweep import load_sweep, expand_trials, run_sweep``."""

from .executors import EXECUTORS, open_executor, run_trial
from .sweep_config import SweepConfig, apply_quick_sweep, load_sweep, parse_sweep, with_sweep_overrides
from .sweep_runner import (
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
from .sweep_trials import Trial, expand_trials, grid_points, random_points

__all__ = ["EXECUTORS", "RETRAIN_DIR", "SWEEP_FILE", "SWEEP_SUMMARY", "TRIALS_CSV", "TRIALS_DIR", "TRIALS_JSON",
           "SweepConfig", "SweepDirError", "SweepResult", "Trial", "apply_quick_sweep", "choose_best",
           "expand_trials", "grid_points", "load_sweep", "open_executor", "parse_sweep", "random_points",
           "retrain_config", "run_sweep", "run_trial", "with_sweep_overrides"]
