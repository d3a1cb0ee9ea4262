"""Reports: plots (PNG) and self-contained HTML pages of runs and sweeps."""

from .plots import plot_confusion, plot_curves, plot_misclassified
from .run_report import write_run_plots, write_run_report
from .sweep_report import write_sweep_plots, write_sweep_report
from .weights import plot_weight_tiles
from .write import write_report

__all__ = [
    "plot_confusion",
    "plot_curves",
    "plot_misclassified",
    "plot_weight_tiles",
    "write_report",
    "write_run_plots",
    "write_run_report",
    "write_sweep_plots",
    "write_sweep_report",
]
