"""Where a run came from: package versions, the git commit of the working directory, dataset checksums."""

from __future__ import annotations

import hashlib
import platform
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ... import __version__
from ...backend import torch_version


@lru_cache(maxsize=32)
def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def dataset_checksum(files: list[str]) -> str | None:
    """sha256 over the sha256 of each source file (None for generated data)."""
    if not files:
        return None
    combined = hashlib.sha256()
    for f in files:
        combined.update(file_sha256(str(Path(f).resolve())).encode())
    return combined.hexdigest()


def git_commit(cwd: Path | None = None) -> str | None:
    """The commit checked out in ``cwd`` (default: the current directory) when it is inside a git repository:
    the user's project, whose code and configs the run used; None outside one (or without git)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd or Path.cwd(), capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def environment() -> dict[str, Any]:
    """Versions (backproplab's own, Python, NumPy, torch), the platform, and ``git_commit``: the commit of the
    directory the run was started in (`git_commit`), None when that is not a git repository."""
    return {
        "backproplab": __version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "torch": torch_version(),
        "platform": platform.platform(),
        "git_commit": git_commit(),
    }
