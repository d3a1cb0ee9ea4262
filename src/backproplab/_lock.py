"""Directory locks: one process at a time works in a run or sweep directory.

`DirLock` holds an exclusive ``flock`` on a lock file and writes its holder (PID and host) into it; a clean
release removes the file. The kernel releases the lock when the holder's process ends, however it ends (SIGKILL
included), so a lock file left behind by a dead process is simply taken over by the next one; that file still
names the old PID, which the takeover reports. A lock that stays held is waited for up to ``timeout`` seconds,
then refused with `LockedError` naming the holder. Where ``fcntl`` is missing (not POSIX), locking is skipped.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from .errors import BackproplabError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

POLL_SECONDS = 0.1


class LockedError(BackproplabError):
    """Another live process holds the lock (the message names its PID), or the lock file cannot be opened."""


def pid_alive(pid: int) -> bool:
    """Whether a process with this PID runs on this machine (a zombie counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def read_holder(path: Path) -> dict[str, Any]:
    """``{"pid": int, "host": str, "since": float}`` from a lock file ({} when unreadable or empty)."""
    try:
        fields = dict(part.split("=", 1) for part in path.read_text().split() if "=" in part)
        return {"pid": int(fields["pid"]), "host": fields.get("host", ""), "since": float(fields.get("since", 0))}
    except (OSError, ValueError, KeyError):
        return {}


class DirLock:
    """``with DirLock(directory / ".lock", what="sweep directory runs/x", timeout=0):`` ... (see module doc).

    ``previous`` is the holder recorded in the file before this process took the lock (a dead process's,
    when a stale lock was taken over), else None.
    """

    def __init__(self, path: str | Path, *, what: str, timeout: float = 0.0) -> None:
        self.path = Path(path)
        self.what = what
        self.timeout = float(timeout)
        self.previous: dict[str, Any] | None = None
        self._fh: Any = None

    def acquire(self) -> DirLock:
        if fcntl is None:
            return self
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fh = self.path.open("a+")
            except OSError as exc:
                raise LockedError(f"cannot lock the {self.what}: {exc.strerror or exc} ({self.path})") from None
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.close()
                if time.monotonic() >= deadline:
                    raise self._refusal() from None
                time.sleep(POLL_SECONDS)
                continue
            if self._same_file(fh):
                break
            fh.close()  # its holder removed the file while we waited: lock the new one
        holder = read_holder(self.path)
        self.previous = holder or None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid={os.getpid()} host={socket.gethostname()} since={time.time():.3f}\n")
        fh.flush()
        self._fh = fh
        return self

    def _same_file(self, fh: Any) -> bool:
        try:
            return os.fstat(fh.fileno()).st_ino == os.stat(self.path).st_ino
        except FileNotFoundError:
            return False

    def _refusal(self) -> LockedError:
        holder = read_holder(self.path)
        who = (
            f"process {holder['pid']}" + (f" on {holder['host']}" if holder.get("host") else "")
            if holder
            else "another process"
        )
        waited = f" (waited {self.timeout:g} s)" if self.timeout else ""
        return LockedError(
            f"the {self.what} is in use by {who}{waited}; wait until it finishes, or stop it "
            "first (Ctrl-C or SIGTERM let it checkpoint)"
        )

    @property
    def took_over(self) -> bool:
        """True when a lock file was left by a holder that ended without releasing it (killed), whose lock the
        kernel released."""
        return bool(self.previous)

    def takeover_note(self) -> str | None:
        """A one-line note about a taken-over stale lock, else None."""
        if not self.took_over:
            return None
        assert self.previous is not None
        return (
            f"note: the {self.what} was left locked by process {self.previous['pid']}, which is no longer "
            "running; taken over"
        )

    def release(self) -> None:
        """Remove the lock file and unlock (a lock file left behind names a holder that died holding it)."""
        if self._fh is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __enter__(self) -> DirLock:
        return self.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
