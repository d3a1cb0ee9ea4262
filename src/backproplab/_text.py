"""Text for users: reading the files they write (TOML configs and problems, CSV tables) as UTF-8, or an error
naming the file; and "did you mean" suggestions for mistyped names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

from .errors import BackproplabError


def read_utf8(path: str | Path, noun: str, error: type[BackproplabError]) -> str:
    """The text of ``path``; a missing, unreadable or non-UTF-8 file raises ``error`` naming the file and,
    for bad encoding, the first byte that is not UTF-8. ``noun`` names the file in messages (``"config file"``)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: {noun} not found") from None
    except OSError as exc:
        raise error(f"{path}: cannot read the {noun} ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(
            f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save the {noun} as UTF-8"
        ) from None


def close_matches(name: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """The ``choices`` most like ``name`` (difflib's similarity ratio at least 0.6 and within 0.05 of the best;
    case and ``-``/``_`` ignored), best first, at most ``n``."""

    def key(text: str) -> str:
        return str(text).lower().replace("_", "-")

    scored = sorted(
        ((difflib.SequenceMatcher(None, key(name), key(c)).ratio(), c) for c in choices), key=lambda pair: -pair[0]
    )
    if not scored or scored[0][0] < 0.6:
        return []
    return [c for ratio, c in scored[:n] if ratio >= scored[0][0] - 0.05]


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'fashion-sgd'?"`` (or ``'a' or 'b'``) for a mistyped ``name``; empty when nothing is
    close."""
    found = close_matches(name, choices)
    if not found:
        return ""
    return "; did you mean " + " or ".join(repr(f) for f in found) + "?"
