"""Reading the text files users write (TOML configs and problems, CSV tables): UTF-8, or an error naming the file."""

from __future__ import annotations

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
        raise error(f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                    f"save the {noun} as UTF-8") from None
