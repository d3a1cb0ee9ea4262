"""One run: build the objects a config describes, check the initial model, train into a run directory."""

from .build import Experiment, build_experiment
from .init_from import preset_prerequisites, resolve_init_from
from .runner import RunResult, final_lines, resume_experiment, run_experiment

__all__ = [
    "Experiment",
    "RunResult",
    "build_experiment",
    "final_lines",
    "preset_prerequisites",
    "resolve_init_from",
    "resume_experiment",
    "run_experiment",
]
