"""Run directories: ``runs/<YYYYmmdd-HHMMSS>-<name>/``, created once and never overwritten."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

from .._io import atomic_write_text

RUNS_ENV = "BACKPROPLAB_RUNS"


def default_runs_dir() -> Path:
    return Path(os.environ.get(RUNS_ENV, "runs"))


def create_run_dir(runs_dir: str | Path | None, name: str) -> Path:
    """A new, empty directory for this run (a suffix ``-2``, ``-3`` ... if the name is taken)."""
    root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    root.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "run"
    base = f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}"
    for i in range(1, 1000):
        path = root / (base if i == 1 else f"{base}-{i}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise RuntimeError(f"could not create a run directory under {root}")


def write_json(path: Path, data: Any) -> Path:
    return atomic_write_text(path, json.dumps(data, indent=2, default=_jsonable) + "\n")


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text())


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")
