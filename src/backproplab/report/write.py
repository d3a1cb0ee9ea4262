"""`write_report`: the report of a run directory or a sweep directory, whichever ``path`` is."""

from __future__ import annotations

from pathlib import Path

from ..errors import BackproplabError
from .run_report import write_run_report
from .sweep_data import SWEEP_SUMMARY, TRIALS_JSON
from .sweep_report import write_sweep_report


def write_report(path: str | Path, *, trial_reports: bool = False) -> Path:
    """A run directory (has ``summary.json``) or a sweep directory (has ``sweep_summary.json``) -> report.html.
    ``trial_reports``: for a sweep, also write every trial's own report that is missing."""
    path = Path(path)
    if (path / SWEEP_SUMMARY).is_file():
        return write_sweep_report(path, trial_reports=trial_reports)
    if (path / "summary.json").is_file():
        return write_run_report(path)
    if (path / TRIALS_JSON).is_file():
        raise BackproplabError(f"{path}: a sweep directory that has not finished (trials.json but no "
                               f"{SWEEP_SUMMARY}); run the sweep again to resume it, then report")
    if not path.is_dir():
        raise BackproplabError(f"{path}: no such directory; expected a run or sweep directory")
    raise BackproplabError(f"{path}: neither a finished run directory (no summary.json) nor a sweep directory "
                           f"(no {SWEEP_SUMMARY}); give the directory a run or `backproplab sweep` wrote")
