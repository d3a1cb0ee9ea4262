"""A deterministic Ctrl-C for tests of interrupts, checkpoints and resume."""

from __future__ import annotations

import signal

import pytest

from backproplab.train import interrupts


def stop_after(monkeypatch: pytest.MonkeyPatch, checks: int) -> None:
    """Make the `checks`-th stop check of fit see a stop request (the numpy engine checks before every step,
    the fast engine before every chunk of 1% of an epoch): a deterministic Ctrl-C at a step boundary."""
    seen = {"n": 0}
    real = interrupts.requested

    def requested() -> int | None:
        seen["n"] += 1
        if seen["n"] == checks:
            interrupts.request(signal.SIGINT)
        return real()

    monkeypatch.setattr(interrupts, "requested", requested)
