"""Memory this process can still use, and the check made before a large allocation."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ResourceError


def available_bytes() -> int | None:
    """Bytes of memory this process can still allocate: the kernel's ``MemAvailable``, capped by the
    control group's limit when there is one; None when neither can be read (then no check is made)."""
    found: list[int] = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
                break
    except (OSError, ValueError, IndexError):
        pass
    if not found and hasattr(os, "sysconf"):
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (OSError, ValueError):
            pass
    cgroup = Path("/sys/fs/cgroup")
    try:
        limit = (cgroup / "memory.max").read_text().strip()
        if limit != "max":
            found.append(int(limit) - int((cgroup / "memory.current").read_text()))
    except (OSError, ValueError):
        pass
    return max(min(found), 0) if found else None


def format_bytes(n: int | float) -> str:
    """``1536`` -> ``"1.5 KiB"``; binary units up to TiB."""
    value = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def check_memory(nbytes: int, what: str) -> None:
    """Raise `ResourceError` when ``what`` (e.g. ``"model 784-256-10"``) needs more than the available memory."""
    available = available_bytes()
    if available is not None and nbytes > available:
        raise ResourceError(
            f"{what} needs {format_bytes(nbytes)} of memory; this machine has {format_bytes(available)} available"
        )
