"""The `backproplab` command line."""

from __future__ import annotations

import click

from .. import __version__
from .data_cmd import data_group
from .explain_cmd import explain_command
from .gradcheck_cmd import gradcheck_command
from .report_cmd import report_command
from .resume_cmd import resume_command
from .run_cmd import presets_command, run_command
from .sweep_cmd import sweep_command
from .track_cmd import track_command, ui_command
from .train_cmd import train_command


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110, "show_default": True})
@click.version_option(__version__, prog_name="backproplab")
def main() -> None:
    """backproplab: neural networks with every forward and backward pass written out.

    \b
    Quick start:
      backproplab run fashion-sgd      the flagship Fashion-MNIST experiment, with its report
      backproplab presets              all named experiments (runs and sweeps)
      backproplab sweep FILE           a hyperparameter sweep, trials in parallel (resumable)
      backproplab resume DIR           continue an interrupted run or sweep from its checkpoint
      backproplab train --help         train from flags or a TOML config
      backproplab gradcheck            check every layer against numerical gradients
      backproplab ui                   browse tracked runs in the MLflow UI
    """


main.add_command(train_command)
main.add_command(run_command)
main.add_command(presets_command)
main.add_command(sweep_command)
main.add_command(resume_command)
main.add_command(data_group)
main.add_command(gradcheck_command)
main.add_command(report_command)
main.add_command(explain_command)
main.add_command(track_command)
main.add_command(ui_command)
