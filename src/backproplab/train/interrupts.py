"""Stop requests: Ctrl-C (SIGINT) or SIGTERM asks training to stop at the next step boundary.

While `stop_on_signals` is active (in the main thread), the first signal does not raise: it records a stop
request, which `fit` checks between steps, so the model, the optimizer and every random generator are left
exactly as they are after a whole step (a consistent point to checkpoint and resume from). A second SIGINT
raises `KeyboardInterrupt` at once, for a user who does not want to wait; a second SIGTERM is recorded again.

Guards nest: `fit` guards SIGINT; a command that also wants SIGTERM handled wraps its whole run in
``stop_on_signals(SIGINT, SIGTERM)``. The request is kept until the outermost guard exits, so the caller
learns that (and by which signal) the run was stopped.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any


class _Requests:
    signal: int | None = None  # the first signal received while a guard was active
    depth = 0  # nesting depth of active guards
    notify: Callable[[int], None] | None = None


def requested() -> int | None:
    """The signal number of a pending stop request, else None."""
    return _Requests.signal


def request(signum: int = signal.SIGINT) -> None:
    """Ask the running `fit` to stop at the next step boundary (what the signal handlers do)."""
    if _Requests.signal is None:
        _Requests.signal = signum


def _handler(signum: int, frame: Any) -> None:
    if _Requests.signal is not None and signum == signal.SIGINT:
        raise KeyboardInterrupt  # a second Ctrl-C: stop now
    first = _Requests.signal is None
    request(signum)
    if first and _Requests.notify is not None:
        _Requests.notify(signum)


@contextlib.contextmanager
def stop_on_signals(*signums: int, notify: Callable[[int], None] | None = None) -> Iterator[None]:
    """Turn ``signums`` (default SIGINT) into stop requests while the block runs; restore the previous handlers
    after it. Outside the main thread (where Python cannot install handlers) it does nothing but keep the request
    state. ``notify(signum)`` is called once, on the first signal (e.g. to print "stopping ...")."""
    signums = signums or (signal.SIGINT,)
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for s in signums:
            previous[s] = signal.signal(s, _handler)
    saved_notify = _Requests.notify
    if notify is not None:
        _Requests.notify = notify
    _Requests.depth += 1
    try:
        yield
    finally:
        _Requests.depth -= 1
        _Requests.notify = saved_notify
        for s, h in previous.items():
            signal.signal(s, h)
        if _Requests.depth == 0:
            _Requests.signal = None


def exit_status(signum: int | None) -> int:
    """The shell's exit status for a process stopped by ``signum``: 128 + signal number (130 for Ctrl-C)."""
    return 0 if signum is None else 128 + int(signum)
