"""`backproplab explain`: print a worked example, every quantity with its formula and value."""

from __future__ import annotations

from pathlib import Path

import click

from .common import friendly_errors

FORMATS = ("text", "markdown", "json")
COSTS = ("cross-entropy", "squared")


def _problem_list() -> str:
    from ..explain.problems import PROBLEMS

    width = max(len(n) for n in PROBLEMS)
    return "\n".join(f"{p.name:<{width}}  [{p.source}] {p.summary}" for p in PROBLEMS.values())


@click.command("explain")
@click.argument("problem", required=False, metavar="PROBLEM|FILE.toml|TABLE.csv")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="json keeps every number at full precision.",
)
@click.option(
    "--precision",
    type=click.IntRange(0, 17),
    default=4,
    show_default=True,
    help="Decimals shown (text and markdown); values are rounded only for display.",
)
@click.option(
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Learning rate of the SGD update (networks: hw-643, mazur-222, mazur-222-f, TOML files).",
)
@click.option(
    "--cost", type=click.Choice(COSTS), default=None, help="Cost of mazur-222 and mazur-222-f (default cross-entropy)."
)
@click.option(
    "--plots",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory for PNG figures (knn-dimensionality, id3-phone-usage, forest-sickness, CSV tables).",
)
@click.option("--target", default=None, help="Target column of a CSV table (default: the last column).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of the terminal.",
)
@click.option("--list", "list_problems", is_flag=True, help="List the built-in problems and exit.")
@friendly_errors
def explain_command(
    problem: str | None,
    fmt: str,
    precision: int,
    lr: float | None,
    cost: str | None,
    plots: Path | None,
    target: str | None,
    output: Path | None,
    list_problems: bool,
) -> None:
    """Show a worked example step by step: every quantity with its formula and value.

    PROBLEM is a built-in problem (see --list), a CSV table with a header row (explained by an ID3 tree; the
    target is the last column unless --target names another), or a TOML file describing a network:

    \b
      sizes = [3, 2, 2]                 # input, hidden..., output
      layout = "folded"                 # weights (out, 1 + in), bias in column 0
                                        # or "in_out": weights (in, out) plus `bias`
      loss = "softmax_cross_entropy"    # cross_entropy, binary_cross_entropy, mse, mse_full
      input = [1.0, 0.5, -1.0]
      target = 1                        # class index (see class_base) or a target row
      lr = 0.5                          # optional
      [[layers]]                        # one per Dense layer
      activation = "sigmoid"            # relu, tanh, elu, leaky_relu, identity, softmax,
                                        # or one per unit: ["sigmoid", "tanh"]
      weights = [[0.1, 0.2, 0.3, 0.4], [0.0, -0.1, 0.5, 0.2]]
      [[layers]]
      activation = "identity"
      weights = [[0.0, 1.0, -1.0], [0.5, 0.5, 0.5]]
    """
    if list_problems or problem is None:
        click.echo(_problem_list())
        if problem is None and not list_problems:
            click.echo("\nUsage: backproplab explain PROBLEM|FILE.toml|TABLE.csv [--format text|markdown|json]")
        return
    from ..explain.problems import build_problem

    derivation = build_problem(problem, lr=lr, cost=cost, plots=plots, target=target)
    text = derivation.render(fmt, precision)
    if output is not None:
        from .._io import atomic_write_text

        output.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(output, text)
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=False)
