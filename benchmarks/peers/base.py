"""What a peer is: something that trains the benchmark network for one epoch on given data."""

from __future__ import annotations

from ..problem import Params, Problem


class Unavailable(Exception):
    """The peer cannot run here (library missing, engine not built, ...); the message says why."""


class Peer:
    """One contender. The harness calls, in order and untimed: `setup` (data, batch size), `load` (initial
    weights); then times `epoch` (one pass over the data in file order); then reads `params` (untimed)."""

    key = ""
    label = ""

    def setup(self, data: Problem, batch_size: int) -> None:
        raise NotImplementedError

    def load(self, params: Params) -> None:
        raise NotImplementedError

    def epoch(self) -> None:
        raise NotImplementedError

    def params(self) -> Params:
        raise NotImplementedError

    def describe(self) -> dict[str, object]:
        """Extra facts recorded in the JSON after the last epoch (e.g. the engine that really ran)."""
        return {}
