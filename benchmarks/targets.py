"""Ratios backproplab / peer (samples per second, medians) and the issue's speed targets."""

from __future__ import annotations

from typing import Any

RATIO_PAIRS = [
    ("fast", "torch"),
    ("fast", "sklearn"),
    ("fast", "numpy"),
    ("fast", "plain"),
    ("numpy", "plain"),
    ("numpy", "torch"),
    ("numpy", "sklearn"),
    ("backproplab", "plain"),
    ("backproplab", "torch"),
    ("backproplab", "sklearn"),
    ("torch-backend", "torch"),
    ("torch-backend", "numpy"),
]

# (name, batch size, numerator, denominator, minimum ratio). "backproplab" is the engine fit(engine="auto")
# picks at that batch size. "Within 15% of the plain loop" reads as: at least 0.85 times its speed.
SPEED_TARGETS = [
    ("batch 1: fast engine >= 12x PyTorch CPU", 1, "fast", "torch", 12.0),
    ("batch 1: fast engine >= 20x scikit-learn", 1, "fast", "sklearn", 20.0),
    ("batch 1: fast engine >= 15x NumPy engine", 1, "fast", "numpy", 15.0),
    ("batch 32: backproplab within 15% of the plain NumPy loop", 32, "backproplab", "plain", 0.85),
    ("batch 32: backproplab >= 2.5x PyTorch CPU", 32, "backproplab", "torch", 2.5),
    ("batch 32: backproplab >= 6x scikit-learn", 32, "backproplab", "sklearn", 6.0),
    ("batch 32: torch backend >= 1.0x PyTorch autograd", 32, "torch-backend", "torch", 1.0),
    ("batch 128: torch backend >= 1.0x PyTorch autograd", 128, "torch-backend", "torch", 1.0),
]
# --device cuda: the torch backend against PyTorch autograd on the GPU, at every batch size measured.
GPU_RATIO = ("torch-backend", "torch")
RUN_TARGET_SECONDS = 25.0  # the flagship end to end, tracking on (issue 11; 30 s before)
# The fast engine's time per batch-1 step over the floor's (benchmarks/floor.py): at most this.
FLOOR_TARGET_RATIO = 1.25
FLOOR_TARGET = f"batch 1: fast engine within {FLOOR_TARGET_RATIO:g}x of the batch-1 floor"


def format_ratio(value: float, minimum: float | None = None, suffix: str = "x") -> str:
    """``12.34x``, with more decimals when two would print a value just under ``minimum`` as equal to it."""
    digits = 2
    while minimum is not None and digits < 6 and f"{value:.{digits}f}" == f"{minimum:.{digits}f}" and value != minimum:
        digits += 1
    return f"{value:.{digits}f}{suffix}"


def _speeds(batch: dict[str, Any], field: str = "samples_per_second") -> dict[str, float]:
    speeds = {r["peer"]: r[field] for r in batch["rows"] if r["status"] == "ok"}
    auto = batch.get("auto_engine")
    if auto in speeds:
        speeds["backproplab"] = speeds[auto]
    return speeds


def _why_missing(batch: dict[str, Any], key: str) -> str:
    if key == "backproplab":
        return f"fit(engine='auto') picks {batch.get('auto_engine')!r}, which has no figure"
    for r in batch["rows"]:
        if r["peer"] == key:
            return f"{r['label']} {r['status']}"
    return f"{key} was not measured"


def ratios(batches: list[dict[str, Any]], field: str = "samples_per_second") -> dict[str, dict[str, float | None]]:
    """``{"1": {"fast/torch": 45.2, ...}, "32": {...}}``; None where either side has no figure.

    ``field``: ``samples_per_second`` (wall time) or ``samples_per_cpu_second`` (this process's CPU time).
    """
    out: dict[str, dict[str, float | None]] = {}
    for batch in batches:
        s = _speeds(batch, field)
        out[str(batch["batch_size"])] = {
            f"{a}/{b}": (s[a] / s[b] if a in s and b in s else None) for a, b in RATIO_PAIRS
        }
    return out


def check_targets(
    batches: list[dict[str, Any]], run: dict[str, Any] | None, floor: dict[str, Any] | None = None, device: str = "cpu"
) -> list[dict[str, Any]]:
    """Every target with its measured value and PASS, FAIL or n/a (with the reason). On a GPU (``device`` cuda)
    the targets are the torch backend against PyTorch autograd at each batch size measured."""
    by_size = {b["batch_size"]: b for b in batches}
    results: list[dict[str, Any]] = []
    targets = (
        SPEED_TARGETS
        if device == "cpu"
        else [
            (
                f"batch {b['batch_size']} ({device}): torch backend >= 1.0x PyTorch autograd",
                b["batch_size"],
                *GPU_RATIO,
                1.0,
            )
            for b in batches
        ]
    )
    for name, size, num, den, minimum in targets:
        entry: dict[str, Any] = {"target": name, "minimum_ratio": minimum, "value": None}
        batch = by_size.get(size)
        if batch is None:
            entry.update(status="n/a", note=f"batch size {size} was not measured")
        else:
            s = _speeds(batch)
            missing = [k for k in (num, den) if k not in s]
            if missing:
                entry.update(status="n/a", note="; ".join(_why_missing(batch, k) for k in missing))
            else:
                value = s[num] / s[den]
                cpu = _speeds(batch, "samples_per_cpu_second")
                entry.update(
                    value=value,
                    value_cpu=cpu[num] / cpu[den],
                    status="PASS" if value >= minimum else "FAIL",
                    note=f"{num} = {batch.get('auto_engine')} engine" if num == "backproplab" else None,
                )
        results.append(entry)
    if device != "cpu":
        return results
    results.append(_floor_target(floor))
    entry = {
        "target": f"backproplab run fashion-sgd < {RUN_TARGET_SECONDS:g} s",
        "maximum_seconds": RUN_TARGET_SECONDS,
        "value": None,
    }
    if not run or run.get("skipped"):
        entry.update(status="n/a", note="skipped (--skip-run)")
    elif run.get("returncode") != 0:
        entry.update(status="FAIL", note=run.get("error") or f"the command failed (exit {run.get('returncode')})")
    else:
        value = run["wall_seconds"]
        entry.update(
            value=value,
            value_cpu=run.get("cpu_seconds"),
            status="PASS" if value < RUN_TARGET_SECONDS else "FAIL",
            note=f"engine {run.get('engine')}",
        )
    results.append(entry)
    return results


def _floor_target(floor: dict[str, Any] | None) -> dict[str, Any]:
    """Fast engine / floor, judged on wall time like the others; CPU time beside it."""
    entry: dict[str, Any] = {"target": FLOOR_TARGET, "maximum_ratio": FLOOR_TARGET_RATIO, "value": None}
    if not floor or floor.get("engine_over_floor") is None:
        entry.update(
            status="n/a",
            note=(floor or {}).get("error")
            or "the floor was not measured (no batch size 1, or the fast engine is unavailable)",
        )
        return entry
    value = floor["engine_over_floor"]
    entry.update(
        value=value,
        value_cpu=floor.get("engine_over_floor_cpu"),
        status="PASS" if value <= FLOOR_TARGET_RATIO else "FAIL",
        note=f"floor {floor['floor_us_per_step']:.1f} us, engine {floor['engine_us_per_step']:.1f} us a step",
    )
    return entry
