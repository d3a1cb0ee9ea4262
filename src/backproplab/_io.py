"""Atomic file writes: a reader sees the old file or the new one, never a half-written one.

The temporary file is written beside the target as ``.<name>.<pid>.<random>.tmp``; a process killed while
writing leaves it behind, and `remove_stale_temps` (called when a directory is used again) deletes the ones
whose writer no longer runs.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ._lock import pid_alive

_TEMP = re.compile(r"^\..+\.(\d+)\.[^.]+\.tmp$")
# Errors that mean "this file system will not take the file": full, over quota, too large, read-only, denied.
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM})


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(fh)`` on a temporary file beside ``path``, then rename it over ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))


def remove_stale_temps(directory: str | Path) -> list[Path]:
    """Delete the temporary files of `atomic_write` in ``directory`` whose writing process is gone; return them."""
    removed = []
    try:
        entries = list(Path(directory).iterdir())
    except OSError:
        return removed
    for path in entries:
        match = _TEMP.match(path.name)
        if match and not pid_alive(int(match.group(1))):
            try:
                path.unlink()
                removed.append(path)
            except OSError:
                pass
    return removed


def is_storage_error(exc: BaseException) -> bool:
    """Whether ``exc`` says the file system refused a write (disk full, quota, read-only, permission)."""
    return isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS
