"""Markdown tables from a benchmark JSON, for docs/performance.md and the README.

python -m benchmarks.markdown [benchmarks/results/latest.json]
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from .run import DEFAULT_OUT
from .targets import format_ratio


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _short(reason: str) -> str:
    """``EngineError: engine='fast' cannot train this run: batch_size is 32 (the ...`` -> up to the first bracket."""
    reason = re.sub(r"^\w+(Error|Exception): ", "", reason)
    return re.split(r" \(|\. ", reason, maxsplit=1)[0][:100]


def to_markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    v = m["versions"]
    load = m.get("load_average") or [float("nan")]
    load_end = m.get("load_average_end") or [float("nan")]
    lines = [
        f"Measured {result['date'][:16].replace('T', ' ')} UTC on {m['cpu_count']} cores ({m['processor']}), "
        f"backproplab commit {m.get('git_commit')}, "
        f"shared with other users (load average {load[0]:.1f} at the start, {load_end[0]:.1f} at the end); "
        f"{m['threads']} thread(s); Python {m['python']}, NumPy {v['numpy']}, PyTorch {v['torch']}, "
        f"scikit-learn {v['scikit-learn']}, numba {v['numba']}. Median of {result['settings']['repeats']} "
        "repeat(s); samples/s of one training epoch.",
        "",
    ]
    lines += [
        _row(["batch", "rows", "peer", "samples/s", "samples/CPU-s", "loss before → after"]),
        _row(["---:", "---:", "---", "---:", "---:", "---"]),
    ]
    for b in result["batches"]:
        for r in b["rows"]:
            if r.get("samples_per_second"):
                speed = f"{r['samples_per_second']:,.0f} | {r['samples_per_cpu_second']:,.0f}"
                loss = f"{b['loss_before']:.3f} → {r['median_loss_after']:.3f}"
            else:
                speed, loss = f"{r['status']} | ", _short(r["reason"] or "")
            lines.append(_row([str(b["batch_size"]), f"{b['samples']:,}", r["label"], speed, loss]))
    sizes = list(result["ratios"])
    lines += ["", _row(["ratio of samples/s", *(f"batch {s}" for s in sizes)]), _row(["---", *("---:" for _ in sizes)])]
    autos = {str(b["batch_size"]): str(b.get("auto_engine")) for b in result["batches"]}
    lines.append(_row(['engine `fit(engine="auto")` runs', *(autos[s] for s in sizes)]))
    for key in result["ratios"][sizes[0]] if sizes else []:
        vals = [result["ratios"][s][key] for s in sizes]
        if any(x is not None for x in vals):
            lines.append(_row([key, *("–" if x is None else f"{x:.2f}×" for x in vals)]))
    run = result.get("run_fashion_sgd") or {}
    if not run.get("skipped") and run.get("wall_seconds") is not None:
        final, nan = run.get("final", {}), float("nan")
        lines += [
            "",
            f"`backproplab run fashion-sgd`: **{run['wall_seconds']:.1f} s** end to end, "
            f"{run.get('cpu_seconds', nan):.1f} s of CPU time ({run.get('engine')} "
            f"engine; {run.get('train_seconds', nan):.1f} s training, "
            f"{run.get('epoch_seconds', nan):.1f} s training + evaluation; epoch 15 test accuracy "
            f"{final.get('test_acc', nan):.4f}, test loss {final.get('test_loss', nan):.4f}).",
        ]
    lines += [
        "",
        _row(["target", "measured (wall time)", "on CPU time", "result"]),
        _row(["---", "---:", "---:", "---"]),
    ]
    for t in result["targets"]:
        if t["value"] is None:
            value = "–"
        elif "maximum_seconds" in t:
            value = f"{t['value']:.1f} s"
        else:
            value = format_ratio(t["value"], t.get("minimum_ratio", t.get("maximum_ratio")), "×")
        if t.get("value_cpu") is None:
            cpu = "–"
        elif "maximum_seconds" in t:
            cpu = f"{t['value_cpu']:.1f} s"
        else:
            cpu = format_ratio(t["value_cpu"], t.get("minimum_ratio", t.get("maximum_ratio")), "×")
        lines.append(_row([t["target"], value, cpu, t["status"]]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else DEFAULT_OUT
    print(to_markdown(json.loads(path.read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
