"""Reports: plots (PNG) and self-contained HTML pages of runs."""

from .plots import plot_confusion, plot_curves, plot_misclassified
from .run_report import write_run_plots, write_run_report

__all__ = ["plot_confusion", "plot_curves", "plot_misclassified", "write_run_plots", "write_run_report"]
