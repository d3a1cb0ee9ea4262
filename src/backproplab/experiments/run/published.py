"""Compare a run's figures with the published numbers a preset carries."""

from __future__ import annotations

from typing import Any

from ...train import History
from ..config import PublishedValue


def compare_published(published: list[PublishedValue], history: History,
                      final: dict[str, float]) -> list[dict[str, Any]]:
    """One row per published value: ``metric``, ``epoch`` (0 = final), ``published``, ``this_run``, ``difference``.

    ``this_run`` is the metric at that epoch of the History, or of the final evaluation for epoch 0; None
    when the run did not reach that epoch or does not measure that metric.
    """
    rows = []
    for item in published:
        if item.epoch == 0:
            value = final.get(item.metric)
        elif item.epoch <= len(history.epochs):
            value = history.epochs[item.epoch - 1].get(item.metric)
        else:
            value = None
        rows.append({
            "metric": item.metric, "epoch": item.epoch, "published": item.value, "at_least": item.at_least,
            "source": item.source,
            "this_run": value, "difference": None if value is None else value - item.value,
        })
    return rows


def format_published(rows: list[dict[str, Any]]) -> str:
    """A console table; accuracies shown in percent."""
    if not rows:
        return ""
    lines = [f"{'metric':<12} {'epoch':>5} {'published':>10} {'this run':>10} {'diff':>9}"]
    for r in rows:
        pct = r["metric"].endswith("acc")
        fmt = (lambda v: f"{100 * v:.2f}%") if pct else (lambda v: f"{v:.4f}")
        this = "n/a" if r["this_run"] is None else fmt(r["this_run"])
        if r["difference"] is None:
            diff = ""
        else:
            diff = f"{100 * r['difference']:+.2f}" if pct else f"{r['difference']:+.4f}"
        epoch = "final" if r["epoch"] == 0 else str(r["epoch"])
        published = (">=" if r.get("at_least") else "") + fmt(r["published"])
        lines.append(f"{r['metric']:<12} {epoch:>5} {published:>10} {this:>10} {diff:>9}")
    return "\n".join(lines)
