"""Wall time of ``backproplab run fashion-sgd`` end to end, in a subprocess with a temporary runs directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def backproplab_command() -> list[str]:
    exe = Path(sys.executable).parent / "backproplab"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("backproplab")
    if found:
        return [found]
    return [sys.executable, "-c", "from backproplab.cli.main import main; main()"]


def time_run(
    preset: str = "fashion-sgd", extra: list[str] | None = None, timeout: float = 1800.0, threads: int | None = None
) -> dict[str, Any]:
    """Run the preset (15 epochs, per-epoch test evaluation, report) and return its wall time and results.

    With ``threads``, the subprocess gets OMP/OPENBLAS/MKL/NUMBA_NUM_THREADS set to it; else the environment as is.
    """
    env = dict(os.environ)
    if threads is not None:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
            env[var] = str(threads)
    with tempfile.TemporaryDirectory(prefix="backproplab-bench-") as tmp:
        cmd = [*backproplab_command(), "run", preset, "--runs-dir", tmp, *(extra or [])]
        started, cpu_before = time.perf_counter(), _children_cpu()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, env=env)
        except subprocess.TimeoutExpired:
            return {"command": cmd, "returncode": None, "wall_seconds": None, "error": f"timed out after {timeout} s"}
        wall = time.perf_counter() - started
        cpu = _children_cpu() - cpu_before
        result: dict[str, Any] = {
            "command": ["backproplab", "run", preset, "--runs-dir", "<tmp>", *(extra or [])],
            "returncode": proc.returncode,
            "wall_seconds": wall,
            "cpu_seconds": cpu,
            "threads_env": threads,
            "output_tail": (proc.stdout + proc.stderr).strip().splitlines()[-6:],
        }
        metrics = sorted(Path(tmp).glob("*/metrics.json"))
        if metrics:
            history = json.loads(metrics[-1].read_text())
            records = history.get("epochs")
            records = records if isinstance(records, list) else []  # History.to_dict: one record per epoch
            result["engine"] = history.get("engine")
            result["epochs"] = len(records)
            if records:
                last = records[-1]
                result["final"] = {k: last[k] for k in ("epoch", "test_loss", "test_acc", "train_loss") if k in last}
                # wall = start-up and data loading + epochs (training + evaluation) + report
                result["train_seconds"] = sum(float(r.get("train_seconds", 0.0)) for r in records)
                result["epoch_seconds"] = sum(float(r.get("seconds", 0.0)) for r in records)
                result["records"] = [{k: r[k] for k in ("epoch", "seconds", "test_acc") if k in r} for r in records]
        summaries = sorted(Path(tmp).glob("*/summary.json"))
        if summaries:
            summary = json.loads(summaries[-1].read_text())
            result["threads"] = summary.get("threads")
            result["final"] = {**result.get("final", {}), **summary.get("final", {})}
    return result


def _children_cpu() -> float:
    """User + system CPU seconds of finished child processes (the run's own, less disturbed by other load)."""
    try:
        import resource
    except ImportError:  # not on Windows
        return float("nan")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
