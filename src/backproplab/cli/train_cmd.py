"""`backproplab train`: one run from flags and/or a TOML config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..experiments.config import SEED_MAX, RunConfig, deep_merge, load_config, parse_assignment, parse_config
from .common import (
    backend_option,
    device_option,
    echo,
    finish,
    friendly_errors,
    predict_option,
    report_option,
    resume_option,
    runs_dir_option,
    set_option,
    tracker_option,
    tracking_uri_option,
    verbosity_option,
)

# flag name -> (config section, key)
FLAG_KEYS = {
    "dataset": ("data", "dataset"), "data_root": ("data", "root"), "scale": ("data", "scale"),
    "validation_size": ("data", "validation_size"), "limit_train": ("data", "limit_train"),
    "limit_test": ("data", "limit_test"),
    "hidden": ("model", "hidden"), "activation": ("model", "activation"), "elu_alpha": ("model", "elu_alpha"),
    "dropout": ("model", "dropout"), "init": ("model", "init"), "init_std": ("model", "init_std"),
    "dtype": ("model", "dtype"), "backend": ("model", "backend"), "device": ("model", "device"),
    "loss": ("loss", "name"),
    "optimizer": ("optimizer", "name"), "lr": ("optimizer", "lr"), "momentum": ("optimizer", "momentum"),
    "lr_decay": ("optimizer", "lr_decay"),
    "l2": ("regularization", "l2"), "l2_convention": ("regularization", "l2_convention"),
    "l1": ("regularization", "l1"),
    "epochs": ("training", "epochs"), "batch_size": ("training", "batch_size"), "shuffle": ("training", "shuffle"),
    "engine": ("training", "engine"), "predict": ("training", "predict"),
}


def _hidden(_: Any, __: Any, value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        return [int(v) for v in value.replace(" ", "").split(",") if v]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated widths such as 256 or 256,64; got {value!r}") from None


def config_from_flags(config_path: Path | None, flags: dict[str, Any], assignments: tuple[str, ...],
                      name: str | None, seed: int | None) -> RunConfig:
    base = load_config(config_path) if config_path else RunConfig()
    data = base.model_dump(mode="json", exclude_none=True)
    for flag, value in flags.items():
        if value is not None:
            section, key = FLAG_KEYS[flag]
            data = deep_merge(data, {section: {key: value}})
    if flags.get("lr_decay") is not None:
        data = deep_merge(data, {"optimizer": {"schedule": "step"}})
    if seed is not None:  # one seed for init, shuffling and the split
        data = deep_merge(data, {"model": {"seed": seed}, "training": {"seed": seed}, "data": {"split_seed": seed}})
    if flags.get("validation_size"):
        data = deep_merge(data, {"training": {"eval": ["validation", "test"]}})
    for text in assignments:
        data = deep_merge(data, parse_assignment(text))
    if name:
        data["name"] = name
    return parse_config(data, str(config_path) if config_path else "")


@click.command("train")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="TOML config file; flags override its values.")
@click.option("--name", help="Run name (used in the run directory's name).")
@click.option("--dataset", type=click.Choice(["fashion-mnist", "mnist", "cifar10", "npy", "spiral", "toy"]))
@click.option("--data-root", help="Directory (or file) holding the dataset.")
@click.option("--scale", type=click.Choice(["unit", "centered", "mean", "standardize", "none"]))
@click.option("--validation-size", type=int, help="Training rows held out for validation (e.g. 10000).")
@click.option("--limit-train", type=int, help="Use only the first N training rows.")
@click.option("--limit-test", type=int, help="Use only the first N test rows.")
@click.option("--hidden", callback=_hidden, help="Hidden widths, e.g. 256 or 256,64.")
@click.option("--activation", type=click.Choice(["sigmoid", "relu", "leaky_relu", "elu", "tanh", "identity"]))
@click.option("--elu-alpha", type=float, help="ELU alpha (the CMU course uses 0.9).")
@click.option("--dropout", type=float, help="Drop probability after each hidden activation.")
@click.option("--init", type=click.Choice(["glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                                           "normal", "zeros"]))
@click.option("--init-std", type=float, help="Std of --init normal.")
@click.option("--dtype", type=click.Choice(["float32", "float64"]))
@backend_option
@device_option
@click.option("--loss", type=click.Choice(["softmax_cross_entropy", "mse"]))
@click.option("--optimizer", type=click.Choice(["sgd", "adam"]))
@click.option("--lr", type=float, help="Learning rate.")
@click.option("--momentum", type=float)
@click.option("--lr-decay", type=float, help="Multiply the learning rate by this after every epoch.")
@click.option("--l2", type=float, help="L2 strength (weights only).")
@click.option("--l2-convention", type=click.Choice(["squared", "half"]),
              help="squared: lambda*||W||^2; half: 0.5*lambda*||W||^2.")
@click.option("--l1", type=float, help="L1 strength (weights only).")
@click.option("--epochs", type=int)
@click.option("--batch-size", type=int)
@click.option("--shuffle/--no-shuffle", default=None, help="Shuffle each epoch, or train in file order.")
@click.option("--seed", type=click.IntRange(0, SEED_MAX),
              help="Seed for initialisation, shuffling and the validation split.")
@click.option("--engine", type=click.Choice(["auto", "fast", "numpy", "torch"]))
@predict_option
@set_option
@runs_dir_option
@report_option
@tracker_option
@tracking_uri_option
@verbosity_option
@resume_option
@friendly_errors
def train_command(config_path: Path | None, name: str | None, seed: int | None, assignments: tuple[str, ...],
                  runs_dir: Path | None, report: bool, quiet: bool, tracker: str | None,
                  tracking_uri: str | None, resume: Path | None, **flags: Any) -> None:
    """Train a network from flags and/or --config FILE.toml and write a run directory.

    Defaults are the flagship experiment (Fashion-MNIST 784-256-10 sigmoid, SGD lr 0.01, batch 1,
    15 epochs, file order). Example: backproplab train --dataset mnist --hidden 256,64 --activation elu
    --elu-alpha 0.9 --lr 0.1 --batch-size 32 --epochs 20 --shuffle --validation-size 10000

    --resume RUN_DIR continues an interrupted or killed run (alone, or with the flags it was started with).
    """
    from .. import lab

    options = {"report": report, "tracker": tracker, "tracking_uri": tracking_uri, "verbose": 0 if quiet else 1,
               "say": echo}
    given = config_path or name or seed is not None or assignments or any(v is not None for v in flags.values())
    if resume is not None:
        expected = config_from_flags(config_path, flags, assignments, name, seed) if given else None
        finish(lab.resume(resume, expected=expected, **options), quiet)
        return
    config = config_from_flags(config_path, flags, assignments, name, seed)
    finish(lab.run(config, runs_dir=runs_dir, **options), quiet)
