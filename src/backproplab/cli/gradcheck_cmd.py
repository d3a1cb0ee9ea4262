"""`backproplab gradcheck`: check every module, loss and a whole MLP against numerical gradients."""

from __future__ import annotations

import click

from .common import friendly_errors


@click.command("gradcheck")
@click.option("--tol", type=float, default=1e-7, help="Largest relative error accepted.")
@click.option("--seed", type=click.IntRange(min=0), default=0)
@friendly_errors
def gradcheck_command(tol: float, seed: int) -> None:
    """Compare every module's backward with central differences in float64; exit 1 if any error >= TOL."""
    from ..check.catalogue import check_all

    rows = check_all(seed)
    failed = [name for name, report in rows if not report.passed(tol)]
    width = max(len(n) for n, _ in rows)
    click.echo(f"{'module':<{width}}  {'max rel error':>13}  tensors")
    for name, report in rows:
        mark = "ok" if report.passed(tol) else "FAIL"
        detail = ", ".join(f"{k} {v:.1e}" for k, v in report.errors.items())
        click.echo(f"{name:<{width}}  {report.max_error:>13.2e}  {mark}  ({detail})")
    if failed:
        click.echo(f"{len(failed)} failed (tolerance {tol:g}): {', '.join(failed)}", err=True)
        raise SystemExit(1)
    click.echo(f"all {len(rows)} checks below {tol:g}")
