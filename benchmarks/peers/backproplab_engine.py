"""backproplab through its public API: ``fit(model, SoftmaxCrossEntropy(), SGD(lr), (X, y), engine=...)``.

The timed call is the whole ``fit`` (one epoch, ``shuffle=False``, ``eval_train=False``, ``verbose=0``), so
its own overhead (input checks, the divergence reference loss on 1024 rows, and on the torch backend moving the
NumPy training set to the device) is included. The torch backend's model is moved with ``model.to("torch",
device)`` before the optimizer is built.
"""

from __future__ import annotations

from typing import Any

from ..problem import LR, SIZES, Params, Problem, copy_params
from .base import Peer, Unavailable


class BackproplabEngine(Peer):
    def __init__(self, engine: str, *, threads: int = 1, device: str = "cpu") -> None:
        self.engine = engine
        self.key = "torch-backend" if engine == "torch" else engine
        self.device = device
        names = {"fast": "fast engine", "numpy": "NumPy engine", "torch": f"torch backend ({device})"}
        self.label = f"backproplab {names.get(engine, engine + ' engine')}"
        self.engine_ran: str | None = None
        if engine == "torch":
            try:
                import torch
            except ImportError as exc:
                raise Unavailable(f"torch is not installed ({exc})") from exc
            self.torch = torch
            torch.set_num_threads(threads)

    def setup(self, data: Problem, batch_size: int) -> None:
        from backproplab.nn import Dense, SoftmaxCrossEntropy, mlp

        self.data, self.batch_size = data, batch_size
        self.model = mlp(list(SIZES), "sigmoid", init="glorot_uniform", seed=0)
        if self.engine == "torch":
            self.model.to("torch", self.device)
        self.dense = [layer for layer in self.model.layers if isinstance(layer, Dense)]
        self.loss = SoftmaxCrossEntropy()

    def load(self, params: Params) -> None:
        from backproplab.optim import SGD

        W1, b1, W2, b2 = params
        self.dense[0].set_weights(W1, b1)
        self.dense[1].set_weights(W2, b2)
        self.optimizer = SGD(self.model.parameters(), lr=LR)

    def epoch(self) -> None:
        from backproplab.train import fit

        try:
            history = fit(
                self.model,
                self.loss,
                self.optimizer,
                (self.data.X, self.data.y),
                epochs=1,
                batch_size=self.batch_size,
                shuffle=False,
                eval_train=False,
                verbose=0,
                engine=self.engine,
            )
        except (NotImplementedError, ImportError) as exc:
            raise Unavailable(f"{type(exc).__name__}: {exc}") from exc
        except ValueError as exc:  # the fast engine names what it does not support (e.g. the batch size)
            if self.engine == "fast":
                raise Unavailable(f"{type(exc).__name__}: {exc}") from exc
            raise
        if self.engine == "torch" and self.device.startswith("cuda"):
            self.torch.cuda.synchronize()
        self.engine_ran = getattr(history, "engine", None)
        if self.engine != "auto" and self.engine_ran not in (None, self.engine):
            raise Unavailable(f"fit(engine={self.engine!r}) ran the {self.engine_ran!r} engine instead")

    def params(self) -> Params:
        from backproplab._xp import to_numpy

        a, b = self.dense
        assert a.bias is not None and b.bias is not None
        return copy_params(tuple(to_numpy(p.value) for p in (a.weight, a.bias, b.weight, b.bias)))

    def describe(self) -> dict[str, Any]:
        return {"engine_ran": self.engine_ran}


def auto_engine(data: Problem, batch_size: int) -> str:
    """Which engine ``fit(engine="auto")`` picks for this network at this batch size (a tiny untimed run)."""
    peer = BackproplabEngine("auto")
    peer.setup(data, batch_size)
    from ..problem import glorot_params

    peer.load(glorot_params(0))
    peer.epoch()
    return peer.engine_ran or "numpy"
