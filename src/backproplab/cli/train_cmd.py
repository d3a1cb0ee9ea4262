"""`backproplab train`: one run from flags and/or a TOML config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..experiments.config import SEED_MAX, choices, default
from ..experiments.shortcuts import SHORTCUTS
from .common import (
    Common,
    SuggestingChoice,
    common_options,
    finish,
    friendly_errors,
    predict_option,
    report_option,
    resume_option,
    set_option,
)


def _hidden(_: Any, __: Any, value: str | list[int] | None) -> list[int] | None:
    if value is None or isinstance(value, list):
        return value
    try:
        return [int(v) for v in value.replace(" ", "").split(",") if v]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated widths such as 256 or 256,64; got {value!r}") from None


def setting(name: str, help: str | None = None, **kwargs: Any) -> Any:
    """The flag of config shortcut ``name`` (`SHORTCUTS`): its choices from the config schema (which reads the
    registries) and its default the config's (shown in --help; a flag not given leaves the config as it is,
    see `given`)."""
    key = SHORTCUTS[name]
    if choices(key) and "type" not in kwargs:
        kwargs["type"] = SuggestingChoice([str(c) for c in choices(key)])
    value = default(key)
    if isinstance(value, list):  # hidden widths: given as text, "256,64"
        value, kwargs["metavar"] = ",".join(map(str, value)), "W1,W2,..."
    return click.option("--" + name.replace("_", "-"), name, default=value, help=help, **kwargs)


def given(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with None for every option left at its default (the config file or the built-in config decides)."""
    ctx = click.get_current_context()
    return {
        k: None if ctx.get_parameter_source(k) == click.core.ParameterSource.DEFAULT else v for k, v in values.items()
    }


@click.command("train")
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML config file; flags override its values.",
)
@click.option("--name", help="Run name (used in the run directory's name).", default=default("name"))
@setting("dataset", "Dataset to train on.")
@setting("scale", "Input scaling.")
@setting("validation_size", "Training rows held out for validation (e.g. 10000); evaluates it each epoch.", type=int)
@setting("limit_train", "Use only the first N training rows (0: all).", type=int)
@setting("limit_test", "Use only the first N test rows (0: all).", type=int)
@setting("hidden", "Hidden widths, e.g. 256 or 256,64.", callback=_hidden)
@setting("activation", "Hidden activation.")
@setting("elu_alpha", "ELU alpha (the CMU course uses 0.9).", type=float)
@setting("dropout", "Drop probability after each hidden activation.", type=float)
@setting("init", "Weight initialiser.")
@setting("init_std", "Std of --init normal.", type=float)
@setting("dtype", "Parameter dtype.")
@setting("loss", "Loss.")
@setting("optimizer", "Optimizer.")
@setting("lr", "Learning rate.", type=float)
@setting("momentum", "SGD momentum.", type=float)
@setting("lr_decay", "Multiply the learning rate by this after every epoch.", type=float)
@setting("l2", "L2 strength (weights only).", type=float)
@setting("l2_convention", "squared: lambda*||W||^2; half: 0.5*lambda*||W||^2.")
@setting("l1", "L1 strength (weights only).", type=float)
@setting("epochs", "Epochs.", type=int)
@setting("batch_size", "Batch size.", type=int)
@click.option(
    "--shuffle/--no-shuffle",
    "shuffle",
    default=default("training.shuffle"),
    help="Shuffle each epoch, or train in file order.",
)
@click.option(
    "--seed",
    type=click.IntRange(0, SEED_MAX),
    default=default("training.seed"),
    help="Seed for initialisation, shuffling and the validation split.",
)
@setting("engine", "Training engine.")
@predict_option
@set_option
@report_option
@common_options
@resume_option
@friendly_errors
def train_command(
    config_path: Path | None,
    name: str | None,
    seed: int | None,
    assignments: tuple[str, ...],
    report: bool,
    common: Common,
    resume: Path | None,
    **flags: Any,
) -> None:
    """Train a network from flags and/or --config FILE.toml and write a run directory.

    Defaults are the flagship experiment (Fashion-MNIST 784-256-10 sigmoid, SGD lr 0.01, batch 1,
    15 epochs, file order). Example: backproplab train --dataset mnist --hidden 256,64 --activation elu
    --elu-alpha 0.9 --lr 0.1 --batch-size 32 --epochs 20 --shuffle --validation-size 10000

    --resume RUN_DIR continues an interrupted or killed run (alone, or with the flags it was started with).
    """
    from .. import lab
    from ..experiments.shortcuts import config_with

    values = given({**flags, "name": name, "seed": seed})
    name, seed = values.pop("name"), values.pop("seed")
    settings = {**values, **common.settings}
    changed = config_path or name or seed is not None or assignments or any(v is not None for v in settings.values())
    config = (
        config_with(config_path, assignments=assignments, name=name, seed=seed, **settings)
        if changed or resume is None
        else None
    )
    if resume is not None:
        result = lab.resume(resume, expected=config, report=report, **common.lab)
    else:
        result = lab.run(config, runs_dir=common.runs_dir, report=report, **common.lab)
    finish(result, common.verbose == 0)
