"""`format_trials`: the console table of a sweep's trials, best first, and its outcome."""

from __future__ import annotations

from typing import Any

from ..run.published import format_published


def format_trials(trials: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    """The trials sorted by the selection metric (best first; diverged and failed last), and the outcome."""
    metric, mode = summary["selection"]["metric"], summary["selection"]["mode"]
    sign = -1 if mode == "max" else 1

    def key(r: dict[str, Any]) -> tuple[int, float, int]:
        sel = r["selection"]
        return (0, sign * sel, r["index"]) if isinstance(sel, int | float) else (1, 0.0, r["index"])

    params = list(dict.fromkeys(k for r in trials for k in r["params"]))
    head = ["trial", *params, "seed", "status", metric]
    rows = [head]
    for r in sorted(trials, key=key):
        sel = r["selection"]
        rows.append(
            [
                r["trial"],
                *(str(r["params"].get(p, "")) for p in params),
                str(r["seed"]),
                r["status"],
                f"{sel:.4f}" if isinstance(sel, int | float) else "-",
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    counts = summary["trials"]
    interrupted = f", {counts['interrupted']} interrupted" if counts.get("interrupted") else ""
    lines.append(f"{counts['ok']} ok, {counts['diverged']} diverged, {counts['error']} failed{interrupted}")
    if summary["best"]:
        lines.append(f"Best: {summary['best']} {summary['best_params']} ({metric} {summary['best_selection']:.4f})")
        final = summary["final"]
        label = "retrained on all training data" if summary["retrain"] else "best trial"
        parts = [
            f"{k} {100 * v:.2f}%" if k.endswith("acc") else f"{k} {v:.4f}"
            for k, v in final.items()
            if isinstance(v, int | float)
        ]
        lines.append(f"Final ({label}): " + ", ".join(parts))
    else:
        lines.append("No trial finished successfully, so there is no best point.")
    if summary.get("retrain_error"):
        lines.append(f"Retrain failed: {summary['retrain_error']}")
    if summary["published"]:
        lines += ["Published vs this sweep:", format_published(summary["published"])]
    return "\n".join(lines)
