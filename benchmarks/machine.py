"""What machine and library versions the figures were measured on."""

from __future__ import annotations

import contextlib
import os
import platform
from importlib import metadata
from typing import Any


def version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def numpy_threads() -> int:
    """Threads of NumPy's BLAS (threadpoolctl if installed, else the CPU count)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.cpu_count() or 1
    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    mine = [i for i in blas if "numpy" in str(i.get("filepath", ""))] or blas
    return int(mine[0]["num_threads"]) if mine else (os.cpu_count() or 1)


def limit_blas_threads(threads: int) -> contextlib.AbstractContextManager[object]:
    """Hold NumPy's (and SciPy's) BLAS to ``threads`` threads while the context is open."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError as exc:
        raise SystemExit(f"--threads needs threadpoolctl (pip install threadpoolctl): {exc}") from exc
    return threadpool_limits(limits=threads, user_api="blas")


def machine_info(threads: int) -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "affinity_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "processor": _cpu_model() or platform.processor(),
        "python": platform.python_version(),
        "threads": threads,
        "numpy_blas_threads": numpy_threads(),
        "versions": {d: version(d) for d in ("backproplab", "numpy", "torch", "scikit-learn", "numba")},
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    info["git_commit"] = _git_commit()
    try:
        import numba

        info["numba_threads"] = int(numba.config.NUMBA_NUM_THREADS)
    except ImportError:
        info["numba_threads"] = None
    return info


def _git_commit() -> str | None:
    """The checked-out commit of this repository (``+dirty`` with local changes), if git is there."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None
