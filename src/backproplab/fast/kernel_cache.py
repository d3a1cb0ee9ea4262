"""numba's on-disk cache of the fast kernels, kept in a directory keyed by a digest of this package's sources.

Why: numba reuses a cached kernel while the kernel's own source file and bytecode are unchanged; it does not look
at the files of the functions the kernel calls or inlines (every kernel calls `shared_kernels`, and the constants
of `codes` are compiled in). After an edit, a ``git pull`` or an upgrade installed over an old ``__pycache__`` that
changed only such a file, it would go on serving the old machine code, silently.

How: every kernel is cached under ``backproplab-fast-<digest>``, `DIGEST` being that of all of ``fast/*.py`` as
they were when the first kernel module was imported. A change to any of them starts an empty directory, and a
process reads and writes only the directory of the sources it runs (one still running older code keeps writing to
the older directory). numba's own checks still apply inside it, and its writes (a temporary file, then a rename)
let processes share it. The directory is the first writable one of ``$NUMBA_CACHE_DIR/`` (a user's setting is
kept), ``fast/__pycache__/`` and backproplab's user cache directory (`data.locations.cache_dir`, for a read-only
install); if there is none, the kernels are compiled in every process, with a warning, rather than cached where a
change would go unseen. Keyed directories that no process has used for `UNUSED_FOR` seconds are removed.

`njit` is `numba.njit`, redirecting ``cache=True``: numba settles a function's cache directory when the function
is decorated, taking ``numba.config.CACHE_DIR`` (``NUMBA_CACHE_DIR``) first when it is set, so `njit` sets it to
the keyed directory for the moment of decoration only, through numba's public configuration rather than its cache
classes. Every module that compiles code calling this package's kernels with ``cache=True`` takes `njit` from here.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba

from ..data.locations import cache_dir

FAST = Path(__file__).resolve().parent
PREFIX = "backproplab-fast-"
UNUSED_FOR = 24 * 3600.0  # seconds: the keyed directories of other sources unused this long are removed
NUMBA_CONFIG: Any = numba.config  # its settings are module globals made at import, which mypy cannot see


def source_digest(package: Path) -> str:
    """SHA-256 (first 16 hex digits) of the names and contents of ``package/*.py``, in name order."""
    digest = hashlib.sha256()
    for path in sorted(package.glob("*.py")):
        data = path.read_bytes()
        digest.update(f"{path.name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()[:16]


DIGEST = source_digest(FAST)


def candidate_roots() -> list[Path]:
    """Where the keyed directory may go, most preferred first: ``$NUMBA_CACHE_DIR``, ``fast/__pycache__``, then
    backproplab's user cache directory (left out when there is no home directory to put it in)."""
    roots = [Path(NUMBA_CONFIG.CACHE_DIR)] if NUMBA_CONFIG.CACHE_DIR else []
    roots.append(FAST / "__pycache__")
    try:
        roots.append(cache_dir())
    except RuntimeError:  # Path.home(): no HOME and no password entry
        pass
    return roots


@functools.cache
def keyed_cache_dir() -> Path | None:
    """This process's keyed directory under the first writable root (created, and its time of use set), or None
    when no root is writable. Chosen once per process."""
    roots = candidate_roots()
    for root in roots:
        directory = root / f"{PREFIX}{DIGEST}"
        try:
            directory.mkdir(parents=True, exist_ok=True)
            tempfile.TemporaryFile(dir=directory).close()
            os.utime(directory)
        except OSError:
            continue
        remove_unused(root, keep=directory)
        return directory
    warnings.warn(
        "backproplab's fast kernels cannot be cached on disk: none of "
        f"{', '.join(str(r) for r in roots)} is writable, so they are compiled anew in every process (5-20 s). "
        "Set NUMBA_CACHE_DIR to a writable directory to keep them.",
        RuntimeWarning,
        stacklevel=2,
    )
    return None


def remove_unused(root: Path, keep: Path) -> None:
    """Remove the keyed directories under ``root``, other than ``keep``, whose time of use is older than
    `UNUSED_FOR` (a process still running from one recreates it if it compiles again)."""
    oldest = time.time() - UNUSED_FOR
    for other in root.glob(f"{PREFIX}*"):
        try:
            if other != keep and other.is_dir() and other.stat().st_mtime < oldest:
                shutil.rmtree(other, ignore_errors=True)
        except OSError:
            continue


_DECORATING = threading.Lock()  # numba's CACHE_DIR is process-wide: one decoration at a time sets it
DECORATING_TIMEOUT = 60.0  # seconds; a decoration holds the lock for microseconds (numba compiles at first call)


def njit(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """``numba.njit(**options)``; with ``cache=True`` the function is cached in `keyed_cache_dir()` (not at all
    when there is none). Under ``NUMBA_DISABLE_JIT=1`` it returns the function as it is, like numba."""

    def decorate(func: Callable[..., Any]) -> Any:
        if not options.get("cache") or NUMBA_CONFIG.DISABLE_JIT:
            return numba.njit(**options)(func)
        directory = keyed_cache_dir()
        if directory is None:
            return numba.njit(**{**options, "cache": False})(func)
        if not _DECORATING.acquire(timeout=DECORATING_TIMEOUT):
            raise RuntimeError(
                f"backproplab.fast: waited {DECORATING_TIMEOUT:g} s to decorate {func.__qualname__} while another "
                "thread held numba's cache setting; expected it to be released within microseconds"
            )
        chosen_by_user = NUMBA_CONFIG.CACHE_DIR
        NUMBA_CONFIG.CACHE_DIR = str(directory)
        try:
            return numba.njit(**options)(func)
        finally:
            NUMBA_CONFIG.CACHE_DIR = chosen_by_user
            _DECORATING.release()

    return decorate
