"""HTML sections shared by the run and sweep reports: metric formatting, published-vs-this-run, config tables."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..experiments.config import flatten_dotted
from ..experiments.run.published import describe_not_reached, split_reached
from .html import esc, table


def fmt_metric(metric: str, value: Any) -> str:
    """Accuracies in percent, losses with 4 decimals; NaN/inf highlighted, None as ``n/a``."""
    if value is None:
        return "n/a"
    if isinstance(value, float) and not math.isfinite(value):
        return f'<span class="bad">{value}</span>'
    if not isinstance(value, int | float):
        return esc(value)
    return f"{100 * value:.2f}%" if metric.endswith("acc") else f"{value:.4f}"


def published_section(rows: list[dict[str, Any]], heading: str = "Published vs this run") -> str:
    """The rows of `backproplab.experiments.run.published.compare_published` the run reached as a table, and a
    line naming those it did not reach (empty string when there are no rows)."""
    if not rows:
        return ""
    reached, missed = split_reached(rows)
    body = []
    for r in reached:
        diff = r.get("difference")
        if diff is None:
            diff_text = ""
        else:
            diff_text = f"{100 * diff:+.2f} pts" if r["metric"].endswith("acc") else f"{diff:+.4f}"
        pub = (">= " if r.get("at_least") else "") + fmt_metric(r["metric"], r["published"])
        epoch = r.get("epoch", 0)
        body.append(
            [
                esc(r["metric"]),
                "final" if not epoch else epoch,
                pub,
                fmt_metric(r["metric"], r.get("this_run")),
                diff_text,
                esc(r.get("source", "")),
            ]
        )
    note = f'<p class="muted">Not reached in this run: {esc(describe_not_reached(missed))}.</p>' if missed else ""
    return (
        f"<h2>{esc(heading)}</h2>"
        + (table(["metric", "epoch", "published", "this run", "difference", "source"], body, left=1) if body else "")
        + note
    )


def shorten(text: Any, limit: int = 120) -> str:
    """``text`` escaped for HTML; longer than ``limit`` characters (or over several lines), its first line cut to
    ``limit`` with the whole text shown on hover (a ``title``)."""
    full = str(text)
    first = full.splitlines()[0] if full.strip() else ""
    if len(full) <= limit and "\n" not in full:
        return esc(full)
    short = first if len(first) <= limit else first[: limit - 1].rstrip() + "…"
    if short == first:
        short += " …"
    return f'<span title="{esc(full)}">{esc(short)}</span>'


def config_table(config: Mapping[str, Any], skip: tuple[str, ...] = ("published", "quick", "description")) -> str:
    """Every resolved config key as a two-column table (dotted key, value)."""
    rows = [
        [esc(k), f"<code>{esc(v)}</code>"]
        for k, v in flatten_dotted({k: v for k, v in config.items() if k not in skip}).items()
    ]
    return table(["key", "value"], rows, left=2) if rows else ""
