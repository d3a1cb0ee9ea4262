"""`write_report`: the report of a run directory or a sweep directory, whichever ``path`` is."""

from __future__ import annotations

from pathlib import Path

from ..errors import BackproplabError
from ..rundir import RunDir, SweepDir
from .run_report import write_run_report
from .sweep_report import write_sweep_report


def write_report(path: str | Path, *, trial_reports: bool = False) -> Path:
    """A run directory (has ``summary.json``) or a sweep directory (has ``sweep_summary.json``) -> report.html.
    ``trial_reports``: for a sweep, also write every trial's own report that is missing."""
    path = Path(path)
    if SweepDir.is_finished(path):
        return write_sweep_report(path, trial_reports=trial_reports)
    if RunDir.is_finished(path):
        return write_run_report(path)
    if SweepDir.is_sweep_dir(path):
        raise BackproplabError(
            f"{path}: a sweep directory that has not finished (no {SweepDir.SUMMARY}); "
            f"resume it with `backproplab resume {path}`, then report"
        )
    if RunDir.is_run_dir(path):
        raise BackproplabError(
            f"{path}: a run that has not finished (no {RunDir.SUMMARY}: still running, or "
            f"killed); resume it with `backproplab resume {path}`, then report"
        )
    if not path.is_dir():
        raise BackproplabError(f"{path}: no such directory; expected a run or sweep directory")
    raise BackproplabError(
        f"{path}: neither a finished run directory (no {RunDir.SUMMARY}) nor a sweep directory "
        f"(no {SweepDir.SUMMARY}); give the directory a run or `backproplab sweep` wrote"
    )
