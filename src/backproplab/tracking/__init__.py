"""Experiment tracking: mirror finished run and sweep directories into MLflow (default) or W&B.

The run directory is always written first and stays the complete record. While a run or sweep trains,
`LiveRun` / `LiveSweep` log its params and each epoch's metrics as the run directory records them; at the end
(and with `backproplab track` for any old run) trackers read the directory back (`read_run_dir`,
`read_sweep_dir`) and log final metrics, tags and artifacts. Like `report`, this package only reads run
directories.
"""

from .base import TRACKERS, NullTracker, Tracker, default_store_uri, default_tracker_kind, make_tracker
from .directories import TRACKING_SECONDS, log_run_dir, log_sweep_dir, track_dir, track_run_dir, track_sweep_dir
from .live import LiveRun, LiveSweep
from .records import RunRecord, flatten, is_run_dir, is_sweep_dir, read_run_dir, read_sweep_dir

__all__ = [
    "TRACKERS",
    "TRACKING_SECONDS",
    "LiveRun",
    "LiveSweep",
    "NullTracker",
    "RunRecord",
    "Tracker",
    "default_store_uri",
    "default_tracker_kind",
    "flatten",
    "is_run_dir",
    "is_sweep_dir",
    "log_run_dir",
    "log_sweep_dir",
    "make_tracker",
    "read_run_dir",
    "read_sweep_dir",
    "track_dir",
    "track_run_dir",
    "track_sweep_dir",
]
