"""Compare a run's figures with the published numbers a preset carries, for the epochs the run reached."""

from __future__ import annotations

from typing import Any

from ...train import History
from ..config import PublishedValue


def compare_published(
    published: list[PublishedValue], history: History, final: dict[str, float], *, full_length: bool = True
) -> list[dict[str, Any]]:
    """One row per published value: ``metric``, ``epoch`` (0 = final), ``published``, ``this_run``, ``difference``
    and ``reached``.

    ``this_run`` is the metric at that epoch of the History, or of the final evaluation for epoch 0. A row is
    ``reached`` when the run got there: the epoch is one it trained, and for a final value the run trained its
    full length (``full_length``: not a quick variant, not interrupted). Rows not reached, or for a metric the run
    does not measure, have ``this_run`` and ``difference`` None: nothing is compared with them.
    """
    rows = []
    for item in published:
        reached = full_length if item.epoch == 0 else item.epoch <= len(history.records)
        value = None
        if reached:
            value = final.get(item.metric) if item.epoch == 0 else history.records[item.epoch - 1].get(item.metric)
        rows.append(
            {
                "metric": item.metric,
                "epoch": item.epoch,
                "published": item.value,
                "at_least": item.at_least,
                "source": item.source,
                "reached": reached,
                "this_run": value,
                "difference": None if value is None else value - item.value,
            }
        )
    return rows


def split_reached(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(reached, not reached)``; rows written before ``reached`` existed count as reached."""
    reached = [r for r in rows if r.get("reached", True)]
    return reached, [r for r in rows if not r.get("reached", True)]


def describe_not_reached(rows: list[dict[str, Any]]) -> str:
    """``"test_loss, test_acc at epochs 5, 10, 15; train_loss (final)"``: the published values a run did not reach."""
    by_metrics: dict[tuple[str, ...], list[int]] = {}
    epochs: dict[int, list[str]] = {}
    for r in rows:
        epochs.setdefault(int(r["epoch"]), []).append(r["metric"])
    for epoch, metrics in epochs.items():
        by_metrics.setdefault(tuple(metrics), []).append(epoch)
    parts = []
    for metrics, eps in by_metrics.items():
        named = ", ".join(metrics)
        at = [e for e in eps if e > 0]
        if at:
            parts.append(f"{named} at epoch{'s' if len(at) > 1 else ''} {', '.join(map(str, at))}")
        if 0 in eps:
            parts.append(f"{named} (final, after the full run)")
    return "; ".join(parts)


def format_published(rows: list[dict[str, Any]]) -> str:
    """A console table of the published values the run reached (accuracies in percent), then one line naming
    those it did not reach."""
    if not rows:
        return ""
    reached, missed = split_reached(rows)
    lines = []
    if reached:
        lines.append(f"{'metric':<12} {'epoch':>5} {'published':>10} {'this run':>10} {'diff':>9}")
    for r in reached:
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
    if missed:
        lines.append(f"not reached in this run: {describe_not_reached(missed)}")
    return "\n".join(lines)
