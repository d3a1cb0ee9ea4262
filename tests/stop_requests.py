"""A deterministic Ctrl-C for the resume tests: `stop_at_check` makes one chosen stop check of `fit` see a stop
request, so training stops at a known step boundary."""

from __future__ import annotations

import signal

import pytest

from backproplab.train import interrupts


def stop_at_check(monkeypatch: pytest.MonkeyPatch, checks: int) -> None:
    """Make the ``checks``-th stop check of fit see a stop request (the numpy and torch engines check before every
    step, the fast engine before every chunk of 1% of an epoch): a deterministic Ctrl-C at a step boundary."""
    seen = {"n": 0}
    real = interrupts.requested

    def requested() -> int | None:
        seen["n"] += 1
        if seen["n"] == checks:
            interrupts.request(signal.SIGINT)
        return real()

    monkeypatch.setattr(interrupts, "requested", requested)
