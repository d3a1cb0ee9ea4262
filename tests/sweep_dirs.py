"""Sweep directories assembled from real tiny runs, laid out as the issue-4 sweep contract says
(sweep.toml, trials.json, trials/<id>/ run directories, sweep_summary.json), without the sweep runner:
the report is tested against the layout, not against one implementation of it."""

from __future__ import annotations

import itertools
import json
import math
import shutil
from pathlib import Path
from typing import Any

import tomli_w

from backproplab.experiments import parse_config, run_experiment
from backproplab.experiments.config import deep_merge


def _nested(key: str, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = value
    for part in reversed(key.split(".")):
        out = {part: out}
    return out


def assemble_sweep(
    root: Path,
    name: str,
    base: dict[str, Any],
    space: dict[str, list[Any]],
    *,
    metric: str,
    mode: str,
    seeds: tuple[int, ...] = (0,),
    error_trials: dict[int, str] | None = None,
    published: list[dict[str, Any]] | None = None,
) -> Path:
    """Run every grid point x seed with `run_experiment` into ``root/<name>-sweep/trials/tNNN`` and write
    the sweep files. ``error_trials`` {index: message}: those trials are recorded as crashed (not run)."""
    sweep = root / f"{name}-sweep"
    (sweep / "trials").mkdir(parents=True)
    error_trials = error_trials or {}
    records = []
    points = [dict(zip(space, combo, strict=True)) for combo in itertools.product(*space.values())]
    for index, (params, seed) in enumerate(itertools.product(points, seeds)):
        tid = f"t{index:03d}"
        record: dict[str, Any] = {
            "trial": tid,
            "index": index,
            "params": params,
            "seed": seed,
            "status": "ok",
            "error": None,
            "run_dir": f"trials/{tid}",
            "final": {},
            "selection": None,
            "epochs_run": 0,
            "seconds": 0.0,
        }
        if index in error_trials:
            record.update(status="error", error=error_trials[index], run_dir=None)
            records.append(record)
            continue
        data = deep_merge(base, {"name": f"{name}-{tid}", "model": {"seed": seed}, "training": {"seed": seed}})
        for key, value in params.items():
            data = deep_merge(data, _nested(key, value))
        result = run_experiment(parse_config(data), runs_dir=sweep / "trials", verbose=0)
        result.run_dir.rename(sweep / "trials" / tid)
        summary = json.loads((sweep / "trials" / tid / "summary.json").read_text())
        value = summary["final"].get(metric)
        finite = value is not None and math.isfinite(value)
        record.update(
            final=summary["final"],
            epochs_run=summary["epochs_run"],
            seconds=summary["wall_seconds"],
            status="diverged" if summary["diverged"] or not finite else "ok",
            selection=value if finite and not summary["diverged"] else None,
        )
        records.append(record)
    scored = [r for r in records if r["selection"] is not None]
    best = (min if mode == "min" else max)(scored, key=lambda r: r["selection"]) if scored else None
    sweep_file = {
        "kind": "sweep",
        "name": name,
        "description": f"test sweep {name}",
        "config": base,
        "search": {"method": "grid", "space": space},
        "selection": {"metric": metric, "mode": mode, "retrain": False, "seeds": list(seeds)},
    }
    (sweep / "sweep.toml").write_text(tomli_w.dumps(sweep_file))
    (sweep / "trials.json").write_text(json.dumps(records, indent=2))
    counts = {s: sum(r["status"] == s for r in records) for s in ("ok", "diverged", "error")}
    summary = {
        "kind": "sweep",
        "name": name,
        "description": f"test sweep {name}",
        "selection": {"metric": metric, "mode": mode},
        "space": space,
        "executor": "process",
        "best": best["trial"] if best else None,
        "best_params": best["params"] if best else {},
        "retrain": None,
        "final": best["final"] if best else {},
        "published": published or [],
        "trials": counts,
    }
    (sweep / "sweep_summary.json").write_text(json.dumps(summary, indent=2))
    return sweep


def copy_sweep(sweep: Path, dest: Path) -> Path:
    """A private copy (reports write into the directory; session fixtures stay untouched)."""
    return Path(shutil.copytree(sweep, dest / sweep.name))
