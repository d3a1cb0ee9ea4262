"""Plain-text tables of the results (no dependencies)."""

from __future__ import annotations

import textwrap
from typing import Any

from .targets import format_ratio


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


def speed_table(batches: list[dict[str, Any]]) -> str:
    header = [
        "batch",
        "samples",
        "peer",
        "samples/s",
        "median s",
        "repeats (s)",
        "samples/CPU-s",
        "loss before -> after",
        "max|dW| vs plain",
    ]
    rows, notes = [], []
    for batch in batches:
        for r in batch["rows"]:
            cells = [str(batch["batch_size"]), f"{batch['samples']:,}", r["label"]]
            if r["status"] == "ok" or r.get("samples_per_second"):
                diffs = [d for d in r["max_abs_diff_vs_plain"] if d is not None]
                cells += [
                    f"{r['samples_per_second']:,.0f}",
                    f"{r['median_seconds']:.3f}",
                    " ".join(f"{s:.3f}" for s in r["seconds"]),
                    f"{r['samples_per_cpu_second']:,.0f}",
                    f"{batch['loss_before']:.4f} -> {r['median_loss_after']:.4f}"
                    + ("" if r.get("trains") else "  NOT TRAINING"),
                    f"{max(diffs):.1e}" if diffs else "-",
                ]
            else:
                reason = textwrap.shorten(str(r["reason"]), 170, placeholder=" ... (full reason in the JSON)")
                notes.append(f"[{len(notes) + 1}] batch {batch['batch_size']}, {r['label']}: {reason}")
                cells += [f"{r['status']} [{len(notes)}]", "", "", "", "", ""]
            rows.append(cells)
    return "\n".join([_table(header, rows, right={0, 1, 3, 4, 6}), *notes])


def ratio_table(ratios: dict[str, dict[str, float | None]], batches: list[dict[str, Any]]) -> str:
    """One row per ratio, one column per batch size."""
    sizes = list(ratios)
    keys = list(ratios[sizes[0]]) if sizes else []
    autos = {str(b["batch_size"]): str(b.get("auto_engine")) for b in batches}
    header = ["ratio", *(f"batch {s}" for s in sizes)]
    rows = [["engine fit(engine='auto') runs", *(autos.get(s, "-") for s in sizes)]]
    rows += [[k, *("-" if ratios[s][k] is None else f"{ratios[s][k]:.2f}x" for s in sizes)] for k in keys]
    return _table(header, rows, right=set(range(1, len(header))))


def target_table(targets: list[dict[str, Any]]) -> str:
    rows = []
    for t in targets:
        if t["value"] is None:
            value = "-"
        elif "maximum_seconds" in t:
            value = f"{t['value']:.1f} s"
        else:
            value = format_ratio(t["value"], t.get("minimum_ratio", t.get("maximum_ratio")))
        if t.get("value_cpu") is None:
            cpu = "-"
        elif "maximum_seconds" in t:
            cpu = f"{t['value_cpu']:.1f} s"
        else:
            cpu = format_ratio(t["value_cpu"], t.get("minimum_ratio", t.get("maximum_ratio")))
        rows.append([t["status"], t["target"], value, cpu, t.get("note") or ""])
    return _table(["result", "target", "measured", "on CPU time", "note"], rows, right={2, 3})
