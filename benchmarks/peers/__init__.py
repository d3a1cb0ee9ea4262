"""The contenders, in table order."""

from .backproplab_engine import BackproplabEngine, auto_engine
from .base import Peer, Unavailable
from .plain_numpy import PlainNumpyLoop
from .sklearn_mlp import SklearnMLP
from .torch_cpu import TorchCPU

PEER_KEYS = ("fast", "numpy", "plain", "torch", "sklearn")
LABELS = {"fast": "backproplab fast engine", "numpy": "backproplab NumPy engine", "plain": PlainNumpyLoop.label,
          "torch": TorchCPU.label, "sklearn": SklearnMLP.label}


def make_peer(key: str, threads: int) -> Peer:
    """A fresh peer; raises `Unavailable` if its library is missing."""
    if key in ("fast", "numpy"):
        return BackproplabEngine(key)
    if key == "plain":
        return PlainNumpyLoop()
    if key == "torch":
        return TorchCPU(threads)
    if key == "sklearn":
        return SklearnMLP()
    raise ValueError(f"unknown peer {key!r}; expected one of {list(PEER_KEYS)}")


__all__ = ["LABELS", "PEER_KEYS", "BackproplabEngine", "Peer", "PlainNumpyLoop", "SklearnMLP", "TorchCPU",
           "Unavailable", "auto_engine", "make_peer"]
