"""The contenders, in table order."""

from .backproplab_engine import BackproplabEngine, auto_engine
from .base import Peer, Unavailable
from .plain_numpy import PlainNumpyLoop
from .sklearn_mlp import SklearnMLP
from .torch_cpu import TorchCPU

PEER_KEYS = ("fast", "numpy", "plain", "torch", "torch-backend", "sklearn")
GPU_PEERS = ("torch", "torch-backend")  # the peers a --device cuda run times
LABELS = {
    "fast": "backproplab fast engine",
    "numpy": "backproplab NumPy engine",
    "plain": PlainNumpyLoop.label,
    "torch": TorchCPU.label,
    "torch-backend": "backproplab torch backend (cpu)",
    "sklearn": SklearnMLP.label,
}


def label(key: str, device: str = "cpu") -> str:
    if device == "cpu" or key not in GPU_PEERS:
        return LABELS.get(key, key)
    return {"torch": f"PyTorch autograd ({device})", "torch-backend": f"backproplab torch backend ({device})"}[key]


def make_peer(key: str, threads: int, device: str = "cpu") -> Peer:
    """A fresh peer (on ``device``: ``cpu``, or ``cuda`` for the torch peers); raises `Unavailable` if its library
    is missing."""
    if key in ("fast", "numpy"):
        return BackproplabEngine(key)
    if key == "torch-backend":
        return BackproplabEngine("torch", threads=threads, device=device)
    if key == "plain":
        return PlainNumpyLoop()
    if key == "torch":
        return TorchCPU(threads, device)
    if key == "sklearn":
        return SklearnMLP()
    raise ValueError(f"unknown peer {key!r}; expected one of {list(PEER_KEYS)}")


__all__ = [
    "GPU_PEERS",
    "LABELS",
    "PEER_KEYS",
    "BackproplabEngine",
    "Peer",
    "PlainNumpyLoop",
    "SklearnMLP",
    "TorchCPU",
    "Unavailable",
    "auto_engine",
    "label",
    "make_peer",
]
