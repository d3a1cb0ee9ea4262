"""Training records without their wall-clock times: the only entries that differ between two runs that must
otherwise agree bit for bit (resumed vs uninterrupted, one engine or backend vs another)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def without_timings(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each record (an epoch's metrics) without its ``*seconds`` entries."""
    return [{k: v for k, v in r.items() if not k.endswith("seconds")} for r in records]
